// Finds and loads one plugin module named in OTEL_MONITOR_PLUGINS, without blocking start-up.
//
// The preload is synchronous (the CJS entry require()s it), so modules are loaded with require():
// CommonJS as usual, and ES modules through require(esm), which Node >= 22.12 does synchronously
// for any module graph without top-level await. A module that needs the asynchronous loader (it
// uses top-level await) is imported in the background instead; its contributions then attach
// after start-up through the forwarding processors (see host.ts).
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { OtelMonitorPlugin } from './types.js';

export type Loaded = { sync: OtelMonitorPlugin } | { async: Promise<OtelMonitorPlugin> };

/** Relative and absolute paths from the app's working directory; package names from the app's directory. */
export function resolvePlugin(spec: string, cwd = process.cwd(), appDir = mainDir()): string {
  const isPath = spec.startsWith('./') || spec.startsWith('../') || isAbsolute(spec);
  if (isPath) return createRequire(resolve(cwd, 'noop.js')).resolve(resolve(cwd, spec));
  return createRequire(resolve(appDir, 'noop.js')).resolve(spec);
}

function mainDir(): string {
  // process.argv[1] is the app's entry script while preloads run; a REPL or -e has none.
  const main = process.argv[1];
  return main ? dirname(resolve(main)) : process.cwd();
}

/** The plugin object from a module namespace: a default export or the module itself. */
export function pluginFrom(mod: unknown): OtelMonitorPlugin {
  const m = mod as { default?: unknown; initialize?: unknown };
  const candidate = (typeof m?.initialize === 'function' ? m : m?.default) as Partial<OtelMonitorPlugin> | undefined;
  if (!candidate || typeof candidate.initialize !== 'function') {
    throw new TypeError('the module exports no plugin ({ name, initialize(ctx), flush?(), close?() })');
  }
  if (typeof candidate.name !== 'string' || candidate.name === '') throw new TypeError('the plugin has no name');
  return candidate as OtelMonitorPlugin;
}

const NEEDS_ASYNC = new Set(['ERR_REQUIRE_ASYNC_MODULE', 'ERR_REQUIRE_ESM']);

/** Throws when the module cannot be found or fails while loading; never blocks on an async module. */
export function loadPlugin(spec: string): Loaded {
  const file = resolvePlugin(spec);
  try {
    return { sync: pluginFrom(createRequire(file)(file)) };
  } catch (err) {
    if (!NEEDS_ASYNC.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    return { async: import(pathToFileURL(file).href).then(pluginFrom) };
  }
}
