// `otel-monitor rules`: Prometheus alerting rules for the same thresholds the monitor commands
// take, so Prometheus (and Alertmanager) can alert without a cron job running the CLI. The
// expressions come from promql.ts, the same ones the CLI queries.
import {
  LABEL_TASK_NAME,
  LABEL_USER_ROLES,
  PROM_TASK_LAST_FAILURE,
  PROM_TASK_LAST_SUCCESS,
  PROM_USER_LAST_SEEN,
  ROLE_SEPARATOR,
} from '../semconv.js';
import { parseArgs, parseDuration, parseLabels, parseMinutes } from './args.js';
import { UsageError } from './errors.js';
import { ALERT_NO_USER_SEEN, ALERT_USER_NOT_SEEN } from './monitor-last-seen.js';
import { ALERT_TASK_FAILING, ALERT_TASK_LATE, ALERT_TASK_NEVER_REPORTED } from './monitor-latest-run.js';
import { DEFAULT_LOOKBACK } from './monitor-common.js';
import type { Io } from './output.js';
import { eq, extraMatchers, hasRole, newest, selector, TASK_GROUP, USER_GROUP } from './promql.js';

export const HELP = `Usage: otel-monitor rules [--task NAME=MINUTES ...] [--last-seen-role ROLE=MINUTES ...] [options]

Prints Prometheus alerting rules (YAML) for the given thresholds:
  per task:  ${ALERT_TASK_LATE} (no success within MINUTES), ${ALERT_TASK_FAILING} (latest run failed),
             ${ALERT_TASK_NEVER_REPORTED} (no run reported at all, for MINUTES)
  per role:  ${ALERT_USER_NOT_SEEN} (a user with ROLE not seen for MINUTES),
             ${ALERT_NO_USER_SEEN} (no user with ROLE seen at all, for MINUTES)

  --task NAME=MINUTES          Also written --task NAME MINUTES. Repeatable.
  --last-seen-role ROLE=MINUTES
                               Users with ROLE (in OTEL_MONITOR_LAST_SEEN_ROLES). Repeatable.
  --label NAME=VALUE           Restrict every rule to series with this label. Repeatable.
  --lookback DURATION          Window for the last report (default ${DEFAULT_LOOKBACK}).
  --severity NAME              Value of the severity label (default warning).
  --group NAME                 Rule group name (default otel-monitor-tasks).
  -h, --help                   Show this help.

Check the output with: promtool check rules FILE

Example:
  otel-monitor rules --task get_weather_forecasts=60 --last-seen-role bot=100 > otel-monitor.rules.yml`;

/** Static label on the last-seen rules: the role the rule watches (for routing and de-duplication). */
export const LABEL_RULE_ROLE = 'otel_monitor_role';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function rules(argv: readonly string[], io: Io): number {
  const parsed = parseArgs(argv, {
    task: 'pair',
    'last-seen-role': 'pair',
    label: 'list',
    lookback: 'value',
    severity: 'value',
    group: 'value',
  });
  if (parsed.flags.has('help')) {
    io.out(HELP);
    return 0;
  }
  const tasks = (parsed.pairs.get('task') ?? []).map((p) => ({ name: p.name, minutes: parseMinutes(p.value, `--task ${p.name}`) }));
  const roles = (parsed.pairs.get('last-seen-role') ?? []).map((p) => ({
    name: p.name,
    minutes: parseMinutes(p.value, `--last-seen-role ${p.name}`),
  }));
  if (tasks.length === 0 && roles.length === 0) throw new UsageError('give at least one --task NAME=MINUTES or --last-seen-role ROLE=MINUTES');
  for (const r of roles) if (r.name.includes(ROLE_SEPARATOR)) throw new UsageError(`a role must not contain "${ROLE_SEPARATOR}": "${r.name}"`);
  const lookback = parseDuration(parsed.values.get('lookback') ?? DEFAULT_LOOKBACK, '--lookback');
  const labels = parseLabels(parsed.lists.get('label') ?? []);
  const severity = parsed.values.get('severity') ?? 'warning';
  const group = parsed.values.get('group') ?? 'otel-monitor-tasks';

  const generated = [...tasks.flatMap((t) => taskRules(t.name, t.minutes, labels, lookback, severity)),
    ...roles.flatMap((r) => roleRules(r.name, r.minutes, labels, lookback, severity))];
  io.out(toYaml(group, generated, ['otel-monitor', 'rules', ...argv].join(' ')));
  return 0;
}

