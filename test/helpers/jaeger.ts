// Jaeger v2 (the trace store) run natively for the tests: the binary `npm run jaeger:build` makes,
// with the very config file docker-compose.yml mounts (deploy/jaeger/config.yaml), on free
// 127.0.0.1 ports, stopped by pid. Plus readers for its query API, the one Grafana's Jaeger data
// source and `otel-monitor doctor` use.
import { join } from 'node:path';
import { ROOT } from './app.js';
import { runBuildScript } from './collector-build.js';
import { freePort, spawnTracked, waitFor, type Tracked } from './process.js';

/** Where `npm run jaeger:build` puts Jaeger. */
export const JAEGER_BIN = join(ROOT, '.cache', 'jaeger', 'jaeger');
export const JAEGER_CONFIG = 'deploy/jaeger/config.yaml';

/** Builds Jaeger with deploy/jaeger/build.js (a no-op when built) and returns the binary's path. */
export function ensureJaeger(): string {
  runBuildScript('deploy/jaeger/build.js', [JAEGER_BIN], 'Jaeger');
  return JAEGER_BIN;
}

/** A span as Jaeger's query API (/api/traces) returns it. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: Array<{ refType: string; traceID: string; spanID: string }>;
  startTime: number;
  duration: number;
  tags: Array<{ key: string; type: string; value: unknown }>;
  processID: string;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: Array<{ key: string; value: unknown }> }>;
}

export const tagOf = (tags: Array<{ key: string; value: unknown }>, key: string) => tags.find((t) => t.key === key)?.value;

export interface RunningJaeger {
  proc: Tracked;
  /** Base URL of its OTLP/HTTP receiver, for the Collector's JAEGER_ENDPOINT. */
  otlpHttp: string;
  /** Base URL of the UI and query API. */
  queryUrl: string;
  env: Record<string, string>;
  /** Starts Jaeger again on the same ports (its memory store starts empty). */
  restart(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  /** GET /api/traces/<id>: the trace, or undefined when Jaeger has none with that id. */
  trace(traceId: string): Promise<JaegerTrace | undefined>;
  /** GET /api/traces?service=...: a search, as Grafana's Jaeger data source runs it. */
  search(params: Record<string, string>): Promise<JaegerTrace[]>;
}

export async function startJaeger(opts: { env?: Record<string, string> } = {}): Promise<RunningJaeger> {
  const bin = ensureJaeger();
  const [otlp, query, grpc, health] = await Promise.all(Array.from({ length: 4 }, freePort));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    JAEGER_OTLP_HTTP_ENDPOINT: `127.0.0.1:${otlp}`,
    JAEGER_QUERY_HTTP_ENDPOINT: `127.0.0.1:${query}`,
    JAEGER_QUERY_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
    JAEGER_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
    ...opts.env,
  };
  const queryUrl = `http://127.0.0.1:${query}`;
  const launch = async () => {
    const proc = spawnTracked(bin, ['--config', join(ROOT, JAEGER_CONFIG)], { cwd: ROOT, env });
    await Promise.race([
      waitFor(async () => (await fetch(`${queryUrl}/api/services`)).status === 200, { timeoutMs: 60_000, what: 'Jaeger query API' }),
      proc.exited.then((code) => {
        throw new Error(`Jaeger exited (${code}) during start:\n${proc.output()}`);
      }),
    ]);
    return proc;
  };
  const running: RunningJaeger = {
    proc: await launch(),
    otlpHttp: `http://127.0.0.1:${otlp}`,
    queryUrl,
    env,
    async restart() {
      running.proc = await launch();
    },
    stop: (signal) => running.proc.stop(signal),
    async trace(traceId) {
      const res = await fetch(`${queryUrl}/api/traces/${traceId}`);
      if (res.status === 404) return undefined;
      const body = (await res.json()) as { data?: JaegerTrace[] };
      if (!res.ok) throw new Error(`Jaeger /api/traces/${traceId}: HTTP ${res.status} ${JSON.stringify(body)}`);
      return body.data?.[0];
    },
    async search(params) {
      const res = await fetch(`${queryUrl}/api/traces?${new URLSearchParams(params)}`);
      const body = (await res.json()) as { data?: JaegerTrace[]; errors?: unknown };
      if (!res.ok) throw new Error(`Jaeger search ${JSON.stringify(params)}: HTTP ${res.status} ${JSON.stringify(body.errors)}`);
      return body.data ?? [];
    },
  };
  return running;
}
