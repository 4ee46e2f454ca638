// The context an incoming request's handlers run in: the server span, the route metadata (the
// RPC metadata Express, Fastify and upstream instrumentations write http.route into) and the request
// id, answered directly by one object, instead of three setValue calls each copying the parent's
// whole Map. Everything else is the parent's. A value set on it (trace.setSpan for a child span,
// baggage, suppression) makes a one-key layer on top, so no Map is copied on the way down either.
// The keys are the API's own (createContextKey is Symbol.for of these descriptions).
import type { Context, Span } from '@opentelemetry/api';
import type { RPCMetadata } from '@opentelemetry/core';
import { REQUEST_ID_KEY } from './request-id.js';

const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
const RPC_METADATA_KEY = Symbol.for('OpenTelemetry SDK Context Key RPC_METADATA');

/** One value over a parent context; deleting is setting undefined (what BaseContext's getValue answers too). */
class LayerContext implements Context {
  constructor(
    readonly parent: Context,
    readonly key: symbol,
    readonly value: unknown,
  ) {}

  getValue(key: symbol): unknown {
    return key === this.key ? this.value : this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return new LayerContext(this, key, value);
  }

  deleteValue(key: symbol): Context {
    return new LayerContext(this, key, undefined);
  }
}

export class RequestContext implements Context {
  constructor(
    readonly parent: Context,
    readonly span: Span,
    readonly rpc: RPCMetadata,
    readonly requestId: string | undefined,
  ) {}

  getValue(key: symbol): unknown {
    if (key === SPAN_KEY) return this.span;
    if (key === RPC_METADATA_KEY) return this.rpc;
    if (key === REQUEST_ID_KEY) return this.requestId;
    return this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return new LayerContext(this, key, value);
  }

  deleteValue(key: symbol): Context {
    return new LayerContext(this, key, undefined);
  }
}
