// Starts the distribution once per process, whichever entry (ESM --import, CJS --require, or a
// programmatic import) gets there first. Never throws: on any failure the app runs untelemetered.
import * as nodeModule from 'node:module';
import { readConfig, describeConfig } from './config.js';
import { log, setLogLevel, describe } from './log.js';
import { resolveRelease } from './resource.js';
import { spanKind, startSdk } from './sdk.js';
import { attachSdk, shutdown } from './lifecycle.js';
import { installCrashHandlers } from './crash.js';
import { Guard } from './instrumentation/channel-guard.js';
import { threadRole } from './worker-role.js';

const STARTED = Symbol.for('@org/otel-monitor.started');

export function start(): void {
  const g = globalThis as { [STARTED]?: boolean };
  if (g[STARTED]) return;
  g[STARTED] = true;
  try {
    // A log transport's thread only writes lines: no SDK, and not a word on stderr (worker-role.ts).
    const role = threadRole();
    if (role === 'log-transport') return;
    const { config, warnings } = readConfig();
    setLogLevel(config.logLevel);
    if (role === 'worker' && !config.workers) {
      log.debug('OTEL_MONITOR_WORKERS=false: this worker thread runs without telemetry');
      return;
    }
    for (const w of warnings) log.warn(w);
    if (config.disabled) {
      log.info('OTEL_SDK_DISABLED=true: telemetry is off');
      return;
    }
    // V8's on-disk code cache roughly halves the cost of compiling the SDK on every start after
    // the first. Node honours NODE_DISABLE_COMPILE_CACHE / NODE_COMPILE_CACHE for it as usual.
    if (config.compileCache) (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
    const info = resolveRelease(config);
    const sdk = startSdk(config, info);
    attachSdk(sdk, config.shutdownTimeoutMs);
    installCrashHandlers({ mode: config.unhandledRejections, report: sdk.reportCrash, shutdown });
    log.info(
      `started ${describeConfig(config, {
        service: info.serviceName,
        release: `${info.release ?? '(none)'}(${info.releaseSource})`,
        environment: info.environment ?? '(none)',
        instrumentations: sdk.instrumentations.join(',') || 'none',
        esm_hooks: sdk.hookMode,
        // Which span our own HTTP, Express and Fastify tracers start, and why not the lean one.
        spans: spanKind(config),
        // Whose duration histograms our own tracers record into (lean-metrics.ts).
        metrics: sdk.metrics ?? 'sdk',
      })}`,
    );
    // The channel-based server tracing sees every node:http server; only the emit-wrapping one can miss.
    if (sdk.instrumentations.includes('http') && !config.httpServerTracer) checkHttpPatched();
  } catch (err) {
    log.error(`failed to start, the app runs without telemetry: ${describe(err)}`);
  }
}

/**
 * Checks the first incoming request's server: if its `emit` is not the instrumented one (a bundled
 * or pre-loaded copy of http, or a framework that replaced `emit`), say so once instead of silently
 * exporting no server spans.
 */
function checkHttpPatched(): void {
  const guard = new Guard('http-patch-check');
  let checked = false;
  guard.subscribe('http.server.request.start', 'request.start', (message) => {
    if (checked) return;
    checked = true;
    const emit = (message as { server?: { emit?: { __wrapped?: boolean } } }).server?.emit;
    if (emit && !emit.__wrapped) {
      log.warn('http was not patched for this server: incoming requests get no spans or metrics (is the app bundled, or is another tool replacing the server\'s emit?)');
    }
  });
}
