// `otel-monitor monitor last-seen`: has every user with these roles been seen recently enough?
// Reads the last-seen gauge, which exists only for users with a role in OTEL_MONITOR_LAST_SEEN_ROLES.
import {
  LABEL_ENDUSER_ID,
  LABEL_USER_ACCOUNT_ROLES,
  LABEL_USER_ROLES,
  PROM_USER_LAST_SEEN,
  ROLE_SEPARATOR,
} from '../../semconv.js';
import { parseArgs, parseMinutes, type Parsed } from '../shared/args.js';
import { ALERT_NO_USER_SEEN, ALERT_USER_NOT_SEEN } from '../shared/alert-names.js';
import type { Alert } from './send-alerts.js';
import type { Sample } from '../shared/prometheus.js';
import { UsageError } from '../shared/errors.js';
import { COMMON_HELP, COMMON_SPEC, commonOptions, deliverAndReport, withCustomMessage } from './common.js';
import { formatMinutes, isoTime, json, roundMinutes, shortTime, table, type Io } from '../shared/output.js';
import { extraMatchers, hasRole, newest, USER_GROUP } from '../shared/promql.js';

export const HELP = `Usage: otel-monitor monitor last-seen --maximum-minutes-since-last-seen N [--user-role ROLE] [--account-role ROLE] [options]

Alerts when a user with the given roles (typically a bot) has not been seen for more than N
minutes, or when no such user has been seen at all. Users are marked with setUser(); only users
with a role listed in OTEL_MONITOR_LAST_SEEN_ROLES (of the monitored service) are recorded.

  --maximum-minutes-since-last-seen N   Required.
  --user-role ROLE         Only users with this role. Repeatable (all must match).
  --account-role ROLE      Only users whose account has this role. Repeatable (all must match).
${COMMON_HELP}

Example:
  otel-monitor monitor last-seen --user-role bot --account-role SubscriberToServiceXYZ --maximum-minutes-since-last-seen 100`;

export interface UserResult {
  id: string;
  roles: string[];
  accountRoles: string[];
  lastSeen: string | null;
  minutesSinceLastSeen: number;
  minutesLate: number;
  status: 'OK' | 'ALERT';
  message: string;
}

export async function lastSeen(argv: readonly string[], io: Io): Promise<number> {
  const parsed = parseArgs(argv, { ...COMMON_SPEC, 'user-role': 'list', 'account-role': 'list', 'maximum-minutes-since-last-seen': 'value' });
  if (parsed.flags.has('help')) {
    io.out(HELP);
    return 0;
  }
  const maxText = parsed.values.get('maximum-minutes-since-last-seen');
  if (maxText === undefined) throw new UsageError('--maximum-minutes-since-last-seen N is required');
  const maximumMinutes = parseMinutes(maxText, '--maximum-minutes-since-last-seen');
  const { userRoles, accountRoles } = roleOptions(parsed);
  const common = commonOptions(parsed, io);

  const now = io.now() / 1000;
  const roles = [...userRoles.map((r) => hasRole(LABEL_USER_ROLES, r)), ...accountRoles.map((r) => hasRole(LABEL_USER_ACCOUNT_ROLES, r))];
  const matchers = [...roles, ...extraMatchers(common.labels)];
  const expr = newest(PROM_USER_LAST_SEEN, matchers, USER_GROUP, common.lookback);
  const samples = await common.prometheus.query(expr, now);

  const newestByUser = newestPerUser(samples);
  const filter = describeFilter(userRoles, accountRoles);
  const users: UserResult[] = [...newestByUser.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, s]) => judgeUser(id, s.labels, s.value, now, maximumMinutes, common.customMessage));

  const alerts: Alert[] = users.filter((u) => u.status === 'ALERT').map((u) => userAlert(u, maximumMinutes));
  let noUserMessage: string | undefined;
  if (users.length === 0) {
    noUserMessage = withCustomMessage(
      `No user ${filter} has been seen in the last ${common.lookback}. ` +
        'Users are only recorded when OTEL_MONITOR_LAST_SEEN_ROLES lists one of their roles.',
      common.customMessage,
    );
    alerts.push(noUserAlert(userRoles, accountRoles, noUserMessage, maximumMinutes));
  }

  return deliverAndReport(alerts, common, io, expr, (status, notified) => {
    if (common.json) {
      const message = noUserMessage ? { message: noUserMessage } : {};
      io.out(json({ command: 'monitor last-seen', status, checkedAt: isoTime(now), maximumMinutes, userRoles, accountRoles, users, ...message, notified }));
      return;
    }
    io.out(
      table(
        ['USER', 'ROLES', 'ACCOUNT ROLES', 'LAST SEEN', 'MINUTES AGO', 'MAX MINUTES', 'STATUS'],
        users.map((u) => [
          u.id,
          u.roles.join(ROLE_SEPARATOR) || '-',
          u.accountRoles.join(ROLE_SEPARATOR) || '-',
          shortTime(newestByUser.get(u.id)?.value),
          formatMinutes(u.minutesSinceLastSeen),
          String(maximumMinutes),
          u.status,
        ]),
      ),
    );
    for (const u of users) if (u.status === 'ALERT') io.out(`ALERT ${u.id}: ${u.message}`);
    if (noUserMessage) io.out(`ALERT: ${noUserMessage}`);
  });
}

