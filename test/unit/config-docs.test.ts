// docs/CONFIGURATION.md and the code agree: every environment variable read anywhere in src/ is
// documented, and every OTEL_MONITOR_* variable the page documents is read. (Standard OTEL_* and
// SENTRY_* variables may be documented as honoured by the libraries we hand them to.)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VARIABLES } from '../helpers/config-arbitraries.js';

const root = new URL('../../', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.c?ts$/.test(e.name) ? [join(root, dir, e.name)] : [],
  );
}

/** `A_{X,Y}_B` → A_X_B, A_Y_B; `A[_V4]` → A, A_V4: the shorthands the page writes names in. */
function expand(name: string): string[] {
  const brace = /\{([^{}]*)\}/.exec(name);
  if (brace) return brace[1]!.split(',').flatMap((alt) => expand(name.replace(brace[0], alt.trim())));
  const optional = /\[([^[\]]*)\]/.exec(name);
  if (optional) return [...expand(name.replace(optional[0], '')), ...expand(name.replace(optional[0], optional[1]!))];
  return [name];
}

const doc = readFileSync(join(root, 'docs/CONFIGURATION.md'), 'utf8');
const documented = new Set([...doc.matchAll(/`([^`\s]+)`/g)].flatMap((m) => expand(m[1]!)));
const code = sources('src').map((f) => readFileSync(f, 'utf8')).join('\n');
/** What config reads, plus what the CLI reads through its own io.env (its Prometheus, Alertmanager, Sentry). */
const read = new Set([...VARIABLES, ...[...code.matchAll(/\benv\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!)]);

describe('docs/CONFIGURATION.md', () => {
  it('documents every variable read in src/', () => {
    expect(read.size).toBeGreaterThan(80);
    expect([...read].filter((n) => !documented.has(n))).toEqual([]);
  });

  it('documents only OTEL_MONITOR_* variables that src/ reads', () => {
    const ours = [...documented].filter((n) => /^OTEL_MONITOR_[A-Z0-9_]+$/.test(n));
    expect(ours.length).toBeGreaterThan(30);
    expect(ours.filter((n) => !read.has(n))).toEqual([]);
  });
});
