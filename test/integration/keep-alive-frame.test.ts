// A kept-alive connection's idle timer must not keep the request it followed (keep-alive-frame.ts):
// after responses on a connection that stays open, every request's span can be collected. The app's
// own 'finish' and 'close' listeners run in the request's context, and its own socket timers keep
// the app's context.
import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app.js';
import { stopAll } from '../helpers/process.js';

afterAll(() => stopAll());

function get(port: number, path: string, agent: http.Agent | false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('keep-alive timers and the request context', () => {
  it('spans of a connection that stays open are collectable; app listeners and timers keep their contexts', async () => {
    const app = await startApp({
      script: 'test/fixtures/keep-alive-frame-app.mjs',
      preload: ['--expose-gc', '--import', '@org/otel-monitor'],
      env: { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await get(app.port, '/app-timeout', agent)).body).toBe('timed');
      // The last request on the connection is one whose span is watched: its idle timer follows it.
      for (let i = 0; i < 5; i++) expect((await get(app.port, '/work', agent)).status).toBe(200);
      // The kept-alive connection is still open (its idle timer armed) while another one asks.
      const report = JSON.parse((await get(app.port, '/check', false)).body) as Record<string, unknown[]>;
      expect(report.collected).toEqual([true, true, true, true, true]);
      expect(report.handler).toHaveLength(5);
      expect(new Set(report.handler).size).toBe(5);
      expect(report.finish).toEqual(report.handler);
      expect(report.close).toEqual(report.handler);
      expect(report.appTimeout).toEqual(['app-0']);
    } finally {
      agent.destroy();
    }
    await app.stop();
  }, 60_000);
});
