// What the build scripts that compile a Go module from the module proxy share (the Compose CLI,
// VictoriaMetrics): finding Go, and running it with a progress line while a cold build runs.
import { spawn, spawnSync } from 'node:child_process';

/** The first working `go`: $GO when set (so a wrong $GO fails loudly), else PATH or /usr/local/go. */
export function findGo() {
  const candidates = process.env.GO ? [process.env.GO] : ['go', '/usr/local/go/bin/go'];
  return candidates.find((c) => spawnSync(c, ['version']).status === 0);
}

/** Where findGo() looked, for the "Go is not installed" message. */
export const goWhere = () => (process.env.GO ? `at GO=${process.env.GO}` : 'on PATH or in /usr/local/go/bin');

/**
 * A runner of `go ARGS` in a directory: resolves with stdout, rejects with the output's tail.
 * Logs a line every 20 s while it runs; `nice` lowers its priority (the machine is shared).
 */
export function goRunner({ go, env, log, nice = false }) {
  return (args, cwd, what) => {
    const started = Date.now();
    log(`${what}...`);
    return new Promise((resolve, reject) => {
      const [cmd, argv] = nice ? ['nice', ['-n', '10', go, ...args]] : [go, args];
      const child = spawn(cmd, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let errOut = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (errOut = (errOut + d).slice(-8000)));
      const timer = setInterval(() => log(`  ...still ${what.toLowerCase()} (${Math.round((Date.now() - started) / 1000)} s)`), 20_000);
      child.on('error', (err) => (clearInterval(timer), reject(err)));
      child.on('exit', (code) => {
        clearInterval(timer);
        if (code !== 0) return reject(new Error(`${what} failed (exit ${code}):\n${errOut}${out.slice(-4000)}`));
        log(`${what}: done in ${Math.round((Date.now() - started) / 1000)} s`);
        resolve(out);
      });
    });
  };
}
