// Release health for a server: each incoming request is one Sentry session, counted in Sentry's
// per-minute aggregates (request mode). A request is `errored` when it answered 5xx or an error was
// reported in its trace, and `crashed` when the process died of it. The sessions follow our own
// server spans, so they count exactly the requests the OTel metrics count; Sentry's bucketing,
// flushing and envelope come from its own startRequestSession.
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type * as SentryNode from '@sentry/node';
import { InPlaceProcessor } from '../processors/in-place.js';
import { log, describe } from '../log.js';

export type SessionStatus = 'ok' | 'errored' | 'crashed';
type StartRequestSession = (
  client: SentryNode.NodeClient,
  opts: { requestIsolationScope: SentryNode.Scope; sessionFlushingDelayMS?: number },
) => () => void;

interface Session {
  scope: SentryNode.Scope;
  end: () => void;
}
interface InFlight extends Session {
  span: Span;
  status: SessionStatus;
}

const SPAN_KIND_SERVER = 1;
/** Requests in flight that are tracked; beyond this a request goes uncounted rather than unbounded memory. */
const MAX_IN_FLIGHT = 10_000;
const RECENT = 100;
const RANK: Record<SessionStatus, number> = { ok: 0, errored: 1, crashed: 2 };

export class RequestSessions extends InPlaceProcessor implements SpanProcessor {
  private readonly inFlight = new Map<string, InFlight>();

  constructor(
    private readonly sentry: typeof SentryNode,
    private readonly client: SentryNode.NodeClient,
    private readonly startRequestSession: StartRequestSession,
    activeTraceId: () => string | undefined,
  ) {
    super();
    // Any error event in a request's trace (a pino error, an API capture) makes the request
    // errored; only crash() makes one crashed, since only then did the process die of it.
    client.on('preprocessEvent', (event) => {
      // The trace context is applied after this hook; promise continuations keep the OTel context.
      const traceId = event.contexts?.trace?.trace_id ?? activeTraceId();
      if (event.type !== undefined || (!event.exception && event.level !== 'error' && event.level !== 'fatal')) return;
      if (traceId) this.mark(traceId, 'errored');
    });
  }

  /** Server spans that ended recently: a handler span can end just after its server span. */
  private readonly recent = new Map<string, ReadableSpan['attributes']>();

  /** The attributes of the server span of the request a trace belongs to. */
  serverAttributes(traceId: string): ReadableSpan['attributes'] | undefined {
    return this.inFlight.get(traceId)?.span.attributes ?? this.recent.get(traceId);
  }

  onStart(span: Span): void {
    if (span.kind !== SPAN_KIND_SERVER || this.inFlight.size >= MAX_IN_FLIGHT) return;
    const traceId = span.spanContext().traceId;
    if (this.inFlight.has(traceId)) return;
    try {
      this.inFlight.set(traceId, { span, status: 'ok', ...this.open() });
    } catch (err) {
      // Runs inside the app's span.start(): a Sentry failure must not reach the app.
      log.once('warn', 'sentry-sessions', `release-health sessions are off: ${describe(err)}`);
    }
  }

  onEnd(span: ReadableSpan): void {
    if (span.kind !== SPAN_KIND_SERVER) return;
    const traceId = span.spanContext().traceId;
    const req = this.inFlight.get(traceId);
    if (!req || req.span.spanContext().spanId !== span.spanContext().spanId) return;
    const code = Number(span.attributes['http.response.status_code'] ?? span.attributes['http.status_code'] ?? 0);
    if (code >= 500) this.mark(traceId, 'errored');
    try {
      this.finish(traceId);
    } catch (err) {
      log.once('warn', 'sentry-sessions', `release-health sessions are off: ${describe(err)}`);
    }
    if (this.recent.size >= RECENT) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(traceId, span.attributes);
  }

  /** Raises the status of the request in `traceId` (never lowers it). */
  mark(traceId: string, status: SessionStatus): void {
    const req = this.inFlight.get(traceId);
    if (req && RANK[status] > RANK[req.status]) req.status = status;
  }

  /**
   * The process is dying of an error raised in `traceId` (or outside any request): that request
   * is counted as crashed now, because its server span will never end.
   */
  crash(traceId: string | undefined): void {
    if (traceId && this.inFlight.has(traceId)) {
      this.mark(traceId, 'crashed');
      this.finish(traceId);
      return;
    }
    this.close(this.open(), 'crashed');
  }

  private finish(traceId: string): void {
    const req = this.inFlight.get(traceId);
    if (!req) return;
    this.inFlight.delete(traceId);
    this.close(req, req.status);
  }

  private open(): Session {
    const scope = new this.sentry.Scope();
    return { scope, end: this.startRequestSession(this.client, { requestIsolationScope: scope }) };
  }

  private close(session: Session, status: SessionStatus): void {
    session.scope.setSDKProcessingMetadata({ requestSession: { status } });
    session.end();
  }
}