export function taskRules(task: string, minutes: number, labels: Array<[string, string]>, lookback: string, severity: string): Rule[] {
  const m = [eq(LABEL_TASK_NAME, task), ...extraMatchers(labels)];
  const success = newest(PROM_TASK_LAST_SUCCESS, m, TASK_GROUP, lookback);
  const failure = newest(PROM_TASK_LAST_FAILURE, m, TASK_GROUP, lookback);
  const name = `{{ $labels.${LABEL_TASK_NAME} }}`;
  // The task as a static label too (same value as the series label): promtool rejects same-name
  // rules whose static labels are identical, and routing by task needs no knowledge of the exprs.
  const ruleLabels = { severity, [LABEL_TASK_NAME]: task };
  return [
    {
      alert: ALERT_TASK_LATE,
      expr: `time() - ${success} > ${seconds(minutes)}`,
      labels: ruleLabels,
      annotations: {
        summary: `Task ${name} last succeeded {{ $value | humanizeDuration }} ago, more than the allowed ${minutes} minutes.`,
        maximum_minutes: String(minutes),
      },
    },
    {
      // The latest run failed: the newest failure is newer than the newest success, or there is
      // no success in the window at all.
      alert: ALERT_TASK_FAILING,
      expr: `${failure} unless (${success} >= ${failure})`,
      labels: ruleLabels,
      annotations: {
        summary: `Task ${name} failed on its latest run, at {{ $value | humanizeTimestamp }}.`,
        maximum_minutes: String(minutes),
      },
    },
    {
      // Nothing reported in the window. `for` gives a new deployment the task's own interval.
      alert: ALERT_TASK_NEVER_REPORTED,
      expr: `absent_over_time(${selector(PROM_TASK_LAST_SUCCESS, m)}[${lookback}]) and absent_over_time(${selector(PROM_TASK_LAST_FAILURE, m)}[${lookback}])`,
      for: forDuration(minutes),
      labels: ruleLabels,
      annotations: {
        summary: `Task ${task} has not reported any run in the last ${lookback}.`,
        maximum_minutes: String(minutes),
      },
    },
  ];
}

export function roleRules(role: string, minutes: number, labels: Array<[string, string]>, lookback: string, severity: string): Rule[] {
  const m = [hasRole(LABEL_USER_ROLES, role), ...extraMatchers(labels)];
  // Not `user_roles`: a static label would overwrite the user's actual role list.
  const ruleLabels = { severity, [LABEL_RULE_ROLE]: role };
  return [
    {
      alert: ALERT_USER_NOT_SEEN,
      expr: `time() - ${newest(PROM_USER_LAST_SEEN, m, USER_GROUP, lookback)} > ${seconds(minutes)}`,
      labels: ruleLabels,
      annotations: {
        summary:
          'User {{ $labels.enduser_id }} (roles {{ $labels.user_roles }}; account roles {{ $labels.otel_monitor_user_account_roles }}) ' +
          `was last seen {{ $value | humanizeDuration }} ago, more than the allowed ${minutes} minutes.`,
        maximum_minutes: String(minutes),
      },
    },
    {
      alert: ALERT_NO_USER_SEEN,
      expr: `absent_over_time(${selector(PROM_USER_LAST_SEEN, m)}[${lookback}])`,
      for: forDuration(minutes),
      labels: ruleLabels,
      annotations: {
        summary: `No user with role ${role} has been seen in the last ${lookback}.`,
        maximum_minutes: String(minutes),
      },
    },
  ];
}

function seconds(minutes: number): string {
  return String(Math.round(minutes * 60));
}

function forDuration(minutes: number): string {
  return Number.isInteger(minutes) ? `${minutes}m` : `${Math.round(minutes * 60)}s`;
}

/** Hand-written YAML (the CLI has no YAML dependency): expressions as literal blocks, strings JSON-quoted. */
function toYaml(group: string, rules: Rule[], command: string): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    '# Prometheus alerting rules for @org/otel-monitor task and user monitoring.',
    `# Generated by: ${command.replace(/\n/g, ' ')}`,
    'groups:',
    `  - name: ${q(group)}`,
    '    rules:',
  ];
  for (const r of rules) {
    lines.push(`      - alert: ${r.alert}`, '        expr: |-', `          ${r.expr}`);
    if (r.for) lines.push(`        for: ${r.for}`);
    lines.push('        labels:');
    for (const [k, v] of Object.entries(r.labels)) lines.push(`          ${k}: ${q(v)}`);
    lines.push('        annotations:');
    for (const [k, v] of Object.entries(r.annotations)) lines.push(`          ${k}: ${q(v)}`);
  }
  return `${lines.join('\n')}\n`;
}
