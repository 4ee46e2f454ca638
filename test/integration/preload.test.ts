import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, withReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startApp, ROOT, NODE24 } from '../helpers/app.js';
import { spawnTracked, stopAll, waitFor } from '../helpers/process.js';

const SERVER = 2;
const CLIENT = 3;
let receiver: OtlpReceiver;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterEach(async () => {
  await stopAll();
});
afterAll(async () => {
  await receiver.close();
});


function expectReleaseOnResource(resource: Record<string, unknown>, release: string, env: string) {
  expect(resource['service.version']).toBe(release);
  expect(resource['deployment.environment.name']).toBe(env);
}

describe('ESM express app under --import (http/protobuf)', () => {
  it('exports server and client spans, metrics and pino logs, all tagged with the release', async () => {
    await withReceiver(async (r) => {
      const app = await startApp({
        script: 'examples/app.js',
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
          OTEL_SERVICE_NAME: 'checkout',
          OTEL_MONITOR_RELEASE: 'checkout@1.4.2',
          NODE_ENV: 'staging',
          GITHUB_SHA: 'a1b2c3d4e5f6',
        },
      });
      expect((await app.get('/users/42')).status).toBe(200);
      expect((await app.get('/upstream')).status).toBe(200);
      expect((await app.get('/fail')).status).toBe(500);

      const server = await waitFor(
        () => r.spans().find((s) => s.kind === SERVER && s.attributes['http.route'] === '/users/:id'),
        { what: 'server span for /users/:id' },
      );
      expect(server.name).toBe('GET /users/:id');
      expect(server.scope).toBe('@org/otel-monitor/http-server');
      expect(server.attributes).toMatchObject({
        'http.request.method': 'GET',
        'http.response.status_code': 200,
        'url.path': '/users/42',
        'url.scheme': 'http',
        'service.version': 'checkout@1.4.2',
        'deployment.environment.name': 'staging',
      });
      expect(server.resource).toMatchObject({
        'service.name': 'checkout',
        'service.version': 'checkout@1.4.2',
        'deployment.environment.name': 'staging',
        'vcs.ref.head.revision': 'a1b2c3d4e5f6',
      });
      expect(server.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);

      const failed = await waitFor(() => r.spans().find((s) => s.kind === SERVER && s.attributes['http.route'] === '/fail'));
      expect(failed.attributes['http.response.status_code']).toBe(500);
      expect(failed.attributes['error.type']).toBe('500');
      expect(failed.status.code).toBe(2);

      const client = await waitFor(() => r.spans().find((s) => s.kind === CLIENT && s.scope.includes('undici')), {
        what: 'fetch client span',
      });
      const upstream = r.spans().find((s) => s.kind === SERVER && s.attributes['http.route'] === '/upstream')!;
      expect(client.traceId).toBe(upstream.traceId);
      expect(client.attributes['http.response.status_code']).toBe(200);

      // Express 5: one request handler span per request, no middleware/router layer spans by default.
      const express = r.spans().filter((s) => s.traceId === server.traceId && s.scope.includes('express'));
      expect(express.map((s) => s.attributes['express.type'])).toEqual(['request_handler']);

      const log = await waitFor(() => r.logRecords().find((l) => l.body === 'user looked up'), { what: 'pino log record' });
      expect(log.traceId).toBe(server.traceId);
      expect(log.attributes['service.version']).toBe('checkout@1.4.2');
      expectReleaseOnResource(log.resource, 'checkout@1.4.2', 'staging');

      const wanted = [
        'http.server.request.duration',
        'http.client.request.duration',
        'system.cpu.time',
        'system.memory.usage',
        'system.network.io',
        'nodejs.eventloop.delay.p99',
        'v8js.memory.heap.used',
        'process.open_file_descriptor.count',
        'system.cpu.load_average.1m',
        'system.filesystem.usage',
      ];
      await waitFor(() => wanted.every((n) => r.points(n).length > 0), {
        what: `metrics ${wanted.filter((n) => r.points(n).length === 0).join(', ')}`,
      });
      const duration = r.points('http.server.request.duration').find((p) => p.attributes['http.route'] === '/users/:id')!;
      expect(duration.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200 });
      expect(duration.attributes['url.full']).toBeUndefined();
      expect(duration.count).toBeGreaterThanOrEqual(1);
      const failedDuration = r.points('http.server.request.duration').find((p) => p.attributes['http.route'] === '/fail')!;
      expect(failedDuration.attributes['error.type']).toBe('500');
      expect(r.points('process.open_file_descriptor.count')[0]!.value).toBeGreaterThan(3);
      for (const m of r.metrics()) expectReleaseOnResource(m.resource, 'checkout@1.4.2', 'staging');

      // One start-up line with the effective config.
      expect(app.output()).toMatch(/\[otel-monitor\] info: started service=checkout release=checkout@1\.4\.2/);
      expect(app.output()).not.toMatch(/ExperimentalWarning|DeprecationWarning|DEP0/);
    });
  });
});

