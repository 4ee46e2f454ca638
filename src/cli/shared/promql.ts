// PromQL shared by the monitor commands (instant queries) and `otel-monitor rules` (alert rules),
// so the CLI and Prometheus alerting judge a task or a user by the same expression.
import {
  LABEL_ENDUSER_ID,
  LABEL_TASK_NAME,
  LABEL_USER_ACCOUNT_ROLES,
  LABEL_USER_ROLES,
  ROLE_SEPARATOR,
} from '../../semconv.js';

/** A PromQL string literal. JSON's escaping (\\, \", \n, \uXXXX) is valid PromQL (Go) escaping. */
export function str(value: string): string {
  return JSON.stringify(value);
}

/** Escapes RE2 metacharacters so a name matches literally inside `=~`. */
export function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export type Matcher = string;

export const eq = (label: string, value: string): Matcher => `${label}=${str(value)}`;
export const oneOf = (label: string, values: readonly string[]): Matcher =>
  values.length === 1 ? eq(label, values[0]!) : `${label}=~${str(values.map(escapeRegex).join('|'))}`;

/**
 * Role lists are stored as sorted, comma-joined label values (`admin,bot`). Prometheus anchors
 * regexes at both ends, so this matches `role` as a whole list element, never a substring.
 */
export const hasRole = (label: string, role: string): Matcher =>
  `${label}=~${str(`(.*${ROLE_SEPARATOR})?${escapeRegex(role)}(${ROLE_SEPARATOR}.*)?`)}`;

export function selector(metric: string, matchers: readonly Matcher[]): string {
  return matchers.length === 0 ? metric : `${metric}{${matchers.join(', ')}}`;
}

/**
 * The newest value per group over the look-back window. `max_over_time` keeps a timestamp visible
 * after the process that reported it has exited (its series goes stale after 5 minutes), and
 * `max by` folds several instances and releases of a service into one row.
 */
export function newest(metric: string, matchers: readonly Matcher[], by: readonly string[], lookback: string): string {
  return `max by (${by.join(', ')}) (max_over_time(${selector(metric, matchers)}[${lookback}]))`;
}

export const TASK_GROUP = [LABEL_TASK_NAME] as const;
export const USER_GROUP = [LABEL_ENDUSER_ID, LABEL_USER_ROLES, LABEL_USER_ACCOUNT_ROLES] as const;

export function extraMatchers(labels: ReadonlyArray<[string, string]>): Matcher[] {
  return labels.map(([name, value]) => eq(name, value));
}
