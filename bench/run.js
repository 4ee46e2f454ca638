// Overhead benchmark: bare Node against the upstream register and our preload, interleaved.
//   npm run bench                  full run (~15 min), writes docs/BENCHMARKS.md
//   npm run bench -- --quick       short smoke run, writes a temp file (or --out FILE)
//   npm run bench -- --profile     only CPU-profile the instrumented servers, print per package
//   --configs bare,upstream        restrict the configurations (ids below)
//   --apps realistic               restrict the apps (http, express, realistic)
//   npm run bench -- --gc          only the --trace-gc-nvp runs: survivors per scavenge, old generation,
//                                  bytes allocated per request (also part of the full run)
//   npm run bench -- --wire         only the wire runs: bytes per span per encoding (also part of the full run)
//   --env K=V                       (repeatable) extra environment for the instrumented servers, for a before/after
//   --render FILE                   write docs/BENCHMARKS.md (or --out) again from a run's raw results
//                                  (the JSON path it logs), e.g. after a change to bench/report.js
//   npm run bench -- --collectors  spans per second per core of an agent and a gateway Collector
//                                  (bench/collector-sizing.js; figures in docs/SCALING.md)
//   npm run bench -- --soak 10m    the soak with faults at full durations (test/integration/soak.test.ts
//                                  with SOAK_FULL=1; a longer value adds fault-free time first);
//                                  report in .cache/soak-report-full.json, figures in docs/RELIABILITY.md
// The server runs on CPU 0; this process (sink, probes) and the load generator on CPU 1.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSink } from './sink.js';
import { freePort, startRealisticBackends } from './backends.js';
import { ensureLoadGen, ensurePacedLoadGen, loadGenVersion, runLoad, runPaced } from './load.js';
import { gcCounter } from './gc-counter.js';
import { summariseProfile, formatProfile, loadProfile } from './profile.js';
import { render } from './report.js';
import { measureInstallSizes } from './install-size.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The Node the users run (the `node` devDependency), not whatever is first on PATH.
const NODE_BIN = join(ROOT, 'node_modules/.bin/node');
const NODE = existsSync(NODE_BIN) ? realpathSync(NODE_BIN) : process.execPath;
const ALL_APPS = ['http', 'express', 'realistic'];
// The realistic app POSTs a JSON body to /users/:id (bench/scripts/realistic.lua).
const LOAD_SCRIPT = { realistic: join(ROOT, 'bench/scripts/realistic.lua') };
// Latency at a fixed rate, below every configuration's capacity even on a busy machine (the
// slowest served about 300 req/s in a closed loop here at its worst): p99 then measures the time
// each agent adds to a request. Evenly spaced by vegeta (load.js runPaced), not autocannon's
// per-second bursts.
const FIXED_RATE = { realistic: 200 };

const { values: opts } = parseArgs({
  options: { quick: { type: 'boolean' }, profile: { type: 'boolean' }, gc: { type: 'boolean' }, wire: { type: 'boolean' }, env: { type: 'string', multiple: true, default: [] }, out: { type: 'string' }, configs: { type: 'string' }, apps: { type: 'string' }, collectors: { type: 'boolean' }, soak: { type: 'string' }, render: { type: 'string' } },
});

