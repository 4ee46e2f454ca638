// `logger`: a pino instance for application code (docs/LOGS.md). Every record carries trace_id,
// span_id, request_id, service and release; destinations and level come from the environment;
// secrets are redacted on every destination. Without the SDK it still logs (stdout, file), with
// no trace context and no OTLP.
import type { Logger } from 'pino';
import { createLoggerSafely, currentLoggerSetup } from '../logs/logger.js';

export type { Logger } from 'pino';

export const logger: Logger = createLoggerSafely(currentLoggerSetup());
