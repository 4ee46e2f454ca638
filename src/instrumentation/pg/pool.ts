// pg-pool: `Pool.prototype.connect` runs its callback in the caller's context and measures the wait
// for a client, which the client's next query span carries (no connect span). A pool hands a
// released client to its oldest waiter from inside `release()`, that is inside whichever request
// released it: without the caller's context restored, the waiter's query span joins that other
// request's trace. Pool usage is read at collection time (observable instruments) instead of the
// six counter adds upstream makes on every checkout and release.
import type * as Api from '@opentelemetry/api';
import type { Guard } from '../channel-guard.js';
import { callIn, setPoolWait, type ContextStore } from './context.js';

type Fn = (...args: unknown[]) => unknown;

export interface PgPool {
  options?: { host?: string; port?: number | string; database?: string; max?: number };
  totalCount?: number;
  idleCount?: number;
  waitingCount?: number;
  ending?: boolean;
  ended?: boolean;
}

export interface PoolTracerDeps {
  api: typeof Api;
  store: ContextStore;
  guard: Guard;
  pools: PoolRegistry;
}

function wrapConnectCallback(deps: PoolTracerDeps, parent: Api.Context, started: number, cb: Fn): Fn {
  return function (this: unknown, err: unknown, client: unknown) {
    if (!err) setPoolWait(client, performance.now() - started);
    // eslint-disable-next-line prefer-rest-params -- (err, client, release) as pg-pool gave them
    return callIn(deps.store, parent, cb, this, arguments);
  };
}

export function wrapPoolConnect(original: Fn, deps: PoolTracerDeps): Fn {
  return function connect(this: PgPool, ...args: unknown[]) {
    const cb = args[0];
    if (!deps.guard.active) return Reflect.apply(original, this, args);
    const started = performance.now();
    let callback = cb;
    try {
      deps.pools.add(this);
      if (typeof cb === 'function') callback = wrapConnectCallback(deps, deps.store.getStore() ?? deps.api.ROOT_CONTEXT, started, cb as Fn);
    } catch (err) {
      deps.guard.fail('pool.connect', err);
    }
    if (typeof cb === 'function') return Reflect.apply(original, this, [callback]);
    const result = Reflect.apply(original, this, args) as unknown;
    // The promise form resumes in the awaiting caller's context by itself; only the wait is read.
    // A derived promise rejects exactly when pg-pool's does, so nothing is swallowed.
    if (!(result instanceof Promise)) return result;
    return result.then((client: unknown) => {
      setPoolWait(client, performance.now() - started);
      return client;
    });
  };
}

/** upstream's getPoolName: `host:port/database` from the pool's options, `unknown_*` for what is missing. */
export function poolName(options: PgPool['options']): string {
  const host = options?.host ? `${options.host}` : 'unknown_host';
  const port = options?.port ? `${options.port}` : 'unknown_port';
  const database = options?.database ? `${options.database}` : 'unknown_database';
  return `${host}:${port}/${database}`.trim();
}

interface PoolEntry {
  used: Api.Attributes;
  idle: Api.Attributes;
  named: Api.Attributes;
}

/** The pools the app has used, read by the observable callback; a pool that ended drops out. */
export class PoolRegistry {
  private readonly pools = new Map<PgPool, PoolEntry>();

  add(pool: PgPool): void {
    if (this.pools.has(pool)) return;
    const name = poolName(pool.options);
    const named = { 'db.client.connection.pool.name': name };
    this.pools.set(pool, {
      used: { 'db.client.connection.state': 'used', ...named },
      idle: { 'db.client.connection.state': 'idle', ...named },
      named,
    });
  }

  observe(result: Api.BatchObservableResult, count: Api.Observable, pending: Api.Observable, max: Api.Observable): void {
    for (const [pool, entry] of this.pools) {
      if (pool.ending || pool.ended) {
        this.pools.delete(pool);
        continue;
      }
      const total = pool.totalCount ?? 0;
      const idle = pool.idleCount ?? 0;
      result.observe(count, total - idle, entry.used);
      result.observe(count, idle, entry.idle);
      result.observe(pending, pool.waitingCount ?? 0, entry.named);
      if (typeof pool.options?.max === 'number') result.observe(max, pool.options.max, entry.named);
    }
  }
}

// upstream's names, descriptions and unit (all three in `{connection}`)
const POOL_INSTRUMENTS = [
  ['db.client.connection.count', 'The number of connections that are currently in state described by the state attribute.'],
  ['db.client.connection.pending_requests', 'The number of current pending requests for an open connection.'],
  ['db.client.connection.max', 'The maximum number of open connections allowed.'],
] as const;

/** The pool usage instruments, read when the metrics are collected. */
export function observePools(meter: Api.Meter, pools: PoolRegistry): void {
  const [count, pending, max] = POOL_INSTRUMENTS.map(([name, description]) => meter.createObservableUpDownCounter(name, { description, unit: '{connection}' })) as [Api.Observable, Api.Observable, Api.Observable];
  meter.addBatchObservableCallback((result) => pools.observe(result, count, pending, max), [count, pending, max]);
}
