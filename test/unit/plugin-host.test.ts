// The per-plugin guard: a throw from any method of anything a plugin returned (span or log
// processor, span/log/metric exporter) logs one line naming the plugin and disables it; the
// other plugins' targets keep being called.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ForwardingLogProcessor, ForwardingMetricExporter, ForwardingSpanProcessor, guardExporter, Slot } from '../../src/plugins/host.js';

let lines: string[];
beforeEach(() => {
  lines = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

const fine = () => ({ calls: 0, forceFlush: async () => {}, shutdown: async () => {} });

describe('plugin host guard', () => {
  it('a throwing log record processor disables its plugin, once, and the next plugin still gets every record', () => {
    const f = new ForwardingLogProcessor();
    const bad = new Slot('./bad.js');
    bad.name = 'bad';
    const good = fine();
    let badCalls = 0;
    f.add(bad, { ...fine(), onEmit: () => { badCalls++; throw new Error('boom'); } });
    f.add(new Slot('./good.js'), { ...good, onEmit: () => { good.calls++; } });
    for (let i = 0; i < 3; i++) f.onEmit({} as never);
    expect([badCalls, good.calls, bad.enabled]).toEqual([1, 3, false]);
    expect(lines).toEqual(['[otel-monitor] error: plugin bad (./bad.js) is disabled: log record processor onEmit failed: Error: boom\n']);
  });

  it('a rejecting shutdown disables the plugin without rejecting the provider', async () => {
    const f = new ForwardingSpanProcessor();
    const slot = new Slot('p');
    f.add(slot, { onStart() {}, onEnd() {}, forceFlush: async () => {}, shutdown: () => Promise.reject(new Error('socket closed')) });
    await expect(f.shutdown()).resolves.toBeUndefined();
    expect(lines).toEqual(['[otel-monitor] error: plugin p is disabled: span processor shutdown failed: Error: socket closed\n']);
  });

  it('a throwing metric exporter is disabled and the collection still completes for the others', async () => {
    const f = new ForwardingMetricExporter();
    const got: string[] = [];
    f.add(new Slot('bad'), { export: () => { throw new TypeError('no'); }, forceFlush: async () => {}, shutdown: async () => {} });
    f.add(new Slot('good'), { export: (_m, done) => { got.push('good'); done({ code: 0 }); }, forceFlush: async () => {}, shutdown: async () => {} });
    const result = await new Promise((resolve) => f.export({} as never, resolve));
    expect(result).toEqual({ code: 0 });
    expect(got).toEqual(['good']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/plugin bad is disabled: metric exporter export failed: TypeError: no/);
  });

  it('a throwing span/log exporter fails its batch and is disabled; later batches succeed without calling it', async () => {
    const slot = new Slot('exp');
    let calls = 0;
    const guarded = guardExporter(slot, { export: () => { calls++; throw new Error('bad batch'); }, shutdown: async () => {} });
    const first = await new Promise((r) => guarded.export([1], r));
    const second = await new Promise((r) => guarded.export([2], r));
    expect([first, second, calls]).toEqual([{ code: 1 }, { code: 0 }, 1]);
    expect(lines).toHaveLength(1);
  });
});

describe('metric fan-out with a hung exporter', () => {
  it('does not call an exporter again while its previous export is pending, and never waits on it forever', async () => {
    const f = new ForwardingMetricExporter();
    let hungCalls = 0;
    f.add(new Slot('hung'), { export: () => { hungCalls++; }, forceFlush: async () => {}, shutdown: async () => {} });
    f.export({} as never, () => {});
    f.export({} as never, () => {});
    const third = await new Promise((resolve) => f.export({} as never, resolve));
    expect(third).toEqual({ code: 0 });
    expect(hungCalls).toBe(1);
  });
});
