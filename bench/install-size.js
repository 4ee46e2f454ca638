// What every user installs, measured the way a user gets it: the packed tarball (or upstream's
// packages) `npm install --omit=dev` into an empty app, then files, bytes and copies per package.
//   node bench/install-size.js           prints the "Install size" section of docs/BENCHMARKS.md
//   node bench/install-size.js --write   replaces that section in docs/BENCHMARKS.md
// `npm run bench` measures it too; test/integration/package-install.test.ts uses the same helpers.
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const TARGET = { bytes: 100 * 1000 * 1000, files: 12_000 };

/**
 * An empty app in a temp directory with `specs` installed as a user would (`--omit=dev`), then
 * `later` in a second `npm install`, as a user adds an optional peer to an existing install.
 */
export function installIntoEmptyApp(specs, later = []) {
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-install-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'empty-app', version: '1.0.0', private: true }));
  for (const step of [specs, later].filter((s) => s.length)) {
    const args = ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...step];
    execFileSync('npm', args, { cwd: dir, stdio: 'pipe' });
  }
  return dir;
}

/**
 * Packs this repository into `dir` and returns the tarball's path. `build: false` packs dist/ as it
 * is, without prepack's rebuild (which deletes dist/ first, under any test running beside it).
 */
export function packInto(dir, { build = true } = {}) {
  const args = ['pack', '--silent', '--pack-destination', dir, ...(build ? [] : ['--ignore-scripts'])];
  const out = execFileSync('npm', args, { cwd: ROOT }).toString();
  return join(dir, out.trim().split('\n').pop());
}

/**
 * Files, bytes (sum of file sizes, as `du -sb` minus directories), disk bytes (allocated blocks, as
 * `du -s`) and, per package name, every directory it is installed in.
 */
export function measureTree(nodeModules) {
  const tree = { files: 0, bytes: 0, diskBytes: 0, packages: new Map() };
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      const st = lstatSync(path);
      tree.files++;
      tree.bytes += st.size;
      tree.diskBytes += st.blocks * 512;
      // A package's own package.json sits directly in node_modules/<name> or node_modules/@scope/<name>.
      if (entry.name === 'package.json' && /node_modules\/(@[^/]+\/)?[^/@]+$/.test(dir)) {
        const { name } = JSON.parse(readFileSync(path, 'utf8'));
        if (name) tree.packages.set(name, [...(tree.packages.get(name) ?? []), dir.slice(nodeModules.length + 1)]);
      }
    }
  };
  walk(nodeModules);
  return tree;
}

/** Every name -> versions that `npm ls --all` prints for the app, deduped entries included. */
export function lsVersions(appDir) {
  // npm ls exits 1 on an invalid peer range (upstream's tree has one) but still prints the tree.
  const out = spawnSync('npm', ['ls', '--all', '--json'], { cwd: appDir, maxBuffer: 64 << 20, encoding: 'utf8' }).stdout;
  const versions = new Map();
  const visit = (deps) => {
    for (const [name, node] of Object.entries(deps ?? {})) {
      if (node.version) versions.set(name, (versions.get(name) ?? new Set()).add(node.version));
      visit(node.dependencies);
    }
  };
  visit(JSON.parse(out).dependencies);
  return versions;
}

function summarise(label, appDir) {
  const tree = measureTree(join(appDir, 'node_modules'));
  const names = [...tree.packages.keys()];
  const otel = [...lsVersions(appDir)].filter(([n]) => n.startsWith('@opentelemetry/'));
  return {
    label,
    files: tree.files,
    bytes: tree.bytes,
    diskBytes: tree.diskBytes,
    packages: names.length,
    otelPackages: otel.length,
    otelWithSeveralVersions: otel.filter(([, v]) => v.size > 1).map(([n, v]) => `${n} (${[...v].join(', ')})`),
    grpc: names.filter((n) => n.startsWith('@grpc/')),
  };
}

/** Ours (the packed tarball) and upstream (auto-instrumentations-node + sdk-node), measured alike. */
export function measureInstallSizes() {
  const version = (name) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  const packDir = mkdtempSync(join(tmpdir(), 'otel-monitor-pack-'));
  const upstreamSpecs = [`@opentelemetry/auto-instrumentations-node@${version('@opentelemetry/auto-instrumentations-node')}`, `@opentelemetry/sdk-node@${version('@opentelemetry/sdk-node')}`];
  const ours = packInto(packDir);
  // The optional peer dependencies, each as a user who needs it adds it.
  const peers = ['@sentry/node', '@fastify/otel', '@opentelemetry/resource-detector-gcp'].map((n) => `${n}@${version(n)}`);
  const subjects = [
    ['@org/otel-monitor (packed tarball)', [ours]],
    ...peers.map((p) => [`@org/otel-monitor, then optional peer ${p}`, [ours], [p]]),
    [`upstream: ${upstreamSpecs.join(' + ')}`, upstreamSpecs],
  ];
  try {
    return subjects.map(([label, specs, later]) => {
      const dir = installIntoEmptyApp(specs, later);
      try {
        return summarise(label, dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  } finally {
    rmSync(packDir, { recursive: true, force: true });
  }
}

const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
const several = (list) => (list.length > 3 ? `${list.length}, e.g. ${list.slice(0, 3).join(', ')}` : list.join(', ') || 'none');

export function renderInstallSize(rows) {
  const head = ['installed', 'files', 'bytes (`du -sb`)', 'on disk (`du -s`)', 'packages', '@opentelemetry packages', 'with several versions', 'gRPC'];
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [
    '## Install size',
    '',
    `\`npm install --omit=dev\` into an empty app; an optional peer is added by a second \`npm install\`, as a user adds it. Target (issue 10): at most ${TARGET.bytes / 1e6} MB and ${TARGET.files.toLocaleString('en-US')} files, one version of each @opentelemetry package, no gRPC; \`test/integration/package-install.test.ts\` fails above it. \`node bench/install-size.js --write\` remeasures this section alone.`,
    '',
    line(head),
    `|---|${head.slice(1).map(() => '---:').join('|')}|`,
    ...rows.map((r) => line([r.label, r.files.toLocaleString('en-US'), mb(r.bytes), mb(r.diskBytes), r.packages, r.otelPackages, several(r.otelWithSeveralVersions), r.grpc.join(', ') || 'none'])),
    '',
    'Before issue 10 (at fc4f3c4, measured the same way) the tarball installed 22,541 files, 161.0 MB (215 MB on disk): `@opentelemetry/sdk-node` as a runtime dependency nested second copies of 15 OTel packages and the gRPC exporters, and `@sentry/node` brought its bundler plugins (`oxc-parser`, the 22 MB `sentry` CLI binary package).',
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const section = renderInstallSize(measureInstallSizes());
  if (process.argv.includes('--write')) {
    const file = join(ROOT, 'docs/BENCHMARKS.md');
    const doc = readFileSync(file, 'utf8');
    const start = doc.indexOf('## Install size');
    const next = doc.indexOf('\n## ', start + 1);
    const end = next < 0 ? doc.length : next + 1;
    const method = doc.indexOf('## Method');
    const updated = start >= 0 ? doc.slice(0, start) + section + '\n' + doc.slice(end) : doc.slice(0, method) + section + '\n' + doc.slice(method);
    writeFileSync(file, updated);
  }
  console.log(section);
}
