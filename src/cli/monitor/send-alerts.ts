// Sends the alerts of one CLI run to Alertmanager (API v2) and/or Sentry (one message per alert).
// Both are attempted; a delivery failure is reported as a CliError (exit 2) after the results
// have been printed, because a check whose alert went nowhere must not look like a plain alert.
import { CliError } from '../shared/errors.js';
import type { HttpAnswer, HttpEndpoint } from '../shared/http-endpoint.js';
import { reason } from '../shared/prometheus.js';

export interface Alert {
  /** Alertmanager labels: identify the alert (alertname + task or user). */
  labels: Record<string, string>;
  /** Alertmanager annotations; `summary` is the one-line message. */
  annotations: Record<string, string>;
  /** Sentry grouping: one issue per task or user and reason. */
  fingerprint: string[];
}

export interface Targets {
  alertmanager?: HttpEndpoint | undefined;
  sentryDsn?: string | undefined;
  env: Record<string, string | undefined>;
  /** Link back to the query in Prometheus, shown by Alertmanager. */
  generatorURL?: string | undefined;
  timeoutMs?: number;
}

/** Returns the names of the channels that received the alerts. */
export async function sendAlerts(alerts: readonly Alert[], targets: Targets): Promise<string[]> {
  if (alerts.length === 0) return [];
  const sent: string[] = [];
  const errors: CliError[] = [];
  const attempt = async (name: string, send: () => Promise<void>) => {
    try {
      await send();
      sent.push(name);
    } catch (err) {
      errors.push(err instanceof CliError ? err : new CliError(`${name}: ${reason(err)}`));
    }
  };
  const timeoutMs = targets.timeoutMs ?? 10_000;
  if (targets.alertmanager) {
    const alertmanager = targets.alertmanager;
    await attempt('alertmanager', () => postToAlertmanager(alertmanager, alerts, targets.generatorURL));
  }
  if (targets.sentryDsn) {
    const dsn = targets.sentryDsn;
    await attempt('sentry', () => sendToSentry(dsn, alerts, targets.env, timeoutMs));
  }
  if (errors.length > 0) throw errors[0]!;
  return sent;
}

async function postToAlertmanager(alertmanager: HttpEndpoint, alerts: readonly Alert[], generatorURL: string | undefined) {
  const startsAt = new Date().toISOString();
  // No endsAt: Alertmanager then resolves the alert after its resolve_timeout unless the next
  // run (cron) posts it again, which is what "still late" should look like.
  const body = alerts.map((a) => ({
    labels: a.labels,
    annotations: a.annotations,
    startsAt,
    ...(generatorURL ? { generatorURL } : {}),
  }));
  let res: HttpAnswer;
  try {
    res = await alertmanager.request('/api/v2/alerts', { method: 'POST', body: JSON.stringify(body), contentType: 'application/json' });
  } catch (err) {
    throw new CliError(`cannot reach Alertmanager at ${alertmanager.display}: ${alertmanager.failure(err)}`);
  }
  if (res.status >= 300) {
    const text = alertmanager.scrub(res.text).replace(/\s+/g, ' ').trim().slice(0, 200);
    throw new CliError(`Alertmanager at ${alertmanager.display} rejected the alerts (HTTP ${res.status}): ${text}`);
  }
}

/** Checks the DSN shape ourselves: @sentry/node silently disables itself on a bad one. */
export function checkDsn(dsn: string): void {
  let url: URL | undefined;
  try {
    url = new URL(dsn);
  } catch {
    url = undefined;
  }
  if (!url || !url.username || !/\/\d+$/.test(url.pathname) || !/^https?:$/.test(url.protocol)) {
    throw new CliError('SENTRY_DSN is not a valid DSN (expected https://KEY@HOST/PROJECT_ID)');
  }
}

async function sendToSentry(dsn: string, alerts: readonly Alert[], env: Targets['env'], timeoutMs: number) {
  checkDsn(dsn);
  // Loaded only when needed: it is the heaviest import of the CLI.
  // An optional peer dependency: only users who send to Sentry install it.
  const Sentry = await import('@sentry/node').catch((err: unknown) => {
    throw new CliError(`sending alerts to Sentry needs @sentry/node: run \`npm install @sentry/node\` (${reason(err)})`);
  });
  Sentry.init({
    dsn,
    environment: env.SENTRY_ENVIRONMENT,
    release: env.SENTRY_RELEASE,
    // A short-lived CLI: no auto-instrumentation, no tracing, no module hooks.
    defaultIntegrations: false,
    enableRuntimeChannelInjection: false,
    sendClientReports: false,
  });
  for (const alert of alerts) {
    Sentry.captureMessage(alert.annotations.summary ?? alert.labels.alertname ?? 'otel-monitor alert', {
      level: 'warning',
      fingerprint: alert.fingerprint,
      tags: alert.labels,
    });
  }
  const flushed = await Sentry.close(timeoutMs);
  if (!flushed) throw new CliError(`could not deliver the alerts to Sentry within ${timeoutMs / 1000} s`);
}
