// Runs plugin code so that a broken plugin never breaks the app: every call into a plugin (its
// initialize, flush, close, and every method of a processor or exporter it returned) goes through
// its Slot, which on the first throw or rejection logs one line naming the plugin and disables it;
// from then on nothing of that plugin is called, and every other plugin and signal keeps working.
//
// The providers take their processors at construction, and a plugin loaded in the background (an
// ES module with top-level await) or with an async initialize arrives later. So the distribution
// installs one forwarding processor per signal (and one metric exporter) whose list of plugin
// processors can grow after start-up.
import type { Context } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { describe, log } from '../log.js';

const SUCCESS = 0;
const FAILED = 1;

export class Slot {
  enabled = true;
  name: string | undefined;

  constructor(readonly spec: string) {}

  get title(): string {
    return this.name && this.name !== this.spec ? `${this.name} (${this.spec})` : this.spec;
  }

  disable(where: string, err: unknown): void {
    if (!this.enabled) return;
    this.enabled = false;
    log.error(`plugin ${this.title} is disabled: ${where} failed: ${describe(err)}`);
  }

  /** Calls synchronous plugin code; a throw disables the plugin. */
  call<T>(where: string, fn: () => T): T | undefined {
    if (!this.enabled) return undefined;
    try {
      return fn();
    } catch (err) {
      this.disable(where, err);
      return undefined;
    }
  }

  /** Calls plugin code that may return a promise; never rejects. */
  async callAsync(where: string, fn: () => unknown): Promise<void> {
    if (!this.enabled) return;
    try {
      await fn();
    } catch (err) {
      this.disable(where, err);
    }
  }
}

interface Entry<T> {
  slot: Slot;
  target: T;
}

interface Flushable {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The plugin targets of one kind, each called through its plugin's Slot. */
class Forwarder<T extends Flushable> {
  protected readonly entries: Array<Entry<T>> = [];

  constructor(private readonly kind: string) {}

  add(slot: Slot, target: T): void {
    this.entries.push({ slot, target });
  }

  /** Whether any plugin's target is registered and enabled (records emitted at emit read it). */
  get active(): boolean {
    return this.entries.some((e) => e.slot.enabled);
  }

  protected each(method: string, fn: (target: T) => void): void {
    for (const { slot, target } of this.entries) slot.call(`${this.kind} ${method}`, () => fn(target));
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.entries.map(({ slot, target }) => slot.callAsync(`${this.kind} forceFlush`, () => target.forceFlush())));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.entries.map(({ slot, target }) => slot.callAsync(`${this.kind} shutdown`, () => target.shutdown())));
  }
}

export class ForwardingSpanProcessor extends Forwarder<SpanProcessor> implements SpanProcessor {
  constructor() {
    super('span processor');
  }

  onStart(span: Span, parentContext: Context): void {
    this.each('onStart', (p) => p.onStart(span, parentContext));
  }

  onEnding(span: Span): void {
    this.each('onEnding', (p) => p.onEnding?.(span));
  }

  onEnd(span: ReadableSpan): void {
    this.each('onEnd', (p) => p.onEnd(span));
  }
}

export class ForwardingLogProcessor extends Forwarder<LogRecordProcessor> implements LogRecordProcessor {
  constructor() {
    super('log record processor');
  }

  onEmit(logRecord: ReadWriteLogRecord, context?: Context): void {
    this.each('onEmit', (p) => p.onEmit(logRecord, context));
  }
}

/** Fans one metric collection out to every plugin's push exporter. */
export class ForwardingMetricExporter extends Forwarder<PushMetricExporter> implements PushMetricExporter {
  constructor() {
    super('metric exporter');
  }

  /** Exporters whose previous export has not called back: skipped, so a hung one holds one closure. */
  private readonly inFlight = new Set<PushMetricExporter>();

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const all = this.entries.map(
      ({ slot, target }) =>
        new Promise<void>((done) => {
          if (this.inFlight.has(target)) return done();
          this.inFlight.add(target);
          const finish = () => {
            this.inFlight.delete(target);
            done();
          };
          slot.call('metric exporter export', () => target.export(metrics, finish));
          // Disabled now or before: its callback may never come.
          if (!slot.enabled) finish();
        }),
    );
    void Promise.all(all).then(() => resultCallback({ code: SUCCESS }));
  }
}

interface AnyExporter<T> {
  export(items: T[], resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/** A span or log exporter whose throws disable its plugin instead of reaching the batch processor. */
export function guardExporter<T>(slot: Slot, exporter: AnyExporter<T>): AnyExporter<T> {
  return {
    export(items, resultCallback) {
      if (!slot.enabled) return resultCallback({ code: SUCCESS });
      slot.call('exporter export', () => exporter.export(items, resultCallback));
      if (!slot.enabled) resultCallback({ code: FAILED });
    },
    shutdown: () => slot.callAsync('exporter shutdown', () => exporter.shutdown()),
    forceFlush: () => slot.callAsync('exporter forceFlush', () => exporter.forceFlush?.()),
  };
}
