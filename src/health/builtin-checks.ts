// The checks OTEL_MONITOR_HEALTH_CHECKS asks for, each through the app's own installed driver
// (pg; ioredis or redis) resolved from the app's directory, so the distribution ships no database
// client and the check speaks to the server exactly as the app does. Every run opens one
// connection, runs the cheapest query and closes it; an aborted run (timeout) closes it too.
import type { BuiltinCheckSpec } from '../config.js';
import { appPaths, requireFromApp } from '../require.js';
import type { HealthCheck } from './monitor.js';
import { log } from '../log.js';

type Loaded = { module: any; name: string } | { missing: string };

function loadDriver(candidates: string[]): Loaded {
  const paths = appPaths();
  const appRequire = requireFromApp(paths);
  for (const name of candidates) {
    try {
      return { module: appRequire(appRequire.resolve(name, { paths })), name };
    } catch {
      /* not installed in the app; try the next one */
    }
  }
  return { missing: `${candidates.join(' or ')} is not installed in the app (looked from ${paths[0]}); install it to use this check` };
}

const ignore = () => {};

/**
 * Loads the driver at the check's first run, not in the preload (the app pays for it only when it
 * has started), and says once, on stderr, when it is missing; every run then fails with that reason.
 */
function lazyDriver(check: string, candidates: string[]): () => { module: any; name: string } {
  let loaded: Loaded | undefined;
  return () => {
    loaded ??= loadDriver(candidates);
    if ('missing' in loaded) {
      log.once('warn', `health-driver:${check}`, `health check "${check}": ${loaded.missing}`);
      throw new Error(loaded.missing);
    }
    return loaded;
  };
}

/** Settles with `work`, but rejects at once when `signal` aborts (after running `onAbort`). */
function abortable<T>(signal: AbortSignal, work: Promise<T>, onAbort: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason as Error);
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

export function postgresCheck(name: string, url: string, timeoutMs: number, drivers = ['pg']): HealthCheck {
  const load = lazyDriver(name, drivers);
  return async (signal) => {
    const driver = load();
    const Client = driver.module.Client ?? driver.module.default?.Client;
    const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
    client.on('error', ignore);
    const close = () => void Promise.resolve(client.end()).catch(ignore);
    try {
      await abortable(signal, client.connect(), close);
      await abortable(signal, client.query('SELECT 1'), close);
      return { driver: 'pg' };
    } finally {
      close();
    }
  };
}

/** `drivers`: the packages to try, in order (tests pin one). */
export function redisCheck(name: string, url: string, timeoutMs: number, drivers = ['ioredis', 'redis']): HealthCheck {
  const load = lazyDriver(name, drivers);
  return async (signal) => {
    const driver = load();
    if (driver.name === 'ioredis') {
      const Redis = driver.module.default ?? driver.module.Redis ?? driver.module;
      // No retries, no offline queue: a down server must fail this run, not wait for a reconnect.
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: timeoutMs,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        enableReadyCheck: false,
        retryStrategy: () => null,
      });
      // The server's own reason (WRONGPASS, NOAUTH…) arrives as an 'error' event; connect() then
      // only says "Connection is closed.", so the event's error is the one reported.
      let reason: unknown;
      client.on('error', (err: unknown) => (reason = err));
      const close = () => client.disconnect();
      try {
        await abortable(signal, client.connect(), close);
        await abortable(signal, client.ping(), close);
        return { driver: 'ioredis' };
      } catch (err) {
        throw reason ?? err;
      } finally {
        close();
      }
    }
    const client = driver.module.createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: false } });
    client.on('error', ignore);
    const close = () => void Promise.resolve((client.destroy ?? client.disconnect).call(client)).catch(ignore);
    try {
      await abortable(signal, client.connect(), close);
      await abortable(signal, client.ping(), close);
      return { driver: 'redis' };
    } finally {
      if (client.isOpen) close();
    }
  };
}

function httpCheck(raw: string): HealthCheck {
  let url: URL;
  try {
    url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    return () => Promise.reject(new Error('the URL is not a valid http(s) URL'));
  }
  // fetch() refuses URLs with credentials: send them as Basic auth instead.
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  return async (signal) => {
    const res = await fetch(url, { signal, headers, redirect: 'manual' });
    await res.body?.cancel().catch(ignore);
    if (res.status >= 400) throw new Error(`HTTP ${res.status}`);
    return { status: res.status };
  };
}

export function builtinCheck(spec: BuiltinCheckSpec, timeoutMs: number): HealthCheck {
  switch (spec.kind) {
    case 'postgres':
      return postgresCheck(spec.name, spec.url, timeoutMs);
    case 'redis':
      return redisCheck(spec.name, spec.url, timeoutMs);
    case 'http':
      return httpCheck(spec.url);
  }
}
