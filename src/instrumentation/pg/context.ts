// The caller's context carried across pg's callbacks, and the pool wait handed from a pool's
// connect to the client's next query. Both without closures beyond the one callback wrapper.
import type * as Api from '@opentelemetry/api';

/** The AsyncLocalStorage behind the global context manager. */
export interface ContextStore {
  getStore(): Api.Context | undefined;
  run<R>(ctx: Api.Context, fn: (...args: never[]) => R, ...args: unknown[]): R;
}

type Fn = (...args: unknown[]) => unknown;

/** `fn.apply(self, args)` with `ctx` active; no new frame when it already is. */
export function callIn(store: ContextStore, ctx: Api.Context, fn: Fn, self: unknown, args: ArrayLike<unknown>): unknown {
  if (store.getStore() === ctx) return Reflect.apply(fn, self, args);
  return store.run(ctx, Reflect.apply as (...a: never[]) => unknown, fn, self, args);
}

const kPoolWait = Symbol('otel-monitor.pg.pool-wait');
type Waited = { [kPoolWait]?: number };

/** Remembers on the client how long the pool made its caller wait, for the client's next query. */
export function setPoolWait(client: unknown, ms: number): void {
  if (typeof client !== 'object' || client === null) return;
  const c = client as Waited;
  // Not enumerable, so the app's inspection and serialisation of the client see nothing new.
  if (kPoolWait in c) c[kPoolWait] = ms;
  else Object.defineProperty(c, kPoolWait, { value: ms, writable: true, enumerable: false, configurable: true });
}

/** The wait recorded for this client's checkout, once. */
export function takePoolWait(client: unknown): number | undefined {
  const c = client as Waited;
  const ms = c[kPoolWait];
  if (ms !== undefined) c[kPoolWait] = undefined;
  return ms;
}
