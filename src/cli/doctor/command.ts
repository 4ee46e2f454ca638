// `otel-monitor doctor`: prints the configuration the preload would resolve here, then proves each
// leg by sending a span, a metric, a log record and a Sentry test error now and finding them again.
import { createRequire, isBuiltin } from 'node:module';
import { join } from 'node:path';
import { readConfig, redactUrl, type Config } from '../../config.js';
import { findAppPackage, resolveRelease } from '../../resource.js';
import { selectInstrumentations } from '../../instrumentation/catalogue.js';
import { parseArgs, parseNumber, parseUrl } from '../shared/args.js';
import { json, table, type Io } from '../shared/output.js';
import { checkCollector, checkJaeger, checkLoki, checkPrometheus, checkSentry, newProbe, REQUEST_TIMEOUT_MS, type LegResult } from './legs.js';
import { doctorDrops, renderDoctorDrops } from '../shared/pipeline-drops.js';
import { CONNECTION_SPEC, prometheusOption, timeoutOption } from '../shared/connection-options.js';

export const DOCTOR_HELP = `Usage: otel-monitor doctor [options]

Prints the configuration @org/otel-monitor resolves from this environment and directory (secrets
redacted), then checks each leg and prints PASS, FAIL with the reason and a fix, or SKIP:
  collector   a span, a metric and a log record are sent to the OTLP endpoints now (OTLP/JSON, with
              the configured headers and compression) and must show up
              in the Collector's own otelcol_receiver_accepted_* counters
  prometheus  (--prometheus-url) the metric just sent is queryable, with the release label
  sentry      (SENTRY_DSN) a test error event is accepted; its event id is printed
  loki        (--loki-url) the log line just sent is queryable by its trace id
  jaeger      (--jaeger-url) the span just sent comes back by its trace id from Jaeger's query API
With --prometheus-url it also prints the telemetry each app dropped in the last hour, per reason.

Options:
  --prometheus-url URL     Prometheus base URL (env OTEL_MONITOR_PROMETHEUS_URL); --header, --ca-file,
                           --timeout and OTEL_MONITOR_PROMETHEUS_TOKEN apply as in \`releases\` (no default URL)
  --loki-url URL           Loki base URL
  --jaeger-url URL         Jaeger UI/query base URL (env OTEL_MONITOR_JAEGER_URL), e.g. http://127.0.0.1:16686
  --collector-metrics URL  the Collector's own metrics (default: the OTLP host, port 8888, /metrics)
  --wait SECONDS           how long Prometheus, Loki and Jaeger may take to show what was sent (default 30)
  --json                   one JSON document instead of the table

Every request times out after ${REQUEST_TIMEOUT_MS / 1000} s, so an unreachable endpoint fails its leg quickly.
Exit status: 0 every configured leg passed, 1 a leg failed, 2 usage error.`;

export async function doctor(argv: readonly string[], io: Io): Promise<number> {
  const args = parseArgs(argv, { ...CONNECTION_SPEC, 'loki-url': 'value', 'jaeger-url': 'value', 'collector-metrics': 'value', wait: 'value', json: 'flag' });
  if (args.flags.has('help')) {
    io.out(DOCTOR_HELP);
    return 0;
  }
  // Prometheus is one leg among others here: checked only when named, never the default URL.
  const promGiven = args.values.has('prometheus-url') || Boolean(io.env.OTEL_MONITOR_PROMETHEUS_URL);
  const prometheus = promGiven ? prometheusOption(args, io, args.values.has('timeout') ? timeoutOption(args) : REQUEST_TIMEOUT_MS) : undefined;
  const loki = args.values.has('loki-url') ? parseUrl(args.values.get('loki-url')!, '--loki-url') : undefined;
  const jaegerText = args.values.get('jaeger-url') ?? (io.env.OTEL_MONITOR_JAEGER_URL || undefined);
  const jaeger = jaegerText === undefined ? undefined : parseUrl(jaegerText, '--jaeger-url');
  const waitMs = parseNumber(args.values.get('wait') ?? '30', '--wait', { unit: 'seconds', allowZero: true }) * 1000;

  const { config, warnings } = readConfig(io.env);
  const info = resolveRelease(config, findAppPackage(process.cwd()));
  const collectorMetrics = args.values.has('collector-metrics')
    ? parseUrl(args.values.get('collector-metrics')!, '--collector-metrics').href
    : defaultCollectorMetrics(config);
  const effective = effectiveConfig(config, info);

  const probe = newProbe(info.serviceName, info.release, info.environment, io.now());
  const collectorLeg = config.traces.exporter === 'otlp' || config.metrics.exporter === 'otlp' || config.logs.exporter === 'otlp'
    ? checkCollector(config, probe, collectorMetrics)
    : Promise.resolve<LegResult>({ leg: 'collector', verdict: 'SKIP', detail: 'no signal is exported over OTLP (OTEL_*_EXPORTER)' });
  const results = await Promise.all([
    collectorLeg,
    // Prometheus and Loki can only show what the Collector accepted.
    prometheus ? collectorLeg.then((c) => (c.verdict === 'PASS' ? checkPrometheus(prometheus, probe, waitMs) : notSent('prometheus'))) : skip('prometheus', 'no --prometheus-url given'),
    config.sentry ? checkSentry(config.sentry.dsn, probe) : skip('sentry', 'SENTRY_DSN is not set'),
    loki ? collectorLeg.then((c) => (c.verdict === 'PASS' ? checkLoki(loki, probe, waitMs) : notSent('loki'))) : skip('loki', 'no --loki-url given'),
    jaeger ? collectorLeg.then((c) => (c.verdict === 'PASS' ? checkJaeger(jaeger, probe, waitMs) : notSent('jaeger'))) : skip('jaeger', 'no --jaeger-url given'),
  ]);
  const failed = results.some((r) => r.verdict === 'FAIL');
  const drops = prometheus ? await doctorDrops(prometheus, io.now()) : undefined;
  if (args.flags.has('json')) {
    io.out(json({ config: effective, warnings, legs: results, ok: !failed, ...(drops ? { telemetryDropped: drops } : {}) }));
  } else {
    io.out(render(effective, warnings, results) + (drops ? `

${renderDoctorDrops(drops)}` : ''));
  }
  return failed ? 1 : 0;
}