describe('CJS node:http app under --require (http/json)', () => {
  it('exports spans and metrics as OTLP/JSON with the release from package.json', async () => {
    await withReceiver(async (r) => {
      const app = await startApp({
        script: 'test/fixtures/cjs-http.cjs',
        preload: ['--require', '@org/otel-monitor/register'],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'cjs-svc' },
      });
      await app.get('/hello');
      await app.get('/boom');
      const span = await waitFor(() => r.spans().find((s) => s.kind === SERVER && s.attributes['url.path'] === '/hello'));
      expect(span.attributes['http.request.method']).toBe('GET');
      // No OTEL_MONITOR_RELEASE or CI variable: the version of the package.json above the script.
      const { version } = (await import(`${ROOT}package.json`, { with: { type: 'json' } })).default as { version: string };
      expect(span.resource['service.version']).toBe(version);
      await waitFor(() => r.points('http.server.request.duration').length > 0);
      expect(r.requests.every((q) => q.contentType.includes('json'))).toBe(true);
      expect(r.requests.some((q) => q.path === '/v1/metrics')).toBe(true);
    });
  });
});

describe('fastify app under --import', () => {
  it('exports server spans with the route and fastify logs with the trace id', async () => {
    await withReceiver(async (r) => {
      const app = await startApp({
        script: 'test/fixtures/fastify-app.mjs',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_SERVICE_NAME: 'fastify-svc', OTEL_MONITOR_RELEASE: 'f1' },
      });
      expect((await app.get('/items/7')).status).toBe(200);
      const span = await waitFor(() => r.spans().find((s) => s.kind === SERVER && s.attributes['url.path'] === '/items/7'));
      expect(span.attributes['http.route']).toBe('/items/:id');
      const log = await waitFor(() => r.logRecords().find((l) => l.body === 'item fetched'));
      expect(log.traceId).toBe(span.traceId);
    });
  });
});

describe('shutdown', () => {
  it('flushes every server span on SIGTERM and exits as Node would (by the signal)', async () => {
    await withReceiver(async (r) => {
      const app = await startApp({
        script: 'test/fixtures/shutdown-app.mjs',
        // A long batch delay: only the shutdown flush can deliver these spans in time.
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_BSP_SCHEDULE_DELAY: '60000' },
      });
      const N = 25;
      for (let i = 0; i < N; i++) await app.get(`/req/${i}`);
      expect(r.spans().length).toBe(0);
      const code = await app.stop('SIGTERM');
      expect(code).toBe('SIGTERM');
      const paths = new Set(r.spans().filter((s) => s.kind === SERVER).map((s) => s.attributes['url.path']));
      expect(paths.size).toBe(N);
    });
  });

  it("leaves the exit to the app's own SIGTERM handler, and still flushes", async () => {
    await withReceiver(async (r) => {
      const app = await startApp({
        script: 'test/fixtures/shutdown-app.mjs',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_BSP_SCHEDULE_DELAY: '60000', OWN_SIGTERM_HANDLER: '1' },
      });
      for (let i = 0; i < 5; i++) await app.get(`/own/${i}`);
      const code = await app.stop('SIGTERM');
      expect(code).toBe(42);
      expect(r.spans().filter((s) => s.kind === SERVER)).toHaveLength(5);
    });
  });
});

