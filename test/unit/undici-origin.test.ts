// origin.ts must give what `new URL(path, origin)` gives (upstream's url.full, url.path, url.query,
// server.address, server.port), whichever path it takes: the cached fast path or the exact one.
import { describe, expect, it } from 'vitest';
import { originInfo, requestUrl } from '../../src/instrumentation/undici/origin.js';
import { normaliseMethod } from '../../src/instrumentation/undici/tracer.js';
import { hasHeader, userAgentOf } from '../../src/instrumentation/undici/request-headers.js';

const ORIGINS = ['http://127.0.0.1:3000', 'https://Example.COM', 'http://example.com:80', 'https://example.com:443', 'http://[::1]:8080', new URL('http://h:81/')];
const PATHS = ['/', '/a/b', '/a?b=1&c=2', '/?', '/a?', '/a/./b', '/a/../b', '/.well-known/x', '/a b', "/q?x='1'", '/%7Efoo?%20', '/a#frag', '/a?b=|', '//evil.com/x', '/a\\b', '/ü', '/a?b=c?d'];

describe('undici origin cache', () => {
  it('equals new URL(path, origin) for every origin and path', () => {
    for (const origin of ORIGINS) {
      const info = originInfo(origin)!;
      for (const path of PATHS) {
        const url = new URL(path, String(origin));
        expect(requestUrl(info, path), `${String(origin)} ${path}`).toEqual({ full: url.href, path: url.pathname, query: url.search });
        // A protocol-relative path still goes to the origin: upstream takes the path's host as the
        // server (docs/ARCHITECTURE.md), ours keeps the origin's.
        if (path.startsWith('//')) continue;
        const port = url.port || (url.protocol === 'https:' ? '443' : '80');
        expect({ scheme: info.scheme, address: info.address, port: info.port }).toEqual({ scheme: url.protocol.slice(0, -1), address: url.hostname, port: Number(port) });
      }
    }
  });

  it('caches per origin and refuses what is not a URL', () => {
    expect(originInfo('http://a.example')).toBe(originInfo('http://a.example'));
    expect(originInfo('not a url')).toBeUndefined();
  });
});

describe('undici request helpers', () => {
  it('normalises methods as upstream does', () => {
    expect(['GET', 'patch', 'Query', 'PURGE', 'connect'].map(normaliseMethod)).toEqual(['GET', 'PATCH', 'QUERY', '_OTHER', 'CONNECT']);
  });

  it('reads the last user agent and finds headers in both header forms, any case', () => {
    const array = { method: 'GET', origin: '', path: '/', headers: ['User-Agent', 'a/1', 'x-request-id', 'r', 'user-agent', 'b/2'] };
    expect(userAgentOf(array)).toBe('b/2');
    expect(hasHeader(array, 'x-request-id')).toBe(true);
    expect(hasHeader(array, 'traceparent')).toBe(false);
    const text = { method: 'GET', origin: '', path: '/', headers: 'User-Agent: a/1\r\nX-Request-Id: r\r\nuser-agent:  b/2 \r\n' };
    expect(userAgentOf(text)).toBe('b/2');
    expect(hasHeader(text, 'x-request-id')).toBe(true);
    expect(userAgentOf({ method: 'GET', origin: '', path: '/', headers: [] })).toBeUndefined();
  });
});
