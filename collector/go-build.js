// What the build scripts that compile a Go module from the module proxy share (the Compose CLI,
// VictoriaMetrics, Jaeger, VictoriaLogs, vegeta): finding Go, running it with a progress line while
// a cold build runs, the stamp-lock-skip start of a version-pinned build, and the whole of a build
// that is one `go install`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { acquireBuildLock } from './build-lock.js';

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

/**
 * The start every version-stamped Go build shares (the Compose CLI, VictoriaMetrics, Jaeger): skip
 * when `stamp` names `version` and every output exists, find Go (or exit 1 with `noGo(where)`),
 * take the build lock, and skip after all if a concurrent build finished meanwhile. Returns Go and
 * what the build goes on with: its log, fail (exit 1), done (prints `<name>: <result>`, exit 0)
 * and markBuilt (writes the stamp).
 */
export async function startStampedBuild({ name, version, outputs, stamp, lock, result, noGo }) {
  const log = (msg) => process.stderr.write(`[${name}:build] ${msg}\n`);
  const fail = (msg) => {
    log(`ERROR: ${msg}`);
    process.exit(1);
  };
  const done = () => {
    console.log(`${name}: ${result}`);
    process.exit(0);
  };
  const upToDate = () => outputs.every((f) => existsSync(f)) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === version;
  if (upToDate()) {
    log(`up to date (${version}), skipping build`);
    done();
  }
  const go = findGo();
  if (!go) fail(noGo(goWhere()));
  await acquireBuildLock(lock, log);
  if (upToDate()) done();
  return { go, log, fail, done, markBuilt: () => writeFileSync(stamp, `${version}\n`) };
}

/**
 * A version-stamped build that is one `go install <target>@<version>` of a single binary (VictoriaLogs,
 * vegeta): GOBIN is the binary's directory, where the stamp is too; the lock is
 * `<root>/.cache/<name>.lock`; niced. Exits 0 printing `<name>: <binary>`, or 1 with the error.
 */
export async function installGoBinary({ name, version, target, binary, root, label, noGo }) {
  const outDir = dirname(binary);
  const { go, log, fail, done, markBuilt } = await startStampedBuild({
    name,
    version,
    outputs: [binary],
    stamp: join(outDir, '.version'),
    lock: join(root, '.cache', `${name}.lock`),
    result: binary,
    noGo,
  });
  mkdirSync(outDir, { recursive: true });
  const env = { ...process.env, GOBIN: outDir, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
  // nice: the build shares the machine with tests and other builds.
  const run = goRunner({ go, env, log, nice: true });
  try {
    await run(['install', '-ldflags=-s -w', `${target}@${version}`], outDir, label);
    if (!existsSync(binary)) throw new Error(`go install finished but ${binary} is missing`);
    markBuilt();
  } catch (err) {
    fail(err.message);
  }
  done();
}
