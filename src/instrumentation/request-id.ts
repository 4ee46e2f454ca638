// One request id per incoming HTTP request (OTEL_MONITOR_REQUEST_ID, on by default), so a user's
// complaint, a log line and a trace can be tied together by one string:
//   - the incoming header (OTEL_MONITOR_REQUEST_ID_HEADER, default x-request-id) when it is sane:
//     1 to 128 characters of [A-Za-z0-9._~:@/+=-]; anything else (too long, CR/LF, control or
//     other characters) is replaced by a fresh id, never trusted, so it cannot inject log lines or
//     headers;
//   - otherwise, when the request starts a new trace, its trace id (OTEL_MONITOR_REQUEST_ID_FORMAT=trace,
//     the default): unique per request already, no randomUUID, and no attribute to send, since the
//     backend has it as the span's trace id;
//   - otherwise (it joined an upstream trace that sent no id, or OTEL_MONITOR_REQUEST_ID_FORMAT=uuid)
//     a fresh UUID: a trace id shared by several requests cannot tell them apart.
// It goes on the server span (otel_monitor.request.id) only when it differs from the span's trace id
// (measured: the attribute was about 65 incompressible bytes of each gzipped server span), into the
// response header, into the request's
// context (log records read it there: our logger, the app's pino through the pino instrumentation's
// logHook, and every OTLP log record through RequestIdLogProcessor), and into outgoing requests
// made while handling it (RequestIdPropagator: instrumentation-http and -undici inject propagators
// into every outgoing request), so the next service keeps the same id.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Span, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { ATTR_REQUEST_ID } from '../semconv.js';
import { InPlaceProcessor } from '../processors/in-place.js';
import { setOwnAttribute } from './own-attributes.js';

/** What the API's `createContextKey` would make (Symbol.for), without loading the API's ESM build here. */
export const REQUEST_ID_KEY = Symbol.for('@org/otel-monitor request id');
const SANE = /^[A-Za-z0-9._~:@/+=-]{1,128}$/;

/** The id of the request being handled in `ctx`, if any. */
export function requestIdOf(ctx: Context): string | undefined {
  return ctx.getValue(REQUEST_ID_KEY) as string | undefined;
}

/** The incoming value when it is sane, else `fresh` (a new UUID unless given). */
export function saneRequestId(incoming: string | string[] | undefined, fresh?: string): string {
  return typeof incoming === 'string' && SANE.test(incoming) ? incoming : (fresh ?? randomUUID());
}

const INVALID_TRACE_ID = '00000000000000000000000000000000';

export type RequestIdFormat = 'trace' | 'uuid';

export class RequestIds {
  constructor(
    readonly header: string,
    readonly format: RequestIdFormat = 'trace',
  ) {}

  /**
   * The request's id: the sane incoming one, else the trace id of a request that starts a new trace
   * (`joined` false) with the `trace` format, else a fresh UUID. The span gets the attribute only
   * when the id is not its trace id.
   */
  idFor(span: Span, incoming: string | string[] | undefined, joined: boolean): string {
    const traceId = span.spanContext().traceId;
    const own = this.format === 'trace' && !joined && traceId !== INVALID_TRACE_ID ? traceId : undefined;
    const id = saneRequestId(incoming, own);
    if (id !== traceId) setOwnAttribute(span, ATTR_REQUEST_ID, id);
    return id;
  }

  /** Called by http-server.ts as the request starts: the id, answered in the response header. */
  assign(span: Span, request: IncomingMessage, response: ServerResponse, joined: boolean): string {
    const id = this.idFor(span, request.headers[this.header], joined);
    if (!response.hasHeader(this.header)) response.setHeader(this.header, id);
    return id;
  }
}

/**
 * Puts the current request id into every outgoing carrier (HTTP headers) as the configured header,
 * unless the app already set that header itself. Extracting is http-server.ts's job.
 */
export class RequestIdPropagator implements TextMapPropagator {
  constructor(private readonly header: string) {}

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const id = requestIdOf(ctx);
    if (id === undefined || carrier === null || typeof carrier !== 'object') return;
    for (const key of Object.keys(carrier)) if (key.toLowerCase() === this.header) return;
    setter.set(carrier, this.header, id);
  }

  extract(ctx: Context): Context {
    return ctx;
  }

  fields(): string[] {
    return [this.header];
  }
}

/** Adds the request id to every OTLP log record emitted while a request is handled. */
export class RequestIdLogProcessor extends InPlaceProcessor implements LogRecordProcessor {
  onEmit(record: ReadWriteLogRecord, ctx?: Context): void {
    const id = ctx && requestIdOf(ctx);
    if (id !== undefined && record.attributes[ATTR_REQUEST_ID] === undefined) record.setAttribute(ATTR_REQUEST_ID, id);
  }
}
