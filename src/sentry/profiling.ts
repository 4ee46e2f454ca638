// OTEL_MONITOR_PROFILING=sentry: Sentry's Node profiler (@sentry/profiling-node, a native module
// with prebuilt binaries), run continuously from start-up. It sends `profile_chunk` items, never
// transactions: profiles are not tied to Sentry spans, since OpenTelemetry owns tracing here.
// The package is the app's to install (it is not a dependency of ours): looked up from the app's
// directory first, then from ours.
import type * as SentryNode from '@sentry/node';
import { requireCjs, requireFromApp } from '../require.js';
import { log, describe } from '../log.js';

type Integration = Parameters<typeof SentryNode.addIntegration>[0];
interface ProfilingModule {
  nodeProfilingIntegration: () => Integration;
}

export function loadProfiling(): ProfilingModule | undefined {
  for (const req of [requireFromApp(), requireCjs]) {
    try {
      return req('@sentry/profiling-node') as ProfilingModule;
    } catch (err) {
      if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') {
        log.warn(`OTEL_MONITOR_PROFILING=sentry: @sentry/profiling-node could not be loaded, profiling is off: ${describe(err)}`);
        return undefined;
      }
    }
  }
  log.warn('OTEL_MONITOR_PROFILING=sentry but @sentry/profiling-node is not installed: profiling is off (npm install @sentry/profiling-node)');
  return undefined;
}

/** Sentry.init options for continuous profiling, started with Sentry.profiler.startProfiler() once the client exists. */
export function profilingOptions(mod: ProfilingModule): { integrations: Integration[]; profileSessionSampleRate: number; profileLifecycle: 'manual' } {
  return { integrations: [mod.nodeProfilingIntegration()], profileSessionSampleRate: 1, profileLifecycle: 'manual' };
}
