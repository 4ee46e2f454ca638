// Request ids end to end: two services under `node --import @org/otel-monitor`, the front one
// calling the downstream one with fetch and http.get while handling a request. The id must be
// kept when sane, the trace id when missing (a UUID when the request joined a trace), replaced when malicious, and be in the response header,
// both server spans, the app's own pino lines (stdout) and the OTLP log records. Needs `npm run build`.
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp, type RunningApp } from '../helpers/app.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { stopAll, waitFor } from '../helpers/process.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACE_ID = /^[0-9a-f]{32}$/;
let receiver: OtlpReceiver;
let front: RunningApp;
let downstream: RunningApp;

const start = (service: string, env: Record<string, string> = {}) =>
  startApp({
    script: 'test/fixtures/request-id-app.mjs',
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: service,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'none',
      ...env,
    },
  });

/** Sends raw header bytes (what fetch refuses to send) and returns the status and x-request-id. */
function rawRequest(port: number, headerLine: Buffer): Promise<{ status: number; id?: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1]);
      resolve({ status, id: /\r\nx-request-id: ([^\r\n]*)/i.exec(data)?.[1] });
    });
    socket.write(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n'), headerLine, Buffer.from('\r\n\r\n')]));
  });
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  receiver = await startOtlpReceiver();
  [front, downstream] = await Promise.all([start('rid-front'), start('rid-downstream')]);
}, 60_000);

afterAll(async () => {
  await stopAll();
  await receiver?.close();
});

