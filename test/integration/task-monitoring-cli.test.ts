// The compiled `otel-monitor` bin against a real Prometheus 2.x (scraping an in-test exposition
// of the task and last-seen gauges, exactly as the Collector's prometheus exporter names them),
// a real Alertmanager delivering to an in-test webhook, and the local Sentry envelope receiver.
// The Collector path (worker -> Collector -> Prometheus) is in task-monitoring-e2e.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, stopAll, waitFor } from '../helpers/process.js';
import { startSentryReceiver, type SentryReceiver } from '../helpers/sentry-receiver.js';
import {
  compileCli,
  promQuery,
  removeDirs,
  runCli,
  startAlertmanager,
  startExposition,
  startPrometheus,
  startWebhook,
  type HttpStub,
  type RunningServer,
  type Webhook,
} from './task-monitoring-helpers.js';

const T0 = Math.floor(Date.now() / 1000);
const ago = (minutes: number) => T0 - minutes * 60;

// Two releases of the worker report `fresh`; the newer one succeeded last. `recovered` failed,
// then succeeded. `failing` succeeded, then failed. User 7 is a "robot", not a "bot".
const EXPOSITION = () => {
  const w = 'service_name="worker",deployment_environment_name="test"';
  const api = 'service_name="api",deployment_environment_name="test"';
  return `# TYPE otel_monitor_task_last_success_timestamp_seconds gauge
otel_monitor_task_last_success_timestamp_seconds{otel_monitor_task_name="fresh",${w},service_version="1.0.0"} ${ago(10)}
otel_monitor_task_last_success_timestamp_seconds{otel_monitor_task_name="fresh",${w},service_version="1.1.0"} ${ago(1)}
otel_monitor_task_last_success_timestamp_seconds{otel_monitor_task_name="stale",${w},service_version="1.1.0"} ${ago(120)}
otel_monitor_task_last_success_timestamp_seconds{otel_monitor_task_name="failing",${w},service_version="1.1.0"} ${ago(10)}
otel_monitor_task_last_success_timestamp_seconds{otel_monitor_task_name="recovered",${w},service_version="1.1.0"} ${ago(2)}
# TYPE otel_monitor_task_last_failure_timestamp_seconds gauge
otel_monitor_task_last_failure_timestamp_seconds{otel_monitor_task_name="failing",${w},service_version="1.1.0"} ${ago(1)}
otel_monitor_task_last_failure_timestamp_seconds{otel_monitor_task_name="recovered",${w},service_version="1.1.0"} ${ago(5)}
# TYPE otel_monitor_user_last_seen_timestamp_seconds gauge
otel_monitor_user_last_seen_timestamp_seconds{enduser_id="42",user_roles="bot,uploader",otel_monitor_user_account_roles="SubscriberToServiceXYZ",${api}} ${ago(1)}
otel_monitor_user_last_seen_timestamp_seconds{enduser_id="43",user_roles="bot",otel_monitor_user_account_roles="",${api}} ${ago(180)}
otel_monitor_user_last_seen_timestamp_seconds{enduser_id="7",user_roles="robot",otel_monitor_user_account_roles="",${api}} ${ago(1)}
`;
};

let bin: string;
let exposition: HttpStub;
let webhook: Webhook;
let alertmanager: RunningServer;
let prometheus: RunningServer;
let sentry: SentryReceiver;
let env: Record<string, string>;

beforeAll(async () => {
  [bin, exposition, webhook, sentry] = await Promise.all([compileCli(), startExposition(EXPOSITION), startWebhook(), startSentryReceiver()]);
  alertmanager = await startAlertmanager(webhook.url);
  // Prometheus also evaluates the generated rules and sends to the same Alertmanager; its alerts
  // carry source="prometheus" (external label), the CLI's do not.
  const rules = await runCli(bin, ['rules', '--task', 'stale=60', '--task', 'fresh=5', '--label', 'deployment_environment_name=test']);
  expect(rules.code, rules.stderr).toBe(0);
  prometheus = await startPrometheus({
    targets: [`127.0.0.1:${exposition.port}`],
    ruleFiles: { 'otel-monitor.yml': rules.stdout },
    alertmanager: alertmanager.url,
    externalLabels: { source: 'prometheus' },
  });
  env = { OTEL_MONITOR_PROMETHEUS_URL: prometheus.url };
  await waitFor(async () => (await promQuery(prometheus.url, 'otel_monitor_user_last_seen_timestamp_seconds')).length === 3, {
    timeoutMs: 30_000,
    what: 'Prometheus to scrape the exposition',
  });
});