describe('natural exit', () => {
  it('flushes on beforeExit and lets the process end by itself with code 0', async () => {
    await withReceiver(async (r) => {
      const t = spawnTracked(NODE24, ['--import', '@org/otel-monitor', 'test/fixtures/one-shot.mjs'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_BSP_SCHEDULE_DELAY: '60000' },
      });
      const code = await Promise.race([t.exited, new Promise((ok) => setTimeout(() => ok('still running'), 20_000))]);
      expect(code).toBe(0);
      expect(r.spans().filter((s) => s.kind === SERVER)).toHaveLength(3);
    });
  });
});

describe('redaction', () => {
  // protobuf is the default path (encoded at span end by EncodingSpanProcessor); JSON is the SDK's.
  for (const protocol of ['http/protobuf', 'http/json'] as const)
  it(`lets no header, query secret, log secret, connection-string password, e-mail or card number out of the process (${protocol})`, async () => {
    await withReceiver(async (r) => {
      const app = await startApp({
        script: 'test/fixtures/leaky-app.mjs',
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant-auth=hdr-S3CRET-0',
          OTEL_MONITOR_REDACT_KEYS: 'ssn',
        },
      });
      const res = await app.get('/login?user=ann&token=qry-S3CRET-1&api_key=qry-S3CRET-2&signature=qry-S3CRET-3&page=2', {
        authorization: 'Bearer hdr-S3CRET-4',
        cookie: 'session=hdr-S3CRET-5',
      });
      expect(res.status).toBe(200);
      // A secret as the first parameter: url.query then starts with it, with no '?' before it.
      expect((await app.get('/health?access_token=qry-S3CRET-0&page=2')).status).toBe(200);
      await waitFor(() => r.spans().some((s) => s.kind === SERVER && s.attributes['url.query'] === 'access_token=[REDACTED]&page=2'));
      await waitFor(() => r.logRecords().some((l) => l.body === 'login attempt'));
      expect((await app.get('/users/ann.lee@example.com/profile')).status).toBe(200);
      expect((await app.get('/checkout?email=bob%40example.com&card=4242424242424242&page=4')).status).toBe(200);
      await waitFor(() => r.spans().some((s) => s.kind === CLIENT));
      await waitFor(() => r.logRecords().some((l) => l.body === 'checkout'));
      await waitFor(() => r.spans().some((s) => s.kind === SERVER && s.attributes['url.path'] === '/users/[REDACTED]/profile'));
      await waitFor(() => r.spans().some((s) => s.kind === CLIENT && String(s.attributes['url.full']).includes('page=3')));
      const exported = JSON.stringify(r.requests.map((q) => q.body));
      expect(exported).not.toMatch(/S3CRET/);
      // The bytes as sent, whatever the encoding: no secret, no e-mail address, no card number.
      const sent = Buffer.concat(r.requests.map((q) => q.payload)).toString('latin1');
      for (const pii of ['S3CRET', 'example.com', '4111 1111 1111 1111', '4242424242424242']) expect(sent, pii).not.toContain(pii);
      expect(r.spans().find((s) => s.kind === SERVER && s.attributes['url.path'] === '/checkout')!.attributes['url.query']).toBe(
        'email=[REDACTED]&card=[REDACTED]&page=4',
      );
      const profile = r.logRecords().find((l) => String(l.body).startsWith('profile viewed by'))!;
      expect(profile.body).toBe('profile viewed by [REDACTED]');
      expect(profile.attributes).toMatchObject({ email: '[REDACTED]', card: '[REDACTED]', plan: 'pro' });
      // The non-secret parts are still there, so redaction did not just drop everything.
      expect(exported).toContain('page=2');
      expect(exported).toContain('[REDACTED]');
      const login = r.spans().find((s) => s.kind === SERVER && s.attributes['url.path'] === '/login')!;
      expect(String(login.attributes['url.query'])).toBe('user=ann&token=[REDACTED]&api_key=[REDACTED]&signature=[REDACTED]&page=2');
      const log = r.logRecords().find((l) => l.body === 'login attempt')!;
      expect(log.attributes).toMatchObject({ user: 'ann', password: '[REDACTED]', ssn: '[REDACTED]' });
      expect(String(log.attributes.db)).toBe('postgres://app:[REDACTED]@db.internal:5432/shop');
      // Nor does the distribution print them.
      expect(app.output()).not.toMatch(/hdr-S3CRET-0/);
    });
  });

  it("OTEL_MONITOR_COLLECT_CLIENT_ADDRESS=false: no server span carries the client's address", async () => {
    await withReceiver(async (r) => {
      const app = await startApp({
        script: 'test/fixtures/leaky-app.mjs',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_MONITOR_COLLECT_CLIENT_ADDRESS: 'false' },
      });
      expect((await app.get('/health', { 'x-forwarded-for': '203.0.113.9' })).status).toBe(200);
      const server = await waitFor(() => r.spans().find((s) => s.kind === SERVER && s.attributes['url.path'] === '/health'));
      for (const key of ['client.address', 'network.peer.address', 'http.request.header.x-forwarded-for']) expect(server.attributes).not.toHaveProperty(key);
      expect(server.attributes['server.port']).toBe(app.port);
    });
  });
});

