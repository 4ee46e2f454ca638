// The per-query path: `Client.prototype.query` (pg and pg.native) patched in dd-trace's style. One
// CLIENT span per query with instrumentation-pg's names and attributes, ended from the query's own
// callback (callback form, pg-pool's internal form, submittables with a callback), from the promise
// pg returns (promise form), or from the submittable's handleReadyForQuery/handleError (cursors and
// streams, whose span upstream never ends). The callback runs in the caller's context, as upstream
// binds it: pg calls it from the socket's data event, whose context is the connection's creator's.
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import { setOwnAttribute, setOwnAttributes } from '../own-attributes.js';
import { durationStart, secondsSince } from '../lean-span.js';
import type { Guard } from '../channel-guard.js';
import { errorType, queryShape, sanitizedErrorMessage, serverShape, type PgConnectionParameters, type QueryShape } from './attributes.js';
import { callIn, takePoolWait, type ContextStore } from './context.js';
import { ATTR_DB_POOL_WAIT_MS } from '../../semconv.js';
import type { KeyedHistogram } from '../lean-histogram.js';

const CLIENT = 2; // SpanKind.CLIENT
const ERROR = 2; // SpanStatusCode.ERROR

export interface PgClient {
  connectionParameters?: PgConnectionParameters;
  database?: string;
}

type Fn = (...args: unknown[]) => unknown;

interface Submittable {
  submit: Fn;
  callback?: unknown;
  handleReadyForQuery?: Fn;
  handleError?: Fn;
}

export interface QueryTracerDeps {
  api: typeof Api;
  core: typeof Core;
  store: ContextStore;
  guard: Guard;
  tracer(): Api.Tracer;
  duration(): KeyedHistogram | undefined;
}

/** One traced query, from its start to its first completion. */
class QueryRun {
  done = false;
  error: unknown = undefined;
  constructor(
    readonly span: Api.Span,
    readonly shape: QueryShape,
    readonly started: number,
    readonly parent: Api.Context,
    readonly deps: QueryTracerDeps,
  ) {}
}

function startRun(deps: QueryTracerDeps, client: PgClient, config: unknown, parent: Api.Context): QueryRun {
  const server = serverShape(client.connectionParameters ?? {}, client.database);
  const isText = typeof config === 'string';
  const object = config as { text?: unknown; name?: unknown };
  const text = isText ? config : typeof object.text === 'string' ? object.text : undefined;
  const name = isText ? undefined : object.name;
  const shape = queryShape(server, name, text);
  const span = deps.tracer().startSpan(shape.spanName, { kind: CLIENT }, parent);
  setOwnAttributes(span, server.span);
  if (text !== undefined) setOwnAttribute(span, 'db.query.text', text);
  if (text !== undefined && typeof name === 'string') setOwnAttribute(span, 'db.postgresql.plan', name);
  const wait = takePoolWait(client);
  if (wait !== undefined) setOwnAttribute(span, ATTR_DB_POOL_WAIT_MS, wait);
  return new QueryRun(span, shape, durationStart(span), parent, deps);
}

/** Marks the span failed (status, `error.type`, the exception); returns that type. */
function markFailed(span: Api.Span, err: unknown): string {
  const type = errorType(err);
  setOwnAttribute(span, 'error.type', type);
  if (err instanceof Error) span.recordException(sanitizedErrorMessage(err as Error & { code?: unknown }));
  const message = typeof err === 'object' && err !== null && 'message' in err ? String((err as Error).message) : undefined;
  span.setStatus({ code: ERROR, message });
  return type;
}

/** Ends the run once: status and `error.type` on failure, the histogram with the cached set. */
function finish(this: QueryRun, run: QueryRun): void {
  if (run.done) return;
  run.done = true;
  const { span, deps } = run;
  const type = run.error ? markFailed(span, run.error) : undefined;
  span.end();
  const seconds = secondsSince(span, run.started);
  const duration = deps.duration();
  const metric = run.shape.metric;
  if (type !== undefined) duration?.record(seconds, { ...metric, 'error.type': type });
  // The shape's cached attribute set is the series' key (lean-histogram.ts).
  else if (duration) (duration.get(metric) ?? duration.bind(metric, metric)).record(seconds);
}

function end(run: QueryRun, err: unknown): void {
  run.error = err;
  run.deps.guard.run('query.end', finish, run);
}

