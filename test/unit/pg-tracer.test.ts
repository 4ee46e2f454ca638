// The pg tracer's pieces without a database: names and attribute sets as instrumentation-pg 0.77
// makes them, the pool usage read at collection, and the query wrapper's promises to the app
// (pg's result and errors untouched, a failing tracer switched off rather than thrown).
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { errorType, operationName, queryShape, serverShape, spanName } from '../../src/instrumentation/pg/attributes.js';
import { PoolRegistry, poolName } from '../../src/instrumentation/pg/pool.js';
import { wrapQuery } from '../../src/instrumentation/pg/query.js';
import { Guard } from '../../src/instrumentation/channel-guard.js';
import * as instr from '@opentelemetry/instrumentation';
import { createPgInstrumentation } from '../../src/instrumentation/pg/instrumentation.js';
import { leanTracer } from '../../src/instrumentation/lean-tracer.js';
import { LeanSpan } from '../../src/instrumentation/lean-span.js';

describe('pg span names and attributes', () => {
  it('names a query as upstream does', () => {
    expect(operationName('  select * from t')).toBe('SELECT');
    expect(operationName('BEGIN;')).toBe('BEGIN');
    expect(spanName('app', undefined, 'insert into t values (1)')).toBe('pg.query:INSERT app');
    expect(spanName('app', 'by-id', 'SELECT 1')).toBe('pg.query:by-id app');
    expect(spanName(undefined, '', 'SELECT 1')).toBe('pg.query:SELECT');
    expect(spanName('app', undefined, undefined)).toBe('pg.query');
  });

  it('caches one attribute set per server and query text, and leaves out what is undefined', () => {
    const a = serverShape({ database: 'app', host: 'db', port: 5432 }, 'app');
    const b = serverShape({ database: 'app', host: 'db', port: 5432 }, 'app');
    expect(b).toBe(a);
    expect(a.span).toEqual({ 'db.system.name': 'postgresql', 'db.namespace': 'app', 'server.address': 'db', 'server.port': 5432 });
    const odd = serverShape({ host: 'h', port: '5432' }, undefined);
    expect(odd.span).toEqual({ 'db.system.name': 'postgresql', 'server.address': 'h' });
    expect(odd.metricBase).toEqual({ 'db.system.name': 'postgresql', 'server.address': 'h', 'server.port': '5432' });
    const q1 = queryShape(a, undefined, 'SELECT 1');
    expect(queryShape(a, undefined, 'SELECT 1')).toBe(q1);
    expect(q1.metric).toEqual({ ...a.metricBase, 'db.operation.name': 'SELECT' });
    expect(queryShape(a, 'p', 'SELECT 1')).not.toBe(q1);
  });

  it('gives error.type the SQLSTATE, else the error name', () => {
    expect(errorType(Object.assign(new Error('x'), { code: '23505' }))).toBe('23505');
    expect(errorType(new TypeError('x'))).toBe('TypeError');
    expect(errorType('boom')).toBe('_OTHER');
  });
});

describe('pool usage', () => {
  it('observes used, idle, pending and max per pool, and forgets a pool that ended', () => {
    expect(poolName({ host: 'db', port: 5432, database: 'app' })).toBe('db:5432/app');
    expect(poolName(undefined)).toBe('unknown_host:unknown_port/unknown_database');
    const pools = new PoolRegistry();
    const pool = { options: { host: 'db', port: 5432, database: 'app', max: 10 }, totalCount: 4, idleCount: 1, waitingCount: 3, ending: false };
    pools.add(pool);
    pools.add(pool);
    const seen: Array<[string, number, api.Attributes]> = [];
    const result = { observe: (o: unknown, v: number, a: api.Attributes) => seen.push([o as string, v, a]) } as unknown as api.BatchObservableResult;
    const [count, pending, max] = ['count', 'pending', 'max'] as unknown as api.Observable[];
    pools.observe(result, count!, pending!, max!);
    const name = { 'db.client.connection.pool.name': 'db:5432/app' };
    expect(seen).toEqual([
      ['count', 3, { 'db.client.connection.state': 'used', ...name }],
      ['count', 1, { 'db.client.connection.state': 'idle', ...name }],
      ['pending', 3, name],
      ['max', 10, name],
    ]);
    pool.ending = true;
    seen.length = 0;
    pools.observe(result, count!, pending!, max!);
    expect(seen).toEqual([]);
  });
});

