// The two-tier deployment of docs/SCALING.md, all real binaries on loopback: two agent Collectors
// (collector/otel-agent.yaml, loadbalancing exporter, static resolver) in front of two gateway
// Collectors (collector/otel-config.yaml + collector/otel-gateway.yaml), Prometheus scraping both
// gateways, and two instrumented apps, one per agent. Each gateway writes the spans it receives to
// its own file, so the test can see where every span of every trace landed.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../helpers/app.js';
import { freePort, spawnTracked, stopAll, waitFor, waitForHttp } from '../helpers/process.js';
import { BIN, ensureAptPackages, startCollector, startInstrumentedApp, type RunningCollector } from '../helpers/stack.js';

const SERVICES = ['orders', 'billing'];
const PATHS = ['/', '/users/1', '/upstream', '/users/2'];
// /upstream calls / on the same app inside its own trace: 5 spans (2 server, 2 Express handler,
// 1 client).
const serverSpansFor = (requests: number) => requests + Math.floor((requests + 1) / 4);

let gateways: RunningCollector[];
let agents: RunningCollector[];
let apps: RunningApp[];
let promUrl: string;
const sent: Record<string, number> = { orders: 0, billing: 0 };

async function traffic(n: number): Promise<void> {
  await Promise.all(
    apps.map(async (app, a) => {
      for (let i = 0; i < n; i++) await (await app.get(PATHS[(sent[SERVICES[a]!]! + i) % PATHS.length]!)).arrayBuffer();
      sent[SERVICES[a]!]! += n;
    }),
  );
}

/** Every span each gateway has written so far: trace id -> span count, per gateway. */
function spansByGateway(): Array<Map<string, { spans: number; server: number; service: string }>> {
  return gateways.map((g) => {
    const traces = new Map<string, { spans: number; server: number; service: string }>();
    const file = g.env.OTELCOL_FILE_EXPORT_PATH!;
    if (!existsSync(file)) return traces;
    for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
      for (const rs of JSON.parse(line).resourceSpans ?? []) {
        const service = rs.resource.attributes.find((a: any) => a.key === 'service.name')?.value.stringValue;
        for (const ss of rs.scopeSpans ?? []) {
          for (const span of ss.spans ?? []) {
            const t = traces.get(span.traceId) ?? { spans: 0, server: 0, service };
            t.spans++;
            if (span.kind === 2) t.server++;
            traces.set(span.traceId, t);
          }
        }
      }
    }
    return traces;
  });
}

const serverSpans = (service: string) =>
  spansByGateway().reduce((sum, g) => sum + [...g.values()].filter((t) => t.service === service).reduce((s, t) => s + t.server, 0), 0);

async function promQuery(q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const body = (await (await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query: q })}`)).json()) as any;
  return body.data?.result ?? [];
}

async function startPrometheusFor(targets: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-prom-scale-'));
  const port = await freePort();
  // honor_labels as in deploy/prometheus/prometheus.yml: job and instance come from the apps.
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: gateways\n    honor_labels: true\n    static_configs:\n      - targets: ${JSON.stringify(targets)}\n`,
  );
  const proc = spawnTracked(BIN.prometheus, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`]);
  promUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${promUrl}/-/ready`, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${proc.output()}`);
  });
}

beforeAll(async () => {
  ensureAptPackages();
  gateways = [];
  for (const id of ['gateway-1', 'gateway-2']) {
    const dir = mkdtempSync(join(tmpdir(), `otel-monitor-${id}-`));
    gateways.push(
      await startCollector({
        configs: ['collector/otel-config.yaml', 'collector/otel-gateway.yaml'],
        env: {
          OTELCOL_GATEWAY_ID: id,
          OTELCOL_TRACES_EXPORTERS: '[file]',
          OTELCOL_LOGS_EXPORTERS: '[debug]',
          OTELCOL_FILE_EXPORT_PATH: join(dir, 'spans.jsonl'),
        },
      }),
    );
  }
  const endpoints = `[${gateways.map((g) => g.otlpGrpc).join(', ')}]`;
  agents = await Promise.all([0, 1].map(() => startCollector({ configs: ['collector/otel-agent.yaml'], env: { OTELCOL_GATEWAY_ENDPOINTS: endpoints } })));
  await startPrometheusFor(gateways.map((g) => g.exporterTarget));
  apps = await Promise.all(
    SERVICES.map((service, i) => startInstrumentedApp({ collector: agents[i]!, service, release: `${service}@1.0.0`, env: { OTEL_SERVICE_NAME: service } })),
  );
  await traffic(200);
}, 600_000);

afterAll(async () => {
  await stopAll();
});

describe('two agents, two gateways, loadbalancing by trace id', () => {
  it('lands every span of a trace on the same gateway, and uses both gateways', async () => {
    await waitFor(() => SERVICES.every((s) => serverSpans(s) >= serverSpansFor(sent[s]!)), { timeoutMs: 60_000, what: 'every server span at a gateway' });
    const [g1, g2] = spansByGateway();
    const shared = [...g1!.keys()].filter((id) => g2!.has(id));
    expect(shared, 'trace ids found on both gateways').toEqual([]);
    // Multi-span traces (/upstream) are whole: 5 spans each wherever they landed.
    const upstreamTraces = [...g1!.values(), ...g2!.values()].filter((t) => t.server === 2);
    expect(upstreamTraces.length).toBe(SERVICES.length * 50);
    for (const t of upstreamTraces) expect(t.spans).toBe(5);
    // The ring splits the load (each gateway gets a fair share of ~530 traces).
    for (const g of [g1!, g2!]) expect(g.size).toBeGreaterThan(100);
  });

  it('gives span_metrics counts in Prometheus equal to the requests served', async () => {
    for (const service of SERVICES) {
      const q = `sum(traces_span_metrics_calls_total{service_name="${service}", span_kind="SPAN_KIND_SERVER"})`;
      await waitFor(async () => Number((await promQuery(q))[0]?.value[1] ?? 0) === serverSpansFor(sent[service]!), {
        timeoutMs: 60_000,
        what: `span_metrics calls for ${service} = ${serverSpansFor(sent[service]!)}`,
      });
    }
    // Each gateway's share is its own series (otelcol_gateway), not a collision.
    const perGateway = await promQuery('count by (otelcol_gateway) (traces_span_metrics_calls_total)');
    expect(perGateway.map((r) => r.metric.otelcol_gateway).sort()).toEqual(['gateway-1', 'gateway-2']);
  });

  it('loses nothing when a gateway dies and comes back: the agents queue and retry', async () => {
    await gateways[0]!.stop('SIGKILL');
    await traffic(200);
    // Traces routed to the dead gateway wait in the agents' queues; the live one gets its share.
    await new Promise((r) => setTimeout(r, 3000));
    await gateways[0]!.restart();
    await waitFor(() => SERVICES.every((s) => serverSpans(s) >= serverSpansFor(sent[s]!)), {
      timeoutMs: 120_000,
      what: 'every server span after the gateway came back',
    });
    for (const s of SERVICES) expect(serverSpans(s)).toBe(serverSpansFor(sent[s]!));
  });
});
