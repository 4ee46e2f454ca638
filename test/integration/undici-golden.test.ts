// Golden test for src/instrumentation/undici/: the same app (test/fixtures/undici-golden-app.mjs:
// fetch() and the undici package's request(), answered, 4xx/5xx, refused, aborted, inside a request
// and outside any) runs once under @opentelemetry/instrumentation-undici
// (OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS=undici) and once under our tracer. Span names, kinds,
// parents, status, events, every attribute key and value, the duration metric's name, unit and data
// point attributes, and the headers the called server received must be equal, except for the
// differences docs/ARCHITECTURE.md lists in its "undici-golden" table, the one place they are kept.
// A difference not listed fails, and so does a listed one that no longer happens. Needs `npm run build`.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp } from '../helpers/app.js';
import { startOtlpReceiver, type OtlpReceiver, type SpanRecord } from '../helpers/otlp-receiver.js';
import { freePort, stopAll, waitFor } from '../helpers/process.js';

const CLIENT = 3;
const LABELS = ['outside', 'get', 'query', 'post', 'patch', 'status-404', 'status-503', 'own-id', 'refused', 'slow', 'undici', 'undici-500'];
const METRIC = 'http.client.request.duration';

interface Run {
  spans: Map<string, SpanRecord>;
  server: SpanRecord;
  headers: Map<string, IncomingHttpHeaders>;
  metric: { unit: string; type: string; points: Map<string, number> };
}

/** The allowed differences: `| \`pattern\` | reason |` rows between the undici-golden markers. */
function allowedDifferences(): RegExp[] {
  const doc = readFileSync(join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const table = /<!-- undici-golden -->([\s\S]*?)<!-- \/undici-golden -->/.exec(doc)?.[1];
  if (!table) throw new Error('docs/ARCHITECTURE.md has no <!-- undici-golden --> table');
  return [...table.matchAll(/^ *\| `([^`]+)` \|/gm)].map(([, p]) => new RegExp(`^${p!.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^ ]*')}$`));
}

const labelOf = (url: unknown) => /^(?:https?:\/\/[^/]+)?\/([^/?]+)/.exec(String(url))?.[1] ?? '?';
const received = new Map<string, IncomingHttpHeaders>();
let echo: Server;
let echoUrl: string;
let closedPort: number;

function startEcho(): Promise<void> {
  echo = createServer((req, res) => {
    received.set(labelOf(req.url), req.headers);
    req.resume();
    const status = /\/(?:status|undici)-(\d+)/.exec(req.url ?? '')?.[1];
    if (req.url?.startsWith('/slow')) setTimeout(() => res.end('late'), 2000).unref();
    else res.writeHead(status ? Number(status) : 200).end('ok');
  });
  return new Promise((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
}

async function run(upstream: boolean): Promise<Run> {
  received.clear();
  const receiver: OtlpReceiver = await startOtlpReceiver();
  try {
    const app = await startApp({
      script: 'test/fixtures/undici-golden-app.mjs',
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'undici-golden',
        ECHO_URL: echoUrl,
        CLOSED_PORT: String(closedPort),
        ...(upstream ? { OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS: 'undici' } : {}),
      },
    });
    const res = await app.get(`/run?echo=${encodeURIComponent(echoUrl)}`, { 'x-request-id': 'golden-req', baggage: 'golden=1' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ refused: 'ECONNREFUSED', aborted: 'AbortError', undici500: 500 });
    const clients = await waitFor(() => {
      const c = receiver.spans().filter((s) => s.kind === CLIENT);
      return c.length >= LABELS.length ? c : undefined;
    }, { timeoutMs: 30_000, what: `${LABELS.length} client spans` });
    const server = receiver.spans().find((s) => s.kind === 2 && s.attributes['url.path'] === '/run')!;
    const metric = await waitFor(() => {
      const last = receiver.metrics().filter((m) => m.name === METRIC).at(-1);
      return last && last.dataPoints.reduce((n, p) => n + (p.count ?? 0), 0) >= LABELS.length ? last : undefined;
    }, { timeoutMs: 30_000, what: `${METRIC} with ${LABELS.length} requests` });
    await app.stop();
    const points = new Map(metric.dataPoints.map((p) => [JSON.stringify(Object.entries(p.attributes).sort()), p.count ?? 0]));
    return {
      spans: new Map(clients.map((s) => [labelOf(s.attributes['url.full']), s])),
      server,
      headers: new Map(received),
      metric: { unit: metric.unit, type: metric.type, points },
    };
  } finally {
    await receiver.close();
  }
}

/** What is compared of one span, with parent links and ids made relative to the run. */
function spanFacts(s: SpanRecord, r: Run): Record<string, unknown> {
  return {
    name: s.name,
    kind: s.kind,
    parent: s.parentSpanId === '' ? 'none' : s.parentSpanId === r.server.spanId ? 'request' : 'other',
    trace: s.traceId === r.server.traceId ? 'request' : 'own',
    status: `${s.status.code ?? 0} ${s.status.message ?? ''}`,
    events: s.events.map((e) => `${e.name} ${Object.keys(e.attributes).sort().join(',')} ${String(e.attributes['exception.type'])} ${String(e.attributes['exception.message'])}`).join('; '),
  };
}

function headerFacts(h: IncomingHttpHeaders | undefined, s: SpanRecord | undefined): Record<string, unknown> {
  if (!h) return { received: false };
  const tp = typeof h.traceparent === 'string' ? h.traceparent.split('-') : undefined;
  return {
    names: Object.keys(h).sort().join(','),
    traceparent: tp ? `${tp[1] === s?.traceId ? 'span trace' : 'other trace'} ${tp[2] === s?.spanId ? 'client span' : 'other span'} ${tp[3]}` : 'absent',
    baggage: h.baggage,
    'x-request-id': h['x-request-id'],
  };
}

function diff(where: string, a: Record<string, unknown>, b: Record<string, unknown>, out: string[]): void {
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    // By presence, not value: an empty string decodes as undefined but was still sent.
    if (!(key in a)) out.push(`${where}.${key} ours only`);
    else if (!(key in b)) out.push(`${where}.${key} upstream only`);
    else if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) out.push(`${where}.${key} value`);
  }
}