afterAll(async () => {
  await stopAll();
  await Promise.all([exposition?.close(), webhook?.close(), sentry?.close()]);
  removeDirs(alertmanager?.dir, prometheus?.dir);
});

const oneLine = (text: string) => text.trim().split('\n').length === 1;
const cliAlerts = () => webhook.alerts().filter((a) => a.labels.source === undefined);

describe('otel-monitor help and usage', () => {
  it('prints help for every command and exits 0', async () => {
    for (const args of [['--help'], ['monitor', '--help'], ['monitor', 'latest-run', '--help'], ['monitor', 'last-seen', '-h'], ['rules', '--help']]) {
      const r = await runCli(bin, args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: otel-monitor');
    }
  });

  it('exits 2 with a one-line reason on bad arguments', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['monitor', 'latest-run'], /at least one --task/],
      [['monitor', 'latest-run', '--task', 'x', 'soon'], /positive number of minutes/],
      [['monitor', 'latest-run', '--task', 'x'], /--task needs MINUTES after "x"/],
      [['monitor', 'latest-run', '--task', 'x', '5', '--colour'], /unknown option --colour/],
      [['monitor', 'last-seen', '--user-role', 'bot'], /--maximum-minutes-since-last-seen N is required/],
      [['monitor', 'latest-run', '--task', 'x', '5', '--prometheus-url', 'ftp://x'], /must be an http\(s\) URL/],
      [['rules'], /at least one --task/],
      [['frobnicate'], /unknown command/],
    ];
    for (const [args, reason] of cases) {
      const r = await runCli(bin, args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(reason);
      expect(oneLine(r.stderr), r.stderr).toBe(true);
    }
  });

  it('exits 2 with a one-line reason when Prometheus cannot be reached', async () => {
    const port = await freePort();
    const r = await runCli(bin, ['monitor', 'latest-run', '--task', 'fresh', '5', '--prometheus-url', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`otel-monitor: cannot reach Prometheus at http://127.0.0.1:${port}: ECONNREFUSED`);
    expect(r.stdout).toBe('');
  });
});

