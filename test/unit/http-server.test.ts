import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as api from '@opentelemetry/api';
import { hostName } from '../../src/instrumentation/http-server.js';
import { RequestIds, requestIdOf } from '../../src/instrumentation/request-id.js';
import { compareKinds, inMemoryTracing } from '../helpers/handler-spans.js';

describe('hostName', () => {
  it('strips the port from Host headers, IPv6 included', () => {
    expect(hostName('example.com')).toBe('example.com');
    expect(hostName('example.com:8080')).toBe('example.com');
    expect(hostName('[::1]:8080')).toBe('::1');
    expect(hostName('[2001:db8::1]')).toBe('2001:db8::1');
  });
});

describe('parseNetDev', () => {
  it('reads byte, error and drop counters per device and leaves out loopback', async () => {
    const { parseNetDev } = await import('../../src/instrumentation/network-metrics.js');
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0',
      '  eth0: 5000 40 2 3 0 0 0 0 7000 50 4 5 0 0 0 0',
      '',
    ].join('\n');
    expect(parseNetDev(text)).toEqual([{ device: 'eth0', rxBytes: 5000, rxErrors: 2, rxDropped: 3, txBytes: 7000, txErrors: 4, txDropped: 5 }]);
  });
});

describe('node:http server spans: lean span against the SDK span', () => {
  const tracing = inMemoryTracing({ requestIds: new RequestIds('x-request-id') });
  let server: Server;
  let base = '';

  beforeAll(async () => {
    const user = tracing.provider.getTracer('user');
    server = createServer((req, res) => {
      // User code: the server span is the active one, takes attributes, and parents a span started here.
      const active = api.trace.getActiveSpan();
      active?.setAttribute('app.tag', 'x');
      user.startSpan('user work').end();
      if (req.url?.startsWith('/fail')) res.statusCode = 503;
      if (req.url?.startsWith('/throwing')) active?.recordException(new Error('handled'));
      res.end(JSON.stringify({ id: requestIdOf(api.context.active()) ?? null }));
    });
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('golden: the same server spans (attributes, status, events, request ids) under both', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['/', {}],
      ['/search?q=1&token=secret', { 'user-agent': 'golden/1.0' }],
      ['/fail', {}],
      ['/throwing', {}],
      ['/', { 'x-request-id': 'from-outside' }],
      ['/', { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }],
    ];
    for (const [path, headers] of cases) {
      const views = await compareKinds(tracing, base + path, headers);
      expect(views.sdk.length, path).toBeGreaterThan(0);
      expect(views.lean, `${path} ${JSON.stringify(headers)}`).toEqual(views.sdk);
    }
  });

  it('an unsampled upstream trace: no span under either, and the request still gets its id', async () => {
    const headers = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' };
    const views = await compareKinds(tracing, base + '/', headers);
    expect(views).toEqual({ sdk: [], lean: [] });
    tracing.use('lean');
    const res = await fetch(base + '/', { headers });
    tracing.use('sdk');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await res.json()).id).toBe(res.headers.get('x-request-id'));
  });
});