describe('request ids', () => {
  it('keeps a sane incoming id and passes it to the downstream service (fetch and http.get)', async () => {
    const res = await front.get(`/?to=${encodeURIComponent(`${downstream.url}/`)}`, { 'x-request-id': 'req-123_ab.C:9' });
    expect(res.headers.get('x-request-id')).toBe('req-123_ab.C:9');
    const body = await res.json();
    expect(body.requestId).toBe('req-123_ab.C:9');
    expect(body.downstream.viaFetch.requestId).toBe('req-123_ab.C:9');
    expect(body.downstream.viaHttp.requestId).toBe('req-123_ab.C:9');

    const servers = await waitFor(
      () => {
        const s = receiver.spans().filter((x) => x.kind === 2 && x.attributes['otel_monitor.request.id'] === 'req-123_ab.C:9');
        return s.length >= 3 ? s : undefined;
      },
      { timeoutMs: 20_000, what: 'the front and two downstream server spans' },
    );
    expect(servers.map((s) => s.resource['service.name']).sort()).toEqual(['rid-downstream', 'rid-downstream', 'rid-front']);
    // The app's own pino lines on stdout, in both services.
    for (const app of [front, downstream]) {
      const lines = app.output().split('\n').filter((l) => l.includes('"msg":"handling"') && l.includes('req-123_ab.C:9'));
      expect(lines.length, app.output()).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ request_id: 'req-123_ab.C:9', trace_id: expect.any(String) });
    }
    // And the exported log records.
    const records = await waitFor(
      () => {
        const r = receiver.logRecords().filter((l) => l.attributes['otel_monitor.request.id'] === 'req-123_ab.C:9');
        return r.length >= 6 ? r : undefined;
      },
      { timeoutMs: 20_000, what: 'log records with the request id' },
    );
    expect(new Set(records.map((r) => r.body))).toEqual(new Set(['handling', 'answering']));
  });

  it('a request that starts a trace without an id takes its trace id, passed on downstream, with no span attribute', async () => {
    const res = await front.get(`/?to=${encodeURIComponent(`${downstream.url}/`)}`);
    const id = res.headers.get('x-request-id')!;
    expect(id).toMatch(TRACE_ID);
    const body = await res.json();
    expect(body.requestId).toBe(id);
    expect(body.downstream.viaFetch.requestId).toBe(id);
    expect(body.downstream.viaHttp.requestId).toBe(id);
    const servers = await waitFor(
      () => {
        const s = receiver.spans().filter((x) => x.kind === 2 && x.traceId === id);
        return s.length >= 3 ? s : undefined;
      },
      { timeoutMs: 20_000, what: 'the front and two downstream server spans of the trace' },
    );
    expect(servers.map((s) => s.resource['service.name']).sort()).toEqual(['rid-downstream', 'rid-downstream', 'rid-front']);
    for (const s of servers) expect(s.attributes['otel_monitor.request.id']).toBeUndefined();
    // The log lines are as before: the id in the app's pino lines and on every OTLP log record.
    const lines = front.output().split('\n').filter((l) => l.includes('"msg":"handling"') && l.includes(id));
    expect(JSON.parse(lines[0]!)).toMatchObject({ request_id: id, trace_id: id });
    await waitFor(() => (receiver.logRecords().filter((l) => l.attributes['otel_monitor.request.id'] === id).length >= 6 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'log records with the request id',
    });
    const other = (await front.get('/')).headers.get('x-request-id');
    expect(other).toMatch(TRACE_ID);
    expect(other).not.toBe(id);
  });

  it('a request that joined an upstream trace without an id gets a fresh UUID, on its span', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await front.get('/', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    const id = res.headers.get('x-request-id')!;
    expect(id).toMatch(UUID);
    const span = await waitFor(() => receiver.spans().find((x) => x.kind === 2 && x.traceId === traceId), { timeoutMs: 20_000, what: 'the joined server span' });
    expect(span.attributes['otel_monitor.request.id']).toBe(id);
  });

  it('replaces malicious ids: too long, spaces, tabs, control characters, encoded CRLF, non-ASCII', async () => {
    const evil = [
      'a'.repeat(129),
      'abc def',
      'abc\tdef',
      'abc%0d%0aSet-Cookie:%20x=1',
      '<script>alert(1)</script>',
      'caf\u00e9',
    ];
    for (const value of evil) {
      const r = await rawRequest(front.port, Buffer.concat([Buffer.from('X-Request-Id: '), Buffer.from(value, 'latin1')]));
      expect(r.status, value).toBe(200);
      expect(r.id, value).toMatch(TRACE_ID);
    }
    // Raw control characters and bare CR/LF: Node's parser refuses some outright (400); any that
    // reach the app get a fresh id. Either way the value is never echoed.
    for (const bytes of [Buffer.from('X-Request-Id: a\x01b'), Buffer.from('X-Request-Id: a\rb'), Buffer.from('X-Request-Id: a\x7fb')]) {
      const r = await rawRequest(front.port, bytes);
      if (r.status === 200) expect(r.id).toMatch(TRACE_ID);
      else expect(r.status).toBe(400);
    }
    const fine = await rawRequest(front.port, Buffer.from(`X-Request-Id: ${'b'.repeat(128)}`));
    expect(fine.id).toBe('b'.repeat(128));
  });

  it('takes its header name from OTEL_MONITOR_REQUEST_ID_HEADER, is gone with OTEL_MONITOR_REQUEST_ID=off, and a UUID with OTEL_MONITOR_REQUEST_ID_FORMAT=uuid', async () => {
    const [custom, off, uuid] = await Promise.all([
      start('rid-custom', { OTEL_MONITOR_REQUEST_ID_HEADER: 'X-Correlation-Id' }),
      start('rid-off', { OTEL_MONITOR_REQUEST_ID: 'off' }),
      start('rid-uuid', { OTEL_MONITOR_REQUEST_ID_FORMAT: 'uuid' }),
    ]);
    const fresh = (await uuid.get('/')).headers.get('x-request-id');
    expect(fresh).toMatch(UUID);
    const span = await waitFor(() => receiver.spans().find((x) => x.kind === 2 && x.resource['service.name'] === 'rid-uuid'), { timeoutMs: 20_000, what: 'the uuid service span' });
    expect(span.attributes['otel_monitor.request.id']).toBe(fresh);
    const res = await custom.get('/', { 'x-correlation-id': 'corr-1', 'x-request-id': 'ignored' });
    expect(res.headers.get('x-correlation-id')).toBe('corr-1');
    expect(res.headers.get('x-request-id')).toBeNull();
    const plain = await off.get('/', { 'x-request-id': 'req-off' });
    expect(plain.headers.get('x-request-id')).toBeNull();
    expect((await plain.json()).requestId).toBeNull();
  });
});