// 'safety when the backend is down' bounds request latency: preload-latency.test.ts, run alone.
describe('bounded memory', () => {
  it('keeps the heap flat while a backend accepts connections but never answers', async () => {
    // A black hole: every export hangs until its timeout, the worst case for queued telemetry.
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const hole = createServer((s) => sockets.push(s));
    await new Promise<void>((ok) => hole.listen(0, '127.0.0.1', ok));
    const port = (hole.address() as import('node:net').AddressInfo).port;
    try {
      const app = await startApp({
        script: 'test/fixtures/memory-app.mjs',
        preload: ['--expose-gc', '--import', '@org/otel-monitor'],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_EXPORTER_OTLP_TIMEOUT: '30000' },
      });
      const burst = async (n: number) => {
        for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => app.get(`/r/${i + j}`).then((r) => r.text())));
      };
      const heap = async () => Number(await (await app.get('/heap')).text());
      await burst(4000); // fills the span queue (2048) and the in-flight exports
      const plateau = await heap();
      await burst(8000);
      const after = await heap();
      // 8000 more spans (~16 MB if they were all kept) may not grow the heap by more than a few MB.
      expect(after - plateau).toBeLessThan(4 * 1024 * 1024);
      expect(app.child.exitCode).toBeNull();
    } finally {
      for (const s of sockets) s.destroy();
      hole.close();
    }
  });
});

