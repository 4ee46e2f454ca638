// lifecycle.ts around process exit, in-process with a fake SDK: process.kill and process.exit are
// stubbed, signals are emitted on `process` directly.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Sdk } from '../../src/sdk.js';

type Lifecycle = typeof import('../../src/lifecycle.js');

type Listener = (...args: unknown[]) => void;
const saved = { exit: process.exit, listeners: new Map<string, Listener[]>() };
/** process's listener API, over the events these tests stub (signals and beforeExit together). */
const proc = process as unknown as {
  listeners(e: string): Listener[];
  removeAllListeners(e: string): void;
  on(e: string, l: Listener): void;
};
const EVENTS = ['SIGTERM', 'SIGINT', 'beforeExit'] as const;
let exit: ReturnType<typeof vi.fn>;
let kill: ReturnType<typeof vi.spyOn>;
let stderr: string[];

function deferred() {
  let resolve!: (v: boolean) => void;
  const promise = new Promise<boolean>((r) => (resolve = r));
  return { promise, resolve };
}

function fakeSdk(shutdownResult: Promise<boolean> = Promise.resolve(true)) {
  return {
    instrumentations: [],
    hookMode: 'none',
    sentry: false,
    flush: vi.fn(async () => true),
    shutdown: vi.fn(() => shutdownResult),
  } as unknown as Sdk & { flush: ReturnType<typeof vi.fn>; shutdown: ReturnType<typeof vi.fn> };
}

async function load(sdk: Sdk, timeoutMs = 1234): Promise<Lifecycle> {
  vi.resetModules();
  const lifecycle = (await import('../../src/lifecycle.js')) as Lifecycle;
  lifecycle.attachSdk(sdk, timeoutMs);
  return lifecycle;
}

const tick = () => new Promise((r) => setImmediate(r));

beforeEach(() => {
  // The test runner's own listeners would look like the app's.
  for (const e of EVENTS) {
    saved.listeners.set(e, proc.listeners(e));
    proc.removeAllListeners(e);
  }
  exit = vi.fn();
  process.exit = exit as unknown as typeof process.exit;
  kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr.push(String(s));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  process.exit = saved.exit;
  for (const e of EVENTS) {
    proc.removeAllListeners(e);
    for (const l of saved.listeners.get(e) ?? []) proc.on(e, l);
  }
});

describe('a termination signal the app does not handle', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: shuts down within the timeout, then re-raises ${signal} with our listener gone`, async () => {
      const d = deferred();
      const sdk = fakeSdk(d.promise);
      await load(sdk, 777);
      process.emit(signal, signal);
      expect(sdk.shutdown).toHaveBeenCalledWith(777);
      await tick();
      expect(kill).not.toHaveBeenCalled();
      d.resolve(true);
      await tick();
      expect(kill).toHaveBeenCalledWith(process.pid, signal);
      expect(process.listenerCount(signal)).toBe(0);
      expect(exit).not.toHaveBeenCalled();
    });
  }
});

describe('a termination signal the app handles itself', () => {
  it('only flushes, and re-raises nothing', async () => {
    const sdk = fakeSdk();
    await load(sdk);
    process.on('SIGTERM', () => {});
    process.emit('SIGTERM', 'SIGTERM');
    await tick();
    expect(sdk.flush).toHaveBeenCalled();
    expect(sdk.shutdown).not.toHaveBeenCalled();
    expect(kill).not.toHaveBeenCalled();
  });

  it("holds the app's process.exit(code) until the shutdown ends, then exits with that code", async () => {
    const d = deferred();
    const sdk = fakeSdk(d.promise);
    await load(sdk);
    process.on('SIGTERM', () => process.exit(3));
    process.emit('SIGTERM', 'SIGTERM');
    expect(sdk.shutdown).toHaveBeenCalled();
    expect(process.exitCode).toBe(3);
    await tick();
    expect(exit).not.toHaveBeenCalled();
    d.resolve(true);
    await tick();
    expect(exit).toHaveBeenCalledWith(3);
    expect(process.exit).toBe(exit);
    process.exitCode = undefined;
  });

  it('a second process.exit exits at once: an app that insists is never held', async () => {
    const sdk = fakeSdk(new Promise(() => {}));
    await load(sdk);
    process.on('SIGTERM', () => process.exit(0));
    process.emit('SIGTERM', 'SIGTERM');
    process.exit(9);
    expect(exit).toHaveBeenCalledWith(9);
    process.exitCode = undefined;
  });

  it('no signal, no hold: process.exit is untouched', async () => {
    await load(fakeSdk());
    expect(process.exit).toBe(exit);
  });
});

describe('a natural exit (beforeExit)', () => {
  it('shuts down, then ends the process: what is left running is only the exporters', async () => {
    const sdk = fakeSdk();
    await load(sdk);
    process.emit('beforeExit', 0);
    await tick();
    expect(sdk.shutdown).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith();
    process.emit('beforeExit', 0);
    await tick();
    expect(sdk.shutdown).toHaveBeenCalledTimes(1);
  });

  it('leaves the end to Node when the app listens for beforeExit itself', async () => {
    const sdk = fakeSdk();
    await load(sdk);
    process.on('beforeExit', () => {});
    process.emit('beforeExit', 0);
    await tick();
    expect(sdk.shutdown).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
  });

  it('says in one line when the shutdown ran out of time', async () => {
    await load(fakeSdk(Promise.resolve(false)), 250);
    process.emit('beforeExit', 0);
    await tick();
    const lines = stderr.join('').split('\n').filter(Boolean);
    expect(lines).toEqual([expect.stringMatching(/^\[otel-monitor\] warn: telemetry not delivered at exit: .*250 ms shutdown timeout/)]);
  });
});
