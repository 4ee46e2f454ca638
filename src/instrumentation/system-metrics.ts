// Host, runtime, network and process metrics. They start just after the app's start-up rather
// than in the preload: loading the host-metrics and runtime-node packages (and the semantic
// conventions and systeminformation modules they pull in) is about 35 ms that the app would
// otherwise wait for before it serves its first request, and nothing reads these metrics before the
// first export anyway.
import { isMainThread } from 'node:worker_threads';
import type { Meter } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Config } from '../config.js';
import { requireCjs } from '../require.js';
import { contained } from '../log.js';
import { registerNetworkMetrics } from './network-metrics.js';
import { registerProcessMetrics } from './process-metrics.js';
import { dropGcCollector } from './runtime-gc.js';

const START_DELAY_MS = 1000;
const HOST_METRIC_GROUPS = ['system.cpu', 'system.memory', 'process.cpu', 'process.memory'];

type Ctor = new (o: object) => Instrumentation;

function start(config: Config, meter: Meter, register: (list: Instrumentation[]) => void): void {
  const list: Instrumentation[] = [];
  // Host and process figures are process-wide: the main thread reports them, a worker would repeat them.
  if (config.hostMetrics && isMainThread) {
    const { HostMetricsInstrumentation } = requireCjs('@opentelemetry/instrumentation-host-metrics') as { HostMetricsInstrumentation: Ctor };
    // On Linux the network group comes from /proc instead: the package's blocks the event loop.
    const linux = process.platform === 'linux';
    list.push(new HostMetricsInstrumentation(linux ? { metricGroups: HOST_METRIC_GROUPS } : {}));
    if (linux) registerNetworkMetrics(meter);
  }
  if (config.runtimeMetrics) {
    const { RuntimeNodeInstrumentation } = requireCjs('@opentelemetry/instrumentation-runtime-node') as { RuntimeNodeInstrumentation: Ctor };
    const runtime = new RuntimeNodeInstrumentation({ monitoringPrecision: 10 });
    if (!config.gcMetrics) dropGcCollector(runtime);
    list.push(runtime);
  }
  register(list);
  if (isMainThread) registerProcessMetrics(meter);
}

export function startSystemMetrics(config: Config, meter: Meter, register: (list: Instrumentation[]) => void): void {
  setTimeout(() => contained('system metrics', () => start(config, meter, register)), START_DELAY_MS).unref();
}
