// The real stack, run natively for the integration tests: our Collector, Prometheus and
// Alertmanager on free 127.0.0.1 ports, each in its own temp dir, each stopped by pid.
// They run the very config files docker-compose.yml mounts (see PATHS); where a tool cannot
// read the environment (Prometheus, Alertmanager) a copy is rendered with only the addresses
// (and Alertmanager's `# env:` values) changed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { ROOT, startApp, type RunningApp } from './app.js';
import { ensureCollector } from './collector-build.js';
import { freePort, spawnTracked, waitFor, waitForHttp, type Tracked } from './process.js';

/** The files docker-compose.yml mounts, relative to the repo root; the tests run the same ones. */
export const PATHS = {
  collectorConfig: 'collector/otel-config.yaml',
  prometheusConfig: 'deploy/prometheus/prometheus.yml',
  prometheusRules: 'deploy/prometheus/rules',
  alertmanagerConfig: 'deploy/alertmanager/alertmanager.yml',
  alertmanagerRender: 'deploy/alertmanager/render-config.sh',
  lokiConfig: 'deploy/loki/loki-config.yaml',
  grafanaProvisioning: 'deploy/grafana/provisioning',
  grafanaDashboards: 'deploy/grafana/dashboards',
} as const;
export const abs = (p: string) => join(ROOT, p);

export const BIN = {
  prometheus: '/usr/bin/prometheus',
  promtool: '/usr/bin/promtool',
  alertmanager: '/usr/bin/prometheus-alertmanager',
  amtool: '/usr/bin/amtool',
};

/** The compose service addresses prometheus.yml scrapes; tests swap each for a loopback port. */
export const COMPOSE_TARGETS = {
  collectorExporter: 'otel-collector:8889',
  collectorTelemetry: 'otel-collector:8888',
  alertmanager: 'alertmanager:9093',
  prometheus: 'localhost:9090',
} as const;

/**
 * Installs Prometheus and Alertmanager with apt-get when their binaries are missing (CI machines
 * are fresh). Throws with apt's output if that is impossible: the tests never skip silently.
 */
export function ensureAptPackages(): void {
  const wanted: Record<string, string> = {
    [BIN.prometheus]: 'prometheus',
    [BIN.promtool]: 'prometheus',
    [BIN.alertmanager]: 'prometheus-alertmanager',
    [BIN.amtool]: 'prometheus-alertmanager',
  };
  aptInstall([...new Set(Object.entries(wanted).filter(([bin]) => !existsSync(bin)).map(([, pkg]) => pkg))]);
}

/**
 * apt-get installs `missing` (as root, or through sudo -n); throws with the end of apt's output on
 * failure. apt's own output (about 100 lines) goes to a log file under .cache/; the terminal gets
 * one line per step and a progress line every 15 s, as the Collector build does.
 */
export function aptInstall(missing: string[]): void {
  if (missing.length === 0) return;
  const asRoot = process.getuid?.() === 0;
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const logFile = join(ROOT, '.cache', 'apt-get.log');
  const run = (args: string[]) => {
    const [cmd, ...rest] = asRoot ? args : ['sudo', '-n', ...args];
    process.stderr.write(`[stack] ${[cmd, ...rest].join(' ')} (output: ${logFile})\n`);
    // A shell waits for apt and prints the progress line, so this stays synchronous for callers.
    const script = '"$@" >>"$LOG" 2>&1 & pid=$!; s=0; while kill -0 $pid 2>/dev/null; do sleep 1; s=$((s+1)); [ $((s % 15)) -eq 0 ] && echo "[stack]   ...apt-get still running (${s} s)" >&2; done; wait $pid';
    const r = spawnSync('sh', ['-c', script, 'apt', cmd!, ...rest], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LOG: logFile },
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 20 * 60_000,
    });
    if (r.status !== 0) {
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
      throw new Error(`\`${args.join(' ')}\` failed (${r.status ?? r.error}); cannot install ${missing.join(', ')}. End of ${logFile}:\n${tail}`);
    }
  };
  // Another apt run may hold the dpkg lock; wait for it rather than fail.
  run(['apt-get', '-o', 'DPkg::Lock::Timeout=600', 'update']);
  run(['apt-get', '-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', ...missing]);
}

