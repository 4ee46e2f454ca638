// A real VictoriaLogs (deploy/victorialogs/build.js builds it into .cache/), for the pipeline tests
// and the soak: started on a free port with its own data directory, queried with LogsQL.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, NODE24 } from './app.js';
import { freePort, spawnTracked, waitFor, type Tracked } from './process.js';
import { tempDir } from './stack.js';

export const VICTORIALOGS_BIN = join(ROOT, '.cache', 'victorialogs', 'victoria-logs');

/** Builds VictoriaLogs (a no-op when the stamp matches) and returns the binary's path. */
export function ensureVictoriaLogs(): string {
  const r = spawnSync(NODE24, [join(ROOT, 'deploy', 'victorialogs', 'build.js')], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 20 * 60_000,
  });
  if (r.status !== 0 || !existsSync(VICTORIALOGS_BIN)) throw new Error(`could not build VictoriaLogs (exit ${r.status ?? r.signal}); see the output above`);
  return VICTORIALOGS_BIN;
}

export interface RunningVictoriaLogs {
  proc: Tracked;
  /** Base URL, for the Collector's VICTORIALOGS_ENDPOINT. */
  url: string;
  /** Runs a LogsQL query; one object per log entry (fields by name). */
  query(logsql: string): Promise<Array<Record<string, string>>>;
  /** Starts it again on the same port and data (after a stop). */
  restart(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** `flags`: extra command-line flags (e.g. `-inmemoryDataFlushInterval=1s`). */
export async function startVictoriaLogs(flags: string[] = []): Promise<RunningVictoriaLogs> {
  const bin = ensureVictoriaLogs();
  const port = await freePort();
  const data = join(tempDir('victorialogs'), 'data');
  const url = `http://127.0.0.1:${port}`;
  const launch = async () => {
    const proc = spawnTracked(bin, [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${data}`, '-retentionPeriod=7d', '-loggerLevel=WARN', ...flags], { cwd: ROOT });
    await Promise.race([
      waitFor(async () => (await fetch(`${url}/health`)).status === 200, { timeoutMs: 60_000, what: 'VictoriaLogs /health' }),
      proc.exited.then((code) => {
        throw new Error(`VictoriaLogs exited (${code}) during start:\n${proc.output()}`);
      }),
    ]);
    return proc;
  };
  const running: RunningVictoriaLogs = {
    proc: await launch(),
    url,
    async query(logsql) {
      const res = await fetch(`${url}/select/logsql/query`, { method: 'POST', body: new URLSearchParams({ query: logsql }) });
      if (!res.ok) throw new Error(`LogsQL ${logsql}: HTTP ${res.status} ${await res.text()}`);
      return (await res.text())
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, string>);
    },
    async restart() {
      running.proc = await launch();
    },
    stop: (signal) => running.proc.stop(signal),
  };
  return running;
}
