// pg traced by us (src/instrumentation/pg/), against a real PostgreSQL: the request a query span
// belongs to under pool contention, every calling form, and a golden comparison with
// @opentelemetry/instrumentation-pg (OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS=pg) whose allowed
// differences are the table in docs/ARCHITECTURE.md, read here.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp, type RunningApp } from '../helpers/app.js';
import { waitFor } from '../helpers/process.js';
import { startOtlpReceiver, type OtlpReceiver, type SpanRecord } from '../helpers/otlp-receiver.js';
import { startPostgres, type RunningPostgres } from '../helpers/databases.js';

const OURS = '@org/otel-monitor/pg';
const UPSTREAM = '@opentelemetry/instrumentation-pg';
const PG_SCOPES = new Set([OURS, UPSTREAM]);
const SERVER = 2;
const CLIENT = 3;

let db: RunningPostgres;
beforeAll(async () => {
  db = await startPostgres('pg-tracer-S3cret');
});
afterAll(async () => {
  await db?.stop();
});
// The apps only: stopAll() would stop PostgreSQL too, which the whole file shares.
const apps: RunningApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.stop()));
});

async function pgApp(r: OtlpReceiver, env: Record<string, string> = {}): Promise<RunningApp> {
  const app = await startApp({ script: 'test/fixtures/pg-app.mjs', env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, DATABASE_URL: db.url, ...env } });
  apps.push(app);
  return app;
}

async function call(app: RunningApp, path: string): Promise<{ result: any; traceId: string }> {
  const res = await app.get(path);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text);
}

/** The spans of one trace once its server span has arrived. */
async function traceOf(r: OtlpReceiver, traceId: string): Promise<SpanRecord[]> {
  await waitFor(() => r.spans().find((s) => s.traceId === traceId && s.kind === SERVER), { what: `server span of ${traceId}`, timeoutMs: 30_000 });
  // The pg spans end before the server span, and leave in the same or an earlier batch.
  return r.spans().filter((s) => s.traceId === traceId);
}