/** --user-role and --account-role: each non-empty and without the separator the labels join them with. */
function roleOptions(parsed: Parsed): { userRoles: string[]; accountRoles: string[] } {
  const userRoles = parsed.lists.get('user-role') ?? [];
  const accountRoles = parsed.lists.get('account-role') ?? [];
  for (const role of [...userRoles, ...accountRoles]) {
    if (role === '' || role.includes(ROLE_SEPARATOR)) throw new UsageError(`a role must be non-empty and contain no "${ROLE_SEPARATOR}": "${role}"`);
  }
  return { userRoles, accountRoles };
}

/**
 * One sample per user: if their roles changed within the window there are several series; the
 * newest one wins, roles included.
 */
function newestPerUser(samples: Sample[]): Map<string, Sample> {
  const newestByUser = new Map<string, Sample>();
  for (const s of samples) {
    const id = s.labels[LABEL_ENDUSER_ID] ?? '';
    const seen = newestByUser.get(id);
    if (seen === undefined || s.value > seen.value) newestByUser.set(id, s);
  }
  return newestByUser;
}

/** No user with the roles seen at all: one alert for the roles. */
function noUserAlert(userRoles: string[], accountRoles: string[], summary: string, maximumMinutes: number): Alert {
  return {
    labels: {
      alertname: ALERT_NO_USER_SEEN,
      severity: 'warning',
      ...(userRoles.length ? { [LABEL_USER_ROLES]: userRoles.join(ROLE_SEPARATOR) } : {}),
      ...(accountRoles.length ? { [LABEL_USER_ACCOUNT_ROLES]: accountRoles.join(ROLE_SEPARATOR) } : {}),
    },
    annotations: { summary, maximum_minutes: String(maximumMinutes) },
    fingerprint: ['otel-monitor', 'last-seen', 'no-user', ...userRoles, '|', ...accountRoles],
  };
}

export function judgeUser(
  id: string,
  labels: Record<string, string>,
  lastSeenSeconds: number,
  now: number,
  maximumMinutes: number,
  customMessage?: string,
): UserResult {
  const roles = splitRoles(labels[LABEL_USER_ROLES]);
  const accountRoles = splitRoles(labels[LABEL_USER_ACCOUNT_ROLES]);
  const since = (now - lastSeenSeconds) / 60;
  const late = since > maximumMinutes;
  const who = `User ${id} (roles ${roles.join(', ') || 'none'}; account roles ${accountRoles.join(', ') || 'none'})`;
  const message = late
    ? withCustomMessage(
        `${who} was last seen ${formatMinutes(since)} minutes ago, more than the allowed ${maximumMinutes} minutes ` +
          `(${formatMinutes(since - maximumMinutes)} minutes late).`,
        customMessage,
      )
    : `${who} was seen ${formatMinutes(since)} minutes ago.`;
  return {
    id,
    roles,
    accountRoles,
    lastSeen: isoTime(lastSeenSeconds),
    minutesSinceLastSeen: roundMinutes(since),
    minutesLate: roundMinutes(Math.max(0, since - maximumMinutes)),
    status: late ? 'ALERT' : 'OK',
    message,
  };
}

function userAlert(u: UserResult, maximumMinutes: number): Alert {
  return {
    labels: {
      alertname: ALERT_USER_NOT_SEEN,
      severity: 'warning',
      [LABEL_ENDUSER_ID]: u.id,
      [LABEL_USER_ROLES]: u.roles.join(ROLE_SEPARATOR),
      [LABEL_USER_ACCOUNT_ROLES]: u.accountRoles.join(ROLE_SEPARATOR),
    },
    annotations: { summary: u.message, maximum_minutes: String(maximumMinutes), minutes_late: String(u.minutesLate) },
    fingerprint: ['otel-monitor', 'last-seen', u.id],
  };
}

function splitRoles(joined: string | undefined): string[] {
  return joined ? joined.split(ROLE_SEPARATOR) : [];
}

function describeFilter(userRoles: string[], accountRoles: string[]): string {
  const parts = [];
  if (userRoles.length) parts.push(`with user role ${userRoles.join(' and ')}`);
  if (accountRoles.length) parts.push(`with account role ${accountRoles.join(' and ')}`);
  return parts.length ? parts.join(' and ') : 'with a monitored role';
}
