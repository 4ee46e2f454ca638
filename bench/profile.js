// Summarises a V8 .cpuprofile (from `node --cpu-prof`) by package: self time of every frame,
// grouped by the node_modules package its script belongs to, `node:internal` for Node's own
// JavaScript, `app` for the benchmark app, or V8's pseudo-frames such as (garbage collector).
// Usage: node bench/profile.js file.cpuprofile
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function packageOf(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(V8 builtins, native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) return 'node:internal';
  const path = url.replace(/^file:\/\//, '');
  if (path.startsWith(`${ROOT}bench/`)) return 'app';
  // This package's dist/, or another build of it outside node_modules (bench/ab-env.js
  // PRELOAD=…/dist/index.js, or a copy named dist-<something>): one name, so the functions of a
  // before and an after line up.
  if (/\/dist(?:-[\w.]+)?\//.test(path)) return '@org/otel-monitor';
  return path;
}

/**
 * Self time (µs) summed by `keyOf(node)` over the samples of a .cpuprofile taken inside `window`
 * ({ fromUs, toUs }, from the profile's start), so that start-up and shutdown, which --cpu-prof
 * records too, do not count as time under load. The start is the anchor: the end moves with however
 * long the process takes to exit.
 */
function selfTime(file, window, keyOf) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const keyById = new Map(prof.nodes.map((n) => [n.id, keyOf(n)]));
  const us = new Map();
  let t = prof.startTime;
  // timeDeltas[i] is the time elapsed before sample i; attribute it to that sample's frame.
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    if (t - prof.startTime < window.fromUs || t - prof.startTime > window.toUs) return;
    const key = keyById.get(id);
    us.set(key, (us.get(key) ?? 0) + dt);
  });
  return us;
}

/**
 * The .cpuprofile that `--cpu-prof-dir=dir` wrote, and the window of it that was under load: the
 * profile's clock starts when the process does (`spawnedAt`), all in Date.now() milliseconds.
 */
export function loadProfile(dir, spawnedAt, loadStart, loadEnd) {
  const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!name) return undefined;
  return { file: join(dir, name), window: { fromUs: (loadStart - spawnedAt) * 1000, toUs: (loadEnd - spawnedAt) * 1000 } };
}

/** Returns [{ pkg, ms, share }] sorted by self time, share being of all non-idle time. */
export function summariseProfile(file, window = { fromUs: 0, toUs: Infinity }) {
  const us = selfTime(file, window, (n) => packageOf(n.callFrame.url, n.callFrame.functionName));
  us.delete('(idle)'); // the server waiting for the network is not cost
  const total = [...us.values()].reduce((a, b) => a + b, 0) || 1;
  return [...us]
    .map(([pkg, t]) => ({ pkg, ms: t / 1000, share: t / total }))
    .sort((a, b) => b.ms - a.ms);
}

/**
 * Self time per request (µs) of every function, as a Map keyed `package function file:line`,
 * for the samples inside `window`; idle time excluded.
 */
export function selfTimeByFunction(file, window, requests) {
  const us = selfTime(file, window, ({ callFrame: f }) => `${packageOf(f.url, f.functionName)} ${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-1)[0]}:${f.lineNumber + 1}`);
  const perRequest = new Map();
  for (const [key, t] of us) if (!key.startsWith('(idle)')) perRequest.set(key, t / requests);
  return perRequest;
}

/** A Markdown table; with the number of requests served in the window, also µs per request. */
export function formatProfile(rows, requests, top = 15) {
  const perReq = (ms) => (requests ? ` | ${((ms * 1000) / requests).toFixed(1)}` : '');
  const lines = [`| package | self time (ms) | share of busy time${requests ? ' | µs per request' : ''} |`, `|---|---:|---:${requests ? '|---:' : ''}|`];
  for (const r of rows.slice(0, top)) lines.push(`| ${r.pkg} | ${r.ms.toFixed(0)} | ${(r.share * 100).toFixed(1)}%${perReq(r.ms)} |`);
  const rest = rows.slice(top);
  if (rest.length) {
    const ms = rest.reduce((a, r) => a + r.ms, 0);
    const share = rest.reduce((a, r) => a + r.share, 0);
    lines.push(`| ${rest.length} others | ${ms.toFixed(0)} | ${(share * 100).toFixed(1)}%${perReq(ms)} |`);
  }
  if (requests) {
    const ms = rows.reduce((a, r) => a + r.ms, 0);
    lines.push(`| **total** | ${ms.toFixed(0)} | 100% | ${((ms * 1000) / requests).toFixed(1)} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of process.argv.slice(2)) console.log(`${f}\n${formatProfile(summariseProfile(f))}\n`);
}