const skip = (leg: LegResult['leg'], detail: string) => Promise.resolve<LegResult>({ leg, verdict: 'SKIP', detail });
const notSent = (leg: LegResult['leg']): LegResult => ({ leg, verdict: 'FAIL', detail: 'nothing to look for: the Collector did not accept the probe', fix: 'fix the collector leg first' });

function defaultCollectorMetrics(config: Config): string {
  const u = new URL(config.metrics.endpoint);
  return `${u.protocol}//${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:8888/metrics`;
}

/** The same values the preload's start-up line shows, one per key. */
function effectiveConfig(config: Config, info: ReturnType<typeof resolveRelease>): Record<string, string> {
  const endpoint = (s: Config['traces']) => (s.exporter === 'otlp' ? redactUrl(s.endpoint) : s.exporter);
  return {
    service: info.serviceName,
    release: `${info.release ?? '(none)'} (from ${info.releaseSource})`,
    environment: `${info.environment ?? '(none)'}${config.environment ? ` (from ${config.environment.source})` : ''}`,
    traces: endpoint(config.traces),
    metrics: endpoint(config.metrics),
    logs: endpoint(config.logs),
    protocol: config.traces.protocol,
    compression: config.traces.compression,
    headers: Object.keys(config.traces.headers).length ? '[REDACTED]' : 'none',
    sampler: `${config.sampler.name}${config.sampler.name.endsWith('ratio') ? `:${config.sampler.ratio}` : ''}`,
    instrumentations: instrumentationsHere(config).join(', ') || 'none',
    sentry: config.sentry ? `on (logs: ${config.sentryLogs}, profiling: ${config.profiling})` : 'off',
    plugins: config.plugins.length ? config.plugins.join(', ') : 'none',
  };
}

/** The selected instrumentations whose modules resolve from the current directory (the app's). */
function instrumentationsHere(config: Config): string[] {
  const appRequire = createRequire(join(process.cwd(), 'noop.js'));
  const present = (m: string) => {
    if (isBuiltin(m)) return true;
    try {
      appRequire.resolve(m);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND';
    }
  };
  const { selected } = selectInstrumentations(config.enabledInstrumentations, config.disabledInstrumentations);
  return selected.filter((e) => e.modules.length === 0 || e.modules.some(present)).map((e) => e.name);
}

function render(effective: Record<string, string>, warnings: string[], results: LegResult[]): string {
  const lines = ['Configuration (as the preload resolves it here):', ...Object.entries(effective).map(([k, v]) => `  ${k.padEnd(17)}${v}`)];
  for (const w of warnings) lines.push(`  warning: ${w}`);
  lines.push('', table(['RESULT', 'LEG', 'DETAIL'], results.map((r) => [r.verdict, r.leg, r.fix ? `${r.detail} (fix: ${r.fix})` : r.detail])));
  return lines.join('\n');
}
