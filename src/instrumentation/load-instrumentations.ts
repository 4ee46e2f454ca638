// Builds the instrumentation instances. An instrumentation is considered only when a module it
// patches resolves from the app, and its package is loaded only when the app first requires or
// imports that module (lazy-activation.ts), so an app pays only for what it really uses.
import { isBuiltin } from 'node:module';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Config } from '../config.js';
import { log, describe } from '../log.js';
import { appPaths, requireCjs, requireFromApp } from '../require.js';
import { CATALOGUE, selectInstrumentations, type CatalogueEntry } from './catalogue.js';
import { canActivateLazily, packageOf } from './lazy-activation.js';
import { guardKoaUse } from './koa-use-guard.js';
import { isUntracedRequest } from './untraced-servers.js';
import { isExportRequest } from '../exporters/exit-mode.js';
import { requestIdOf } from './request-id.js';
import { redactAppPino } from '../logs/pino-redaction.js';
import { LOG_FIELD_REQUEST_ID } from '../semconv.js';
import type { ContextStore } from './pg/context.js';
import type { LeanOf } from './lean-tracer.js';
import { useOwnPinoMixin } from './pino-mixin.js';
import { ownTracerFor, type OwnTracer } from './own-tracers.js';

export interface LoadedInstrumentations {
  /** Instrumentations to enable now: builtin-module and runtime-channel ones. */
  instrumentations: Instrumentation[];
  /** The others, by package name, each activated when its module is first loaded. */
  pending: Map<string, () => void>;
  names: string[];
  /** Every module specifier the selected instrumentations patch: the ESM hook include list. */
  modules: string[];
  /** Our own tracers in use (own-tracers.ts): sdk.ts starts the channel ones. */
  own: OwnTracer[];
}


function resolverForApp(paths: string[]): (specifier: string) => boolean {
  const appRequire = requireFromApp(paths);
  return (specifier) => {
    if (isBuiltin(specifier)) return true;
    try {
      appRequire.resolve(specifier, { paths });
      return true;
    } catch (err) {
      // ESM-only packages refuse require.resolve with a different code but are present.
      return (err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND';
    }
  };
}

let cjsApi: typeof import('@opentelemetry/api') | undefined;

// Required once, not per log line: under require-in-the-middle every require() resolves the path
// again (stat calls, package.json reads), about 80 µs per line on the realistic bench app.
const api = () => (cjsApi ??= requireCjs('@opentelemetry/api') as typeof import('@opentelemetry/api'));

/** pino instrumentation logHook: the request id next to trace_id and span_id in the app's log lines. */
function addRequestId(_span: unknown, record: Record<string, unknown>): void {
  const id = requestIdOf(api().context.active());
  if (id !== undefined) record[LOG_FIELD_REQUEST_ID] = id;
}

function optionsFor(entry: CatalogueEntry, config: Config, narrowed: boolean): Record<string, unknown> {
  switch (entry.name) {
    case 'http':
      // The instrumentation blanks these query parameters' values in url.full and url.query itself.
      return {
        redactedQueryParams: config.redactKeys,
        redactedQueryParamsServer: config.redactKeys,
        // http-server.ts traces incoming requests far more cheaply; this one keeps outgoing ones.
        disableIncomingRequestInstrumentation: narrowed,
        ignoreIncomingRequestHook: isUntracedRequest,
        ignoreOutgoingRequestHook: isExportRequest,
      };
    case 'express':
      // Only for Express 4 or OTEL_MONITOR_EXPRESS_LAYERS=true (otherwise express-router.ts traces
      // routes): middleware layers add a span each per request for little insight; routes and
      // handlers are kept unless the layers are asked for.
      return config.expressLayers ? {} : { ignoreLayersType: ['middleware', 'router'] };
    case 'fastify':
      return { registerOnInitialization: true };
    case 'pino':
      // Lines are sent by pino-logs.ts where pino has its channel, as instrumentation-pino's sending
      // swaps the app's destination for a multistream; the mixin (trace_id in the lines) stays.
      return {
        disableLogSending: config.logs.exporter === 'none' || narrowed,
        disableLogCorrelation: !config.logCorrelation,
        ...(config.requestId.enabled ? { logHook: addRequestId } : {}),
      };
    case 'winston':
    case 'bunyan':
      // Exported log records carry the trace context either way; this is only about the app's lines.
      return { disableLogCorrelation: !config.logCorrelation };
    default:
      return {};
  }
}

/** Our patching tracer where it takes over (own-tracers.ts), else the upstream instrumentation. */
function create(entry: CatalogueEntry, config: Config, own: OwnTracer | undefined, store?: ContextStore, lean?: LeanOf): Instrumentation | undefined {
  try {
    if (own?.patch && store) return own.patch(store, lean);
    const Ctor = (requireCjs(entry.pkg) as Record<string, new (o: object) => Instrumentation>)[entry.exportName];
    if (!Ctor) throw new Error(`${entry.pkg} has no export ${entry.exportName}`);
    const Guarded = entry.name === 'koa' ? guardKoaUse(Ctor) : Ctor;
    const instance = new Guarded(optionsFor(entry, config, !!own?.narrowsUpstream));
    if (entry.name === 'pino' && config.redactAppLogs) redactAppPino(instance, config.redactKeys);
    if (entry.name === 'pino' && !config.upstreamInstrumentations.has('pino')) useOwnPinoMixin(instance, api(), store);
    return instance;
  } catch (err) {
    // An optional peer dependency, e.g. @fastify/otel (it brings its own copies of two OTel packages).
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && describe(err).includes(entry.pkg)) {
      log.warn(`instrumentation ${entry.name} is off: run \`npm install ${entry.pkg}\` to enable it`);
      return undefined;
    }
    log.warn(`instrumentation ${entry.name} could not be loaded and is off: ${describe(err)}`);
    return undefined;
  }
}