describe('the query wrapper', () => {
  const store = new AsyncLocalStorage<api.Context>();
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const client = { connectionParameters: { database: 'app', host: 'db', port: 5432 }, database: 'app' };
  const deps = (guard: Guard, tracer: () => api.Tracer = () => provider.getTracer('t')) => ({ api, core, store, guard, tracer, duration: () => undefined });
  type Cb = (err: unknown, res?: unknown) => void;

  it('ends the span from the callback and runs the callback in the caller context', async () => {
    exporter.reset();
    // pg calls back from the socket's context: here, none at all.
    const original = (_text: unknown, _values: unknown, cb: Cb) => void store.run(api.ROOT_CONTEXT, () => setImmediate(() => cb(null, { rows: [1] })));
    const query = wrapQuery(original as never, deps(new Guard('t1')));
    const parent = api.trace.setSpan(api.ROOT_CONTEXT, provider.getTracer('t').startSpan('request'));
    const inside = await new Promise<api.Context | undefined>((ok) => store.run(parent, () => query.call(client, 'SELECT 1', [], () => ok(store.getStore()))));
    expect(inside).toBe(parent);
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('pg.query:SELECT app');
    expect(span?.parentSpanContext?.spanId).toBe(api.trace.getSpan(parent)!.spanContext().spanId);
  });

  it("rejects the app's promise exactly as pg's, with the span marked failed", async () => {
    exporter.reset();
    const err = Object.assign(new Error('relation "x" does not exist'), { code: '42P01' });
    const query = wrapQuery((() => Promise.reject(err)) as never, deps(new Guard('t2')));
    await expect(query.call(client, 'SELECT * FROM x') as Promise<unknown>).rejects.toBe(err);
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toEqual({ code: api.SpanStatusCode.ERROR, message: 'relation "x" does not exist' });
    expect(span?.attributes['error.type']).toBe('42P01');
  });

  it('lets the query through untraced when the tracer itself fails, and stays off', async () => {
    const guard = new Guard('t3');
    let calls = 0;
    const query = wrapQuery((() => Promise.resolve(++calls)) as never, deps(guard, () => {
      throw new Error('tracer broke');
    }));
    await expect(query.call(client, 'SELECT 1') as Promise<number>).resolves.toBe(1);
    expect(guard.active).toBe(false);
    await expect(query.call(client, 'SELECT 1') as Promise<number>).resolves.toBe(2);
  });

  it('traces nothing under suppressed tracing', async () => {
    exporter.reset();
    const query = wrapQuery(((_t: unknown, cb: Cb) => setImmediate(() => cb(null, 'r'))) as never, deps(new Guard('t4')));
    const res = await new Promise((ok) => store.run(core.suppressTracing(api.ROOT_CONTEXT), () => query.call(client, 'SELECT 1', (_e: unknown, r: unknown) => ok(r))));
    expect(res).toBe('r');
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});

describe('the pg instrumentation', () => {
  const store = new AsyncLocalStorage<api.Context>();
  type Cb = (err: unknown, res?: unknown) => void;
  class Client {
    connectionParameters = { database: 'app', host: 'db', port: 5432 };
    database = 'app';
    query(_text: unknown, _values: unknown, cb: Cb): void {
      setImmediate(() => cb(null, { rows: [] }));
    }
  }
  const run = (c: Client) => new Promise((ok) => c.query('SELECT 1', [], ok));
  const providerWith = (exporter: InMemorySpanExporter) => new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

  it("starts lean spans from the tracer of the provider it is given (sdk.ts's lean tracers), and follows a new provider", async () => {
    const lean = (t: api.Tracer) => leanTracer(t, api, core) ?? t;
    const pg = createPgInstrumentation({ api, core, instrumentation: instr, store, version: '0.0.0', lean });
    try {
      const [first, second] = [new InMemorySpanExporter(), new InMemorySpanExporter()];
      pg.setTracerProvider(providerWith(first));
      pg.getModuleDefinitions()[0]!.patch!({ Client }, '8.16.0');
      await run(new Client());
      pg.setTracerProvider(providerWith(second));
      await run(new Client());
      for (const exporter of [first, second]) {
        const spans = exporter.getFinishedSpans();
        expect(spans.map((s) => s.name)).toEqual(['pg.query:SELECT app']);
        expect(spans[0]).toBeInstanceOf(LeanSpan);
      }
    } finally {
      pg.disable();
    }
  });

  it('starts SDK spans when no lean tracer is asked for (Sentry, plugins, OTEL_MONITOR_LEAN_SPANS=false)', async () => {
    const pg = createPgInstrumentation({ api, core, instrumentation: instr, store, version: '0.0.0' });
    try {
      const exporter = new InMemorySpanExporter();
      pg.setTracerProvider(providerWith(exporter));
      pg.getModuleDefinitions()[0]!.patch!({ Client }, '8.16.0');
      await run(new Client());
      const spans = exporter.getFinishedSpans();
      expect(spans).toHaveLength(1);
      expect(spans[0]).not.toBeInstanceOf(LeanSpan);
    } finally {
      pg.disable();
    }
  });
});