describe('pg traced by us', () => {
  it('gives every query span its own request as parent, with more concurrent requests than pool clients', async () => {
    const r = await startOtlpReceiver();
    try {
      const app = await pgApp(r);
      expect(app.output()).toMatch(/instrumentations=[^ ]*pg/);
      // 2 clients, 10 requests, 8 holding a client for 200 ms: most of them wait, and each gets its
      // client from release() inside another request.
      const paths = [...Array.from({ length: 8 }, (_, i) => `/promise?id=${i}&ms=200`), '/callback', '/checkout'];
      const answers = await Promise.all(paths.map((p) => call(app, p)));
      expect(new Set(answers.map((a) => a.traceId)).size).toBe(paths.length);
      for (const [i, a] of answers.entries()) {
        const spans = await traceOf(r, a.traceId);
        const server = spans.find((s) => s.kind === SERVER)!;
        const queries = spans.filter((s) => s.scope === OURS);
        expect(queries.length, `${paths[i]}: ${queries.map((q) => q.name).join(', ')}`).toBe(paths[i] === '/checkout' ? 2 : 1);
        for (const q of queries) {
          expect(q.parentSpanId, paths[i]).toBe(server.spanId);
          expect(q.attributes['otel_monitor.db.pool.wait_ms'] === undefined || typeof q.attributes['otel_monitor.db.pool.wait_ms'] === 'number').toBe(true);
        }
        if (paths[i]!.startsWith('/promise')) expect(queries[0]!.attributes['db.query.text']).toBe('SELECT $1::int AS id, pg_sleep($2::float8 / 1000) AS slept');
      }
      // The callbacks ran in their request's context.
      expect(answers[8]!.result.active).toBe(answers[8]!.traceId);
      expect(answers[9]!.result.active).toBe(answers[9]!.traceId);
      // Every query span of ours is accounted for: none joined another trace.
      const all = r.spans().filter((s) => s.scope === OURS);
      expect(all).toHaveLength(8 + 1 + 2);
      // Waiting for a client shows: at least one query waited a good part of another's 200 ms.
      const waits = all.map((s) => Number(s.attributes['otel_monitor.db.pool.wait_ms'] ?? 0));
      expect(Math.max(...waits)).toBeGreaterThan(20);
    } finally {
      await r.close();
    }
  });

  it('traces callbacks, promises, a Client without a pool, submittables and errors', async () => {
    const r = await startOtlpReceiver();
    try {
      const app = await pgApp(r);
      const one = async (path: string) => {
        const a = await call(app, path);
        const spans = await traceOf(r, a.traceId);
        return { result: a.result, server: spans.find((s) => s.kind === SERVER)!, queries: spans.filter((s) => s.scope === OURS) };
      };
      const base = { 'db.system.name': 'postgresql', 'db.namespace': 'postgres', 'server.address': '127.0.0.1', 'server.port': Number(new URL(db.url).port) };

      const cb = await one('/callback');
      expect(cb.result.two).toBe(2);
      expect(cb.queries).toHaveLength(1);
      expect(cb.queries[0]).toMatchObject({ name: 'pg.query:SELECT postgres', kind: CLIENT, parentSpanId: cb.server.spanId, status: {} });
      expect(cb.queries[0]!.attributes).toMatchObject({ ...base, 'db.query.text': 'SELECT 2 AS two' });

      const checkout = await one('/checkout');
      expect(checkout.queries.map((q) => q.name).sort()).toEqual(['pg.query:SELECT postgres', 'pg.query:by-id postgres']);
      expect(checkout.queries.find((q) => q.name.includes('by-id'))!.attributes).toMatchObject({ 'db.postgresql.plan': 'by-id' });

      const client = await one('/client');
      expect(client.result).toBe(5);
      expect(client.queries).toHaveLength(1);
      expect(client.queries[0]!.parentSpanId).toBe(client.server.spanId);
      expect(client.queries[0]!.attributes).toMatchObject({ ...base, 'db.query.text': 'SELECT 5 AS five' });
      expect(client.queries[0]!.attributes['otel_monitor.db.pool.wait_ms']).toBeUndefined();

      const sub = await one('/submittable');
      expect(sub.result).toBe(6);
      expect(sub.queries).toHaveLength(1);
      expect(sub.queries[0]!.parentSpanId).toBe(sub.server.spanId);

      const err = await one('/error');
      expect(err.result).toBe('42P01');
      expect(err.queries).toHaveLength(1);
      const failed = err.queries[0]!;
      expect(failed.status).toMatchObject({ code: 2, message: 'relation "no_such_table" does not exist' });
      expect(failed.attributes['error.type']).toBe('42P01');
      // The exception event names the error's type and code only, as upstream's does.
      expect(failed.events[0]?.attributes['exception.message']).toBe("PostgreSQL error of type 'error' occurred (code: 42P01)");

      const durations = await waitFor(() => {
        const points = r.points('db.client.operation.duration').filter((p) => p.attributes['error.type'] === '42P01');
        return points.length ? r.points('db.client.operation.duration') : undefined;
      });
      expect(durations.find((p) => p.attributes['error.type'] === '42P01')!.attributes).toMatchObject({ 'db.operation.name': 'SELECT', 'db.system.name': 'postgresql' });
      const used = await waitFor(() => r.points('db.client.connection.count').find((p) => p.attributes['db.client.connection.state'] === 'idle'));
      expect(used.attributes['db.client.connection.pool.name']).toBe('unknown_host:unknown_port/unknown_database');
    } finally {
      await r.close();
    }
  });
});

