// Turns task spans (src/api/tasks.ts) into task-status metrics and Sentry cron check-ins, and
// spans that carry a user with a listed role (src/api/user.ts) into a "last seen" gauge.
//
// onStart/onEnd run for every span of the process, so for all other spans they do one or two
// property reads and return: no allocation, no closures, no Map lookups.
import { SpanStatusCode, type Attributes, type Context, type HrTime, type Meter } from '@opentelemetry/api';
import type { ReadableSpan, Sampler, SamplingDecision, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { InPlaceProcessor } from './in-place.js';
import { log, describe } from '../log.js';
import { redactUrl } from '../config.js';
import {
  ATTR_ENDUSER_ID,
  ATTR_TASK_CHECKIN_MARGIN,
  ATTR_TASK_MAX_RUNTIME,
  ATTR_TASK_MONITOR_SLUG,
  ATTR_TASK_NAME,
  ATTR_TASK_SCHEDULE,
  ATTR_TASK_STATUS,
  ATTR_TASK_TIMEZONE,
  ATTR_USER_ACCOUNT_ROLES,
  ATTR_USER_ROLES,
  METRIC_TASK_DURATION,
  METRIC_TASK_LAST_FAILURE,
  METRIC_TASK_LAST_RUN,
  METRIC_TASK_LAST_SUCCESS,
  METRIC_TASK_RUNS,
  METRIC_USER_LAST_SEEN,
  ROLE_SEPARATOR,
  TASK_STATUS_ERROR,
  TASK_STATUS_OK,
} from '../semconv.js';

/** The part of `@sentry/node` this processor uses; the lead passes the initialised module. */
export interface SentryCheckIns {
  // `any` because Sentry's CheckIn/MonitorConfig types are a union we do not want to re-declare.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  captureCheckIn: (checkIn: any, monitorConfig?: any) => string;
}

export interface TaskStatusSpanProcessorOptions {
  /** Meter for the task and user metrics (from the SDK's MeterProvider). */
  meter: Meter;
  /** `OTEL_MONITOR_LAST_SEEN_ROLES`: only users with one of these roles get a last-seen series. */
  lastSeenRoles: string[];
  /** The initialised `@sentry/node` module, when SENTRY_DSN is set: enables cron check-ins. */
  sentry?: SentryCheckIns;
  /** Safety cap on distinct (user, roles) series kept in memory. Default 10 000. */
  maxUsers?: number;
}

/** Histogram buckets in seconds: tasks run from milliseconds to hours. */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

interface TaskState {
  lastRun: number;
  lastSuccess: number | undefined;
  lastFailure: number | undefined;
  // Attribute objects are built once per task, not per run or per observation.
  readonly attrs: Attributes;
  readonly okAttrs: Attributes;
  readonly errorAttrs: Attributes;
}

interface UserState {
  lastSeen: number;
  readonly attrs: Attributes;
}

export class TaskStatusSpanProcessor extends InPlaceProcessor implements SpanProcessor {
  private readonly tasks = new Map<string, TaskState>();
  private readonly users = new Map<string, UserState>();
  private readonly checkIns = new WeakMap<object, string>();
  private readonly runs;
  private readonly duration;
  private readonly sentry: SentryCheckIns | undefined;
  /** undefined when no role is listed, so onEnd skips the user part with one comparison. */
  private readonly lastSeenRoles: ReadonlySet<string> | undefined;
  private readonly maxUsers: number;
  private warnedUserCap = false;

  constructor(opts: TaskStatusSpanProcessorOptions) {
    super();
    const { meter } = opts;
    this.sentry = opts.sentry;
    const roles = opts.lastSeenRoles.map((r) => r.trim()).filter((r) => r.length > 0);
    this.lastSeenRoles = roles.length > 0 ? new Set(roles) : undefined;
    this.maxUsers = opts.maxUsers ?? 10_000;

    this.runs = meter.createCounter(METRIC_TASK_RUNS, {
      description: 'Task runs, by task and outcome (ok or error).',
      unit: '{run}',
    });
    this.duration = meter.createHistogram(METRIC_TASK_DURATION, {
      description: 'Duration of task runs.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    // Timestamps are gauges (not counters) so that `time() - x` in Prometheus is the age.
    this.taskGauge(meter, METRIC_TASK_LAST_RUN, 'Unix time at which the last run of the task ended.', (s) => s.lastRun);
    this.taskGauge(meter, METRIC_TASK_LAST_SUCCESS, 'Unix time at which the last successful run ended.', (s) => s.lastSuccess);
    this.taskGauge(meter, METRIC_TASK_LAST_FAILURE, 'Unix time at which the last failed run ended.', (s) => s.lastFailure);
    meter
      .createObservableGauge(METRIC_USER_LAST_SEEN, {
        description: 'Unix time at which a user with a monitored role was last seen (OTEL_MONITOR_LAST_SEEN_ROLES).',
        unit: 's',
      })
      .addCallback((result) => {
        for (const user of this.users.values()) result.observe(user.lastSeen, user.attrs);
      });
  }

  onStart(span: Span, _parentContext: Context): void {
    if (this.sentry === undefined) return;
    const task = span.attributes[ATTR_TASK_NAME];
    if (typeof task !== 'string') return;
    this.checkInStarted(span, task);
  }

  onEnd(span: ReadableSpan): void {
    const attributes = span.attributes;
    const task = attributes[ATTR_TASK_NAME];
    if (typeof task === 'string') this.recordTask(span, task);
    if (this.lastSeenRoles !== undefined && attributes[ATTR_ENDUSER_ID] !== undefined) this.recordUser(span);
  }

  private taskGauge(meter: Meter, name: string, description: string, pick: (s: TaskState) => number | undefined): void {
    meter.createObservableGauge(name, { description, unit: 's' }).addCallback((result) => {
      for (const state of this.tasks.values()) {
        const value = pick(state);
        if (value !== undefined) result.observe(value, state.attrs);
      }
    });
  }

  private recordTask(span: ReadableSpan, task: string): void {
    const failed = span.status.code === SpanStatusCode.ERROR;
    const endedAt = hrSeconds(span.endTime);
    const seconds = hrSeconds(span.duration);
    let state = this.tasks.get(task);
    if (state === undefined) {
      state = {
        lastRun: 0,
        lastSuccess: undefined,
        lastFailure: undefined,
        attrs: { [ATTR_TASK_NAME]: task },
        okAttrs: { [ATTR_TASK_NAME]: task, [ATTR_TASK_STATUS]: TASK_STATUS_OK },
        errorAttrs: { [ATTR_TASK_NAME]: task, [ATTR_TASK_STATUS]: TASK_STATUS_ERROR },
      };
      this.tasks.set(task, state);
    }
    // max(): overlapping runs may end out of order; the gauges must never move backwards.
    state.lastRun = Math.max(state.lastRun, endedAt);
    if (failed) state.lastFailure = Math.max(state.lastFailure ?? 0, endedAt);
    else state.lastSuccess = Math.max(state.lastSuccess ?? 0, endedAt);
    const attrs = failed ? state.errorAttrs : state.okAttrs;
    this.runs.add(1, attrs);
    this.duration.record(seconds, attrs);
    if (this.sentry !== undefined) this.checkInFinished(span, task, failed, seconds);
  }

  private recordUser(span: ReadableSpan): void {
    const attributes = span.attributes;
    const roles = attributes[ATTR_USER_ROLES];
    if (!Array.isArray(roles) || !hasListedRole(roles, this.lastSeenRoles!)) return;
    const id = String(attributes[ATTR_ENDUSER_ID]);
    const userRoles = joinRoles(roles);
    const accountRoles = joinRoles(attributes[ATTR_USER_ACCOUNT_ROLES]);
    const key = `${id}\n${userRoles}\n${accountRoles}`;
    let state = this.users.get(key);
    if (state === undefined) {
      if (this.users.size >= this.maxUsers) {
        if (!this.warnedUserCap) {
          this.warnedUserCap = true;
          log.warn(`more than ${this.maxUsers} users with a last-seen role; new ones are not recorded`);
        }
        return;
      }
      state = {
        lastSeen: 0,
        attrs: { [ATTR_ENDUSER_ID]: id, [ATTR_USER_ROLES]: userRoles, [ATTR_USER_ACCOUNT_ROLES]: accountRoles },
      };
      this.users.set(key, state);
    }
    state.lastSeen = Math.max(state.lastSeen, hrSeconds(span.endTime));
  }

  // Sentry failures must never reach the tracer (and so the application): each distinct one is
  // said once, and the check-in is skipped.
  private checkInFailed(task: string, err: unknown): void {
    // The error may quote the DSN it was sent to; its key is kept out.
    const why = redactUrl(describe(err));
    log.once('warn', `task-status:check-in:${why.slice(0, 120)}`, `a Sentry check-in failed and was skipped (first for task ${JSON.stringify(task)}): ${why}`);
  }

  private checkInStarted(span: Span, task: string): void {
    try {
      const attrs = span.attributes;
      const slug = typeof attrs[ATTR_TASK_MONITOR_SLUG] === 'string' ? attrs[ATTR_TASK_MONITOR_SLUG] : monitorSlug(task);
      const id = this.sentry!.captureCheckIn({ monitorSlug: slug, status: 'in_progress' }, monitorConfig(attrs));
      this.checkIns.set(span, id);
    } catch (err) {
      this.checkInFailed(task, err);
    }
  }

  private checkInFinished(span: ReadableSpan, task: string, failed: boolean, seconds: number): void {
    const checkInId = this.checkIns.get(span);
    if (checkInId === undefined) return;
    this.checkIns.delete(span);
    try {
      const attrs = span.attributes;
      const slug = typeof attrs[ATTR_TASK_MONITOR_SLUG] === 'string' ? attrs[ATTR_TASK_MONITOR_SLUG] : monitorSlug(task);
      this.sentry!.captureCheckIn(
        { checkInId, monitorSlug: slug, status: failed ? 'error' : 'ok', duration: seconds },
        monitorConfig(attrs),
      );
    } catch (err) {
      this.checkInFailed(task, err);
    }
  }
}

/**
 * Wraps the configured sampler so that task spans are always *recorded*, even when the sampler
 * (a ratio, or a parent-based one under an unsampled request) drops them: a span that is not
 * recorded never reaches any span processor, so a sampled-out run would look like a missed run.
 * Recorded-but-not-sampled spans reach this processor but are not exported. Other spans get the
 * delegate's decision unchanged; the extra cost is one property read when the delegate drops.
 */
export function recordTaskSpans(delegate: Sampler): Sampler {
  return {
    shouldSample(context, traceId, spanName, spanKind, attributes, links) {
      const result = delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
      // 0 = NOT_RECORD, 1 = RECORD (numbers: this file imports only types from the SDK).
      if (result.decision === (0 as SamplingDecision) && typeof attributes[ATTR_TASK_NAME] === 'string') {
        return { ...result, decision: 1 as SamplingDecision };
      }
      return result;
    },
    toString: () => `RecordTaskSpans{${delegate.toString()}}`,
  };
}

/**
 * Sentry monitor slug for a task name: lower-cased; every run of characters other than
 * `a-z 0-9 _ -` becomes one `-`; leading/trailing `-` removed; cut to Sentry's 50 characters.
 * `pluginA_myFunction` -> `plugina_myfunction`, `Import EPEX prices` -> `import-epex-prices`.
 */
export function monitorSlug(task: string): string {
  const slug = task
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/, '');
  return slug.length > 0 ? slug : 'task';
}

/** Sentry upserts the monitor when a config (with a schedule) comes with the check-in. */
function monitorConfig(attrs: Attributes): object | undefined {
  const schedule = attrs[ATTR_TASK_SCHEDULE];
  if (typeof schedule !== 'string') return undefined;
  const config: Record<string, unknown> = { schedule: { type: 'crontab', value: schedule } };
  if (typeof attrs[ATTR_TASK_CHECKIN_MARGIN] === 'number') config.checkinMargin = attrs[ATTR_TASK_CHECKIN_MARGIN];
  if (typeof attrs[ATTR_TASK_MAX_RUNTIME] === 'number') config.maxRuntime = attrs[ATTR_TASK_MAX_RUNTIME];
  if (typeof attrs[ATTR_TASK_TIMEZONE] === 'string') config.timezone = attrs[ATTR_TASK_TIMEZONE];
  return config;
}

function hrSeconds(t: HrTime): number {
  return t[0] + t[1] / 1e9;
}

function hasListedRole(roles: readonly unknown[], listed: ReadonlySet<string>): boolean {
  for (const role of roles) if (typeof role === 'string' && listed.has(role)) return true;
  return false;
}

/** Prometheus labels are strings: sorted and comma-joined, so the same set is the same label. */
function joinRoles(roles: unknown): string {
  if (!Array.isArray(roles)) return '';
  return roles
    .filter((r): r is string => typeof r === 'string' && r.length > 0)
    .sort()
    .join(ROLE_SEPARATOR);
}
