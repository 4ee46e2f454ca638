// OTEL_MONITOR_PLUGINS with the built distribution and real apps: ES module, CommonJS, top-level
// await (attached after start-up) and package plugins receive spans and log records, get a redacted
// config, and are flushed and closed at shutdown; broken plugins (missing, throwing on load, in
// initialize, in a processor) each give one line naming them and are disabled while the app, the
// OTLP export and the other plugins keep working; the example Influx plugin's lines reach a receiver.
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp } from '../helpers/app.js';
import { startOtlpReceiver, withReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { stopAll, waitFor } from '../helpers/process.js';

const P = './test/fixtures/plugins';
let receiver: OtlpReceiver;
const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-plugins-'));

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterEach(() => stopAll());
afterAll(() => receiver.close());

let n = 0;
function outFile(): string {
  return join(dir, `out-${++n}.jsonl`);
}
function events(file: string): Array<Record<string, any>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** An app directory of its own with a node_modules/@acme/otel-plugin package in it. */
function appWithPackagePlugin(): string {
  const app = join(dir, 'app');
  mkdirSync(join(app, 'node_modules', '@acme', 'otel-plugin'), { recursive: true });
  writeFileSync(join(app, 'app.mjs'), `import ${JSON.stringify(pathToFileURL(join(ROOT, 'test/fixtures/plugin-app.mjs')).href)};\n`);
  writeFileSync(join(app, 'node_modules', '@acme', 'otel-plugin', 'package.json'), JSON.stringify({ name: '@acme/otel-plugin', main: 'index.js' }));
  writeFileSync(
    join(app, 'node_modules', '@acme', 'otel-plugin', 'index.js'),
    `const { appendFileSync } = require('node:fs');
const out = (e) => appendFileSync(process.env.PLUGIN_OUT, JSON.stringify({ plugin: 'acme', ...e }) + '\\n');
module.exports = { name: 'acme', initialize: () => ({ spanProcessors: [{ onStart() {}, onEnd: (s) => out({ event: 'span', name: s.name }), forceFlush: async () => {}, shutdown: async () => {} }] }), close: () => out({ event: 'close' }) };
`,
  );
  return join(app, 'app.mjs');
}

const pluginLines = (output: string) => output.split('\n').filter((l) => /\[otel-monitor\] error: plugin /.test(l));

describe('plugins (OTEL_MONITOR_PLUGINS)', () => {
  it('loads ES module, CommonJS, top-level-await and package plugins; spans and logs reach them; flush and close at shutdown', async () => {
    const file = outFile();
    const app = await startApp({
      script: appWithPackagePlugin(),
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer s3cr3t-token',
        OTEL_SERVICE_NAME: 'plugged',
        OTEL_MONITOR_RELEASE: 'plugged@2.0.0',
        PLUGIN_OUT: file,
        OTEL_MONITOR_PLUGINS: `${P}/recorder.mjs, ${P}/recorder.cjs, ${P}/top-level-await.mjs, @acme/otel-plugin`,
      },
    });
    const seen = (plugin: string, event: string) => events(file).some((e) => e.plugin === plugin && e.event === event);
    await waitFor(
      async () => {
        expect((await app.get('/ok')).status).toBe(200);
        return ['recorder', 'late', 'acme'].every((p) => seen(p, 'span')) && seen('recorder-cjs', 'exported') && seen('recorder', 'log');
      },
      { timeoutMs: 20_000, what: 'every plugin received spans (and the recorder a log record)' },
    );
    const init = events(file).find((e) => e.event === 'initialize')!;
    expect(init.release).toEqual({ serviceName: 'plugged', release: 'plugged@2.0.0' });
    expect(init.service).toBe('plugged');
    expect(init.config.traces.headers).toEqual({ authorization: '[REDACTED]' });
    expect(readFileSync(file, 'utf8')).not.toContain('s3cr3t');
    expect(events(file).find((e) => e.event === 'log')!.body).toBe('handled /ok');
    await waitFor(() => events(file).some((e) => e.event === 'metrics' && e.names.includes('http.server.request.duration')), {
      what: 'the metric exporter received the request duration metric',
    });
    expect(app.output()).toContain('[otel-monitor] info: plugin recorder (./test/fixtures/plugins/recorder.mjs): recorder ready');

    // The distribution's flush (the api's flush()) reaches the plugin's flush().
    expect(await (await app.get('/flush')).text()).toBe('flushed');
    expect(seen('recorder', 'flush')).toBe(true);

    expect(await app.stop('SIGTERM')).toBe('SIGTERM');
    const order = events(file).map((e) => `${e.plugin}:${e.event}`);
    for (const p of ['recorder', 'recorder-cjs', 'late', 'acme']) expect(order).toContain(`${p}:close`);
    // A plugin closes after its processors and exporters have shut down.
    expect(order.indexOf('recorder:span processor shutdown')).toBeLessThan(order.indexOf('recorder:close'));
    expect(order.indexOf('recorder-cjs:exporter shutdown')).toBeLessThan(order.indexOf('recorder-cjs:close'));
    expect(pluginLines(app.output())).toEqual([]);
  });

  it('a plugin that is missing, throws on load, in initialize or in its processor: one line each, disabled, the rest keeps working', async () => {
    const file = outFile();
    await withReceiver(async (r) => {
      const app = await startApp({
        script: 'test/fixtures/plugin-app.mjs',
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
          OTEL_SERVICE_NAME: 'broken-plugins',
          PLUGIN_OUT: file,
          OTEL_MONITOR_PLUGINS: [`${P}/missing.js`, `${P}/throws-on-load.mjs`, `${P}/throws-in-initialize.mjs`, `${P}/throws-in-processor.mjs`, `${P}/recorder.mjs`].join(','),
        },
      });
      for (let i = 0; i < 5; i++) expect((await app.get(i === 4 ? '/fail' : '/ok')).status).toBe(i === 4 ? 500 : 200);
      await waitFor(() => r.spans().filter((s) => s.kind === 2).length >= 5, { timeoutMs: 15_000, what: '5 server spans at the OTLP receiver' });
      await waitFor(() => events(file).filter((e) => e.plugin === 'recorder' && e.event === 'span').length >= 5, { what: 'the good plugin saw 5 spans' });
      expect(events(file).filter((e) => e.plugin === 'bad-processor' && e.event === 'onEnd called')).toHaveLength(1);

      expect(await app.stop('SIGTERM')).toBe('SIGTERM');
      expect(events(file).some((e) => e.plugin === 'bad-processor' && e.event === 'close called')).toBe(false);
      expect(events(file).some((e) => e.plugin === 'recorder' && e.event === 'close')).toBe(true);
      const lines = pluginLines(app.output());
      expect(lines, app.output()).toHaveLength(4);
      expect(lines[0]).toMatch(/plugin \.\/test\/fixtures\/plugins\/missing\.js is disabled: loading failed: Error: Cannot find module/);
      expect(lines[1]).toMatch(/plugin \.\/test\/fixtures\/plugins\/throws-on-load\.mjs is disabled: loading failed: Error: module-level failure/);
      expect(lines[2]).toMatch(/plugin bad-init \(\.\/test\/fixtures\/plugins\/throws-in-initialize\.mjs\) is disabled: initialize failed: Error: cannot connect/);
      expect(lines[3]).toMatch(/plugin bad-processor \(\.\/test\/fixtures\/plugins\/throws-in-processor\.mjs\) is disabled: span processor onEnd failed: TypeError: span\.attributes is not iterable/);
    });
  });

  it('a plugin whose close never settles cannot hold the exit past the shutdown timeout', async () => {
    const app = await startApp({
      script: 'test/fixtures/plugin-app.mjs',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_MONITOR_SHUTDOWN_TIMEOUT: '1000', OTEL_MONITOR_PLUGINS: `${P}/hangs-on-close.mjs` },
    });
    expect((await app.get('/ok')).status).toBe(200);
    const t0 = Date.now();
    expect(await app.stop('SIGTERM', 30_000)).toBe('SIGTERM');
    // 1 s timeout; the margin is for a loaded 2-core machine, far below the 30 s kill.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(app.output()).toMatch(/stopped waiting after the 1000 ms shutdown timeout/);
  });

  it('examples/plugins/influx.js writes Luna-style requests and errors series in line protocol to its URL', async () => {
    const bodies: Array<{ auth?: string; body: string }> = [];
    const influx = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push({ auth: req.headers.authorization, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => influx.listen(0, '127.0.0.1', ok));
    const port = (influx.address() as { port: number }).port;
    try {
      const app = await startApp({
        script: 'examples/app.js',
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_SERVICE_NAME: 'luna-builder',
          OTEL_MONITOR_PLUGINS: './examples/plugins/influx.js',
          INFLUX_WRITE_URL: `http://127.0.0.1:${port}/api/v2/write?org=acme&bucket=monitoring&precision=ns`,
          INFLUX_TOKEN: 'influx-token',
          INFLUX_FLUSH_INTERVAL_MS: '60000',
        },
      });
      expect((await app.get('/users/42')).status).toBe(200);
      expect((await app.get('/fail')).status).toBe(500);
      // Written at close (the timer is a minute): the shutdown path delivers the buffered points.
      expect(await app.stop('SIGTERM')).toBe('SIGTERM');
      const lines = bodies.flatMap((b) => b.body.trim().split('\n'));
      expect(bodies.every((b) => b.auth === 'Token influx-token')).toBe(true);
      const id = '"([0-9a-f]{32})"';
      const ts = '(\\d{19})';
      expect(lines).toHaveLength(3);
      const ok = new RegExp(`^requests,service=luna-builder,route=GET:/users/:id,status_code=200 request_id=${id},execution_time=([\\d.]+) ${ts}$`).exec(lines[0]!);
      const failed = new RegExp(`^requests,service=luna-builder,route=GET:/fail,status_code=500 request_id=${id},execution_time=([\\d.]+) ${ts}$`).exec(lines[1]!);
      const error = new RegExp(`^errors,service=luna-builder,route=GET:/fail,status_code=500,error_code=500 request_id=${id} ${ts}$`).exec(lines[2]!);
      expect(ok, lines[0]).not.toBeNull();
      expect(failed, lines[1]).not.toBeNull();
      expect(error, lines[2]).not.toBeNull();
      expect(error![1]).toBe(failed![1]);
      expect(Number(ok![2])).toBeGreaterThan(0);
      const now = BigInt(Date.now()) * 1_000_000n;
      expect(now - BigInt(ok![3]!)).toBeLessThan(120_000_000_000n);
      // The request id is the trace id the OTLP export carries too.
      await waitFor(() => receiver.spans().some((s) => s.traceId === ok![1]), { what: 'the same trace at the OTLP receiver' });
    } finally {
      influx.close();
    }
  });
});
