// Alert names and the default lookback, shared by the monitor commands that raise them and the rules `otel-monitor rules`
// generates for Prometheus (the same alert either way, so Alertmanager routes and silences both).
export const ALERT_TASK_LATE = 'OtelMonitorTaskLate';
export const ALERT_TASK_FAILING = 'OtelMonitorTaskFailing';
export const ALERT_TASK_NEVER_REPORTED = 'OtelMonitorTaskNeverReported';
export const ALERT_USER_NOT_SEEN = 'OtelMonitorUserNotSeen';
export const ALERT_NO_USER_SEEN = 'OtelMonitorNoUserSeen';

/** How far back the monitor commands and the rules look for a task's or user's last report. */
export const DEFAULT_LOOKBACK = '7d';
