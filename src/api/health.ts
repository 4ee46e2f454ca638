// registerHealthCheck for application code. The started SDK owns the monitor (src/health/); without
// it (no preload, OTEL_SDK_DISABLED=true) registering is a no-op and the check never runs.
import { currentMonitor, type HealthCheck, type HealthCheckOptions } from '../health/monitor.js';

export type { HealthCheck, HealthCheckOptions, HealthStatus } from '../health/monitor.js';

/**
 * Runs `check` every `intervalMs` (default 30 s) with a `timeoutMs` budget (default 5 s). A check
 * fails by throwing, rejecting or timing out; it may resolve with details to show on /readyz.
 * Returns a function that removes the check. Registering a name again replaces the check.
 */
export function registerHealthCheck(name: string, check: HealthCheck, options: HealthCheckOptions = {}): () => void {
  const monitor = currentMonitor();
  if (!monitor) return () => {};
  try {
    return monitor.register(name, check, options);
  } catch {
    // The app's start-up must not fail because of monitoring.
    return () => {};
  }
}
