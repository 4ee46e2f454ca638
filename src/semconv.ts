/**
 * Attribute, metric and label names for task and user-activity monitoring.
 *
 * One file, because three parties must agree on them: the API (src/api) writes the span
 * attributes, the span processor (src/processors/task-status.ts) turns them into metrics, and
 * the CLI (src/cli) and the generated Prometheus rules query those metrics by name.
 * docs/TASK-MONITORING.md documents every name listed here.
 *
 * Rule: a semantic-convention name where one exists, `otel_monitor.` where none does.
 */

// ---- Span attributes -------------------------------------------------------------------------

/** Marks a span as one run of a monitored task; the value is the task name. No semconv name. */
export const ATTR_TASK_NAME = 'otel_monitor.task.name';
/** Optional crontab schedule of the task; used only to upsert the Sentry cron monitor. */
export const ATTR_TASK_SCHEDULE = 'otel_monitor.task.schedule';
/** Optional Sentry monitor settings, in minutes (Sentry's units). */
export const ATTR_TASK_CHECKIN_MARGIN = 'otel_monitor.task.checkin_margin';
export const ATTR_TASK_MAX_RUNTIME = 'otel_monitor.task.max_runtime';
/** Optional IANA time zone of the crontab schedule. */
export const ATTR_TASK_TIMEZONE = 'otel_monitor.task.timezone';
/** Optional explicit Sentry monitor slug, overriding the one derived from the task name. */
export const ATTR_TASK_MONITOR_SLUG = 'otel_monitor.task.monitor_slug';

/** Semconv: the user's identifier. */
export const ATTR_ENDUSER_ID = 'enduser.id';
/** Semconv (user registry, replaces the deprecated `enduser.role`): string[] of the user's roles. */
export const ATTR_USER_ROLES = 'user.roles';
/** No semconv name: string[] of the roles of the account (organisation) the user belongs to. */
export const ATTR_USER_ACCOUNT_ROLES = 'otel_monitor.user.account_roles';
/** Semconv: the exception type of a failed run (span only; metrics carry just the status). */
export const ATTR_ERROR_TYPE = 'error.type';

// ---- Metric attributes -----------------------------------------------------------------------

/** Outcome of a task run on the runs counter and duration histogram: `ok` or `error`. */
export const ATTR_TASK_STATUS = 'otel_monitor.task.status';
export const TASK_STATUS_OK = 'ok';
export const TASK_STATUS_ERROR = 'error';

// ---- Metrics (OpenTelemetry names and units) -------------------------------------------------

export const METRIC_TASK_RUNS = 'otel_monitor.task.runs';
export const METRIC_TASK_DURATION = 'otel_monitor.task.duration';
export const METRIC_TASK_LAST_RUN = 'otel_monitor.task.last_run_timestamp';
export const METRIC_TASK_LAST_SUCCESS = 'otel_monitor.task.last_success_timestamp';
export const METRIC_TASK_LAST_FAILURE = 'otel_monitor.task.last_failure_timestamp';
export const METRIC_USER_LAST_SEEN = 'otel_monitor.user.last_seen_timestamp';

// ---- The same names as Prometheus shows them -------------------------------------------------
// The Collector's prometheus exporter replaces `.` with `_`, appends the unit (`s` -> `_seconds`)
// and `_total` for counters, and adds no namespace. The CLI and the rules use these.

export const PROM_TASK_RUNS = 'otel_monitor_task_runs_total';
export const PROM_TASK_DURATION = 'otel_monitor_task_duration_seconds';
export const PROM_TASK_LAST_RUN = 'otel_monitor_task_last_run_timestamp_seconds';
export const PROM_TASK_LAST_SUCCESS = 'otel_monitor_task_last_success_timestamp_seconds';
export const PROM_TASK_LAST_FAILURE = 'otel_monitor_task_last_failure_timestamp_seconds';
export const PROM_USER_LAST_SEEN = 'otel_monitor_user_last_seen_timestamp_seconds';

export const LABEL_TASK_NAME = 'otel_monitor_task_name';
export const LABEL_TASK_STATUS = 'otel_monitor_task_status';
export const LABEL_ENDUSER_ID = 'enduser_id';
export const LABEL_USER_ROLES = 'user_roles';
export const LABEL_USER_ACCOUNT_ROLES = 'otel_monitor_user_account_roles';

/**
 * Prometheus labels are strings, so role lists are joined: sorted, comma-separated, e.g.
 * `admin,bot`. Role names must therefore not contain commas.
 */
export const ROLE_SEPARATOR = ',';

// ---- Health checks (docs/HEALTH.md) ----------------------------------------------------------
// One series per check: the status as a number, so that `min` is "the worst" and alerts compare
// against thresholds. 1 healthy, 0.5 degraded, 0 unhealthy; a check that has not run yet has none.

export const METRIC_HEALTH_STATUS = 'otel_monitor.health.status';
/** The worst status among the critical checks (1 when all checks are non-critical): what /readyz answers from. */
export const METRIC_HEALTH_OVERALL = 'otel_monitor.health.overall_status';
/** Seconds each run of a check took, failures and timeouts included. */
export const METRIC_HEALTH_DURATION = 'otel_monitor.health.check.duration';
/** The check's name, as registered or as named in OTEL_MONITOR_HEALTH_CHECKS. */
export const ATTR_HEALTH_CHECK = 'otel_monitor.health.check';
/** "true" when the check decides readiness, "false" otherwise (a string: it is a label). */
export const ATTR_HEALTH_CRITICAL = 'otel_monitor.health.critical';
export const HEALTH_HEALTHY = 1;
export const HEALTH_DEGRADED = 0.5;
export const HEALTH_UNHEALTHY = 0;

export const PROM_HEALTH_STATUS = 'otel_monitor_health_status';
export const PROM_HEALTH_OVERALL = 'otel_monitor_health_overall_status';
export const PROM_HEALTH_DURATION = 'otel_monitor_health_check_duration_seconds';
export const LABEL_HEALTH_CHECK = 'otel_monitor_health_check';
export const LABEL_HEALTH_CRITICAL = 'otel_monitor_health_critical';

// ---- Request ids (docs/LOGS.md) --------------------------------------------------------------

/** No semconv name exists for a request id; on the server span and on log records. */
export const ATTR_REQUEST_ID = 'otel_monitor.request.id';
/** The field name in JSON log lines (pino records): snake_case like pino's trace_id and span_id. */
export const LOG_FIELD_REQUEST_ID = 'request_id';

// ---- pg, traced by us (docs/ARCHITECTURE.md, "pg: differences from instrumentation-pg") -----

/** How long `Pool.connect` made the caller wait for a client, ms; on that checkout's first query span. */
export const ATTR_DB_POOL_WAIT_MS = 'otel_monitor.db.pool.wait_ms';
