// Public helpers for application code. Every export is a safe no-op when the SDK is not started,
// because each one only talks to the global OpenTelemetry API.
export { flush, shutdown } from '../lifecycle.js';
export { monitorTask, taskWithStatusReport } from './tasks.js';
export { setUser } from './user.js';
export { registerHealthCheck, type HealthCheck, type HealthCheckOptions, type HealthStatus } from './health.js';
export { getRequestId } from './request-id.js';
export { logger, type Logger } from './logger.js';