export function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `otel-monitor-${name}-`));
}

/** Sentry's OTLP endpoints and key from a DSN `https://KEY@HOST[/PATH]/PROJECT`. */
export function sentryOtlpEnvFromDsn(dsn: string): Record<string, string> {
  const u = new URL(dsn);
  const parts = u.pathname.split('/').filter(Boolean);
  const project = parts.pop();
  if (!u.username || !project) throw new Error('SENTRY_DSN must look like https://<key>@<host>/<project>');
  const base = `${u.protocol}//${u.host}${parts.length ? `/${parts.join('/')}` : ''}/api/${project}/integration/otlp`;
  return {
    SENTRY_OTLP_TRACES_ENDPOINT: `${base}/v1/traces`,
    SENTRY_OTLP_LOGS_ENDPOINT: `${base}/v1/logs`,
    SENTRY_PUBLIC_KEY: decodeURIComponent(u.username),
  };
}

// ---------------------------------------------------------------------------------------------
// Collector

export interface CollectorOptions {
  /** Base URL of Loki (the config appends /otlp/v1/logs). */
  lokiEndpoint?: string;
  /** A Sentry DSN to derive the Sentry OTLP endpoints from. */
  sentryDsn?: string;
  /** Reuse a storage dir, e.g. to restart with the same persistent queues. */
  storageDir?: string;
  /** Config files, merged in order (default: the one compose mounts); e.g. the gateway overlay. */
  configs?: string[];
  env?: Record<string, string>;
}

export interface RunningCollector {
  proc: Tracked;
  /** OTLP/HTTP base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpHttp: string;
  otlpGrpc: string;
  /** host:port of the prometheus exporter (app metrics) and of the Collector's own metrics. */
  exporterTarget: string;
  telemetryTarget: string;
  healthUrl: string;
  storageDir: string;
  env: Record<string, string>;
  /** Starts the Collector again with the same ports, storage and environment. */
  restart(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  /** The Collector's own metrics as { 'name{labels}': value }. */
  selfMetrics(): Promise<Map<string, number>>;
}

/**
 * A Collector on free ports. freePort() releases the port it found, so a test running in parallel can
 * take one before the Collector binds it ("address already in use", seen once in CI): then it is
 * started again on fresh ports, up to three times.
 */
export async function startCollector(opts: CollectorOptions = {}): Promise<RunningCollector> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCollectorOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('address already in use')) throw err;
    }
  }
}

async function startCollectorOnce(opts: CollectorOptions): Promise<RunningCollector> {
  const bin = ensureCollector();
  const [grpc, http, health, zpages, exporter, telemetry] = await Promise.all(Array.from({ length: 6 }, freePort));
  const storageDir = opts.storageDir ?? join(tempDir('collector'), 'storage');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    OTELCOL_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
    OTELCOL_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
    OTELCOL_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
    OTELCOL_ZPAGES_ENDPOINT: `127.0.0.1:${zpages}`,
    OTELCOL_PROMETHEUS_ENDPOINT: `127.0.0.1:${exporter}`,
    OTELCOL_TELEMETRY_PORT: String(telemetry),
    OTELCOL_STORAGE_DIR: storageDir,
    OTELCOL_FILE_EXPORT_PATH: join(storageDir, '..', 'export.jsonl'),
    ...(opts.lokiEndpoint ? { LOKI_ENDPOINT: opts.lokiEndpoint } : {}),
    ...(opts.sentryDsn ? sentryOtlpEnvFromDsn(opts.sentryDsn) : {}),
    ...opts.env,
  };
  const healthUrl = `http://127.0.0.1:${health}/`;
  const launch = async () => {
    const configs = (opts.configs ?? [PATHS.collectorConfig]).flatMap((c) => ['--config', abs(c)]);
    const proc = spawnTracked(bin, configs, { cwd: ROOT, env });
    await Promise.race([
      waitFor(async () => (await fetch(healthUrl)).status === 200, { timeoutMs: 60_000, what: 'Collector health_check' }),
      proc.exited.then((code) => {
        throw new Error(`Collector exited (${code}) during start:\n${proc.output()}`);
      }),
    ]);
    return proc;
  };
  const running: RunningCollector = {
    proc: await launch(),
    otlpHttp: `http://127.0.0.1:${http}`,
    otlpGrpc: `127.0.0.1:${grpc}`,
    exporterTarget: `127.0.0.1:${exporter}`,
    telemetryTarget: `127.0.0.1:${telemetry}`,
    healthUrl,
    storageDir,
    env,
    async restart() {
      running.proc = await launch();
    },
    stop: (signal) => running.proc.stop(signal),
    async selfMetrics() {
      const text = await (await fetch(`http://${running.telemetryTarget}/metrics`)).text();
      return parsePromText(text);
    },
  };
  return running;
}

