// `otel-monitor monitor latest-run --task NAME MINUTES ...`: did every task succeed recently enough?
// Reads the last-success / last-failure gauges written by the task-status span processor.
import {
  LABEL_TASK_NAME,
  PROM_TASK_LAST_FAILURE,
  PROM_TASK_LAST_SUCCESS,
} from '../../semconv.js';
import { parseArgs, parseMinutes } from '../shared/args.js';
import { ALERT_TASK_FAILING, ALERT_TASK_LATE, ALERT_TASK_NEVER_REPORTED } from '../shared/alert-names.js';
import type { Alert } from './send-alerts.js';
import { UsageError } from '../shared/errors.js';
import { COMMON_HELP, COMMON_SPEC, commonOptions, deliverAndReport, withCustomMessage } from './common.js';
import { formatMinutes, isoTime, json, roundMinutes, shortTime, table, type Io } from '../shared/output.js';
import { extraMatchers, newest, oneOf, TASK_GROUP } from '../shared/promql.js';

export const HELP = `Usage: otel-monitor monitor latest-run --task NAME MINUTES [--task NAME MINUTES ...] [options]

Alerts when a task has not succeeded within its number of minutes, or when its latest run failed.
Tasks are functions run through monitorTask() or decorated with @taskWithStatusReport().

  --task NAME MINUTES      A task and the minutes within which it must have succeeded.
                           Also written --task NAME=MINUTES. Repeatable; at least one.
${COMMON_HELP}

Example (cron, hourly):
  otel-monitor monitor latest-run --task get_weather_forecasts 60 --task import_prices 1440`;

export type TaskReason = 'ok' | 'late' | 'failed' | 'never_succeeded' | 'never_reported';

export interface TaskResult {
  task: string;
  maximumMinutes: number;
  status: 'OK' | 'ALERT';
  reason: TaskReason;
  lastSuccess: string | null;
  lastFailure: string | null;
  minutesSinceLastSuccess: number | null;
  minutesSinceLastFailure: number | null;
  /** Minutes beyond the threshold; 0 when in time, null when it never succeeded. */
  minutesLate: number | null;
  message: string;
}

export async function latestRun(argv: readonly string[], io: Io): Promise<number> {
  const parsed = parseArgs(argv, { ...COMMON_SPEC, task: 'pair' });
  if (parsed.flags.has('help')) {
    io.out(HELP);
    return 0;
  }
  const tasks = (parsed.pairs.get('task') ?? []).map((p) => ({
    task: p.name,
    minutes: parseMinutes(p.value, `--task ${p.name}`),
  }));
  if (tasks.length === 0) throw new UsageError('at least one --task NAME MINUTES is required');
  const names = [...new Set(tasks.map((t) => t.task))];
  if (names.length !== tasks.length) throw new UsageError('each task may be given only once');
  const common = commonOptions(parsed, io);

  const now = io.now() / 1000;
  const matchers = [oneOf(LABEL_TASK_NAME, names), ...extraMatchers(common.labels)];
  const successExpr = newest(PROM_TASK_LAST_SUCCESS, matchers, TASK_GROUP, common.lookback);
  const failureExpr = newest(PROM_TASK_LAST_FAILURE, matchers, TASK_GROUP, common.lookback);
  const [successes, failures] = await Promise.all([
    common.prometheus.query(successExpr, now),
    common.prometheus.query(failureExpr, now),
  ]);
  const byTask = (samples: typeof successes) =>
    new Map(samples.map((s) => [s.labels[LABEL_TASK_NAME] ?? '', s.value] as const));
  const success = byTask(successes);
  const failure = byTask(failures);

  const results = tasks.map(({ task, minutes }) =>
    judgeTask(task, minutes, success.get(task), failure.get(task), now, common.lookback, common.customMessage),
  );
  const alerts = results.filter((r) => r.status === 'ALERT').map(toAlert);

  return deliverAndReport(alerts, common, io, successExpr, (status, notified) => {
    if (common.json) {
      io.out(json({ command: 'monitor latest-run', status, checkedAt: isoTime(now), tasks: results, notified }));
      return;
    }
    io.out(
      table(
        ['TASK', 'LAST SUCCESS', 'LAST FAILURE', 'MINUTES AGO', 'MAX MINUTES', 'STATUS'],
        results.map((r) => [
          r.task,
          shortTime(success.get(r.task)),
          shortTime(failure.get(r.task)),
          formatMinutes(r.minutesSinceLastSuccess),
          String(r.maximumMinutes),
          r.status,
        ]),
      ),
    );
    for (const r of results) if (r.status === 'ALERT') io.out(`ALERT ${r.task}: ${r.message}`);
  });
}

