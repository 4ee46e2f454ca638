// Every diagnostics-channel subscriber, store transform and listener the distribution installs goes
// through a Guard (in the spirit of dd-trace's `addSub`). Node turns an error thrown by a channel
// subscriber into an uncaughtException, and one thrown by a listener on the app's response into an
// 'error' the app never expected: either would kill the app we are meant to watch. So the first
// error a tracer's code throws logs one line naming the tracer, unsubscribes everything that tracer
// installed, and the app keeps running, untraced on that path, with its context untouched.
import * as dc from 'node:diagnostics_channel';
import type { AsyncLocalStorage } from 'node:async_hooks';
import { log, describe } from '../log.js';

/** What Guard.run returns when the handler failed (or the tracer is already off). */
export const FAILED: unique symbol = Symbol('otel-monitor.guard.failed');
type TracingHandlers<T extends object> = Partial<dc.TracingChannelSubscribers<T>>;

/** Test-only: `tracer` or `tracer:handler` names whose guarded code throws (OTEL_MONITOR_TEST_FAULT). */
let faults: ReadonlySet<string> = new Set();

export function injectFaults(names: readonly string[] | undefined): void {
  faults = new Set(names ?? []);
}

export class Guard {
  private disabled = false;
  private readonly undo: Array<() => void> = [];

  constructor(readonly tracer: string) {}

  get active(): boolean {
    return !this.disabled;
  }

  /**
   * Runs `fn(arg)` for a handler (`arg` is `this` inside it too); on its first failure the tracer is
   * switched off and FAILED returned. One call per channel message: no closure is allocated here.
   */
  run<A, R>(handler: string, fn: (this: A, arg: A) => R, arg: A): R | typeof FAILED {
    if (this.disabled) return FAILED;
    try {
      if (faults.size > 0 && (faults.has(this.tracer) || faults.has(`${this.tracer}:${handler}`))) {
        throw new Error(`fault injected into ${handler} (OTEL_MONITOR_TEST_FAULT)`);
      }
      return fn.call(arg, arg);
    } catch (err) {
      this.disable(handler, err);
      return FAILED;
    }
  }

  /** A guarded copy of a listener, for the app's emitters (a response's 'close'); `this` is the emitter. */
  wrap<This>(handler: string, fn: (this: This) => void): (this: This) => void {
    const run = (self: This) => this.run(handler, fn, self);
    return function (this: This) {
      run(this);
    };
  }

  subscribe<T>(channel: string, handler: string, fn: (message: T) => void): void {
    const guarded = (message: unknown) => {
      this.run(handler, fn, message as T);
    };
    dc.subscribe(channel, guarded);
    this.undo.push(() => dc.unsubscribe(channel, guarded));
  }

  /**
   * Binds `store` to a channel through `transform`. A failing transform leaves the current store
   * value in place (Node would otherwise run the code with no store and throw the error later).
   */
  bindStore<T, S>(channel: dc.Channel<unknown, T>, store: AsyncLocalStorage<S>, handler: string, transform: (message: T) => S): void {
    const anyStore = store as AsyncLocalStorage<unknown>;
    channel.bindStore(anyStore, (message) => {
      const next = this.run(handler, transform, message);
      return next === FAILED ? store.getStore() : next;
    });
    this.undo.push(() => channel.unbindStore(anyStore));
  }

  subscribeTracing<T extends object>(channel: dc.TracingChannel<unknown, T>, handlers: TracingHandlers<T>): void {
    const guarded: TracingHandlers<T> = {};
    for (const [event, fn] of Object.entries(handlers) as Array<[keyof TracingHandlers<T>, ((m: T) => void) | undefined]>) {
      if (fn) {
        guarded[event] = (message: T) => {
          this.run(event, fn, message);
        };
      }
    }
    channel.subscribe(guarded as dc.TracingChannelSubscribers<T>);
    this.undo.push(() => channel.unsubscribe(guarded as dc.TracingChannelSubscribers<T>));
  }

  /** For a patched method's own try/catch (pg): switches the tracer off as a failing handler would. */
  fail(handler: string, err: unknown): void {
    if (!this.disabled) this.disable(handler, err);
  }

  private disable(handler: string, err: unknown): void {
    this.disabled = true;
    for (const undo of this.undo.splice(0)) {
      try {
        undo();
      } catch {
        // already gone: nothing more to undo
      }
    }
    log.once(
      'error',
      `guard:${this.tracer}`,
      `the ${this.tracer} tracer failed in ${handler} and was switched off; the app keeps running without it: ${describe(err)}`,
    );
  }
}
