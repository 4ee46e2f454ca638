import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// The OpenTelemetry 3.x packages start far faster through their CJS builds than through ESM import
// (about 1.2 s against 2.0 s for a full preload), so the preload loads them with require().
export const requireCjs = createRequire(import.meta.url);

/** Where the app's own packages resolve from: its entry script's directory, then the working directory. */
export function appPaths(): string[] {
  const main = process.argv[1];
  return [main ? dirname(main) : process.cwd(), process.cwd()];
}

/** A require() from the app's directory, for packages that must be the app's own copy (its drivers, pino, Fastify). */
export function requireFromApp(paths: string[] = appPaths()): NodeJS.Require {
  return createRequire(join(paths[0] ?? process.cwd(), 'noop.js'));
}
