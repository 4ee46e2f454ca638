import { describe, expect, it } from 'vitest';
import { readConfig, describeConfig } from '../../src/config.js';
import { resolveRelease } from '../../src/resource.js';

describe('readConfig', () => {
  it('has working defaults with an empty environment', () => {
    const { config, warnings } = readConfig({});
    expect(warnings).toEqual([]);
    expect(config.disabled).toBe(false);
    // The default endpoint is on this host, where compression would only cost CPU.
    expect(config.traces).toMatchObject({ exporter: 'otlp', endpoint: 'http://localhost:4318/v1/traces', protocol: 'http/protobuf', compression: 'none' });
    expect(config.metrics.endpoint).toBe('http://localhost:4318/v1/metrics');
    expect(config.sampler).toEqual({ name: 'parentbased_always_on', ratio: 1 });
    expect(config.platform).toEqual({ aws: false, gcp: false, azure: false, alibaba: false, container: false });
  });

  it('OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS names the libraries that go back to upstream instrumentation', () => {
    expect([...readConfig({}).config.upstreamInstrumentations]).toEqual([]);
    expect([...readConfig({ OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS: 'PG, pino' }).config.upstreamInstrumentations]).toEqual(['pg', 'pino']);
    expect([...readConfig({ OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS: 'all' }).config.upstreamInstrumentations]).toEqual(['pg', 'undici', 'pino']);
    const bad = readConfig({ OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS: 'pg,mysql' });
    expect([...bad.config.upstreamInstrumentations]).toEqual(['pg']);
    expect(bad.warnings).toHaveLength(1);
    expect(bad.warnings[0]).toMatch(/OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS.*mysql/);
  });

  it('compresses with gzip for remote endpoints only, unless told otherwise', () => {
    expect(readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com' }).config.traces.compression).toBe('gzip');
    expect(readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).config.metrics.compression).toBe('none');
    expect(readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://[::1]:4318' }).config.logs.compression).toBe('none');
    expect(readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }).config.traces.compression).toBe('gzip');
    const remote = readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com', OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'none' }).config;
    expect([remote.traces.compression, remote.logs.compression]).toEqual(['gzip', 'none']);
    const bad = readConfig({ OTEL_EXPORTER_OTLP_COMPRESSION: 'brotli' });
    expect(bad.warnings).toEqual([expect.stringMatching(/OTEL_EXPORTER_OTLP_COMPRESSION="brotli" is not gzip or none; using gzip \(none for a loopback endpoint\)/)]);
  });

  it('appends signal paths to the base endpoint and uses per-signal endpoints as-is', () => {
    const { config } = readConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://logs.example/ingest',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
    });
    expect(config.traces.endpoint).toBe('http://collector:4318/v1/traces');
    expect(config.logs.endpoint).toBe('https://logs.example/ingest');
    expect(config.traces.protocol).toBe('http/json');
    expect(config.metrics.protocol).toBe('http/protobuf');
  });

  it.each([
    ['OTEL_TRACES_SAMPLER', 'maybe', /OTEL_TRACES_SAMPLER="maybe" is not one of .*; using parentbased_always_on/],
    ['OTEL_TRACES_SAMPLER_ARG', '2', /OTEL_TRACES_SAMPLER_ARG="2" is not a number between 0 and 1; using 1/],
    ['OTEL_EXPORTER_OTLP_TIMEOUT', '10s', /OTEL_EXPORTER_OTLP_TIMEOUT="10s" is not a whole number >= 1; using 10000/],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', /OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is not an http\(s\) URL; using http:\/\/localhost:4318/],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', /OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is not supported by this distribution; using http\/protobuf/],
    ['OTEL_SDK_DISABLED', 'perhaps', /OTEL_SDK_DISABLED="perhaps" is not a boolean; using false/],
    ['OTEL_LOG_LEVEL', 'loud', /OTEL_LOG_LEVEL="loud" is not one of .*; using info/],
    ['OTEL_METRICS_EXPORTER', 'prometheus', /OTEL_METRICS_EXPORTER="prometheus" is not one of otlp, console, none; using otlp/],
  ])('%s=%s gives one warning naming the variable and the fallback', (name, value, pattern) => {
    const { warnings } = readConfig({ OTEL_TRACES_SAMPLER: 'traceidratio', [name]: value });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(pattern);
  });

  it('parses OTEL_RESOURCE_ATTRIBUTES with percent-encoding and keeps the good pairs of a bad value', () => {
    const { config, warnings } = readConfig({ OTEL_RESOURCE_ATTRIBUTES: 'team=pay%20ments,=x,noequals,region=eu-west-1' });
    expect(config.resourceAttributes).toEqual({ team: 'pay ments', region: 'eu-west-1' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/OTEL_RESOURCE_ATTRIBUTES=.*malformed entries \("=x", "noequals"\)/);
  });

  it('never echoes header values or a DSN in warnings or the start-up line', () => {
    const { config, warnings } = readConfig({
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20sekrit,broken',
      SENTRY_DSN: 'not-a-dsn-sekrit',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:sekrit@collector:4318',
    });
    expect(config.traces.headers).toEqual({ authorization: 'Bearer sekrit' });
    const line = describeConfig(config, {});
    expect([...warnings, line].join('\n')).not.toContain('sekrit');
    expect(line).toContain('headers=[REDACTED]');
  });

  it('turns on cloud detectors only where their platform is present', () => {
    expect(readConfig({ AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' }).config.platform.aws).toBe(true);
    expect(readConfig({ K_SERVICE: 'svc' }).config.platform.gcp).toBe(true);
    expect(readConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }).config.platform.container).toBe(true);
  });
});

