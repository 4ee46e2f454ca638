// The span our tracers (HTTP server, Express, Fastify, undici, pg) start, in place
// of the SDK's SpanImpl. It is the same span to everything downstream: it implements the API's Span
// and every ReadableSpan field the processors, the SDK's Batch/SimpleSpanProcessor and
// otlp-transformer read, goes through the tracer provider's own processor chain (onStart,
// onEnding, onEnd) and is set in the context with trace.setSpan like any span. What it saves per
// span: the attribute object is plain and written directly (own-attributes.ts), times are two
// numbers (epoch milliseconds) with the HrTime tuples only built if something reads them (our
// encoder reads the numbers), and links and events are arrays only once there is one.
// Built by lean-tracer.ts, which decides sampling; OTEL_MONITOR_LEAN_SPANS=false uses SDK spans.
import type { Attributes, AttributeValue, Exception, HrTime, Link, Span, SpanContext, SpanKind, SpanStatus, TimeInput } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanLimits, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace';

/** What every span of one tracer shares: one pointer per span instead of seven fields. */
export interface LeanSpanShared {
  processor: SpanProcessor;
  resource: Resource;
  scope: InstrumentationScope;
  limits: Required<SpanLimits>;
  /** @opentelemetry/core's attribute helpers, the ones SpanImpl uses, so user-set values are cleaned alike. */
  core: {
    maybeAddAttribute(o: { key: string; value: unknown; attributes: Attributes; limits: SpanLimits; currentAttributesCount: number }): number;
    cleanSimpleAttributes(a: unknown, limits: object): { attributes?: Attributes; droppedAttributesCount?: number };
    cleanAttributes(a: unknown, limits: object): { attributes?: Attributes; droppedAttributesCount?: number };
    isTimeInput(v: unknown): boolean;
  };
  diag: { warn(msg: string, ...args: unknown[]): void; error(msg: string, ...args: unknown[]): void };
}

const UNSET: SpanStatus = Object.freeze({ code: 0 });
const OK = 1;
const ERROR = 2;
const DROP_LIMIT_REACHED = 2; // core's AddAttributeDecision
const ADD_NEW = 3;
const NONE: never[] = Object.freeze([]) as never[];

/** Epoch milliseconds as the SDK's [seconds, nanoseconds] tuple. */
export function msToHrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  const ns = Math.round((ms - s * 1000) * 1e6);
  return ns >= 1e9 ? [s + 1, ns - 1e9] : [s, ns];
}

/**
 * `list` with one more item within `limit`, as SpanImpl keeps events and links: the oldest falls out
 * when full, nothing is added when the limit is 0. The list is made on first use. Returns the list
 * and how many were dropped (0 or 1).
 */
function append<T>(list: T[], limit: number, make: () => T): [T[], number] {
  if (limit === 0) return [list, 1];
  const out = list === NONE ? [] : list;
  let dropped = 0;
  if (out.length >= limit) {
    out.shift();
    dropped = 1;
  }
  out.push(make());
  return [out, dropped];
}

/**
 * For a client or server duration metric: a lean span times itself (two numbers), so only another
 * span needs a clock read of its own at the start. Pass the result to `secondsSince` after `end()`.
 */
export function durationStart(span: Span): number {
  return span instanceof LeanSpan ? 0 : performance.now();
}

/** Seconds from `durationStart` to now, or the lean span's own duration (read after it ended). */
export function secondsSince(span: Span, started: number): number {
  return (span instanceof LeanSpan ? span.endMs - span.startMs : performance.now() - started) / 1000;
}

export class LeanSpan implements Span, ReadableSpan {
  attributes: Attributes = {};
  /** Kept under the SDK's name: own-attributes.ts writes into `attributes` and keeps it in step. */
  _attributesCount = 0;
  status: SpanStatus = UNSET;
  /** Epoch milliseconds, as Date.now() plus the monotonic clock's sub-millisecond part. */
  readonly startMs: number;
  /** 0 until the span ends. */
  endMs = 0;
  private readonly perfStart: number;
  private ended_ = false;
  private links_: Link[] = NONE;
  private events_: TimedEvent[] = NONE;
  private droppedAttributes = 0;
  private droppedEvents = 0;
  private droppedLinks = 0;

  constructor(
    private readonly shared: LeanSpanShared,
    private readonly context: SpanContext,
    public name: string,
    readonly kind: SpanKind,
    readonly parentSpanContext: SpanContext | undefined,
  ) {
    this.perfStart = performance.now();
    // As SpanImpl: wall-clock start, monotonic duration.
    this.startMs = Date.now();
  }

  spanContext(): SpanContext {
    return this.context;
  }

  get startTime(): HrTime {
    return msToHrTime(this.startMs);
  }

  get endTime(): HrTime {
    return this.ended_ ? msToHrTime(this.endMs) : [0, 0];
  }

  get duration(): HrTime {
    return this.ended_ ? msToHrTime(this.endMs - this.startMs) : [-1, -1];
  }

  get ended(): boolean {
    return this.ended_;
  }

  get links(): Link[] {
    return this.links_;
  }