// pg-native needs libpq and a native build, so it is not a dependency: point PG_NATIVE_NODE_PATH at
// a node_modules that holds a built pg-native to run this (docs/COMPATIBILITY.md says how it was).
const nativePath = process.env.PG_NATIVE_NODE_PATH;
describe.skipIf(!nativePath)('pg traced by us, pg-native', () => {
  it('traces pg.native queries, promise and callback forms and an error, under the request span', async () => {
    const r = await startOtlpReceiver();
    try {
      const app = await pgApp(r, { PG_NATIVE: '1', NODE_PATH: nativePath! });
      const a = await call(app, '/native');
      expect(a.result).toEqual([7, 8, '42P01']);
      const spans = await traceOf(r, a.traceId);
      const server = spans.find((s) => s.kind === SERVER)!;
      const queries = spans.filter((s) => s.scope === OURS);
      expect(queries.map((q) => q.attributes['db.query.text'])).toEqual(['SELECT 7 AS seven', 'SELECT $1::int AS eight', 'SELECT * FROM no_such_table']);
      for (const q of queries) expect(q.parentSpanId).toBe(server.spanId);
      expect(queries[0]!.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.namespace': 'postgres', 'server.address': '127.0.0.1' });
      expect(queries[2]!.status.code).toBe(2);
      expect(queries[2]!.attributes['error.type']).toBe('42P01');
    } finally {
      await r.close();
    }
  });
});

// ---- golden: the same requests under upstream's instrumentation-pg and under ours ----

const GOLDEN_PATHS = ['/promise?id=1', '/callback', '/checkout', '/client', '/submittable', '/error'];

interface Shape {
  spans: Map<string, SpanRecord[]>;
  metrics: Map<string, { unit: string; type: string; keys: Set<string> }>;
  scopes: Set<string>;
}

async function runGolden(upstream: boolean): Promise<Shape> {
  const r = await startOtlpReceiver();
  try {
    const app = await pgApp(r, upstream ? { OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS: 'pg' } : {});
    const spans = new Map<string, SpanRecord[]>();
    for (const path of GOLDEN_PATHS) {
      const a = await call(app, path);
      const trace = await traceOf(r, a.traceId);
      spans.set(path, trace);
    }
    // Two collections after the last request, so the pool gauges and every histogram point are in.
    const seen = r.requests.filter((q) => q.signal === 'metrics').length;
    await waitFor(() => r.requests.filter((q) => q.signal === 'metrics').length >= seen + 2, { timeoutMs: 30_000, what: 'metric exports' });
    const metrics = new Map<string, { unit: string; type: string; keys: Set<string> }>();
    for (const m of r.metrics().filter((x) => PG_SCOPES.has(x.scope))) {
      const e = metrics.get(m.name) ?? { unit: m.unit, type: m.type, keys: new Set<string>() };
      for (const p of m.dataPoints) for (const k of Object.keys(p.attributes)) e.keys.add(k);
      metrics.set(m.name, e);
    }
    const scopes = new Set(r.spans().filter((s) => PG_SCOPES.has(s.scope)).map((s) => s.scope));
    return { spans, metrics, scopes };
  } finally {
    await Promise.all(apps.splice(0).map((a) => a.stop()));
    await r.close();
  }
}

/** A span's place in its trace: `server` for the request's span, else its parent's name. */
function parentOf(span: SpanRecord, trace: SpanRecord[]): string {
  const parent = trace.find((s) => s.spanId === span.parentSpanId);
  return !parent ? 'none' : parent.kind === SERVER ? 'server' : parent.name;
}

/** Every difference between upstream's and our telemetry, as the keys docs/ARCHITECTURE.md lists. */
function differences(up: Shape, ours: Shape): Set<string> {
  const out = new Set<string>();
  const note = (key: string) => out.add(key);
  if (up.scopes.size !== 1 || ours.scopes.size !== 1) throw new Error(`expected one scope each: ${[...up.scopes]} / ${[...ours.scopes]}`);
  note(`scope ${[...up.scopes][0]} → ${[...ours.scopes][0]}`);
  for (const path of GOLDEN_PATHS) {
    const u = up.spans.get(path)!.filter((s) => PG_SCOPES.has(s.scope));
    const o = ours.spans.get(path)!.filter((s) => PG_SCOPES.has(s.scope));
    for (const s of u) if (!o.some((x) => x.name === s.name)) note(`span ${s.name}: upstream only`);
    for (const s of o) if (!u.some((x) => x.name === s.name)) note(`span ${s.name} on ${path}: ours only`);
    for (const os of o) {
      const us = u.find((x) => x.name === os.name);
      if (!us) continue;
      const where = `span ${os.name.split(' ')[0]}`;
      if (us.kind !== os.kind) note(`${where} kind`);
      if (parentOf(us, up.spans.get(path)!) !== parentOf(os, ours.spans.get(path)!)) note(`${where} parent`);
      if ((us.status.code ?? 0) !== (os.status.code ?? 0) || (us.status.message ?? '') !== (os.status.message ?? '')) note(`${where} status`);
      if (JSON.stringify(us.events.map((e) => [e.name, e.attributes])) !== JSON.stringify(os.events.map((e) => [e.name, e.attributes]))) note(`${where} events`);
      for (const k of new Set([...Object.keys(us.attributes), ...Object.keys(os.attributes)])) {
        if (!(k in os.attributes)) note(`attribute ${k}: upstream only`);
        else if (!(k in us.attributes)) note(`attribute ${k}: ours only`);
        else if (JSON.stringify(us.attributes[k]) !== JSON.stringify(os.attributes[k])) note(`attribute ${k} value`);
      }
    }
  }
  for (const name of new Set([...up.metrics.keys(), ...ours.metrics.keys()])) {
    const um = up.metrics.get(name);
    const om = ours.metrics.get(name);
    if (!om) note(`metric ${name}: upstream only`);
    else if (!um) note(`metric ${name}: ours only`);
    else {
      if (um.unit !== om.unit) note(`metric ${name} unit`);
      if (um.type !== om.type) note(`metric ${name} type`);
      for (const k of um.keys) if (!om.keys.has(k)) note(`metric ${name} attribute ${k}: upstream only`);
      for (const k of om.keys) if (!um.keys.has(k)) note(`metric ${name} attribute ${k}: ours only`);
    }
  }
  return out;
}

/** The allowed differences: the first column of the table under "pg: allowed differences" in docs/ARCHITECTURE.md. */
function allowedDifferences(): Set<string> {
  const doc = readFileSync(`${ROOT}docs/ARCHITECTURE.md`, 'utf8');
  const section = doc.slice(doc.indexOf('### pg: differences from instrumentation-pg'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('|')));
  return new Set(
    table
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => /^\| `([^`]+)`/.exec(l)![1]!),
  );
}

describe('pg golden: ours against instrumentation-pg', () => {
  it('differs from upstream only where docs/ARCHITECTURE.md says, and each listed difference is real', async () => {
    const up = await runGolden(true);
    const ours = await runGolden(false);
    expect([...up.scopes]).toEqual([UPSTREAM]);
    expect([...ours.scopes]).toEqual([OURS]);
    // The comparison saw the same queries on both sides (upstream never ends a submittable's span).
    for (const path of GOLDEN_PATHS) {
      const names = (s: Shape) => s.spans.get(path)!.filter((x) => x.name.startsWith('pg.query')).map((x) => x.name).sort();
      expect(names(ours).length, path).toBeGreaterThan(0);
      if (path !== '/submittable') expect(names(ours), path).toEqual(names(up));
    }
    const pgMetrics = ['db.client.connection.count', 'db.client.connection.max', 'db.client.connection.pending_requests', 'db.client.operation.duration'];
    expect([...up.metrics.keys()].sort()).toEqual(pgMetrics);
    expect([...ours.metrics.keys()].sort()).toEqual(pgMetrics);
    const found = differences(up, ours);
    const allowed = allowedDifferences();
    expect(allowed.size).toBeGreaterThan(0);
    expect([...found].filter((d) => !allowed.has(d)), 'differences not listed in docs/ARCHITECTURE.md').toEqual([]);
    expect([...allowed].filter((d) => !found.has(d)), 'listed in docs/ARCHITECTURE.md but no longer seen').toEqual([]);
  });
});