describe('release detection', () => {
  const release = (env: Record<string, string>, pkg = { name: 'app-from-pkg', version: '9.9.9' }) =>
    resolveRelease(readConfig(env).config, pkg);

  it('follows the documented order for service.version', () => {
    const all = {
      OTEL_RESOURCE_ATTRIBUTES: 'service.version=from-attrs',
      OTEL_MONITOR_RELEASE: 'from-monitor',
      SENTRY_RELEASE: 'from-sentry',
      GITHUB_SHA: 'abc123',
    };
    expect(release(all)).toMatchObject({ release: 'from-attrs', releaseSource: 'OTEL_RESOURCE_ATTRIBUTES' });
    const { OTEL_RESOURCE_ATTRIBUTES: _a, ...noAttrs } = all;
    expect(release(noAttrs)).toMatchObject({ release: 'from-monitor', releaseSource: 'OTEL_MONITOR_RELEASE' });
    const { OTEL_MONITOR_RELEASE: _m, ...noMonitor } = noAttrs;
    expect(release(noMonitor)).toMatchObject({ release: 'from-sentry', releaseSource: 'SENTRY_RELEASE' });
    expect(release({ GITHUB_SHA: 'abc123' })).toMatchObject({ release: 'abc123', releaseSource: 'GITHUB_SHA', commit: 'abc123' });
    expect(release({ CI_COMMIT_SHA: 'gl1' })).toMatchObject({ release: 'gl1', commit: 'gl1' });
    expect(release({ HEROKU_SLUG_COMMIT: 'h1' }).release).toBe('h1');
    expect(release({ VERCEL_GIT_COMMIT_SHA: 'v1' }).release).toBe('v1');
    expect(release({})).toMatchObject({ release: '9.9.9', releaseSource: 'package.json' });
    expect(release({}, {} as never)).toMatchObject({ release: undefined, releaseSource: 'none' });
  });

  it('keeps the commit for vcs.ref.head.revision even when the release is named', () => {
    expect(release({ OTEL_MONITOR_RELEASE: 'v2', GITHUB_SHA: 'deadbeef' })).toMatchObject({ release: 'v2', commit: 'deadbeef' });
  });

  it('follows the documented order for deployment.environment.name and service.name', () => {
    expect(release({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod', OTEL_MONITOR_ENVIRONMENT: 'x' }).environment).toBe('prod');
    expect(release({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=legacy' }).environment).toBe('legacy');
    expect(release({ OTEL_MONITOR_ENVIRONMENT: 'stage', SENTRY_ENVIRONMENT: 's', NODE_ENV: 'n' }).environment).toBe('stage');
    expect(release({ SENTRY_ENVIRONMENT: 's', NODE_ENV: 'n' }).environment).toBe('s');
    expect(release({ NODE_ENV: 'production' }).environment).toBe('production');
    expect(release({ OTEL_SERVICE_NAME: 'svc', OTEL_RESOURCE_ATTRIBUTES: 'service.name=other' }).serviceName).toBe('svc');
    expect(release({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=other' }).serviceName).toBe('other');
    expect(release({}).serviceName).toBe('app-from-pkg');
  });
});
