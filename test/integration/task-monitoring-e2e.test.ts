// The whole path, as users run it: a worker under `node --import @org/otel-monitor` runs tasks and
// serves bot requests -> OTLP -> our Collector -> its prometheus exporter -> real Prometheus ->
// the `otel-monitor` CLI -> real Alertmanager -> webhook. Sentry check-ins go from the worker's
// Sentry SDK to the local envelope receiver. Needs `npm run build` (the preload runs from dist/).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp, type RunningApp } from '../helpers/app.js';
import { stopAll, waitFor } from '../helpers/process.js';
import { startSentryReceiver, type SentryReceiver } from '../helpers/sentry-receiver.js';
import {
  startAlertmanager,
  startCollector,
  startPrometheus,
  type RunningAlertmanager,
  type RunningCollector,
  type RunningPrometheus,
} from '../helpers/stack.js';
import { compileCli, runCli, startWebhook, type Webhook } from './task-monitoring-helpers.js';

let bin: string;
let sentry: SentryReceiver;
let webhook: Webhook;
let collector: RunningCollector;
let alertmanager: RunningAlertmanager;
let prometheus: RunningPrometheus;
let worker: RunningApp;
let workerStarted: number;
let botTimer: NodeJS.Timeout | undefined;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  [bin, sentry, webhook] = await Promise.all([compileCli(), startSentryReceiver(), startWebhook()]);
  collector = await startCollector();
  alertmanager = await startAlertmanager({ ALERTMANAGER_WEBHOOK_URL: webhook.url });
  prometheus = await startPrometheus({ collector, alertmanagerUrl: alertmanager.url });

  workerStarted = Date.now();
  worker = await startApp({
    script: 'test/fixtures/task-worker.js',
    preload: ['--import', '@org/otel-monitor'],
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: 'task-worker',
      OTEL_RESOURCE_ATTRIBUTES: 'service.version=1.2.3,deployment.environment.name=test',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_MONITOR_LAST_SEEN_ROLES: 'bot',
      SENTRY_DSN: sentry.dsn,
    },
  });
  // Bot 42 keeps calling in; bot 43 and the admin call once and then go quiet.
  await Promise.all([worker.get('/bot/42'), worker.get('/bot/43'), worker.get('/user/alice')]);
  botTimer = setInterval(() => void worker.get('/bot/42').catch(() => undefined), 1000);

  // Scrapes are every 10 s; wait until every series the tests read has arrived.
  await waitFor(
    async () => {
      const [tasks, users] = await Promise.all([
        prometheus.query('count by (otel_monitor_task_name) (otel_monitor_task_last_run_timestamp_seconds{job="task-worker"})'),
        prometheus.query('otel_monitor_user_last_seen_timestamp_seconds{job="task-worker"}'),
      ]);
      return tasks.length === 3 && users.length === 2;
    },
    { timeoutMs: 90_000, intervalMs: 1000, what: 'task and last-seen series in Prometheus' },
  );
  // stale_task and bot 43 must be older than the 0.25-minute thresholds used below.
  const wait = workerStarted + 20_000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
});

afterAll(async () => {
  if (botTimer) clearInterval(botTimer);
  await stopAll();
  await Promise.all([sentry?.close(), webhook?.close()]);
});

const promEnv = () => ({ OTEL_MONITOR_PROMETHEUS_URL: prometheus.url });