/**
 * `enable` receives each instrumentation as it is created (at once, or on its module's first
 * load) and must register it with the providers.
 */
export function loadInstrumentations(config: Config, enable: (i: Instrumentation) => void, store?: ContextStore, lean?: LeanOf): LoadedInstrumentations {
  const { selected, unknown } = selectInstrumentations(config.enabledInstrumentations, config.disabledInstrumentations);
  if (unknown.length) {
    log.warn(
      `OTEL_NODE_ENABLED_INSTRUMENTATIONS/OTEL_NODE_DISABLED_INSTRUMENTATIONS name unknown instrumentations (${unknown.join(', ')}); ignoring them. Known: ${CATALOGUE.map((e) => e.name).join(', ')}`,
    );
  }
  const paths = appPaths();
  const present = resolverForApp(paths);
  const lazy = canActivateLazily();
  const out: LoadedInstrumentations = { instrumentations: [], pending: new Map(), names: [], modules: [], own: [] };
  for (const entry of selected) {
    if (entry.modules.length && !entry.modules.some(present)) continue;
    out.names.push(entry.name);
    const own = ownTracerFor(entry.name, paths, config);
    if (own) out.own.push(own);
    // A channel tracer replaces the upstream instrumentation, unless it only narrows it.
    if (own?.start && !own.narrowsUpstream) continue;
    out.modules.push(...entry.modules);
    const packages = entry.modules.filter((m) => !isBuiltin(m)).map((m) => packageOf(m)!);
    if (lazy && packages.length === entry.modules.length && packages.length > 0) {
      const activate = () => {
        for (const p of packages) out.pending.delete(p);
        const inst = create(entry, config, own, store, lean);
        if (inst) enable(inst);
      };
      for (const p of packages) out.pending.set(p, activate);
    } else {
      const inst = create(entry, config, own, store, lean);
      if (inst) out.instrumentations.push(inst);
    }
  }
  return out;
}