/** Every difference between the upstream run `a` and ours `b`, as `where.what kind` lines. */
function differences(a: Run, b: Run): string[] {
  const out: string[] = [];
  for (const label of LABELS) {
    const [x, y] = [a.spans.get(label), b.spans.get(label)];
    if (!x || !y) {
      out.push(`span:${label} ${!x ? 'ours only' : 'upstream only'}`);
      continue;
    }
    diff(`span:${label}`, spanFacts(x, a), spanFacts(y, b), out);
    diff(`span:${label}.attribute`, x.attributes, y.attributes, out);
    diff(`headers:${label}`, headerFacts(a.headers.get(label), x), headerFacts(b.headers.get(label), y), out);
  }
  diff(`metric:${METRIC}`, { unit: a.metric.unit, type: a.metric.type }, { unit: b.metric.unit, type: b.metric.type }, out);
  diff(`metric:${METRIC}.point`, Object.fromEntries(a.metric.points), Object.fromEntries(b.metric.points), out);
  return out;
}

let upstream: Run;
let ours: Run;

beforeAll(async () => {
  await startEcho();
  echoUrl = `http://127.0.0.1:${(echo.address() as { port: number }).port}`;
  closedPort = await freePort();
  upstream = await run(true);
  ours = await run(false);
}, 180_000);

afterAll(async () => {
  await stopAll();
  await new Promise((resolve) => echo?.close(resolve));
});

describe('fetch and undici traced by us, against instrumentation-undici', () => {
  it('each run traced every call, with the request id and trace context propagated', () => {
    for (const [name, r] of [['upstream', upstream], ['ours', ours]] as const) {
      expect([...r.spans.keys()].sort(), name).toEqual([...LABELS].sort());
      expect(r.spans.get('get')!.scope, name).toContain('undici');
      const get = headerFacts(r.headers.get('get'), r.spans.get('get'));
      expect(get, name).toMatchObject({ traceparent: 'span trace client span 01', baggage: 'golden=1', 'x-request-id': 'golden-req' });
      expect(r.spans.get('query')!.attributes['url.full'], name).toContain('token=[REDACTED]');
    }
    expect(ours.spans.get('get')!.scope).toBe('@org/otel-monitor/undici');
    expect(upstream.spans.get('get')!.scope).toBe('@opentelemetry/instrumentation-undici');
  });

  it('differs from upstream only where docs/ARCHITECTURE.md says so', () => {
    const allowed = allowedDifferences();

    const found = differences(upstream, ours);
    const unlisted = found.filter((d) => !allowed.some((p) => p.test(d)));
    expect(unlisted, `differences not listed in docs/ARCHITECTURE.md (all found: ${found.join(' | ')})`).toEqual([]);
    expect(upstream.headers.get('own-id')!['x-request-id']).toBe('app-own-id, golden-req');
    expect(ours.headers.get('own-id')!['x-request-id']).toBe('app-own-id');
    const stale = allowed.filter((p) => !found.some((d) => p.test(d)));
    expect(stale.map(String), 'listed differences that no longer happen').toEqual([]);
  });
});