/** Prometheus text format → Map('name{labels}' → value); comments and blank lines ignored. */
export function parsePromText(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Prometheus

/** Prometheus's scrape and rule-evaluation intervals, as Prometheus durations (`1s`). */
export interface PrometheusIntervals {
  scrape: string;
  evaluation: string;
}

/**
 * Test-speed intervals. The shipped 10 s would make every test that waits on a scrape or a rule
 * evaluation wait up to 10 s for it; the rules' own `for:` durations are the same either way.
 */
export const TEST_PROMETHEUS_INTERVALS: PrometheusIntervals = { scrape: '1s', evaluation: '1s' };

/**
 * deploy/prometheus/prometheus.yml with each compose address in `targets` replaced and the rules
 * glob pointed at the repo's rules directory, and the global intervals when `intervals` is given.
 * Nothing else changes (collector-config.test.ts checks that).
 */
export function renderPrometheusConfig(
  targets: Partial<Record<keyof typeof COMPOSE_TARGETS, string>>,
  rulesDir = abs(PATHS.prometheusRules),
  intervals?: PrometheusIntervals,
): any {
  const doc = YAML.parse(readFileSync(abs(PATHS.prometheusConfig), 'utf8'));
  if (intervals) doc.global = { ...doc.global, scrape_interval: intervals.scrape, evaluation_interval: intervals.evaluation };
  const swap = new Map<string, string | undefined>(Object.entries(targets).map(([k, v]) => [COMPOSE_TARGETS[k as keyof typeof COMPOSE_TARGETS], v]));
  const fix = (list: string[]) => list.map((t) => swap.get(t) ?? t);
  for (const sc of doc.scrape_configs ?? []) for (const s of sc.static_configs ?? []) s.targets = fix(s.targets);
  for (const am of doc.alerting?.alertmanagers ?? []) for (const s of am.static_configs ?? []) s.targets = fix(s.targets);
  doc.rule_files = (doc.rule_files ?? []).map((f: string) => f.replace(/^\/etc\/prometheus\/rules/, rulesDir));
  return doc;
}

export interface RunningPrometheus {
  proc: Tracked;
  url: string;
  /** Instant query; returns data.result, throws on a PromQL error. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<number | string>;
}

export async function startPrometheus(opts: {
  collector: RunningCollector;
  alertmanagerUrl?: string;
  rulesDir?: string;
  /** Default: TEST_PROMETHEUS_INTERVALS. */
  intervals?: PrometheusIntervals;
}): Promise<RunningPrometheus> {
  ensureAptPackages();
  const dir = tempDir('prometheus');
  const port = await freePort();
  const config = renderPrometheusConfig({
    collectorExporter: opts.collector.exporterTarget,
    collectorTelemetry: opts.collector.telemetryTarget,
    prometheus: `127.0.0.1:${port}`,
    // Without an Alertmanager, a closed port: Prometheus only logs that it cannot notify.
    alertmanager: opts.alertmanagerUrl ? new URL(opts.alertmanagerUrl).host : `127.0.0.1:${await freePort()}`,
  }, opts.rulesDir, opts.intervals ?? TEST_PROMETHEUS_INTERVALS);
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, YAML.stringify(config));
  const proc = spawnTracked(BIN.prometheus, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-lifecycle',
    // As in docker-compose.yml: keep the span_metrics exemplars (trace ids) for Grafana's links.
    '--enable-feature=exemplar-storage',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitForHttp(`${url}/-/ready`, 60_000),
    proc.exited.then((c) => {
      throw new Error(`Prometheus exited (${c}):\n${proc.output()}`);
    }),
  ]);
  return {
    proc,
    url,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as any;
      if (body.status !== 'success') throw new Error(`PromQL ${promql}: ${body.error ?? res.status}`);
      return body.data.result;
    },
    stop: () => proc.stop(),
  };
}