const EXTRA_ENV = Object.fromEntries(opts.env.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
const APPS = opts.apps ? opts.apps.split(',').filter((a) => ALL_APPS.includes(a)) : ALL_APPS;
/** DATABASE_URL and UPSTREAM_URL for the realistic app, once its backends run (main()). */
let BACKENDS = { env: {}, stop: async () => {} };

const MODE = opts.quick
  ? { reps: 1, seconds: 2, warmup: 1, startupRuns: 2, wireRequests: 300, settleMs: 500, profileSeconds: 3 }
  : { reps: 5, seconds: 10, warmup: 3, startupRuns: 9, wireRequests: 3000, settleMs: 1000, profileSeconds: 10 };

// The upstream register does not register an ESM hook itself (0.82), and the apps are ESM,
// so it needs the loader flag its README documents; without it Express is never patched.
const UPSTREAM = ['--experimental-loader=@opentelemetry/instrumentation/hook.mjs', '--import', '@opentelemetry/auto-instrumentations-node/register'];
// dd-trace sends to the sink as its agent (DD_TRACE_AGENT_URL, set per run); 100% sampling, and
// the agent-side features that would only poll a missing agent are off.
const DDTRACE_ENV = {
  DD_SERVICE: 'bench', DD_TRACE_SAMPLE_RATE: '1', DD_REMOTE_CONFIGURATION_ENABLED: 'false',
  DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false', DD_TRACE_STARTUP_LOGS: 'false',
};
const CONFIGS = [
  { id: 'bare', label: 'bare Node', args: [] },
  { id: 'upstream', label: 'upstream register', args: UPSTREAM },
  { id: 'ddtrace', label: 'dd-trace', args: ['--import', 'dd-trace/initialize.mjs'], env: DDTRACE_ENV },
  { id: 'ours', label: 'ours (defaults)', args: ['--import', '@org/otel-monitor'] },
  { id: 'ours-http-express', label: 'ours, http+express only', args: ['--import', '@org/otel-monitor'], env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,express' } },
];
// The same batch settings for every agent: the spec defaults, spelled out so that no agent runs
// with a bigger queue or shorter delay than another. 100% sampling.
const BATCH_ENV = {
  OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  OTEL_BSP_SCHEDULE_DELAY: '5000',
  OTEL_BSP_MAX_QUEUE_SIZE: '2048',
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512',
  OTEL_BSP_EXPORT_TIMEOUT: '30000',
};
const PROTOCOLS = [
  { label: 'protobuf+gzip', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' } },
  { label: 'protobuf', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_COMPRESSION: 'none' } },
  { label: 'json', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_COMPRESSION: 'none' } },
];

const t0 = Date.now();
const log = (...a) => console.error(`[bench ${((Date.now() - t0) / 1000).toFixed(0)}s]`, ...a);
/** A-B-C, B-C-A, C-A-B…: interleaved, and no configuration always goes first. */
const rotate = (list, i) => list.map((_, j) => list[(i + j) % list.length]);

/** One GET without keep-alive; true on a 200. */
function probe(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

function rssMb(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
}

function serverEnv(cfg, sinkUrl) {
  // Nothing from this shell's OTEL_*/SENTRY_*/NODE_OPTIONS may change what is measured.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OTEL_|SENTRY_|DD_|NODE_OPTIONS$)/.test(k)));
  if (cfg.id === 'bare') return env;
  return { ...env, ...BATCH_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, DD_TRACE_AGENT_URL: sinkUrl, OTEL_SERVICE_NAME: 'bench', ...cfg.env, ...EXTRA_ENV };
}

/** Spawns the app pinned to CPU 0 and resolves once it has answered its first request. */
async function startServer(cfg, app, sinkUrl, { extraArgs = [], env = {}, onStdout } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const argv = ['-c', '0', NODE, ...cfg.args, ...extraArgs, join(ROOT, 'bench/apps', `${app}.js`)];
  const started = performance.now();
  const spawnedAt = Date.now();
  const child = spawn('taskset', argv, { cwd: ROOT, env: { ...serverEnv(cfg, sinkUrl), ...BACKENDS.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d) => output.length < 20_000 && (output += d);
  if (onStdout) child.stdout.on('data', onStdout);
  else child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let gone = false;
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => {
    gone = true;
    resolve(code ?? sig);
  }));
  const kill = async () => {
    if (!gone) process.kill(child.pid, 'SIGKILL');
    await exited;
  };
  // Poll every 2 ms; a refused connection costs the starting server nothing.
  const deadline = Date.now() + 30_000;
  while (!(await probe(url))) {
    if (gone || Date.now() > deadline) {
      await kill();
      throw new Error(`${cfg.id}/${app} did not answer: ${output.trim().split('\n').slice(0, 5).join(' | ')}`);
    }
    await sleep(2);
  }
  const startupMs = performance.now() - started;
  return {
    url,
    startupMs,
    spawnedAt,
    rss: () => rssMb(child.pid),
    cpuSeconds: () => cpuSeconds(child.pid),
    output: () => output,
    /** SIGTERM by pid so agents flush; SIGKILL if it has not exited after 15 s. */
    async stop() {
      if (!gone) process.kill(child.pid, 'SIGTERM');
      // An unref'd timer, so a finished benchmark does not wait for it to fire.
      const graceful = await Promise.race([exited.then(() => true), sleep(15_000, false, { ref: false })]);
      if (!graceful) await kill();
      return graceful;
    },
  };
}

/** Busy CPU ticks of the whole machine, and of this process plus its reaped children. */
function cpuTicks() {
  const all = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const own = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ').slice(11, 15).map(Number);
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  return { busy: sum(all) - all[3] - all[4], total: sum(all), own: sum(own) }; // minus idle and iowait
}

/** Share of the machine's CPU that other work used while the benchmark ran: the noise. */
function otherCpu(start) {
  const end = cpuTicks();
  return Math.max(0, end.busy - start.busy - (end.own - start.own)) / (end.total - start.total);
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: os.cpus().length, // not `nproc`: it counts only the CPUs this pinned process may use
    cpu: (cpuinfo.match(/^model name\s*:\s*(.+)$/m) ?? [])[1] ?? 'unknown',
    memGb: os.totalmem() / 2 ** 30,
  };
}

function versions(loadGen, paced) {
  const pkg = (name) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).stdout.toString().trim();
  return {
    node: spawnSync(NODE, ['--version']).stdout.toString().trim(),
    ours: `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version} (${git})`,
    upstream: pkg('@opentelemetry/auto-instrumentations-node'),
    sdkNode: pkg('@opentelemetry/sdk-node'),
    express: pkg('express'),
    loadGen: loadGenVersion(loadGen, NODE),
    pacedLoadGen: paced.version,
  };
}

