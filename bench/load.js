// Load generators: wrk (apt) when present, because one C thread drives far more requests than
// a Node client and so measures the server rather than itself; autocannon (npm) as a fallback.
// Both run pinned to CPU 1; the server under test runs on CPU 0.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const AUTOCANNON = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Returns 'wrk' (installing it with apt-get if missing and possible) or 'autocannon'. */
export function ensureLoadGen() {
  if (has('wrk')) return 'wrk';
  if (has('apt-get')) {
    console.error('wrk not found; trying apt-get install -y wrk');
    // Bounded: another apt process may hold the lock; give up after 5 minutes.
    spawnSync('apt-get', ['install', '-y', '-o', 'DPkg::Lock::Timeout=120', 'wrk'], { stdio: 'inherit', timeout: 300_000 });
    if (has('wrk')) return 'wrk';
  }
  console.error('wrk unavailable; using autocannon');
  return 'autocannon';
}

export function loadGenVersion(tool, node) {
  if (tool === 'wrk') return (spawnSync('wrk', ['--version']).stdout.toString().match(/wrk (\S+)/) ?? [])[1] ?? 'wrk';
  return `autocannon ${spawnSync(node, [AUTOCANNON, '--version']).stdout.toString().trim()}`;
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', '1', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${out}`))));
  });
}

// The request of bench/scripts/realistic.lua, for autocannon (one fixed id).
const AUTOCANNON_POST = { path: '/users/42', body: '{"name":"Ada Lovelace","email":"ada@example.com","plan":"pro"}' };

const MS = { us: 1e-3, ms: 1, s: 1e3 };

/**
 * Drives `url` for `seconds` with `connections` keep-alive connections; `script` is a wrk Lua
 * script (the realistic app's POST); autocannon then sends the same request (AUTOCANNON_POST).
 * `rate` (requests per second, all connections together) always uses autocannon, which wrk
 * cannot do: latency at a fixed rate below every configuration's capacity, so that p99 shows
 * the time added per request rather than the queue that a saturating closed loop builds.
 * Returns { rps, p50, p99 (ms), requests, errors }.
 */
export async function runLoad(tool, node, url, seconds, connections = 50, script, rate) {
  if (tool === 'wrk' && !rate) {
    const out = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...(script ? ['-s', script] : []), url]);
    const pct = (p) => {
      const m = out.match(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm'));
      return m ? Number(m[1]) * MS[m[2]] : NaN;
    };
    const socket = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
    const non2xx = Number((out.match(/Non-2xx or 3xx responses: (\d+)/) ?? [])[1] ?? 0);
    return {
      rps: Number((out.match(/Requests\/sec:\s+([\d.]+)/) ?? [])[1]),
      p50: pct(50),
      p99: pct(99),
      requests: Number((out.match(/(\d+) requests in/) ?? [])[1]),
      errors: non2xx + (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
    };
  }
  const post = script ? ['-m', 'POST', '-H', 'content-type=application/json', '-b', AUTOCANNON_POST.body] : [];
  const target = script ? new URL(AUTOCANNON_POST.path, url).href : url;
  const paced = rate ? ['-R', String(rate)] : [];
  const r = JSON.parse(await run(node, [AUTOCANNON, '-j', '-c', String(connections), '-d', String(seconds), ...paced, ...post, target]));
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

const VEGETA_BUILD = fileURLToPath(new URL('./vegeta-build.js', import.meta.url));

/**
 * The paced load generator: vegeta (bench/vegeta-build.js builds it when missing, with Go), which
 * spaces requests evenly; autocannon `-R` when it cannot be had, whose per-second bursts it names.
 * Returns { tool, binary?, version }.
 */
export function ensurePacedLoadGen(node) {
  const build = spawnSync(node, [VEGETA_BUILD], { encoding: 'utf8', timeout: 600_000 });
  const binary = (build.stdout ?? '').trim().split('\n').pop()?.match(/^vegeta: (.+)$/)?.[1];
  // The build's stamp names the version (its own -version prints none when built by go install).
  if (build.status === 0 && binary) return { tool: 'vegeta', binary, version: `vegeta ${readFileSync(join(dirname(binary), '.version'), 'utf8').trim()}` };
  console.error(`vegeta unavailable (${(build.stderr ?? '').trim().split('\n').pop() || `exit ${build.status}`}); the fixed-rate latency uses autocannon -R, which sends each second's requests as one burst`);
  return { tool: 'autocannon', version: loadGenVersion('autocannon', node) };
}

/** vegeta's http targets: the realistic POST with ids 1..1000 as the wrk script sends them, or a GET. */
function vegetaTargets(dir, url, script) {
  if (!script) return `GET ${url}\n`;
  const body = join(dir, 'body.json');
  writeFileSync(body, AUTOCANNON_POST.body);
  const one = (id) => `POST ${new URL(`/users/${id}`, url).href}\nContent-Type: application/json\n@${body}\n`;
  return Array.from({ length: 1000 }, (_, i) => one(i + 1)).join('\n');
}

/**
 * Latency at a fixed `rate` (requests per second, evenly spaced, open loop) for `seconds`.
 * Returns { rps, p50, p99 (ms), requests, errors } as runLoad does, and with vegeta every request's
 * latency in ms (`latencies`), so that the report can take percentiles over all repetitions.
 */
export async function runPaced(paced, node, url, seconds, rate, script) {
  if (paced.tool !== 'vegeta') return runLoad('autocannon', node, url, seconds, 20, script, rate);
  const dir = mkdtempSync(join(os.tmpdir(), 'vegeta-'));
  try {
    writeFileSync(join(dir, 'targets'), vegetaTargets(dir, url, script));
    const results = join(dir, 'results.bin');
    await run(paced.binary, ['attack', `-rate=${rate}/1s`, `-duration=${seconds}s`, '-format=http', `-targets=${join(dir, 'targets')}`, '-timeout=30s', `-output=${results}`]);
    const r = JSON.parse(await run(paced.binary, ['report', '-type=json', results]));
    const ok = r.status_codes?.['200'] ?? 0;
    // CSV columns: timestamp, status code, latency (ns), … (vegeta encode).
    const csv = await run(paced.binary, ['encode', '-to=csv', results]);
    const latencies = csv.trim().split('\n').map((line) => Math.round(Number(line.split(',')[2]) / 1e3) / 1e3).filter(Number.isFinite);
    return { rps: r.throughput, p50: r.latencies['50th'] / 1e6, p99: r.latencies['99th'] / 1e6, requests: r.requests, errors: r.requests - ok, latencies };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