  get events(): TimedEvent[] {
    return this.events_;
  }

  get resource(): Resource {
    return this.shared.resource;
  }

  get instrumentationScope(): InstrumentationScope {
    return this.shared.scope;
  }

  get droppedAttributesCount(): number {
    return this.droppedAttributes;
  }

  get droppedEventsCount(): number {
    return this.droppedEvents;
  }

  get droppedLinksCount(): number {
    return this.droppedLinks;
  }

  isRecording(): boolean {
    return !this.ended_;
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (this.refuse()) return this;
    const decision = this.shared.core.maybeAddAttribute({
      key,
      value,
      attributes: this.attributes,
      limits: this.shared.limits,
      currentAttributesCount: this._attributesCount,
    });
    if (decision === DROP_LIMIT_REACHED && ++this.droppedAttributes === 1) this.shared.diag.warn('Dropping extra attributes.');
    else if (decision === ADD_NEW) this._attributesCount++;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) if (Object.prototype.hasOwnProperty.call(attributes, key)) this.setAttribute(key, attributes[key]!);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.refuse()) return this;
    const { eventCountLimit, attributePerEventCountLimit, attributeValueLengthLimit } = this.shared.limits;
    if (eventCountLimit === 0) this.shared.diag.warn('No events allowed.');
    let attributes = attributesOrTime;
    if (this.shared.core.isTimeInput(attributesOrTime)) {
      if (!this.shared.core.isTimeInput(time)) time = attributesOrTime as TimeInput;
      attributes = undefined;
    }
    // An HrTime is kept as given (nanoseconds and all), as SpanImpl does.
    const at = Array.isArray(time) ? (time as HrTime) : msToHrTime(this.toMs(time));
    const [events, dropped] = append(this.events_, eventCountLimit, () => {
      const clean = this.shared.core.cleanSimpleAttributes(attributes, { attributeCountLimit: attributePerEventCountLimit, attributeValueLengthLimit });
      return { name, time: at, ...clean } as TimedEvent;
    });
    this.events_ = events;
    this.droppedEvents += dropped;
    return this;
  }

  addLink(link: Link): this {
    if (this.refuse()) return this;
    const { linkCountLimit, attributePerLinkCountLimit, attributeValueLengthLimit } = this.shared.limits;
    const [links, dropped] = append(this.links_, linkCountLimit, () => {
      const clean = this.shared.core.cleanAttributes(link.attributes, { attributeCountLimit: attributePerLinkCountLimit, attributeValueLengthLimit });
      return { context: link.context, ...clean };
    });
    this.links_ = links;
    this.droppedLinks += dropped;
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.refuse() || status.code === 0 || this.status.code === OK) return this;
    const next: SpanStatus = { code: status.code };
    if (status.code === ERROR && typeof status.message === 'string') next.message = status.message;
    this.status = next;
    return this;
  }

  updateName(name: string): this {
    if (!this.refuse()) this.name = name;
    return this;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes['exception.message'] = exception;
    else if (exception) {
      if (exception.code) attributes['exception.type'] = exception.code.toString();
      else if (exception.name) attributes['exception.type'] = exception.name;
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    if (attributes['exception.type'] || attributes['exception.message']) this.addEvent('exception', attributes, time);
    else this.shared.diag.warn(`Failed to record an exception ${String(exception)}`);
  }

  end(endTime?: TimeInput): void {
    if (this.ended_) {
      this.shared.diag.error(`${this.name} ${this.context.traceId}-${this.context.spanId} - You can only call end() on a span once.`);
      return;
    }
    const end = this.toMs(endTime);
    // As SpanImpl: an end before the start is a zero-length span, and dropped events/links are said.
    this.endMs = end < this.startMs ? this.startMs : end;
    const { diag } = this.shared;
    if (end < this.startMs) diag.warn('Inconsistent start and end time, startTime > endTime. Setting span duration to 0ms.');
    if (this.droppedEvents > 0) diag.warn(`Dropped ${this.droppedEvents} events because eventCountLimit reached`);
    if (this.droppedLinks > 0) diag.warn(`Dropped ${this.droppedLinks} links because linkCountLimit reached`);
    const processor = this.shared.processor;
    processor.onEnding?.(this as never);
    this.ended_ = true;
    processor.onEnd(this);
  }

  /** SpanImpl's reading of a TimeInput: a number not after performance.now() is a monotonic time. */
  private toMs(t: TimeInput | undefined): number {
    if (t === undefined) return this.startMs + (performance.now() - this.perfStart);
    if (typeof t === 'number') return t <= performance.now() ? this.startMs + (t - this.perfStart) : t;
    if (t instanceof Date) return t.getTime();
    return t[0] * 1000 + t[1] / 1e6;
  }

  /** SpanImpl warns on every operation on an ended span; so does this (without its Error object). */
  private refuse(): boolean {
    if (this.ended_) this.shared.diag.warn(`Cannot execute the operation on ended Span {traceId: ${this.context.traceId}, spanId: ${this.context.spanId}}`);
    return this.ended_;
  }
}