describe('otel-monitor monitor latest-run', () => {
  it('exits 0 and prints a table when every task succeeded in time', async () => {
    const r = await runCli(bin, ['monitor', 'latest-run', '--task', 'fresh', '5', '--task', 'recovered=10'], env);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TASK\s+LAST SUCCESS\s+LAST FAILURE\s+MINUTES AGO\s+MAX MINUTES\s+STATUS$/);
    expect(lines[1]).toMatch(/^fresh\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+-\s+1(\.\d)?\s+5\s+OK$/);
    expect(lines[2]).toMatch(/^recovered\s+.*\s+10\s+OK$/);
    expect(lines).toHaveLength(3);
  });

  it('reports stale, failing and silent tasks in JSON, field by field, and alerts through Alertmanager', async () => {
    const started = Date.now() / 1000;
    const r = await runCli(
      bin,
      ['monitor', 'latest-run', '--task', 'fresh', '5', '--task', 'stale', '60', '--task', 'failing', '60', '--task', 'never_ran', '30',
        '--json', '--alertmanager-url', alertmanager.url, '--label', 'deployment_environment_name=test'],
      env,
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.command).toBe('monitor latest-run');
    expect(out.status).toBe('ALERT');
    expect(Math.abs(Date.parse(out.checkedAt) / 1000 - started)).toBeLessThan(30);
    expect(out.notified).toEqual(['alertmanager']);
    expect(out.tasks.map((t: any) => t.task)).toEqual(['fresh', 'stale', 'failing', 'never_ran']);
    const [fresh, stale, failing, never] = out.tasks;

    // One row for two releases, and the newer release's success wins.
    expect(fresh).toMatchObject({ status: 'OK', reason: 'ok', maximumMinutes: 5, lastFailure: null, minutesSinceLastFailure: null, minutesLate: 0 });
    expect(fresh.lastSuccess).toBe(new Date(ago(1) * 1000).toISOString());
    expect(fresh.minutesSinceLastSuccess).toBeGreaterThanOrEqual(1);
    expect(fresh.minutesSinceLastSuccess).toBeLessThan(3);

    expect(stale).toMatchObject({ status: 'ALERT', reason: 'late', maximumMinutes: 60, lastFailure: null });
    expect(stale.lastSuccess).toBe(new Date(ago(120) * 1000).toISOString());
    expect(stale.minutesSinceLastSuccess).toBeGreaterThanOrEqual(120);
    expect(stale.minutesLate).toBeGreaterThanOrEqual(60);
    expect(stale.minutesLate).toBeLessThan(62);
    expect(stale.message).toMatch(/^Task stale last succeeded 12\d(\.\d)? minutes ago, more than the allowed 60 minutes \(6\d(\.\d)? minutes late\)\.$/);

    expect(failing).toMatchObject({ status: 'ALERT', reason: 'failed', minutesLate: 0 });
    expect(failing.lastFailure).toBe(new Date(ago(1) * 1000).toISOString());
    expect(failing.message).toMatch(/^Task failing failed on its latest run/);

    expect(never).toEqual({
      task: 'never_ran',
      maximumMinutes: 30,
      status: 'ALERT',
      reason: 'never_reported',
      lastSuccess: null,
      lastFailure: null,
      minutesSinceLastSuccess: null,
      minutesSinceLastFailure: null,
      minutesLate: null,
      message:
        'Task never_ran has not reported any run in the last 7d. Is it wrapped in monitorTask() or @taskWithStatusReport(), and does its service export metrics?',
    });

    // Through the real Alertmanager to the webhook: one alert per late/failing/silent task.
    const delivered = await waitFor(() => (cliAlerts().length >= 3 ? cliAlerts() : undefined), { timeoutMs: 30_000, what: 'CLI alerts at the webhook' });
    const byTask = Object.fromEntries(delivered.map((a) => [a.labels.otel_monitor_task_name, a]));
    expect(Object.keys(byTask).sort()).toEqual(['failing', 'never_ran', 'stale']);
    expect(byTask.stale.labels).toEqual({ alertname: 'OtelMonitorTaskLate', otel_monitor_task_name: 'stale', severity: 'warning' });
    expect(byTask.stale.annotations.summary).toBe(stale.message);
    expect(byTask.stale.annotations.reason).toBe('late');
    expect(byTask.failing.labels.alertname).toBe('OtelMonitorTaskFailing');
    expect(byTask.never_ran.labels.alertname).toBe('OtelMonitorTaskNeverReported');
    expect(byTask.stale.status).toBe('firing');
    expect(byTask.stale.generatorURL).toContain(`${prometheus.url}/graph?`);
  });

  it('sends one Sentry message per alerting task when SENTRY_DSN is set', async () => {
    sentry.clear();
    const r = await runCli(bin, ['monitor', 'latest-run', '--task', 'fresh', '5', '--task', 'stale', '60', '--custom-message', 'See runbook X.'], {
      ...env,
      SENTRY_DSN: sentry.dsn,
      SENTRY_ENVIRONMENT: 'test',
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('ALERT stale: Task stale last succeeded');
    expect(r.stdout).toContain('Sent 1 alert(s) to sentry.');
    const events = sentry.events();
    expect(sentry.rejected).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0].message).toMatch(/^Task stale last succeeded .* minutes late\)\. See runbook X\.$/);
    expect(events[0].level).toBe('warning');
    expect(events[0].environment).toBe('test');
    expect(events[0].fingerprint).toEqual(['otel-monitor', 'latest-run', 'stale', 'late']);
    expect(events[0].tags).toMatchObject({ alertname: 'OtelMonitorTaskLate', otel_monitor_task_name: 'stale' });
  });

  it('exits 2 when an alert cannot be delivered, after printing the result', async () => {
    const port = await freePort();
    const r = await runCli(bin, ['monitor', 'latest-run', '--task', 'stale', '60', '--alertmanager-url', `http://127.0.0.1:${port}`], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('ALERT stale');
    expect(r.stderr.trim()).toBe(`otel-monitor: cannot reach Alertmanager at http://127.0.0.1:${port}: ECONNREFUSED`);
    const bad = await runCli(bin, ['monitor', 'latest-run', '--task', 'stale', '60'], { ...env, SENTRY_DSN: 'not a dsn' });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('otel-monitor: SENTRY_DSN is not a valid DSN (expected https://KEY@HOST/PROJECT_ID)');
  });

  it('lets Prometheus alert by itself with the generated rules', async () => {
    const fromPrometheus = await waitFor(
      () => webhook.alerts().find((a) => a.labels.source === 'prometheus' && a.labels.alertname === 'OtelMonitorTaskLate'),
      { timeoutMs: 60_000, what: 'a rule-based alert from Prometheus' },
    );
    expect(fromPrometheus.labels).toMatchObject({ otel_monitor_task_name: 'stale', severity: 'warning' });
    expect(fromPrometheus.annotations.summary).toMatch(/^Task stale last succeeded 2h\s?\d*m?.* ago, more than the allowed 60 minutes\.$/);
    // `fresh` is within its 5 minutes: no rule alert for it.
    expect(webhook.alerts().filter((a) => a.labels.source === 'prometheus' && a.labels.otel_monitor_task_name === 'fresh')).toEqual([]);
  });
});

