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

export class ForwardingSpanProcessor implements SpanProcessor {
  private readonly entries: Array<Entry<SpanProcessor>> = [];

  add(slot: Slot, target: SpanProcessor): void {
    this.entries.push({ slot, target });
  }

  onStart(span: Span, parentContext: Context): void {
    for (const { slot, target } of this.entries) slot.call('span processor onStart', () => target.onStart(span, parentContext));
  }

  onEnding(span: Span): void {
    for (const { slot, target } of this.entries) if (target.onEnding) slot.call('span processor onEnding', () => target.onEnding!(span));
  }

  onEnd(span: ReadableSpan): void {
    for (const { slot, target } of this.entries) slot.call('span processor onEnd', () => target.onEnd(span));
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.entries.map(({ slot, target }) => slot.callAsync('span processor forceFlush', () => target.forceFlush())));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.entries.map(({ slot, target }) => slot.callAsync('span processor shutdown', () => target.shutdown())));
  }
}

export class ForwardingLogProcessor implements LogRecordProcessor {
  private readonly entries: Array<Entry<LogRecordProcessor>> = [];

  add(slot: Slot, target: LogRecordProcessor): void {
    this.entries.push({ slot, target });
  }

  onEmit(logRecord: ReadWriteLogRecord, context?: Context): void {
    for (const { slot, target } of this.entries) slot.call('log record processor onEmit', () => target.onEmit(logRecord, context));
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.entries.map(({ slot, target }) => slot.callAsync('log record processor forceFlush', () => target.forceFlush())));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.entries.map(({ slot, target }) => slot.callAsync('log record processor shutdown', () => target.shutdown())));
  }
}

/** Fans one metric collection out to every plugin's push exporter. */
export class ForwardingMetricExporter implements PushMetricExporter {
  private readonly entries: Array<Entry<PushMetricExporter>> = [];

  add(slot: Slot, target: PushMetricExporter): void {
    this.entries.push({ slot, target });
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const all = this.entries.map(
      ({ slot, target }) =>
        new Promise<void>((done) => {
          if (!slot.enabled) return done();
          slot.call('metric exporter export', () => target.export(metrics, () => done()));
          if (!slot.enabled) done();
        }),
    );
    void Promise.all(all).then(() => resultCallback({ code: SUCCESS }));
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.entries.map(({ slot, target }) => slot.callAsync('metric exporter forceFlush', () => target.forceFlush())));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.entries.map(({ slot, target }) => slot.callAsync('metric exporter shutdown', () => target.shutdown())));
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
