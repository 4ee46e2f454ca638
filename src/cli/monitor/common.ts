// Options and plumbing shared by `monitor latest-run` and `monitor last-seen`.
import { parseDuration, parseLabels, type OptionSpec, type Parsed } from '../shared/args.js';
import { sendAlerts, type Alert } from './send-alerts.js';
import { alertmanagerOption, CONNECTION_HELP, CONNECTION_SPEC, prometheusOption, timeoutOption } from '../shared/connection-options.js';
import { DEFAULT_LOOKBACK } from '../shared/alert-names.js';
import type { HttpEndpoint } from '../shared/http-endpoint.js';
import type { Io } from '../shared/output.js';
import type { PrometheusClient } from '../shared/prometheus.js';


export const COMMON_SPEC: OptionSpec = {
  ...CONNECTION_SPEC,
  'alertmanager-url': 'value',
  json: 'flag',
  lookback: 'value',
  label: 'list',
  'custom-message': 'value',
  timeout: 'value',
};

export const COMMON_HELP = `
Common options:
  --alertmanager-url URL   Also send the alerts to this Alertmanager (API v2; env OTEL_MONITOR_ALERTMANAGER_URL).
  --label NAME=VALUE       Only consider series with this label, e.g. deployment_environment_name=production.
                           Repeatable.
  --lookback DURATION      How far back to look for the last report (default ${DEFAULT_LOOKBACK}).
  --custom-message TEXT    Appended to every alert message.
  --timeout SECONDS        Per-request timeout for Prometheus, Alertmanager and Sentry (default 10).
  --json                   Print one JSON document instead of the table.
  -h, --help               Show this help.

${CONNECTION_HELP}

When SENTRY_DSN is set, each alert is also sent to Sentry as a message (SENTRY_ENVIRONMENT and
SENTRY_RELEASE are honoured). Alerts are sent once per run.

Exit status: 0 all OK, 1 at least one ALERT, 2 bad arguments or a server that cannot be reached.`;

export interface Common {
  prometheus: PrometheusClient;
  alertmanager: HttpEndpoint | undefined;
  json: boolean;
  lookback: string;
  labels: Array<[string, string]>;
  customMessage: string | undefined;
  timeoutMs: number;
}

/** `--timeout SECONDS` (default 10) in milliseconds. */
export function commonOptions(parsed: Parsed, io: Io): Common {
  const timeoutMs = timeoutOption(parsed);
  return {
    prometheus: prometheusOption(parsed, io, timeoutMs),
    alertmanager: alertmanagerOption(parsed, io, timeoutMs),
    json: parsed.flags.has('json'),
    lookback: parseDuration(parsed.values.get('lookback') ?? DEFAULT_LOOKBACK, '--lookback'),
    labels: parseLabels(parsed.lists.get('label') ?? []),
    customMessage: parsed.values.get('custom-message'),
    timeoutMs,
  };
}

export function withCustomMessage(message: string, custom: string | undefined): string {
  return custom ? `${message} ${custom}` : message;
}

/**
 * Sends the alerts, prints the report (`print`: the JSON document, or the table and ALERT lines),
 * says where the alerts went, and only then rethrows a delivery error (exit 2), so the verdict is
 * always seen. Otherwise exit 1 when alerting, 0 when not.
 */
export async function deliverAndReport(
  alerts: Alert[],
  common: Common,
  io: Io,
  generatorExpr: string,
  print: (status: 'ALERT' | 'OK', notified: string[]) => void,
): Promise<number> {
  let notified: string[] = [];
  let deliveryError: unknown;
  try {
    notified = await deliver(alerts, common, io, generatorExpr);
  } catch (err) {
    deliveryError = err;
  }
  print(alerts.length > 0 ? 'ALERT' : 'OK', notified);
  if (!common.json && notified.length > 0) io.out(`Sent ${alerts.length} alert(s) to ${notified.join(' and ')}.`);
  if (deliveryError) throw deliveryError;
  return alerts.length > 0 ? 1 : 0;
}

/** Sends the alerts (if any) and says where they went; delivery errors propagate (exit 2). */
export async function deliver(alerts: Alert[], common: Common, io: Io, generatorExpr: string): Promise<string[]> {
  return sendAlerts(alerts, {
    alertmanager: common.alertmanager,
    sentryDsn: io.env.SENTRY_DSN || undefined,
    env: io.env,
    generatorURL: `${common.prometheus.displayUrl}/graph?${new URLSearchParams({ 'g0.expr': generatorExpr, 'g0.tab': '1' })}`,
    timeoutMs: common.timeoutMs,
  });
}
