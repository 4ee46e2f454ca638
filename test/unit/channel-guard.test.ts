// The Guard itself: what a failing subscriber, store transform or listener costs the app (nothing),
// and what the tracer does after (says so once, unsubscribes everything it installed).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as dc from 'node:diagnostics_channel';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Guard } from '../../src/instrumentation/channel-guard.js';

let stderr: string[];
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);
beforeEach(() => {
  stderr = [];
  uncaught.length = 0;
  process.on('uncaughtException', onUncaught);
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr.push(String(s));
    return true;
  });
});
afterEach(() => {
  process.off('uncaughtException', onUncaught);
  vi.restoreAllMocks();
});

describe('Guard', () => {
  it('a throwing subscriber: one line naming the tracer, every channel of that tracer unsubscribed, nothing thrown', async () => {
    const guard = new Guard('unit-a');
    const seen: string[] = [];
    guard.subscribe('guard.test.a1', 'a1', () => {
      seen.push('a1');
      throw new Error('bug in a1');
    });
    guard.subscribe('guard.test.a2', 'a2', () => seen.push('a2'));
    const other = new Guard('unit-b');
    other.subscribe('guard.test.a2', 'b', () => seen.push('b'));
    dc.channel('guard.test.a1').publish({});
    dc.channel('guard.test.a1').publish({});
    dc.channel('guard.test.a2').publish({});
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['a1', 'b']);
    expect(dc.channel('guard.test.a1').hasSubscribers).toBe(false);
    expect(guard.active).toBe(false);
    expect(other.active).toBe(true);
    expect(stderr.join('')).toBe('[otel-monitor] error: the unit-a tracer failed in a1 and was switched off; the app keeps running without it: Error: bug in a1\n');
    expect(uncaught).toEqual([]);
  });

  it('a throwing store transform leaves the current context in place, and the store is unbound', async () => {
    const guard = new Guard('unit-c');
    const store = new AsyncLocalStorage<string>();
    const channel = dc.channel('guard.test.c');
    guard.bindStore(channel as dc.Channel<unknown, unknown>, store, 'start', () => {
      throw new Error('bad transform');
    });
    const inside = store.run('outer', () => channel.runStores({}, () => store.getStore()));
    expect(inside).toBe('outer');
    await new Promise((r) => setImmediate(r));
    expect(uncaught).toEqual([]);
    expect(channel.hasSubscribers).toBe(false);
    expect(stderr).toHaveLength(1);
  });

  it('a wrapped listener that throws never reaches the emitter, and is a no-op once switched off', () => {
    const guard = new Guard('unit-d');
    let calls = 0;
    const listener = guard.wrap('close', function (this: { n: number }) {
      calls += this.n;
      throw new Error('listener bug');
    });
    expect(() => listener.call({ n: 1 })).not.toThrow();
    listener.call({ n: 1 });
    expect(calls).toBe(1);
    expect(stderr).toHaveLength(1);
  });
});
