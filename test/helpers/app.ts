import { fileURLToPath } from 'node:url';
import { spawnTracked, type Tracked } from './process.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Node 24 from the node@24 devDependency, whatever `node` the shell has. */
export const NODE24 = `${ROOT}node_modules/node/bin/node`;

export interface RunningApp extends Tracked {
  port: number;
  url: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
}

export interface AppOptions {
  script: string;
  /** Preload flags, e.g. ['--import', '@org/otel-monitor']. */
  preload?: string[];
  env?: Record<string, string>;
  node?: string;
  cwd?: string;
}

/**
 * Starts an app that reports its port over IPC (`process.send({ port })`), with the given preload
 * and a telemetry-friendly environment (fast export intervals so tests don't wait a minute).
 */
export async function startApp(opts: AppOptions): Promise<RunningApp> {
  const tracked = spawnTracked(opts.node ?? NODE24, [...(opts.preload ?? ['--import', '@org/otel-monitor']), opts.script], {
    cwd: opts.cwd ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: '0',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BLRP_SCHEDULE_DELAY: '200',
      ...opts.env,
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not report a port in 30 s:\n${tracked.output()}`)), 30_000);
    tracked.child.on('message', (m: { port?: number }) => {
      if (m?.port) {
        clearTimeout(timer);
        resolve(m.port);
      }
    });
    void tracked.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`app exited (${code}) before listening:\n${tracked.output()}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return Object.assign(tracked, { port, url, get: (path: string, headers?: Record<string, string>) => fetch(`${url}${path}`, { headers }) });
}
