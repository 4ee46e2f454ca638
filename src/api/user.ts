// Marks the user of the current request. Only @opentelemetry/api is used, so this is a no-op
// without a started SDK.
import { context, createContextKey, trace, type Span } from '@opentelemetry/api';
import { ATTR_ENDUSER_ID, ATTR_USER_ACCOUNT_ROLES, ATTR_USER_ROLES } from '../semconv.js';

export interface MonitoredUser {
  /** Stable identifier: a user id or login. Becomes `enduser.id`. */
  id: string | number;
  /** The user's roles, e.g. `['bot']`. Becomes `user.roles`. */
  roles?: readonly string[];
  /** The roles of the user's account (organisation). Becomes `otel_monitor.user.account_roles`. */
  accountRoles?: readonly string[];
}

// The HTTP instrumentation stores the incoming request's server span in the context under this
// key (`setRPCMetadata` in @opentelemetry/core). `createContextKey` is `Symbol.for`, so this is
// the same key without depending on the SDK packages.
const RPC_METADATA_KEY = createContextKey('OpenTelemetry SDK Context Key RPC_METADATA');

/**
 * Sets the enduser attributes on the active span and, when called inside an HTTP request, also
 * on that request's server span. Framework instrumentations (express, fastify) make a middleware
 * or handler span the active one, but the server span is the one that describes the request, is
 * always there, and is what span metrics and error tools look at; the task-status processor
 * records "last seen" from whichever of the two ends carrying a listed role.
 */
export function setUser(user: MonitoredUser): void {
  if (user === null || typeof user !== 'object' || user.id === undefined || user.id === null) return;
  const active = trace.getActiveSpan();
  const server = (context.active().getValue(RPC_METADATA_KEY) as { span?: Span } | undefined)?.span;
  if (active === undefined && server === undefined) return;

  const attributes = {
    [ATTR_ENDUSER_ID]: String(user.id),
    // Copied, so later mutation of the caller's arrays does not change the span.
    [ATTR_USER_ROLES]: user.roles ? [...user.roles] : [],
    [ATTR_USER_ACCOUNT_ROLES]: user.accountRoles ? [...user.accountRoles] : [],
  };
  active?.setAttributes(attributes);
  if (server !== undefined && server !== active) server.setAttributes(attributes);
}