describe('task monitoring end to end', () => {
  it('exports the task gauges with Prometheus names and the resource labels', async () => {
    const [series] = await prometheus.query('otel_monitor_task_last_success_timestamp_seconds{otel_monitor_task_name="fresh_task"}');
    expect(series?.metric).toMatchObject({
      job: 'task-worker',
      service_version: '1.2.3',
      deployment_environment_name: 'test',
      otel_monitor_task_name: 'fresh_task',
    });
    const age = Date.now() / 1000 - Number(series!.value[1]);
    expect(age).toBeGreaterThan(-1);
    expect(age).toBeLessThan(30);
    const runs = await prometheus.query('otel_monitor_task_runs_total{otel_monitor_task_name="failing_task"}');
    expect(runs.map((r) => [r.metric.otel_monitor_task_status, r.value[1]])).toEqual([['error', '1']]);
    expect(await prometheus.query('otel_monitor_task_duration_seconds_count{otel_monitor_task_name="stale_task"}')).toHaveLength(1);
  });

  it('monitor latest-run exits 0 when the tasks are fresh', async () => {
    const r = await runCli(bin, ['monitor', 'latest-run', '--task', 'fresh_task', '1'], promEnv());
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^fresh_task\s.*\s1\s+OK$/m);
  });

  it('monitor latest-run exits 1 for a stale and a failing task, JSON checked field by field, alert through Alertmanager', async () => {
    const r = await runCli(
      bin,
      ['monitor', 'latest-run', '--task', 'fresh_task', '1', '--task', 'stale_task', '0.25', '--task', 'failing_task', '60',
        '--label', 'deployment_environment_name=test', '--json', '--alertmanager-url', alertmanager.url],
      promEnv(),
    );
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ command: 'monitor latest-run', status: 'ALERT', notified: ['alertmanager'] });
    const [fresh, stale, failing] = out.tasks;
    expect(fresh).toMatchObject({ task: 'fresh_task', status: 'OK', reason: 'ok', maximumMinutes: 1, lastFailure: null, minutesLate: 0 });
    expect(fresh.minutesSinceLastSuccess).toBeLessThan(1);

    expect(stale).toMatchObject({ task: 'stale_task', status: 'ALERT', reason: 'late', maximumMinutes: 0.25, lastFailure: null });
    // stale_task succeeded once, right after the worker started.
    const staleAt = Date.parse(stale.lastSuccess);
    expect(staleAt).toBeGreaterThanOrEqual(workerStarted - 1000);
    expect(staleAt).toBeLessThan(workerStarted + 15_000);
    expect(stale.minutesLate).toBeGreaterThan(0);
    expect(stale.message).toMatch(/^Task stale_task last succeeded [\d.]+ minutes ago, more than the allowed 0\.25 minutes/);

    expect(failing).toMatchObject({ task: 'failing_task', status: 'ALERT', reason: 'never_succeeded', lastSuccess: null, minutesLate: null });
    expect(Date.parse(failing.lastFailure)).toBeGreaterThanOrEqual(workerStarted - 1000);

    const delivered = await waitFor(
      () => {
        const mine = webhook.alerts().filter((a) => ['stale_task', 'failing_task'].includes(a.labels.otel_monitor_task_name) && !a.labels.job);
        return mine.length >= 2 ? mine : undefined;
      },
      { timeoutMs: 60_000, what: 'the CLI alerts at the webhook via Alertmanager' },
    );
    const byTask = Object.fromEntries(delivered.map((a) => [a.labels.otel_monitor_task_name, a]));
    expect(byTask.stale_task.labels.alertname).toBe('OtelMonitorTaskLate');
    expect(byTask.stale_task.annotations.summary).toBe(stale.message);
    expect(byTask.failing_task.labels.alertname).toBe('OtelMonitorTaskFailing');
  });

  it('monitor last-seen: OK for an active bot, ALERT for a silent one, no series for users without a listed role', async () => {
    const ok = await runCli(
      bin,
      ['monitor', 'last-seen', '--user-role', 'bot', '--account-role', 'SubscriberToServiceXYZ', '--maximum-minutes-since-last-seen', '0.5'],
      promEnv(),
    );
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^42\s+bot\s+SubscriberToServiceXYZ\s.*\sOK$/m);

    const r = await runCli(bin, ['monitor', 'last-seen', '--user-role', 'bot', '--maximum-minutes-since-last-seen', '0.25', '--json'], promEnv());
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.users.map((u: any) => [u.id, u.status, u.roles, u.accountRoles])).toEqual([
      ['42', 'OK', ['bot'], ['SubscriberToServiceXYZ']],
      ['43', 'ALERT', ['bot'], []],
    ]);
    expect(await prometheus.query('otel_monitor_user_last_seen_timestamp_seconds{enduser_id="alice"}')).toEqual([]);
  });

  it('sends Sentry check-ins with the derived slug: in_progress then ok or error', async () => {
    const checkIns = await sentry.waitForItems('check_in', (items) =>
      ['stale_task', 'failing_task'].every((slug) => items.filter((c) => c.monitor_slug === slug).length >= 2),
    );
    expect(sentry.rejected).toEqual([]);
    const sequence = (slug: string) => checkIns.filter((c) => c.monitor_slug === slug);
    const [staleStart, staleEnd] = sequence('stale_task');
    expect(staleStart).toMatchObject({ status: 'in_progress', monitor_slug: 'stale_task' });
    expect(staleEnd).toMatchObject({ status: 'ok', check_in_id: staleStart.check_in_id });
    expect(staleEnd.duration).toBeGreaterThan(0);
    const [failStart, failEnd] = sequence('failing_task');
    expect(failStart.status).toBe('in_progress');
    expect(failEnd).toMatchObject({ status: 'error', check_in_id: failStart.check_in_id });
    expect(sequence('fresh_task').length).toBeGreaterThanOrEqual(2);
  });
});
