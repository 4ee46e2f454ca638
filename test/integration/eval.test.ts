// `node -e` / `node -p` under the preload, as a shell with NODE_OPTIONS="--require
// @org/otel-monitor/register" runs every one-liner: import-in-the-middle's synchronous hook used to
// make them die with "ENOENT: no such file or directory, open 'module'".
import { describe, expect, it } from 'vitest';
import { ROOT, NODE24 } from '../helpers/app.js';
import { spawnTracked } from '../helpers/process.js';

async function run(args: string[]) {
  const t = spawnTracked(NODE24, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' } });
  const code = await Promise.race([t.exited, new Promise((ok) => setTimeout(() => ok('still running'), 30_000))]);
  return { code, out: t.output() };
}

describe('one-liners under the preload', () => {
  for (const preload of [['--require', '@org/otel-monitor/register'], ['--import', '@org/otel-monitor']]) {
    it(`${preload.join(' ')} -e and -p run and exit 0`, async () => {
      const e = await run([...preload, '-e', "require('node:http'); console.log('evaluated')"]);
      expect(e.code, e.out).toBe(0);
      expect(e.out).toContain('evaluated');
      const p = await run([...preload, '-p', "require('node:http').STATUS_CODES[418]"]);
      expect(p.code, p.out).toBe(0);
      expect(p.out).toContain("I'm a Teapot");
    });
  }
});