/** One load run: start, settle, warm up, measure, stop, count what the sink received. */
async function loadRun(cfg, app, sink, loadGen, pacedGen) {
  sink.take(); // drop whatever a failed earlier run left behind
  const s = await startServer(cfg, app, sink.url);
  try {
    await sleep(MODE.settleMs);
    const rssStart = s.rss();
    const warm = await runLoad(loadGen, NODE, s.url, MODE.warmup, 50, LOAD_SCRIPT[app]);
    const cpu0 = s.cpuSeconds();
    const r = await runLoad(loadGen, NODE, s.url, MODE.seconds, 50, LOAD_SCRIPT[app]);
    // The share of its core the server used: near 1 means the server, not the backends or the
    // load generator on the other core, set the pace.
    const serverCpu = (s.cpuSeconds() - cpu0) / MODE.seconds;
    const rssLoad = s.rss();
    const paced = FIXED_RATE[app] ? await runPaced(pacedGen, NODE, s.url, MODE.seconds, FIXED_RATE[app], LOAD_SCRIPT[app]) : undefined;
    const graceful = await s.stop();
    const sent = sink.take();
    return {
      rps: r.rps, p50: r.p50, p99: r.p99, rssStart, rssLoad, graceful, serverCpu,
      errors: warm.errors + r.errors + (paced?.errors ?? 0),
      pacedRate: FIXED_RATE[app], pacedRps: paced?.rps, pacedP50: paced?.p50, pacedP99: paced?.p99, pacedLatencies: paced?.latencies,
      requests: 1 + warm.requests + r.requests + (paced?.requests ?? 0), // + the start-up probe
      spans: sent.traces.items,
      formats: sent.traces.formats,
      names: Object.fromEntries(sent.traces.names),
      metrics: sent.metrics.items,
      logs: sent.logs.items,
    };
  } finally {
    await s.stop();
  }
}

/**
 * One load run under `--trace-gc-nvp`, apart from the throughput runs so that printing a line per
 * GC does not cost them anything: survivors per scavenge, young-generation size, old generation
 * after the last scavenge, and bytes allocated per request over the measured load.
 */
