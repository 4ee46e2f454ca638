// The preload's request latency with nothing listening on the OTLP endpoint (from preload.test.ts):
// it bounds wall time (p95 < 250 ms), so it runs in the integration-serial project, with no other
// file beside it on the 2-core machine (vitest.config.ts). The rest of preload.test.ts runs in parallel.
import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app.js';
import { freePort, stopAll } from '../helpers/process.js';

afterEach(async () => {
  await stopAll();
});

describe('safety when the backend is down', () => {
  it('serves requests without delay or errors when nothing listens on the OTLP endpoint', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const app = await startApp({
      script: 'examples/app.js',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: dead, OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_EXPORTER_OTLP_TIMEOUT: '2000' },
    });
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t = performance.now();
      const res = await app.get(`/users/${i}`);
      expect(res.status).toBe(200);
      times.push(performance.now() - t);
      await new Promise((ok) => setTimeout(ok, 20));
    }
    times.sort((a, b) => a - b);
    // Export attempts fail in the background; no request waits on one (a 2 s export timeout would show).
    expect(times[Math.floor(times.length * 0.95)]).toBeLessThan(250);
    expect(app.child.exitCode).toBeNull();
    const out = app.output();
    expect(out).not.toMatch(/UnhandledPromiseRejection|uncaught/i);
    // Failures are reported, but once each rather than per export.
    const errorLines = out.split('\n').filter((l) => l.startsWith('[otel-monitor] error'));
    expect(errorLines.length).toBeLessThanOrEqual(4);
  });
});
