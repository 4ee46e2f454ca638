// A fault in any of the distribution's channel subscribers, store transforms or response listeners
// (injected through the test-only OTEL_MONITOR_TEST_FAULT) must not reach the app: every request is
// still served, the failing tracer says so in exactly one line, and the others keep tracing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startApp } from '../helpers/app.js';
import { stopAll, waitFor } from '../helpers/process.js';

const SERVER = 2;
let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterEach(() => stopAll());
afterAll(() => receiver.close());

const ROUTES: Array<[string, number]> = [
  ['/sync/1', 200],
  ['/async', 200],
  ['/later', 200],
  ['/fetch', 200],
  ['/fail', 500],
];

async function serveAll(fault: string | undefined) {
  const app = await startApp({
    script: 'test/fixtures/guarded-app.mjs',
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_LOG_LEVEL: 'warn',
      OTEL_MONITOR_HOST_METRICS: 'false',
      OTEL_MONITOR_RUNTIME_METRICS: 'false',
      ...(fault ? { OTEL_MONITOR_TEST_FAULT: fault, OTEL_SERVICE_NAME: `guard-${fault}` } : { OTEL_SERVICE_NAME: 'guard-none' }),
    },
  });
  const statuses: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const [path] of ROUTES) statuses.push((await app.get(path)).status);
  }
  expect(statuses).toEqual(Array.from({ length: 5 }, () => ROUTES.map(([, s]) => s)).flat());
  expect(app.child.exitCode).toBeNull();
  return app;
}

describe('guarded channel subscribers', () => {
  it('without a fault: nothing on stderr, and every request traced', async () => {
    const app = await serveAll(undefined);
    await waitFor(() => receiver.spans().filter((s) => s.resource['service.name'] === 'guard-none' && s.kind === SERVER).length >= 20);
    expect(app.output()).toBe('');
  });

  const faults = [
    'http-server:request.start',
    'http-server:response.finish',
    'http-server:response.close',
    'express:start',
    'express:end',
    'express:asyncEnd',
    'express:error',
    'express:response.close',
    'undici:request.create',
    'undici:client.sendHeaders',
    'undici:request.headers',
    'undici:request.trailers',
  ];
  for (const fault of faults) {
    it(`a fault in ${fault}: every request served, one line on stderr naming the tracer`, async () => {
      const app = await serveAll(fault);
      await new Promise((r) => setTimeout(r, 300));
      const lines = app.output().split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      const [tracer, handler] = fault.split(':');
      expect(lines[0]).toMatch(new RegExp(`^\\[otel-monitor\\] error: the ${tracer} tracer failed in ${handler} and was switched off`));
      if (tracer !== 'http-server') {
        // The HTTP tracer is untouched: every request still has its server span.
        await waitFor(() => receiver.spans().filter((s) => s.resource['service.name'] === `guard-${fault}` && s.kind === SERVER).length >= 20);
      }
    });
  }
});