async function gcRun(cfg, app, sink, loadGen) {
  sink.take();
  const gc = gcCounter();
  const s = await startServer(cfg, app, sink.url, { extraArgs: ['--trace-gc-nvp'], onStdout: (d) => gc.onStdout(String(d)) });
  try {
    await sleep(MODE.settleMs);
    await runLoad(loadGen, NODE, s.url, MODE.warmup, 50, LOAD_SCRIPT[app]);
    gc.reset();
    const r = await runLoad(loadGen, NODE, s.url, MODE.seconds, 50, LOAD_SCRIPT[app]);
    await sleep(200); // the last lines through the pipe
    const c = gc.counts();
    const rssLoad = s.rss();
    await s.stop();
    sink.take();
    return {
      config: cfg.id, app, requests: r.requests, rssLoad, scavenges: c.scavenges,
      survivedPerScavenge: c.scavenges ? (c.survived + c.promoted) / c.scavenges : NaN,
      promotedPerScavenge: c.scavenges ? c.promoted / c.scavenges : NaN,
      youngCapacityMb: c.capacity / 2 ** 20, oldMb: c.heapAfter / 2 ** 20,
      allocatedPerRequest: r.requests ? c.allocated / r.requests : NaN,
    };
  } finally {
    await s.stop();
  }
}

async function gcRuns(configs, sink, loadGen, results) {
  for (const app of APPS) {
    for (const cfg of configs) {
      log(`gc ${app} ${cfg.id}`);
      const g = await attempt(`gc ${app} ${cfg.id}`, results.errors, () => gcRun(cfg, app, sink, loadGen));
      if (g) results.gc.push(g);
    }
  }
}

async function wireRun(cfg, proto, sink) {
  sink.take(); // drop whatever a failed earlier run left behind
  const s = await startServer(cfg, 'http', sink.url, { env: proto.env });
  try {
    // A fixed number of requests, 10 at a time; each is one server span in every agent.
    let left = MODE.wireRequests - 1;
    await Promise.all(Array.from({ length: 10 }, async () => {
      while (left-- > 0) await probe(s.url);
    }));
    await s.stop();
    const t = sink.take().traces;
    return { config: cfg.id, protocol: proto.label, received: t.formats, spans: t.items, bytes: t.wireBytes, requests: MODE.wireRequests };
  } finally {
    await s.stop();
  }
}

async function wireRuns(instrumented, sink, results) {
  for (const cfg of instrumented.filter((c) => c.id === 'upstream' || c.id === 'ours')) {
    // Quick runs keep the two encodings the issue compares and skip plain protobuf.
    for (const proto of PROTOCOLS.filter((p) => !opts.quick || p.label !== 'protobuf')) {
      log(`wire ${cfg.id} ${proto.label}`);
      const w = await attempt(`wire ${cfg.id} ${proto.label}`, results.errors, () => wireRun(cfg, proto, sink));
      if (w) results.wire.push(w);
    }
  }
}

