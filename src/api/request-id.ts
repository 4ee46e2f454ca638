// The current request's id (docs/LOGS.md), for the app's own use: error pages, support tickets,
// calls through transports the distribution does not instrument. Undefined outside a request, or
// without the SDK, or with OTEL_MONITOR_REQUEST_ID=off.
import { context } from '@opentelemetry/api';
import { requestIdOf } from '../instrumentation/request-id.js';

export function getRequestId(): string | undefined {
  return requestIdOf(context.active());
}
