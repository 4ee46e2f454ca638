// The per-task and per-role alerting rules, shared by `otel-monitor rules` (from the command line)
// and the thresholds file (threshold-rules.ts): a leaf both import, so neither imports the other.
import { LABEL_TASK_NAME, LABEL_USER_ROLES, PROM_TASK_LAST_FAILURE, PROM_TASK_LAST_SUCCESS, PROM_USER_LAST_SEEN } from '../../semconv.js';
import { ALERT_NO_USER_SEEN, ALERT_TASK_FAILING, ALERT_TASK_LATE, ALERT_TASK_NEVER_REPORTED, ALERT_USER_NOT_SEEN } from '../shared/alert-names.js';
import { eq, extraMatchers, hasRole, newest, selector, TASK_GROUP, USER_GROUP } from '../shared/promql.js';
import type { Rule } from './rule-yaml.js';

/** Static label on the last-seen rules: the role the rule watches (for routing and de-duplication). */
export const LABEL_RULE_ROLE = 'otel_monitor_role';

/** `for:` per rule when generated from a thresholds file (the command-line form has none). */
export interface RuleFors {
  late?: string;
  failing?: string;
}

export function taskRules(task: string, minutes: number, labels: Array<[string, string]>, lookback: string, severity: string, fors: RuleFors = {}): Rule[] {
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
      ...(fors.late ? { for: fors.late } : {}),
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
      ...(fors.failing ? { for: fors.failing } : {}),
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

export function roleRules(role: string, minutes: number, labels: Array<[string, string]>, lookback: string, severity: string, fors: RuleFors = {}): Rule[] {
  const m = [hasRole(LABEL_USER_ROLES, role), ...extraMatchers(labels)];
  // Not `user_roles`: a static label would overwrite the user's actual role list.
  const ruleLabels = { severity, [LABEL_RULE_ROLE]: role };
  return [
    {
      alert: ALERT_USER_NOT_SEEN,
      expr: `time() - ${newest(PROM_USER_LAST_SEEN, m, USER_GROUP, lookback)} > ${seconds(minutes)}`,
      ...(fors.late ? { for: fors.late } : {}),
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