async function profileRun(cfg, app, sink, loadGen) {
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-prof-'));
  const s = await startServer(cfg, app, sink.url, { extraArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  try {
    await runLoad(loadGen, NODE, s.url, 1, 50, LOAD_SCRIPT[app]);
    const loadStart = Date.now();
    const { requests } = await runLoad(loadGen, NODE, s.url, MODE.profileSeconds, 50, LOAD_SCRIPT[app]);
    const loadEnd = Date.now();
    if (!(await s.stop())) throw new Error('server did not exit on SIGTERM, so no profile was written');
    sink.take();
    // Only the measured load: the profile, which starts as the process does, also covers
    // start-up, warm-up and shutdown.
    const prof = loadProfile(dir, s.spawnedAt, loadStart, loadEnd);
    if (!prof) throw new Error(`no .cpuprofile in ${dir}`);
    return { config: cfg.id, app, requests, file: prof.file, rows: summariseProfile(prof.file, prof.window) };
  } finally {
    await s.stop();
  }
}

/** Runs fn, logging and recording a failure instead of aborting the whole benchmark. */
async function attempt(what, errors, fn) {
  try {
    return await fn();
  } catch (err) {
    log(`FAILED ${what}: ${err.message}`);
    errors.push(`${what}: ${err.message}`);
    return undefined;
  }
}

async function main() {
  if (opts.render) return writeReport(JSON.parse(readFileSync(opts.render, 'utf8')));
  if (os.availableParallelism() < 2) throw new Error('needs 2 CPUs: the server and the load generator are pinned apart');
  spawnSync('taskset', ['-a', '-cp', '1', String(process.pid)]); // this process, sink included, on CPU 1
  const cpuAtStart = cpuTicks();
  const loadGen = ensureLoadGen();
  const pacedGen = APPS.some((a) => FIXED_RATE[a]) ? ensurePacedLoadGen(NODE) : { tool: 'none' };
  const sink = await startSink();
  // PostgreSQL and the upstream run on CPU 1 with the load generator (they inherit the pinning).
  if (APPS.includes('realistic')) BACKENDS = await startRealisticBackends(await freePort());

  const skipped = [];
  const wanted = opts.configs ? opts.configs.split(',') : CONFIGS.map((c) => c.id);
  const configs = CONFIGS.filter((c) => wanted.includes(c.id)).filter((c) => {
    const ready = !c.id.startsWith('ours') || existsSync(join(ROOT, 'dist/index.js'));
    if (!ready) skipped.push(`${c.label}: dist/index.js not built`);
    return ready;
  });
  const instrumented = configs.filter((c) => c.id !== 'bare');
  const errors = [];
  const results = {
    meta: {
      date: new Date().toISOString(), quick: !!opts.quick, mode: MODE, machine: machine(), versions: versions(loadGen, pacedGen),
      loadGen, batchEnv: BATCH_ENV, skipped,
      configs: configs.map((c) => ({ id: c.id, label: c.label, cmd: ['node', ...c.args, 'app.js'].join(' '), env: c.env ?? {} })),
    },
    startup: {}, load: {}, wire: [], pino: [], profiles: [], gc: [], errors,
  };

  if (opts.gc) await gcRuns(configs, sink, loadGen, results);
  if (opts.wire) await wireRuns(instrumented, sink, results);
  if (!opts.profile && !opts.gc && !opts.wire) {
    log(`start-up: ${MODE.startupRuns} runs × ${configs.length} configurations`);
    for (let i = 0; i < MODE.startupRuns; i++) {
      for (const cfg of rotate(configs, i)) {
        const ms = await attempt(`start-up ${cfg.id}`, errors, async () => {
          const s = await startServer(cfg, 'express', sink.url);
          await s.stop();
          sink.take();
          return s.startupMs;
        });
        if (ms !== undefined) (results.startup[cfg.id] ??= []).push(ms);
      }
    }
    for (let rep = 0; rep < MODE.reps; rep++) {
      for (const app of APPS) {
        for (const cfg of rotate(configs, rep)) {
          log(`load rep ${rep + 1}/${MODE.reps} ${app} ${cfg.id}`);
          const r = await attempt(`load ${app} ${cfg.id}`, errors, () => loadRun(cfg, app, sink, loadGen, pacedGen));
          if (r) ((results.load[app] ??= {})[cfg.id] ??= []).push(r);
        }
      }
    }
    // Quick runs (npm test) keep the GC pass short: bare Node and our defaults only.
    await gcRuns(opts.quick ? configs.filter((c) => c.id === 'bare' || c.id === 'ours') : configs, sink, loadGen, results);
    await wireRuns(instrumented, sink, results);
    results.pino = pinoRuns(configs.filter((c) => c.id !== 'ours-http-express'), sink.url, errors);
  }
  if (opts.profile || (!opts.quick && !opts.gc && !opts.wire)) {
    // Bare Node too, as the baseline for node:internal and GC time.
    for (const cfg of configs.filter((c) => c.id !== 'ours-http-express')) {
      for (const app of APPS) {
        log(`profile ${cfg.id} ${app}`);
        const p = await attempt(`profile ${app} ${cfg.id}`, errors, () => profileRun(cfg, app, sink, loadGen));
        if (p) results.profiles.push(p);
      }
    }
  }
  await sink.close();
  await BACKENDS.stop();
  results.meta.machine.otherCpu = otherCpu(cpuAtStart);
  if (!opts.quick && !opts.profile && !opts.gc && !opts.wire) results.installSize = await attempt('install size', errors, async () => measureInstallSizes());

  const raw = join(os.tmpdir(), `otel-monitor-bench-${Date.now()}.json`);
  writeFileSync(raw, JSON.stringify(results, null, 2));
  log(`raw results: ${raw}`);
  if (opts.gc || opts.wire) {
    for (const g of results.gc) console.log(JSON.stringify(g));
    for (const w of results.wire) console.log(JSON.stringify({ ...w, bytesPerSpan: w.spans ? w.bytes / w.spans : NaN }));
    return;
  }
  if (opts.profile) {
    for (const p of results.profiles) console.log(`\n### ${p.config}, ${p.app} app (${p.file})\n\n${formatProfile(p.rows, p.requests)}`);
    return;
  }
  writeReport(results);
}

function writeReport(results) {
  const out = opts.out ?? (results.meta.quick ? join(os.tmpdir(), 'otel-monitor-bench-quick.md') : join(ROOT, 'docs/BENCHMARKS.md'));
  const md = keepHandMeasured(render(results), out);
  writeFileSync(out, md);
  console.log(md);
  log(`report written to ${out}`);
}

/**
 * Figures measured by hand (bench/ab-env.js, bench/logger-redact.js) live between these markers in
 * docs/BENCHMARKS.md; a regenerated file keeps them, just before "Where the time goes".
 */
function keepHandMeasured(md, out) {
  const begin = '<!-- hand-measured:begin -->';
  const end = '<!-- hand-measured:end -->';
  const old = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const i = old.indexOf(begin);
  const j = old.indexOf(end);
  if (i === -1 || j < i) return md;
  const block = `${old.slice(i, j + end.length)}\n\n`;
  const at = md.indexOf('## Where the time goes');
  return at === -1 ? `${md}\n${block}` : `${md.slice(0, at)}${block}${md.slice(at)}`;
}

/** CPU per pino log line (bench/pino-lines.mjs), in a burst and paced, for each configuration. */
function pinoRuns(configs, sinkUrl, errors) {
  const out = [];
  for (const mode of ['burst', 'paced']) {
    for (const cfg of configs) {
      log(`pino ${mode} ${cfg.id}`);
      const lines = mode === 'burst' ? (opts.quick ? 5_000 : 100_000) : (opts.quick ? 1_000 : 20_000);
      const r = spawnSync(NODE, [...cfg.args, 'bench/pino-lines.mjs', String(lines), mode], { cwd: ROOT, env: serverEnv(cfg, sinkUrl), encoding: 'utf8' });
      const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('{'));
      if (line) out.push({ config: cfg.id, ...JSON.parse(line) });
      else errors.push(`pino ${mode} ${cfg.id}: ${(r.stderr ?? '').slice(-300)}`);
    }
  }
  return out;
}

if (opts.soak) {
  const minutes = Number(/^(\d+(?:\.\d+)?)m$/.exec(opts.soak)?.[1]);
  if (!(minutes >= 10)) throw new Error(`--soak takes a duration of at least 10m (the full fault schedule), got "${opts.soak}"`);
  // One implementation: the soak test itself, with the full fault durations.
  const r = spawnSync(join(ROOT, 'node_modules/.bin/vitest'), ['run', 'test/integration/soak.test.ts'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, SOAK_FULL: '1', SOAK_MINUTES: String(minutes) },
  });
  const report = join(ROOT, '.cache', 'soak-report-full.json');
  if (existsSync(report)) console.log(readFileSync(report, 'utf8'));
  process.exitCode = r.status ?? 1;
} else if (opts.collectors) {
  const { sizing } = await import('./collector-sizing.js');
  await sizing();
} else {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