// ---------------------------------------------------------------------------------------------
// Alertmanager

/**
 * Test-speed grouping: the shipped route waits 10 s to group a first alert, which every delivery
 * test would wait out; how alerts are grouped and routed stays the shipped one.
 */
export const TEST_ALERTMANAGER_GROUP_WAIT = '1s';

/**
 * deploy/alertmanager/alertmanager.yml rendered by its own render-config.sh with `env`, and the
 * root route's group_wait set to `groupWait` when given.
 */
export function renderAlertmanagerConfig(env: Record<string, string>, outFile: string, groupWait?: string): string {
  execFileSync('sh', [abs(PATHS.alertmanagerRender), abs(PATHS.alertmanagerConfig), outFile], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
  if (groupWait) {
    const doc = YAML.parse(readFileSync(outFile, 'utf8'));
    doc.route.group_wait = groupWait;
    writeFileSync(outFile, YAML.stringify(doc));
  }
  return readFileSync(outFile, 'utf8');
}

export interface RunningAlertmanager {
  proc: Tracked;
  url: string;
  configFile: string;
  stop(): Promise<number | string>;
}

export async function startAlertmanager(env: Record<string, string> = {}, groupWait = TEST_ALERTMANAGER_GROUP_WAIT): Promise<RunningAlertmanager> {
  ensureAptPackages();
  const dir = tempDir('alertmanager');
  mkdirSync(join(dir, 'data'));
  const configFile = join(dir, 'alertmanager.yml');
  renderAlertmanagerConfig(env, configFile, groupWait);
  const port = await freePort();
  const proc = spawnTracked(BIN.alertmanager, [
    `--config.file=${configFile}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // A single instance: no gossip port to collide with other tests.
    '--cluster.listen-address=',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitForHttp(`${url}/-/ready`, 60_000),
    proc.exited.then((c) => {
      throw new Error(`Alertmanager exited (${c}):\n${proc.output()}`);
    }),
  ]);
  return { proc, url, configFile, stop: () => proc.stop() };
}

// ---------------------------------------------------------------------------------------------
// The instrumented app

/** How the app is instrumented: our distribution, preloaded the way users do it. */
export const APP_PRELOAD = ['--import', '@org/otel-monitor'];

/** examples/app.js under the distribution, exporting to `collector` as service `service`@`release`. */
export function startInstrumentedApp(opts: {
  collector: RunningCollector;
  service: string;
  release: string;
  environment?: string;
  env?: Record<string, string>;
}): Promise<RunningApp> {
  return startApp({
    script: 'examples/app.js',
    preload: APP_PRELOAD,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: opts.collector.otlpHttp,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: opts.service,
      OTEL_RESOURCE_ATTRIBUTES: `service.version=${opts.release},deployment.environment.name=${opts.environment ?? 'test'}`,
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'otlp',
      ...opts.env,
    },
  });
}
