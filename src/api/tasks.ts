// Task runs as spans. Only @opentelemetry/api is used here, so without a started SDK every call
// runs `fn` inside a non-recording span: a safe no-op. Metrics, "last success" gauges and Sentry
// check-ins are derived from these spans by src/processors/task-status.ts.
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_TASK_CHECKIN_MARGIN,
  ATTR_TASK_MAX_RUNTIME,
  ATTR_TASK_MONITOR_SLUG,
  ATTR_TASK_NAME,
  ATTR_TASK_SCHEDULE,
  ATTR_TASK_TIMEZONE,
} from '../semconv.js';

const TRACER_NAME = '@org/otel-monitor';

export interface MonitorTaskOptions {
  /**
   * Crontab schedule, e.g. `'0 * * * *'`. Only used to create or update the Sentry cron monitor
   * (upsert); Prometheus alerting uses the thresholds you give the CLI or `otel-monitor rules`.
   */
  schedule?: string;
  /** Sentry: minutes after the expected time before a check-in counts as missed. */
  checkinMarginMinutes?: number;
  /** Sentry: minutes a run may stay in progress before it counts as timed out. */
  maxRuntimeMinutes?: number;
  /** IANA time zone of `schedule`, e.g. `Europe/Amsterdam`. */
  timezone?: string;
  /** Sentry monitor slug; by default derived from the task name (see docs/TASK-MONITORING.md). */
  monitorSlug?: string;
  /** Extra span attributes for this run. */
  attributes?: Attributes;
}

/**
 * Runs `fn` as one run of the task `name`: inside an active span that carries the task name and
 * ends with status OK, or ERROR plus the recorded exception. Works for sync and async functions;
 * the return value (or the promise's value) and any thrown error (or rejection) pass through
 * unchanged. For an async `fn` the returned promise is a new one that settles the same way.
 */
export function monitorTask<T>(name: string, fn: (span: Span) => T, options?: MonitorTaskOptions): T {
  assertTaskName(name);
  // Looked up per run (tasks are not a hot path) so a provider registered later, or replaced in
  // tests, is always the one used.
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(
    `task ${name}`,
    { kind: SpanKind.INTERNAL, attributes: taskAttributes(name, options) },
    (span): T => {
      let result: T;
      try {
        result = fn(span);
      } catch (err) {
        endFailed(span, err);
        throw err;
      }
      if (isThenable(result)) {
        return result.then(
          (value) => {
            endOk(span);
            return value;
          },
          (err: unknown) => {
            endFailed(span, err);
            throw err;
          },
        ) as T;
      }
      endOk(span);
      return result;
    },
  );
}

type Method<This, Args extends unknown[], R> = (this: This, ...args: Args) => R;
type MethodDecorator = <This, Args extends unknown[], R>(
  method: Method<This, Args, R>,
  context: ClassMethodDecoratorContext<This, Method<This, Args, R>>,
) => Method<This, Args, R>;

/**
 * Standard (TC39, TypeScript 5 `experimentalDecorators: false`) method decorator: every call of
 * the method is a `monitorTask` run. The task name defaults to the method's name.
 *
 *     class Jobs {
 *       @taskWithStatusReport() importPrices() { ... }
 *       @taskWithStatusReport('pluginA_myFunction') async myFunction() { ... }
 *     }
 *
 * `this`, arguments, return values and throws are passed through. Also usable bare
 * (`@taskWithStatusReport`), like FlexMeasures' `@task_with_status_report`.
 */
export function taskWithStatusReport<This, Args extends unknown[], R>(
  method: Method<This, Args, R>,
  context: ClassMethodDecoratorContext<This, Method<This, Args, R>>,
): Method<This, Args, R>;
export function taskWithStatusReport(name?: string, options?: MonitorTaskOptions): MethodDecorator;
export function taskWithStatusReport(
  nameOrMethod?: string | Method<unknown, unknown[], unknown>,
  optionsOrContext?: MonitorTaskOptions | ClassMethodDecoratorContext,
): unknown {
  if (typeof nameOrMethod === 'function') {
    return decorate(undefined, undefined)(nameOrMethod, optionsOrContext as ClassMethodDecoratorContext);
  }
  if (nameOrMethod !== undefined) assertTaskName(nameOrMethod);
  return decorate(nameOrMethod, optionsOrContext as MonitorTaskOptions | undefined);
}

function decorate(name: string | undefined, options: MonitorTaskOptions | undefined): MethodDecorator {
  return function <This, Args extends unknown[], R>(
    method: Method<This, Args, R>,
    context: ClassMethodDecoratorContext<This, Method<This, Args, R>>,
  ): Method<This, Args, R> {
    if (context?.kind !== 'method') {
      throw new TypeError('@taskWithStatusReport can only decorate class methods');
    }
    const taskName = name ?? methodName(context.name);
    const wrapped = function (this: This, ...args: Args): R {
      return monitorTask(taskName, () => method.apply(this, args), options);
    };
    // Keep the original name for stack traces and `fn.name`-based tooling.
    Object.defineProperty(wrapped, 'name', { value: method.name, configurable: true });
    return wrapped;
  };
}

function methodName(name: string | symbol): string {
  if (typeof name === 'symbol') return name.description ?? 'anonymous';
  return name.startsWith('#') ? name.slice(1) : name;
}

function assertTaskName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`task name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
}

function taskAttributes(name: string, options: MonitorTaskOptions | undefined): Attributes {
  const attributes: Attributes = { ...options?.attributes, [ATTR_TASK_NAME]: name };
  if (options === undefined) return attributes;
  if (options.schedule !== undefined) attributes[ATTR_TASK_SCHEDULE] = options.schedule;
  if (options.checkinMarginMinutes !== undefined) attributes[ATTR_TASK_CHECKIN_MARGIN] = options.checkinMarginMinutes;
  if (options.maxRuntimeMinutes !== undefined) attributes[ATTR_TASK_MAX_RUNTIME] = options.maxRuntimeMinutes;
  if (options.timezone !== undefined) attributes[ATTR_TASK_TIMEZONE] = options.timezone;
  if (options.monitorSlug !== undefined) attributes[ATTR_TASK_MONITOR_SLUG] = options.monitorSlug;
  return attributes;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function endOk(span: Span): void {
  span.setStatus({ code: SpanStatusCode.OK });
  span.end();
}

function endFailed(span: Span, err: unknown): void {
  if (err instanceof Error) {
    span.recordException(err);
    span.setAttribute(ATTR_ERROR_TYPE, err.constructor?.name || err.name || 'Error');
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  } else {
    span.recordException(String(err));
    // Semconv's fallback value when the error has no type.
    span.setAttribute(ATTR_ERROR_TYPE, '_OTHER');
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
  }
  span.end();
}