function wrapCallback(run: QueryRun, cb: Fn): Fn {
  return function (this: unknown, err: unknown) {
    end(run, err);
    // eslint-disable-next-line prefer-rest-params -- passed on as pg gave them, without a copy
    return callIn(run.deps.store, run.parent, cb, this, arguments);
  };
}

/** Cursors and streams: no callback, so the end is their readyForQuery or error (no listener added). */
function watchSubmittable(run: QueryRun, query: Submittable): void {
  const ready = query.handleReadyForQuery;
  const failed = query.handleError;
  if (typeof ready !== 'function' || typeof failed !== 'function') {
    end(run, undefined);
    return;
  }
  const own = (value: Fn) => ({ value, writable: true, configurable: true, enumerable: false });
  Object.defineProperties(query, {
    handleReadyForQuery: own(function (this: unknown) {
      end(run, undefined);
      // eslint-disable-next-line prefer-rest-params -- as pg gave them
      return Reflect.apply(ready, this, arguments);
    }),
    handleError: own(function (this: unknown, err: unknown) {
      end(run, err);
      // eslint-disable-next-line prefer-rest-params -- as pg gave them
      return Reflect.apply(failed, this, arguments);
    }),
  });
}

/**
 * Where pg will look for a plain query's callback, in pg's own order (utils.normalizeQueryConfig):
 * the third argument, then a function second argument, then the config's `callback`.
 */
function wrapPlainCallback(run: QueryRun, args: unknown[]): boolean {
  const [config, values, callback] = args as [{ callback?: unknown }, unknown, unknown];
  if (callback) {
    if (typeof callback !== 'function') return false; // pg throws its own TypeError
    args[2] = wrapCallback(run, callback as Fn);
    return true;
  }
  if (typeof values === 'function') {
    args[1] = wrapCallback(run, values as Fn);
    return true;
  }
  if (typeof config === 'object' && typeof config.callback === 'function') {
    // As the third argument, pg sets it on the config exactly as it would have set its own.
    args[2] = wrapCallback(run, config.callback as Fn);
    return true;
  }
  return false;
}

/** After pg took a submittable, its `callback` (if any) is the one pg will call. */
function watchSubmitted(run: QueryRun, query: Submittable): void {
  if (typeof query.callback === 'function') query.callback = wrapCallback(run, query.callback as Fn);
  else watchSubmittable(run, query);
}

function settle(run: QueryRun, result: unknown, submittable: boolean, callbackWrapped: boolean, config: unknown): unknown {
  if (submittable) {
    try {
      watchSubmitted(run, config as Submittable);
    } catch (err) {
      run.deps.guard.fail('query.submitted', err);
    }
    return result;
  }
  if (callbackWrapped || !(result instanceof Promise)) return result;
  // A derived promise, as upstream returns: it rejects exactly when pg's does, so an app that
  // ignores a failed query still gets its unhandled rejection.
  return result.then(
    (value: unknown) => {
      end(run, undefined);
      return value;
    },
    (err: unknown) => {
      end(run, err);
      throw err;
    },
  );
}

export function wrapQuery(original: Fn, deps: QueryTracerDeps): Fn {
  const { api, core, store, guard } = deps;
  return function query(this: PgClient, config: unknown) {
    // eslint-disable-next-line prefer-rest-params -- the arguments as the app gave them
    const args = Array.prototype.slice.call(arguments) as unknown[];
    if (!guard.active || config === null || config === undefined) return Reflect.apply(original, this, args);
    const parent = store.getStore() ?? api.ROOT_CONTEXT;
    if (core.isTracingSuppressed(parent)) return Reflect.apply(original, this, args);
    const submittable = typeof (config as Submittable).submit === 'function';
    let run: QueryRun | undefined;
    let wrapped = false;
    try {
      run = startRun(deps, this, config, parent);
      if (!submittable) wrapped = wrapPlainCallback(run, args);
    } catch (err) {
      guard.fail('query.start', err);
      run?.span.end();
      return Reflect.apply(original, this, args);
    }
    let result: unknown;
    try {
      result = Reflect.apply(original, this, args);
    } catch (err) {
      end(run, err);
      throw err;
    }
    return settle(run, result, submittable, wrapped, config);
  };
}
