// Wires health checking into the started SDK: the monitor (left where registerHealthCheck finds
// it), the built-in checks from OTEL_MONITOR_HEALTH_CHECKS and the opt-in endpoint.
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import type { Server } from 'node:http';
import type { HealthConfig } from '../config.js';
import { contained } from '../log.js';
import type { Redactor } from '../processors/redaction.js';
import { builtinCheck } from './builtin-checks.js';
import { startHealthEndpoint } from './endpoint.js';
import { HEALTH_MONITOR, HealthMonitor } from './monitor.js';

export interface Health {
  stop(): void;
}

export function startHealth(config: HealthConfig, api: typeof Api, core: typeof Core, meter: Api.Meter, redactor: Redactor): Health {
  const suppressed = core.suppressTracing(api.ROOT_CONTEXT);
  const monitor = new HealthMonitor({
    meter,
    redactor,
    // Probes are not the app's work: no spans for their queries, and no request context inherited.
    isolate: (fn) => api.context.with(suppressed, fn),
    defaults: {
      intervalMs: config.intervalMs,
      timeoutMs: config.timeoutMs,
      degradedAfter: config.degradedAfter,
      unhealthyAfter: config.unhealthyAfter,
    },
  });
  (globalThis as { [HEALTH_MONITOR]?: HealthMonitor })[HEALTH_MONITOR] = monitor;
  for (const spec of config.checks) {
    contained(`health check ${spec.name}`, () =>
      monitor.register(spec.name, builtinCheck(spec, config.timeoutMs), { critical: !config.nonCritical.includes(spec.name) }),
    );
  }
  let server: Server | undefined;
  if (config.port !== undefined) server = contained('health endpoint', () => startHealthEndpoint(monitor, config.port!, config.host));
  return {
    stop() {
      monitor.stop();
      server?.close();
    },
  };
}