describe('configuration', () => {
  it('warns once per bad variable, names it and the fallback, and still starts', async () => {
    await withReceiver(async (r) => {
      const app = await startApp({
        script: 'test/fixtures/cjs-http.cjs',
        env: {
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${r.url}/v1/traces`,
          OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'not a url',
          OTEL_TRACES_SAMPLER: 'sometimes',
          OTEL_EXPORTER_OTLP_TIMEOUT: 'soon',
          OTEL_RESOURCE_ATTRIBUTES: 'team=payments,broken',
        },
      });
      await app.get('/x');
      const span = await waitFor(() => r.spans().find((s) => s.kind === SERVER));
      expect(span.resource.team).toBe('payments');
      const out = app.output();
      expect(out).toMatch(/warn: OTEL_TRACES_SAMPLER="sometimes" is not one of .*; using parentbased_always_on/);
      expect(out).toMatch(/warn: OTEL_EXPORTER_OTLP_TIMEOUT="soon" is not a whole number >= 1; using 10000/);
      expect(out).toMatch(/warn: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="not a url" is not an http\(s\) URL; using/);
      expect(out).toMatch(/warn: OTEL_RESOURCE_ATTRIBUTES=.* has malformed entries \("broken"\)/);
      expect(out.match(/OTEL_TRACES_SAMPLER=/g)).toHaveLength(1);
    });
  });

  it('OTEL_SDK_DISABLED=true turns everything off and the app still works', async () => {
    await withReceiver(async (r) => {
      const app = await startApp({
        script: 'test/fixtures/cjs-http.cjs',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_SDK_DISABLED: 'true' },
      });
      expect((await app.get('/x')).status).toBe(200);
      await new Promise((ok) => setTimeout(ok, 1500));
      expect(r.requests).toHaveLength(0);
      expect(app.output()).toMatch(/OTEL_SDK_DISABLED=true: telemetry is off/);
    });
  });

  it('OTEL_NODE_ENABLED_INSTRUMENTATIONS and _DISABLED_ select instrumentations', async () => {
    await withReceiver(async (r) => {
      const app = await startApp({
        script: 'examples/app.js',
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
          OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,express,pino',
          OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'express',
        },
      });
      await app.get('/users/1');
      await waitFor(() => r.spans().some((s) => s.kind === SERVER));
      await new Promise((ok) => setTimeout(ok, 500));
      expect(r.spans().filter((s) => s.scope.includes('express'))).toHaveLength(0);
      expect(app.output()).toMatch(/instrumentations=http,pino /);
    });
  });

  it('traces a server whose emit bypasses the patched prototype, and warns when only emit-patching is on', async () => {
    await withReceiver(async (r) => {
      // Default: incoming requests are traced from Node's diagnostics channels, which no emit override escapes.
      const seen = await startApp({ script: 'test/fixtures/unpatched-server.mjs', env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url } });
      await seen.get('/a');
      await waitFor(() => r.spans().find((s) => s.kind === SERVER && s.attributes['url.path'] === '/a'));
      expect(seen.output()).not.toContain('not patched');
    });
    const quiet = { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_MONITOR_FAST_HTTP_SERVER: 'false' };
    const bad = await startApp({ script: 'test/fixtures/unpatched-server.mjs', env: quiet });
    await bad.get('/a');
    await bad.get('/b');
    await waitFor(() => bad.output().includes('http was not patched'));
    expect(bad.output().match(/http was not patched/g)).toHaveLength(1);
    const good = await startApp({ script: 'test/fixtures/cjs-http.cjs', env: quiet });
    await good.get('/a');
    await new Promise((ok) => setTimeout(ok, 300));
    expect(good.output()).not.toContain('not patched');
  });

  it('continues an incoming W3C trace and marks a request the client abandoned', async () => {
    await withReceiver(async (r) => {
      const app = await startApp({ script: 'test/fixtures/slow-app.mjs', env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url } });
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      await app.get('/ok', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
      const child = await waitFor(() => r.spans().find((s) => s.kind === SERVER && s.attributes['url.path'] === '/ok'));
      expect(child.traceId).toBe(traceId);
      expect(child.parentSpanId).toBe('00f067aa0ba902b7');
      await expect(fetch(`${app.url}/slow`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
      const aborted = await waitFor(() => r.spans().find((s) => s.kind === SERVER && s.attributes['url.path'] === '/slow'));
      expect(aborted.attributes['error.type']).toBe('aborted');
      expect(aborted.status.code).toBe(2);
    });
  });

  it('OTEL_MONITOR_FAST_HTTP_SERVER=false falls back to instrumentation-http for incoming requests', async () => {
    await withReceiver(async (r) => {
      const app = await startApp({
        script: 'examples/app.js',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_MONITOR_FAST_HTTP_SERVER: 'false' },
      });
      await app.get('/users/5');
      const span = await waitFor(() => r.spans().find((s) => s.kind === SERVER && s.attributes['http.route'] === '/users/:id'));
      expect(span.scope).toBe('@opentelemetry/instrumentation-http');
      expect(span.name).toBe('GET /users/:id');
    });
  });

  it('starts the host, runtime and process metrics only when something reads metrics', async () => {
    const loaded = async (env: Record<string, string>) => {
      const app = await startApp({ script: 'test/fixtures/loaded-modules.cjs', env: { OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', ...env } });
      // They start 1 s after the preload (system-metrics.ts); asked again until 2.5 s have passed.
      return waitFor(async () => {
        const body = (await (await app.get('/')).json()) as { loaded: string[]; uptimeMs: number };
        return body.uptimeMs > 2500 || body.loaded.length > 0 ? body.loaded : undefined;
      }, { what: 'the fixture to answer after 2.5 s or once a package loaded' });
    };
    const [read, unread] = await Promise.all([loaded({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }), loaded({ OTEL_METRICS_EXPORTER: 'none' })]);
    expect(read).toContain('instrumentation-runtime-node');
    expect(unread).toEqual([]);
  });

  it("leaves Node's bundled undici unloaded in an app that never uses fetch, and its exports out of its client metrics", async () => {
    // An ESM import of node:http (the health endpoint's, the exporters' agent, otlp-exporter-base's
    // request) builds its ESM facade, whose WebSocket/CloseEvent/MessageEvent getters load undici.
    await withReceiver(async (r) => {
      const app = await startApp({ script: 'test/fixtures/loaded-modules.cjs', env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url } });
      const body = await waitFor(async () => {
        const b = (await (await app.get('/')).json()) as { undici: boolean; uptimeMs: number };
        // After the system metrics started (1 s), and metric exports (every 1 s) after span exports.
        return b.uptimeMs > 3500 && r.spans().length > 0 && r.metrics().length > 0 ? b : undefined;
      }, { what: 'exported spans and metrics, 3.5 s after start' });
      expect(body.undici).toBe(false);
      // The app makes no outgoing request: the exporters' own are not in its client metrics.
      expect(r.metrics().filter((m) => m.name === 'http.client.request.duration')).toEqual([]);
    });
  });

  it('OTEL_LOG_LEVEL=warn silences the start-up line', async () => {
    const app = await startApp({
      script: 'test/fixtures/cjs-http.cjs',
      env: { OTEL_LOG_LEVEL: 'warn', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
    });
    await app.get('/x');
    expect(app.output()).not.toMatch(/\[otel-monitor\] info/);
  });
});

describe('lean spans, one variable away', () => {
  /** The Express example's spans for the same requests, as the receiver decodes them, and the start-up line. */
  const run = (env: Record<string, string>) =>
    withReceiver(async (r) => {
      const app = await startApp({ script: 'examples/app.js', env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_SERVICE_NAME: 'lean', ...env } });
      await app.get('/users/7?token=secret');
      await app.get('/fail');
      const spans = await waitFor(() => {
        const s = r.spans().filter((x) => x.scope.startsWith('@org/otel-monitor/'));
        return s.filter((x) => x.kind === SERVER).length >= 2 && s.length >= 4 ? s : undefined;
      });
      const names = new Map(spans.map((s) => [s.spanId, s.name]));
      const view = spans
        .map((s) => {
          const { 'network.peer.port': _port, 'server.port': _server, ...attributes } = s.attributes;
          const events = s.events.map((e) => ({ name: e.name, type: e.attributes['exception.type'], message: e.attributes['exception.message'] }));
          return { name: s.name, kind: s.kind, scope: s.scope, parent: names.get(s.parentSpanId) ?? s.parentSpanId, status: s.status, attributes, events };
        })
        .sort((a, b) => a.name.localeCompare(b.name));
      return { view, line: /spans=(\S+)/.exec(app.output())?.[1] };
    });

  it('OTEL_MONITOR_LEAN_SPANS=false gives the same spans from the SDK span; Sentry selects it on its own', async () => {
    const [lean, sdk, sentry] = await Promise.all([
      run({}),
      run({ OTEL_MONITOR_LEAN_SPANS: 'false' }),
      run({ SENTRY_DSN: 'http://public@127.0.0.1:9/1' }),
    ]);
    expect([lean.line, sdk.line, sentry.line]).toEqual(['lean', 'sdk', 'sdk-for-sentry']);
    expect(lean.view.length).toBeGreaterThanOrEqual(4);
    expect(lean.view).toEqual(sdk.view);
  });
});