describe('otel-monitor monitor last-seen', () => {
  it('alerts for a silent bot, not for an active one, and ignores "robot"', async () => {
    const r = await runCli(bin, ['monitor', 'last-seen', '--user-role', 'bot', '--maximum-minutes-since-last-seen', '100', '--json'], env);
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ command: 'monitor last-seen', status: 'ALERT', maximumMinutes: 100, userRoles: ['bot'], accountRoles: [], notified: [] });
    expect(out.users.map((u: any) => [u.id, u.status])).toEqual([
      ['42', 'OK'],
      ['43', 'ALERT'],
    ]);
    const [active, silent] = out.users;
    expect(active).toMatchObject({ roles: ['bot', 'uploader'], accountRoles: ['SubscriberToServiceXYZ'], minutesLate: 0 });
    expect(active.lastSeen).toBe(new Date(ago(1) * 1000).toISOString());
    expect(silent).toMatchObject({ roles: ['bot'], accountRoles: [] });
    expect(silent.minutesSinceLastSeen).toBeGreaterThanOrEqual(180);
    expect(silent.minutesLate).toBeGreaterThanOrEqual(80);
    expect(silent.message).toMatch(/^User 43 \(roles bot; account roles none\) was last seen 18\d(\.\d)? minutes ago, more than the allowed 100 minutes/);
  });

  it('filters by account role and exits 0 when those users are active', async () => {
    const r = await runCli(
      bin,
      ['monitor', 'last-seen', '--account-role', 'SubscriberToServiceXYZ', '--user-role', 'bot', '--maximum-minutes-since-last-seen', '100'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^USER\s+ROLES\s+ACCOUNT ROLES\s+LAST SEEN\s+MINUTES AGO\s+MAX MINUTES\s+STATUS$/);
    expect(lines[1]).toMatch(/^42\s+bot,uploader\s+SubscriberToServiceXYZ\s+\S+ \S+\s+1(\.\d)?\s+100\s+OK$/);
    expect(lines).toHaveLength(2);
  });

  it('alerts when no user with the role has been seen at all, through Alertmanager', async () => {
    const r = await runCli(
      bin,
      ['monitor', 'last-seen', '--user-role', 'ghost', '--maximum-minutes-since-last-seen', '10', '--alertmanager-url', alertmanager.url],
      env,
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('ALERT: No user with user role ghost has been seen in the last 7d.');
    const alert = await waitFor(() => cliAlerts().find((a) => a.labels.alertname === 'OtelMonitorNoUserSeen'), {
      timeoutMs: 30_000,
      what: 'the no-user alert at the webhook',
    });
    expect(alert.labels).toEqual({ alertname: 'OtelMonitorNoUserSeen', severity: 'warning', user_roles: 'ghost' });
  });
});