/** The decision for one task; pure, so it is unit-tested without Prometheus. */
export function judgeTask(
  task: string,
  maximumMinutes: number,
  lastSuccess: number | undefined,
  lastFailure: number | undefined,
  now: number,
  lookback: string,
  customMessage?: string,
): TaskResult {
  const sinceSuccess = lastSuccess === undefined ? null : (now - lastSuccess) / 60;
  const sinceFailure = lastFailure === undefined ? null : (now - lastFailure) / 60;
  let reason: TaskReason;
  let message: string;
  const allowed = `the allowed ${maximumMinutes} minutes`;
  if (lastSuccess === undefined && lastFailure === undefined) {
    reason = 'never_reported';
    message =
      `Task ${task} has not reported any run in the last ${lookback}. ` +
      'Is it wrapped in monitorTask() or @taskWithStatusReport(), and does its service export metrics?';
  } else if (lastSuccess === undefined) {
    reason = 'never_succeeded';
    message = `Task ${task} has not succeeded in the last ${lookback}; it last failed ${formatMinutes(sinceFailure)} minutes ago.`;
  } else if (sinceSuccess! > maximumMinutes) {
    reason = 'late';
    message =
      `Task ${task} last succeeded ${formatMinutes(sinceSuccess)} minutes ago, more than ${allowed} ` +
      `(${formatMinutes(sinceSuccess! - maximumMinutes)} minutes late).`;
  } else if (lastFailure !== undefined && lastFailure > lastSuccess) {
    reason = 'failed';
    message =
      `Task ${task} failed on its latest run, ${formatMinutes(sinceFailure)} minutes ago ` +
      `(last success ${formatMinutes(sinceSuccess)} minutes ago).`;
  } else {
    reason = 'ok';
    message = `Task ${task} succeeded ${formatMinutes(sinceSuccess)} minutes ago, within ${allowed}.`;
  }
  const ok = reason === 'ok';
  return {
    task,
    maximumMinutes,
    status: ok ? 'OK' : 'ALERT',
    reason,
    lastSuccess: isoTime(lastSuccess),
    lastFailure: isoTime(lastFailure),
    minutesSinceLastSuccess: sinceSuccess === null ? null : roundMinutes(sinceSuccess),
    minutesSinceLastFailure: sinceFailure === null ? null : roundMinutes(sinceFailure),
    minutesLate: sinceSuccess === null ? null : roundMinutes(Math.max(0, sinceSuccess - maximumMinutes)),
    message: ok ? message : withCustomMessage(message, customMessage),
  };
}

function toAlert(r: TaskResult): Alert {
  const alertname =
    r.reason === 'failed' || r.reason === 'never_succeeded'
      ? ALERT_TASK_FAILING
      : r.reason === 'never_reported'
        ? ALERT_TASK_NEVER_REPORTED
        : ALERT_TASK_LATE;
  return {
    labels: { alertname, [LABEL_TASK_NAME]: r.task, severity: 'warning' },
    annotations: {
      summary: r.message,
      reason: r.reason,
      maximum_minutes: String(r.maximumMinutes),
      ...(r.minutesLate !== null ? { minutes_late: String(r.minutesLate) } : {}),
    },
    fingerprint: ['otel-monitor', 'latest-run', r.task, r.reason],
  };
}
