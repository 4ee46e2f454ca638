// The shipped configs pass their own tools' checks, and docker-compose.yml runs exactly what the
// native tests run (same files, same addresses, same variables).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureCollector } from '../helpers/collector-build.js';
import {
  abs,
  BIN,
  COMPOSE_TARGETS,
  ensureAptPackages,
  PATHS,
  renderAlertmanagerConfig,
  renderPrometheusConfig,
  sentryOtlpEnvFromDsn,
} from '../helpers/stack.js';

const read = (p: string) => readFileSync(abs(p), 'utf8');
const compose = YAML.parse(read('docker-compose.yml'));
const otelConfigText = read(PATHS.collectorConfig);
/** Every variable the Collector config reads, from `${env:NAME...}`. */
const configVars = new Set([...otelConfigText.matchAll(/\$\{env:([A-Z0-9_]+)/g)].map((m) => m[1]!));

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ?? ''}` };
}

/** A compose service's bind mounts as { containerPath: repoRelativeSource }. */
function mounts(service: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of compose.services[service].volumes ?? []) {
    const [src, dst] = String(v).split(':');
    if (src!.startsWith('./')) out[dst!] = src!.slice(2).replace(/\/$/, '');
  }
  return out;
}

/** A compose service's environment as a map (list or map form). */
function envOf(service: string): Record<string, string | undefined> {
  const e = compose.services[service].environment ?? {};
  if (!Array.isArray(e)) return e;
  return Object.fromEntries(e.map((kv: string) => {
    const i = kv.indexOf('=');
    return i < 0 ? [kv, undefined] : [kv.slice(0, i), kv.slice(i + 1)];
  }));
}

describe('collector build and config', () => {
  let bin: string;
  beforeAll(() => {
    bin = ensureCollector();
  });

  it('the build has every component the issue lists, under the snake_case names the config uses', () => {
    const r = run(bin, ['components']);
    expect(r.code, r.out).toBe(0);
    const comps = YAML.parse(r.out);
    const names = (kind: string) => (comps[kind] ?? []).map((c: { name: string }) => c.name);
    expect(names('receivers')).toEqual(expect.arrayContaining(['otlp']));
    expect(names('processors')).toEqual(
      expect.arrayContaining(['memory_limiter', 'batch', 'resource', 'attributes', 'transform', 'filter', 'redaction']),
    );
    expect(names('connectors')).toEqual(expect.arrayContaining(['span_metrics']));
    expect(names('exporters')).toEqual(
      expect.arrayContaining(['otlp_http', 'debug', 'file', 'prometheus', 'prometheus_remote_write', 'load_balancing', 'otlp_grpc']),
    );
    expect(names('extensions')).toEqual(expect.arrayContaining(['health_check', 'file_storage', 'zpages']));
    // One version for the whole build.
    const manifest = YAML.parse(read('collector/builder-config.yaml'));
    expect(comps.buildinfo.version).toBe(manifest.dist.version);
  });

  it('the build script skips an unchanged manifest, and without Go fails saying so', () => {
    const script = abs('collector/build.js');
    let r = run(process.execPath, [script]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/up to date \(manifest unchanged\)/);
    expect(r.out).toContain(`collector: ${bin}`);
    r = run(process.execPath, [script], { GO: '/nonexistent/go', OTEL_MONITOR_COLLECTOR_FORCE_BUILD: '1' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Go is not installed .* needs Go >= 1\.\d+/);
  });

  it('`otelcol validate` passes with the defaults and with every optional exporter enabled', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otelcol-validate-'));
    for (const env of [
      { OTELCOL_STORAGE_DIR: dir },
      {
        OTELCOL_STORAGE_DIR: dir,
        ...sentryOtlpEnvFromDsn('https://abc123@o1.ingest.sentry.io/42'),
        OTELCOL_TRACES_EXPORTERS: '[otlp_http/sentry, otlp_http/jaeger, debug, file]',
        OTELCOL_METRICS_EXPORTERS: '[prometheus, prometheus_remote_write]',
        OTELCOL_LOGS_EXPORTERS: '[otlp_http/loki, otlp_http/sentry, debug]',
      },
    ]) {
      const r = run(bin, ['validate', '--config', abs(PATHS.collectorConfig)], env);
      expect(r.code, r.out).toBe(0);
      // No component used under a deprecated name.
      expect(r.out).not.toMatch(/deprecat/i);
    }
  });

  it('`otelcol validate` passes on the two-tier configs: the agent, and the gateway overlay on our config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otelcol-validate-tiers-'));
    const env = { OTELCOL_STORAGE_DIR: dir, OTELCOL_GATEWAY_ENDPOINTS: '[gw-1:4317, gw-2:4317]', OTELCOL_GATEWAY_ID: 'gw-1' };
    for (const configs of [['collector/otel-agent.yaml'], [PATHS.collectorConfig, 'collector/otel-gateway.yaml']]) {
      const r = run(bin, ['validate', ...configs.flatMap((c) => ['--config', abs(c)])], env);
      expect(r.code, r.out).toBe(0);
      expect(r.out).not.toMatch(/deprecat/i);
    }
  });

  it('every endpoint and secret comes from ${env:...} with a default, and listeners bind 127.0.0.1', () => {
    const refs = [...otelConfigText.matchAll(/\$\{env:([A-Z0-9_]+)(:-[^}]*)?\}/g)];
    expect(refs.length).toBeGreaterThan(10);
    for (const m of refs) expect(m[2], `${m[1]} has no default`).toBeDefined();
    const cfg = YAML.parse(otelConfigText.replace(/\$\{env:[A-Z0-9_]+:-([^}]*)\}/g, '$1'));
    expect(cfg.receivers.otlp.protocols.grpc.endpoint).toBe('127.0.0.1:4317');
    expect(cfg.receivers.otlp.protocols.http.endpoint).toBe('127.0.0.1:4318');
    expect(cfg.service.telemetry.metrics.readers[0].pull.exporter.prometheus).toMatchObject({ host: '127.0.0.1', port: 8888 });
    expect(cfg.exporters.prometheus.namespace).toBeUndefined();
    for (const p of Object.values<any>(cfg.service.pipelines)) expect(p.processors[0]).toBe('memory_limiter');
    // Every push exporter retries and queues on disk.
    for (const name of ['otlp_http/loki', 'otlp_http/sentry', 'otlp_http/jaeger']) {
      expect(cfg.exporters[name].retry_on_failure.enabled).toBe(true);
      expect(cfg.exporters[name].sending_queue).toMatchObject({ enabled: true, storage: 'file_storage' });
    }
    expect(cfg.exporters['otlp_http/loki'].logs_endpoint).toMatch(/\/otlp\/v1\/logs$/);
    expect(cfg.exporters['otlp_http/sentry'].headers['x-sentry-auth']).toMatch(/^sentry sentry_key=/);
    // Traces go to Sentry and Jaeger by default, each through its own exporter (own queue, own
    // retry); Jaeger's default is not this Collector's own OTLP port (that would loop).
    expect(cfg.service.pipelines.traces.exporters).toEqual(['otlp_http/sentry', 'otlp_http/jaeger']);
    expect(cfg.exporters['otlp_http/jaeger'].traces_endpoint).toBe('http://127.0.0.1:14318/v1/traces');
    // Exemplars: span_metrics attaches trace ids, the exporter serves them over OpenMetrics.
    expect(cfg.connectors.span_metrics.exemplars).toMatchObject({ enabled: true });
    expect(cfg.exporters.prometheus.enable_open_metrics).toBe(true);
  });

  it('derives the Sentry OTLP endpoints from a DSN', () => {
    expect(sentryOtlpEnvFromDsn('https://abc123@o99.ingest.us.sentry.io/4507')).toEqual({
      SENTRY_OTLP_TRACES_ENDPOINT: 'https://o99.ingest.us.sentry.io/api/4507/integration/otlp/v1/traces',
      SENTRY_OTLP_LOGS_ENDPOINT: 'https://o99.ingest.us.sentry.io/api/4507/integration/otlp/v1/logs',
      SENTRY_PUBLIC_KEY: 'abc123',
    });
    expect(sentryOtlpEnvFromDsn('http://k@sentry.internal:9000/sub/7').SENTRY_OTLP_TRACES_ENDPOINT).toBe(
      'http://sentry.internal:9000/sub/api/7/integration/otlp/v1/traces',
    );
  });
});

describe('prometheus and alertmanager configs', () => {
  beforeAll(() => ensureAptPackages());

  // The rules' unit tests (deploy/prometheus/tests, about 45 s of CPU) run once, in
  // alert-rules.test.ts, which also checks they are the ones generated from thresholds.yaml.
  it('promtool check config passes on the rendered config, and check rules passes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'promtool-'));
    const file = join(dir, 'prometheus.yml');
    const rendered = renderPrometheusConfig({ collectorExporter: '127.0.0.1:1', collectorTelemetry: '127.0.0.1:2' });
    writeFileSync(file, YAML.stringify(rendered));
    let r = run(BIN.promtool, ['check', 'config', file]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/SUCCESS/);
    const rules = readdirSync(abs(PATHS.prometheusRules)).filter((f) => f.endsWith('.yml'));
    expect(rules.length).toBeGreaterThan(0);
    r = run(BIN.promtool, ['check', 'rules', ...rules.map((f) => join(abs(PATHS.prometheusRules), f))]);
    expect(r.code, r.out).toBe(0);
  });

  it('rendering prometheus.yml changes only the compose addresses and the rules path', () => {
    const shipped = YAML.parse(read(PATHS.prometheusConfig));
    const rendered = renderPrometheusConfig({ collectorExporter: '127.0.0.1:1', collectorTelemetry: '127.0.0.1:2', prometheus: '127.0.0.1:3', alertmanager: '127.0.0.1:4' });
    const strip = (doc: any) =>
      JSON.parse(JSON.stringify(doc, (k, v) => (k === 'targets' ? '<targets>' : k === 'rule_files' ? v.map((f: string) => f.replace(/.*\/rules\//, 'rules/')) : v)));
    expect(strip(rendered)).toEqual(strip(shipped));
    const targets = JSON.stringify(shipped);
    for (const t of Object.values(COMPOSE_TARGETS)) expect(targets).toContain(t);
    expect(JSON.stringify(rendered)).not.toMatch(/otel-collector:|alertmanager:9093|localhost:9090/);
  });

  it('amtool check-config passes on the shipped file and on one rendered from the environment', () => {
    let r = run(BIN.amtool, ['check-config', abs(PATHS.alertmanagerConfig)]);
    expect(r.code, r.out).toBe(0);
    const out = join(mkdtempSync(join(tmpdir(), 'am-')), 'alertmanager.yml');
    const text = renderAlertmanagerConfig(
      {
        ALERTMANAGER_WEBHOOK_URL: 'http://127.0.0.1:5001/hook?x="y"',
        ALERTMANAGER_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/C',
        ALERTMANAGER_EMAIL_TO: 'ops@example.com',
        ALERTMANAGER_SMTP_SMARTHOST: 'smtp.example.com:587',
        ALERTMANAGER_SMTP_PASSWORD: 's3cr"et\\',
      },
      out,
    );
    r = run(BIN.amtool, ['check-config', out]);
    expect(r.code, r.out).toBe(0);
    const cfg = YAML.parse(text);
    expect(cfg.receivers.find((x: any) => x.name === 'webhook').webhook_configs[0].url).toBe('http://127.0.0.1:5001/hook?x="y"');
    expect(cfg.global.smtp_auth_password).toBe('s3cr"et\\');
    expect(cfg.global.slack_api_url).toBe('https://hooks.slack.com/services/T/B/C');
    expect(cfg.receivers.map((x: any) => x.name).sort()).toEqual(['email', 'slack', 'webhook']);
  });
});

describe('docker-compose.yml', () => {
  it('every file it mounts exists, images are pinned, ports are loopback-only', () => {
    for (const [name, svc] of Object.entries<any>(compose.services)) {
      expect(svc.image, name).toMatch(/^[\w./-]+:v?\d+(\.\d+){1,2}(-[\w.]+)?$/);
      for (const p of svc.ports ?? []) expect(String(p), `${name} publishes ${p}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      for (const v of svc.volumes ?? []) {
        const src = String(v).split(':')[0]!;
        if (src.startsWith('./')) expect(existsSync(abs(src)), `${name} mounts ${src}`).toBe(true);
      }
    }
  });

  it('runs the Collector with the same config file and the same version as our build', () => {
    const svc = compose.services['otel-collector'];
    const m = mounts('otel-collector');
    const configPath = String(svc.command.find((a: string) => a.startsWith('--config='))).slice('--config='.length);
    expect(m[configPath]).toBe(PATHS.collectorConfig);
    const manifest = YAML.parse(read('collector/builder-config.yaml'));
    expect(svc.image).toBe(`otel/opentelemetry-collector-contrib:${manifest.dist.version}`);
    // Every variable compose sets is one the config reads (catches typos), and so is every one
    // the native tests set.
    for (const k of Object.keys(envOf('otel-collector'))) expect(configVars, k).toContain(k);
    const stackSource = read('test/helpers/stack.ts');
    for (const k of stackSource.matchAll(/\b(OTELCOL_[A-Z_]+|LOKI_ENDPOINT)\b(?=:)/g)) expect(configVars, k[1]).toContain(k[1]);
  });

  it('points Prometheus, Grafana and the Collector at each other the way prometheus.yml expects', () => {
    const env = envOf('otel-collector');
    const port = (hostPort: string | undefined) => hostPort?.split(':').pop();
    expect(`otel-collector:${port(env.OTELCOL_PROMETHEUS_ENDPOINT)}`).toBe(COMPOSE_TARGETS.collectorExporter);
    expect(`otel-collector:${env.OTELCOL_TELEMETRY_PORT}`).toBe(COMPOSE_TARGETS.collectorTelemetry);
    expect(env.OTELCOL_TELEMETRY_HOST).toBe('0.0.0.0');
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['otel-collector', 'alertmanager', 'prometheus', 'loki', 'grafana', 'app', 'jaeger']));
    const loki = YAML.parse(read(PATHS.lokiConfig));
    expect(env.LOKI_ENDPOINT).toBe(`http://loki:${loki.server.http_listen_port}`);
    expect(loki.limits_config.otlp_config.resource_attributes.attributes_config[0]).toMatchObject({
      action: 'index_label',
      attributes: expect.arrayContaining(['service.version']),
    });

    // Prometheus: the shipped file at --config.file, the rules directory where rule_files looks.
    const prom = compose.services.prometheus;
    const pm = mounts('prometheus');
    const promConfig = prom.command.find((a: string) => a.startsWith('--config.file=')).split('=')[1];
    expect(pm[promConfig]).toBe(PATHS.prometheusConfig);
    const shipped = YAML.parse(read(PATHS.prometheusConfig));
    for (const glob of shipped.rule_files) expect(pm[glob.replace(/\/[^/]*$/, '')]).toBe(PATHS.prometheusRules);

    // Alertmanager renders the shipped file with the shipped script.
    const am = mounts('alertmanager');
    const entry = compose.services.alertmanager.entrypoint.join(' ');
    const [script, input] = /sh (\S+\.sh) (\S+) /.exec(entry)!.slice(1);
    expect(am[script!]).toBe(PATHS.alertmanagerRender);
    expect(am[input!]).toBe(PATHS.alertmanagerConfig);
    const amVars = [...read(PATHS.alertmanagerConfig).matchAll(/# env: ([A-Z_]+)$/gm)].map((x) => x[1]);
    expect(Object.keys(envOf('alertmanager')).sort()).toEqual([...amVars].sort());

    // Prometheus keeps exemplars, in compose and in the native tests alike.
    expect(prom.command).toContain('--enable-feature=exemplar-storage');
    expect(read('test/helpers/stack.ts')).toContain("'--enable-feature=exemplar-storage'");

    // Jaeger reads the shipped config, every variable compose sets is one it reads, and the
    // Collector and Grafana reach it on the ports it listens on.
    const jm = mounts('jaeger');
    const jaegerConfigPath = compose.services.jaeger.command.find((a: string) => a.startsWith('--config=')).slice('--config='.length);
    expect(jm[jaegerConfigPath]).toBe('deploy/jaeger/config.yaml');
    const jaegerText = read('deploy/jaeger/config.yaml');
    const jaegerVars = new Set([...jaegerText.matchAll(/\$\{env:([A-Z0-9_]+)/g)].map((x) => x[1]!));
    const jenv = envOf('jaeger');
    for (const k of Object.keys(jenv)) expect(jaegerVars, k).toContain(k);
    expect(env.JAEGER_ENDPOINT).toBe(`http://jaeger:${port(jenv.JAEGER_OTLP_HTTP_ENDPOINT)}`);
    const jaegerDs = YAML.parse(read(`${PATHS.grafanaProvisioning}/datasources/datasources.yaml`)).datasources.find((d: any) => d.type === 'jaeger');
    expect(jaegerDs.url).toBe(`http://jaeger:${port(jenv.JAEGER_QUERY_HTTP_ENDPOINT)}`);
    expect(compose.services.jaeger.ports).toEqual([`127.0.0.1:16686:${port(jenv.JAEGER_QUERY_HTTP_ENDPOINT)}`]);
    // Every Jaeger listener's default binds 127.0.0.1, and none is one of the Collector's defaults.
    const jaegerDefaults = [...jaegerText.matchAll(/\$\{env:JAEGER_[A-Z_]+_ENDPOINT:-([^}]*)\}/g)].map((x) => x[1]!);
    expect(jaegerDefaults.length).toBe(4);
    const collectorPorts = [...otelConfigText.matchAll(/:-127\.0\.0\.1:(\d+)\}/g)].map((x) => x[1]).concat('8888');
    expect(collectorPorts).toEqual(expect.arrayContaining(['4317', '4318', '13133']));
    for (const d of jaegerDefaults) {
      expect(d).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(collectorPorts).not.toContain(d.split(':')[1]);
    }

    // Loki reads the shipped config.
    const lm = mounts('loki');
    expect(lm[compose.services.loki.command[0].split('=')[1]]).toBe(PATHS.lokiConfig);

    // Grafana: provisioning and the dashboards folder the provider reads.
    const gm = mounts('grafana');
    expect(gm['/etc/grafana/provisioning']).toBe(PATHS.grafanaProvisioning);
    const provider = YAML.parse(read(`${PATHS.grafanaProvisioning}/dashboards/dashboards.yaml`)).providers[0];
    expect(gm[provider.options.path]).toBe(PATHS.grafanaDashboards);
    const ds = YAML.parse(read(`${PATHS.grafanaProvisioning}/datasources/datasources.yaml`)).datasources;
    expect(ds.find((d: any) => d.type === 'prometheus').url).toBe(`http://prometheus:9090`);
    expect(ds.find((d: any) => d.type === 'loki').url).toBe(env.LOKI_ENDPOINT);
    expect(ds.find((d: any) => d.type === 'loki').jsonData.derivedFields[0]).toMatchObject({ matcherRegex: 'trace_id' });
  });

  it('Grafana has no default admin/admin', () => {
    const g = compose.services.grafana.environment;
    expect(g.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GF_ADMIN_PASSWORD:\?/);
    expect(JSON.stringify(compose)).not.toMatch(/admin\/admin|ADMIN_PASSWORD: admin/i);
  });
});
