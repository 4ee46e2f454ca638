// Our own tracers, one table. Each takes over from the upstream instrumentation of the same
// catalogue name (catalogue.ts) where it can trace the app's copy of the library:
//   - a channel tracer subscribes to diagnostics channels when the SDK starts (`start`);
//   - a patching tracer is an instrumentation of ours, activated when the app loads its module (`patch`).
// load-instrumentations.ts asks `available` for each selected entry whose module the app has and
// keeps the upstream instrumentation only where ours narrows it (`narrowsUpstream`); sdk.ts starts
// the channel tracers it chose. Every tracer here is one environment variable away from upstream's.
import type { AsyncLocalStorage } from 'node:async_hooks';
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Config } from '../config.js';
import { log } from '../log.js';
import { requireCjs } from '../require.js';
import { DISTRO_VERSION } from '../resource.js';
import { traceHttpServer } from './http-server.js';
import { routerHasChannel, traceExpressRouter } from './express-router.js';
import { fastifyHasChannel, traceFastifyHandler } from './fastify-handler.js';
import { traceUndici } from './undici/tracer.js';
import { pinoHasChannel, sendPinoLogs, type PinoSink } from './pino-logs.js';
import { RequestIds } from './request-id.js';
import { createPgInstrumentation } from './pg/instrumentation.js';
import type { ContextStore } from './pg/context.js';
import type { LeanOf } from './lean-tracer.js';

/** What a channel tracer is started with (sdk.ts). */
export interface TracerDeps {
  api: typeof Api;
  core: typeof Core;
  config: Config;
  /** The AsyncLocalStorage behind the global context manager. */
  store: AsyncLocalStorage<Api.Context>;
  /** Our tracer of that name: lean spans, or the SDK's (sdk.ts spanKind). */
  tracer(name: string): Api.Tracer;
  meter(name: string): Api.Meter;
  /** Where pino lines go: encoded at emit, or the Logs API (sdk.ts pinoLogs). */
  pino: PinoSink;
}

export interface OwnTracer {
  /** The catalogue name it takes over from (OTEL_NODE_ENABLED/DISABLED_INSTRUMENTATIONS name it). */
  name: string;
  /** Whether it traces the app's copy (resolved from the app's `paths`) under this config. */
  available(paths: string[], config: Config): boolean;
  /** The upstream instrumentation still runs, narrowed by its options: http (outgoing), pino (the mixin). */
  narrowsUpstream?: boolean;
  start?(deps: TracerDeps): void;
  patch?(store: ContextStore, lean?: LeanOf): Instrumentation;
}

/** Whether one of our optional peers (resolved from our package, as upstream instrumentations load) is installed. */
function installed(pkg: string): boolean {
  try {
    requireCjs.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

const meterOf = (d: TracerDeps, name: string) => d.meter(`@org/otel-monitor/${name}`);

export const OWN_TRACERS: readonly OwnTracer[] = [
  {
    // Incoming requests; outgoing ones stay with instrumentation-http (OTEL_MONITOR_FAST_HTTP_SERVER=false: all).
    name: 'http',
    available: (_paths, config) => config.httpServerTracer,
    narrowsUpstream: true,
    start: (d) =>
      traceHttpServer({
        ...d,
        tracer: d.tracer('http-server'),
        meter: meterOf(d, 'http-server'),
        collectClientAddress: d.config.collectClientAddress,
        requestIds: d.config.requestId.enabled ? new RequestIds(d.config.requestId.header, d.config.requestId.format) : undefined,
      }),
  },
  {
    // Express 5 (router >= 2.3); Express 4 and OTEL_MONITOR_EXPRESS_LAYERS=true: instrumentation-express.
    name: 'express',
    available: (paths, config) => !config.expressLayers && routerHasChannel(paths),
    start: (d) => traceExpressRouter({ ...d, tracer: d.tracer('express') }),
  },
  {
    // Fastify 5; Fastify 4 and OTEL_MONITOR_FASTIFY_HOOKS=true (with @fastify/otel installed): @fastify/otel.
    name: 'fastify',
    available: (paths, config) => {
      if (!fastifyHasChannel(paths)) return false;
      if (!config.fastifyHooks) return true;
      if (installed('@fastify/otel')) return false;
      log.info("fastify: OTEL_MONITOR_FASTIFY_HOOKS=true needs `npm install @fastify/otel`; tracing handlers from Fastify's own channel instead");
      return true;
    },
    start: (d) => traceFastifyHandler({ ...d, tracer: d.tracer('fastify') }),
  },
  {
    name: 'undici',
    available: (_paths, config) => !config.upstreamInstrumentations.has('undici'),
    start: (d) =>
      traceUndici({ ...d, tracer: d.tracer('undici'), meter: meterOf(d, 'undici'), requestIdHeader: d.config.requestId.enabled ? d.config.requestId.header : undefined }),
  },
  {
    // pino >= 9.10 publishes every line; instrumentation-pino keeps only its mixin (trace ids in the lines).
    name: 'pino',
    available: (paths) => pinoHasChannel(paths),
    narrowsUpstream: true,
    start: (d) => {
      if (d.config.logs.exporter !== 'none') sendPinoLogs(d.pino);
    },
  },
  {
    name: 'pg',
    available: (_paths, config) => !config.upstreamInstrumentations.has('pg'),
    patch: (store, lean) =>
      createPgInstrumentation({
        api: requireCjs('@opentelemetry/api') as typeof Api,
        core: requireCjs('@opentelemetry/core') as typeof Core,
        instrumentation: requireCjs('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation'),
        store,
        version: DISTRO_VERSION,
        lean,
      }),
  },
];

/** Our tracer for catalogue entry `name`, when it can trace the app's copy under `config`. */
export function ownTracerFor(name: string, paths: string[], config: Config): OwnTracer | undefined {
  const own = OWN_TRACERS.find((t) => t.name === name);
  return own?.available(paths, config) ? own : undefined;
}
