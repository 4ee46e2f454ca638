import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Listens on a free 127.0.0.1 port (the test stand-ins' servers); `close` drops keep-alive connections too. */
export async function listenLocal(server: Server): Promise<{ url: string; port: number; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url: `http://127.0.0.1:${port}`, port, close };
}

/** A free TCP port on 127.0.0.1, found by binding port 0 and releasing it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Tracked {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<number | string>;
}

const live = new Set<Tracked>();

/**
 * Spawns a process whose stdout+stderr are captured, and which is stopped by its pid
 * (never by name) when `stop()` or `stopAll()` runs.
 */
export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions = {}): Tracked {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
    child.on('error', (err) => {
      out += String(err);
      resolve(-1);
    });
  });
  const tracked: Tracked = {
    child,
    output: () => out,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(child.pid, signal);
        } catch {
          /* already gone */
        }
        const timer = setTimeout(() => {
          if (child.pid && child.exitCode === null && child.signalCode === null) {
            try {
              process.kill(child.pid, 'SIGKILL');
            } catch {
              /* already gone */
            }
          }
        }, graceMs);
        const code = await exited;
        clearTimeout(timer);
        live.delete(tracked);
        return code;
      }
      live.delete(tracked);
      return exited;
    },
  };
  live.add(tracked);
  return tracked;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((t) => t.stop()));
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 200, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

/** Waits until an HTTP GET on `url` answers with a status below 500. */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await fetch(url)).status < 500, { timeoutMs, what: url });
}
