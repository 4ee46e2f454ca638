// Where the CLI commands find Prometheus (or a store with its API) and Alertmanager, and how they
// connect: an option, else the environment, else the default. Shared by every command that reads
// or alerts, with one help block (CONNECTION_HELP) so the options read the same everywhere.
import { readFileSync } from 'node:fs';
import { parseNumber, parseUrl, type OptionSpec, type Parsed } from './args.js';
import { UsageError } from './errors.js';
import { HttpEndpoint } from './http-endpoint.js';
import type { Io } from './output.js';
import { PrometheusClient } from './prometheus.js';

export const DEFAULT_PROMETHEUS_URL = 'http://localhost:9090';
/** The bearer token's variable: a token on the command line would show in `ps`. */
export const PROMETHEUS_TOKEN_ENV = 'OTEL_MONITOR_PROMETHEUS_TOKEN';

type Options = Pick<Parsed, 'values'> & Partial<Pick<Parsed, 'lists'>>;

/** The options every Prometheus-reading command takes; spread into its spec. */
export const CONNECTION_SPEC: OptionSpec = { 'prometheus-url': 'value', header: 'list', 'ca-file': 'value', timeout: 'value' };

export const CONNECTION_HELP = `Connection (Prometheus or a store with its API: VictoriaMetrics, Mimir, Thanos; docs/SCALING.md):
  --prometheus-url URL     Where to read (env OTEL_MONITOR_PROMETHEUS_URL; default ${DEFAULT_PROMETHEUS_URL}),
                           with a path prefix if any. http://USER:PASSWORD@host sends HTTP Basic auth.
  --header NAME=VALUE      An extra request header, e.g. X-Scope-OrgID=TENANT for Mimir or Cortex.
                           Repeatable.
  --ca-file FILE           PEM certificate(s) of a private CA, trusted instead of the public roots (https).
  --timeout SECONDS        Per-request timeout (default 10).
  env ${PROMETHEUS_TOKEN_ENV}
                           A bearer token, sent as "Authorization: Bearer" (never a flag: flags show in ps).`;

/** `--timeout` in seconds (default 10), as milliseconds. */
export function timeoutOption(parsed: Options): number {
  return parseNumber(parsed.values.get('timeout') ?? '10', '--timeout', { unit: 'seconds' }) * 1000;
}

/** `--header NAME=VALUE` options as a header record. */
export function headerOption(items: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim();
    // An RFC 9110 token; the value is never echoed, it may be a secret.
    if (eq <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new UsageError(`--header needs NAME=VALUE with an HTTP header name, got "${eq > 0 ? `${name}=...` : item}"`);
    }
    headers[name.toLowerCase()] = item.slice(eq + 1).trim();
  }
  return headers;
}

/** The PEM text of `--ca-file`, if given. */
export function caFileOption(parsed: Options): string | undefined {
  const file = parsed.values.get('ca-file');
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--ca-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** The Prometheus of `--prometheus-url`, OTEL_MONITOR_PROMETHEUS_URL or the default, with CONNECTION_SPEC's options. */
export function prometheusOption(parsed: Options, io: Io, timeoutMs = timeoutOption(parsed)): PrometheusClient {
  const promUrl = parsed.values.get('prometheus-url') ?? (io.env.OTEL_MONITOR_PROMETHEUS_URL || DEFAULT_PROMETHEUS_URL);
  const url = parseUrl(promUrl, '--prometheus-url');
  const bearerToken = io.env.OTEL_MONITOR_PROMETHEUS_TOKEN || undefined;
  if (bearerToken && (url.username || url.password)) {
    throw new UsageError(`--prometheus-url has user:password and ${PROMETHEUS_TOKEN_ENV} is set: give one of them`);
  }
  const ca = caFileOption(parsed);
  return new PrometheusClient(url, timeoutMs, { headers: headerOption(parsed.lists?.get('header') ?? []), bearerToken, ca });
}

/**
 * The Alertmanager of `--alertmanager-url` or OTEL_MONITOR_ALERTMANAGER_URL; none by default.
 * Basic auth from its URL and --ca-file apply; Prometheus' headers and token do not (another server).
 */
export function alertmanagerOption(parsed: Options, io: Io, timeoutMs = timeoutOption(parsed)): HttpEndpoint | undefined {
  const amUrl = parsed.values.get('alertmanager-url') ?? (io.env.OTEL_MONITOR_ALERTMANAGER_URL || undefined);
  return amUrl === undefined ? undefined : new HttpEndpoint(parseUrl(amUrl, '--alertmanager-url'), { ca: caFileOption(parsed), timeoutMs });
}
