// Structure of the provisioned Grafana dashboards (no Grafana runs here): valid JSON, unique uids
// and titles (Grafana's file provider refuses duplicates), every datasource a provisioned one,
// every variable used defined, every LogQL query grammatical, and custom/ provisioned into the
// same folder. The queries themselves run against real data in
// test/integration/dashboards.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { allPanels, isBuiltin, loadDashboards, panelQueries, parseLabelValues, provisionedDatasourceDocs, provisionedDatasources, substitute, traceLinks, variablesUsed, type Dashboard } from '../helpers/dashboards.js';
import { checkLogQL } from '../helpers/loki-contract.js';
import { abs, PATHS } from '../helpers/stack.js';

const dashboards = loadDashboards();
const datasources = provisionedDatasources();
const defined = (d: Dashboard): string[] => (d.json.templating?.list ?? []).map((v: any) => v.name as string);

/** Every string in a panel where Grafana interpolates variables: queries, titles, links. */
function interpolated(d: Dashboard): Array<{ where: string; text: string }> {
  const out: Array<{ where: string; text: string }> = [];
  for (const l of d.json.links ?? []) out.push({ where: `link ${l.title}`, text: `${l.title} ${l.url ?? ''}` });
  for (const p of allPanels(d)) {
    out.push({ where: `panel ${p.title}`, text: `${p.title} ${p.description ?? ''}` });
    for (const t of p.targets ?? []) out.push({ where: `panel ${p.title} ${t.refId}`, text: `${t.expr ?? ''} ${t.legendFormat ?? ''}` });
    const links = [...(p.fieldConfig?.defaults?.links ?? []), ...(p.fieldConfig?.overrides ?? []).flatMap((o: any) => o.properties.filter((x: any) => x.id === 'links').flatMap((x: any) => x.value))];
    for (const l of links) out.push({ where: `panel ${p.title} data link`, text: l.url });
  }
  return out;
}

describe('the dashboards under deploy/grafana/dashboards', () => {
  it('are the expected set, custom/ included', () => {
    expect(dashboards.map((d) => d.file)).toEqual(
      expect.arrayContaining(['service-overview.json', 'release-health.json', 'tasks.json', 'host-runtime.json', 'logs.json', 'health.json']),
    );
    expect(dashboards.filter((d) => d.file.startsWith('custom/')).length).toBeGreaterThanOrEqual(1);
  });

  it('have unique uids (at most 40 characters) and unique titles', () => {
    const uids = dashboards.map((d) => d.json.uid);
    const titles = dashboards.map((d) => d.json.title);
    for (const u of uids) expect(u).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(titles).size).toBe(titles.length);
  });

  it.each(dashboards.map((d) => [d.file, d] as const))('%s: panels have unique ids and a grid position', (_f, d) => {
    const panels = allPanels(d);
    expect(panels.length).toBeGreaterThan(0);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) {
      expect(p.gridPos, p.title).toMatchObject({ w: expect.any(Number), h: expect.any(Number) });
      // Core panel types only: a plugin panel would need installing in Grafana.
      expect(['row', 'timeseries', 'stat', 'table', 'logs', 'state-timeline', 'text', 'bargauge', 'gauge'], p.title).toContain(p.type);
    }
  });

  it.each(dashboards.map((d) => [d.file, d] as const))('%s: every datasource reference is a provisioned datasource', (_f, d) => {
    const refs = [
      ...allPanels(d).filter((p) => p.type !== 'row').flatMap((p) => [p.datasource, ...(p.targets ?? []).map((t: any) => t.datasource)]),
      ...(d.json.templating?.list ?? []).filter((v: any) => v.type === 'query').map((v: any) => v.datasource),
    ];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref, JSON.stringify(ref)).toBeTruthy();
      expect(datasources.get(ref.uid), `datasource uid ${ref.uid}`).toBe(ref.type);
    }
  });

  it.each(dashboards.map((d) => [d.file, d] as const))('%s: every variable used is defined (variables only use earlier ones)', (_f, d) => {
    const names = defined(d);
    const undefinedUses = interpolated(d).flatMap(({ where, text }) =>
      variablesUsed(text).filter((v) => !isBuiltin(v) && !names.includes(v)).map((v) => `${where}: $${v}`),
    );
    expect(undefinedUses).toEqual([]);
    (d.json.templating?.list ?? []).forEach((v: any, i: number) => {
      for (const used of variablesUsed(v.definition ?? '')) expect(names.slice(0, i), `${v.name} uses $${used}`).toContain(used);
    });
  });

  it.each(dashboards.map((d) => [d.file, d] as const))('%s: query variables say the same in `definition` and in the query model Grafana runs', (_f, d) => {
    for (const v of (d.json.templating?.list ?? []).filter((x: any) => x.type === 'query')) {
      const { selector, label } = parseLabelValues(v);
      if (v.datasource.type === 'loki') {
        // Loki's variable model: type 1 = label values (0 would list label names).
        expect(v.query, v.name).toMatchObject({ type: 1, label, stream: selector ?? '' });
      } else {
        expect(v.query.query, v.name).toBe(v.definition);
      }
    }
  });

  it.each(dashboards.map((d) => [d.file, d] as const))('%s: every LogQL query is grammatical LogQL (Grafana\'s grammar)', (_f, d) => {
    const values = Object.fromEntries(defined(d).map((n: string) => [n, 'x']));
    for (const q of panelQueries(d).filter((x) => x.datasource.type === 'loki')) {
      const check = checkLogQL(substitute(q.expr, values), []);
      expect(check.errors.filter((e) => e.includes('syntax')), `${q.panel}: ${q.expr}`).toEqual([]);
    }
  });

  it('the grammar check catches a broken query', () => {
    expect(checkLogQL('sum(count_over_time({service_name="a" [5m]))', []).errors.join()).toMatch(/syntax/);
  });
});

describe('provisioning', () => {
  const provider = YAML.parse(readFileSync(abs(`${PATHS.grafanaProvisioning}/dashboards/dashboards.yaml`), 'utf8')).providers;
  const compose = YAML.parse(readFileSync(abs('docker-compose.yml'), 'utf8'));

  it('custom/ lands in the same folder: one file provider over the mounted dashboards directory, subfolders not turned into folders', () => {
    const mount = (compose.services.grafana.volumes as string[]).find((v) => v.startsWith(`./${PATHS.grafanaDashboards}:`))!;
    expect(mount).toBeDefined();
    const target = mount.split(':')[1];
    const files = provider.filter((p: any) => p.type === 'file');
    expect(files.map((p: any) => p.options.path)).toEqual([target]);
    expect(files[0].folder).toBe('otel-monitor');
    // Grafana's file provider walks subdirectories; with this off they all go into `folder`.
    expect(files[0].options.foldersFromFilesStructure ?? false).toBe(false);
  });

  it("the Loki datasource links a log line's trace_id to the trace", () => {
    const doc = YAML.parse(readFileSync(abs(`${PATHS.grafanaProvisioning}/datasources/datasources.yaml`), 'utf8'));
    const loki = doc.datasources.find((d: any) => d.type === 'loki');
    expect(loki.jsonData.derivedFields).toEqual(
      expect.arrayContaining([expect.objectContaining({ matcherType: 'label', matcherRegex: 'trace_id', url: expect.stringContaining('${__value.raw}') })]),
    );
  });

  it('release health links to the Sentry release of both releases; the error-log table links trace_id to Sentry', () => {
    const rh = dashboards.find((d) => d.file === 'release-health.json')!;
    const urls = (rh.json.links as any[]).map((l) => l.url);
    expect(urls).toEqual(expect.arrayContaining(['${sentry_url}/releases/${candidate:percentencode}/', '${sentry_url}/releases/${baseline:percentencode}/']));
    expect(substitute(urls[0], { sentry_url: 'https://acme.sentry.io', candidate: 'shop@2.0.0' })).toBe('https://acme.sentry.io/releases/shop%402.0.0/');
    const logs = dashboards.find((d) => d.file === 'logs.json')!;
    const table = allPanels(logs).find((p) => p.type === 'table')!;
    const override = table.fieldConfig.overrides.find((o: any) => o.matcher.options === 'trace_id');
    expect(override.properties[0].value[0].url).toBe('${sentry_url}/explore/traces/trace/${__value.raw}/');
  });
});

describe('trace links into Jaeger', () => {
  const jaeger = provisionedDatasourceDocs().filter((d) => d.type === 'jaeger');
  const links = traceLinks(dashboards);

  it('one Jaeger datasource with a fixed uid, at the compose service', () => {
    expect(jaeger).toHaveLength(1);
    expect(jaeger[0]).toMatchObject({ uid: 'jaeger', url: 'http://jaeger:16686', access: 'proxy' });
  });

  it('every trace link (Loki derived field, Prometheus exemplars, data links, trace panels) uses that uid', () => {
    expect(links.map((l) => `${l.where} -> ${l.datasourceUid}`).filter((l) => !l.endsWith(`-> ${jaeger[0].uid}`))).toEqual([]);
    // Each kind is there: a test that finds no link would pass on nothing.
    const where = links.map((l) => l.where).join('\n');
    expect(where).toMatch(/^Prometheus exemplars \(trace_id\)$/m);
    expect(where).toMatch(/^Loki derived field Jaeger trace$/m);
    expect(where).toMatch(/^logs\.json Error logs with trace links: Open trace in Jaeger$/m);
    for (const kind of ['Slowest', 'Failing']) {
      for (const rel of ['baseline', 'candidate']) expect(where).toContain(`release-health.json ${kind} requests (${rel} \${${rel}}) [A]`);
    }
  });

  it('a link opens the trace by its id; a trace panel searches the dashboard\'s service and release', () => {
    for (const l of links.filter((x) => x.query !== undefined)) expect(substitute(l.query!, { __value: 'abc' }), l.where).toBe('abc');
    for (const l of links.filter((x) => x.target)) {
      expect(l.target, l.where).toMatchObject({ queryType: 'search', service: '$service', tags: expect.stringMatching(/^service\.version="\$\{(baseline|candidate)\}"/) });
    }
    // The Prometheus exemplars name the label the Collector's exporter writes the trace id under.
    expect(links.find((l) => l.label)?.label).toBe('trace_id');
  });

  it('the Prometheus exemplar panels ask for exemplars', () => {
    const rh = dashboards.find((d) => d.file === 'release-health.json')!;
    const withExemplars = allPanels(rh).filter((p) => (p.targets ?? []).some((t: any) => t.exemplar === true));
    expect(withExemplars.map((p) => p.title)).toEqual(['Server latency p95 with trace exemplars (baseline ${baseline})', 'Server latency p95 with trace exemplars (candidate ${candidate})']);
    for (const p of withExemplars) expect(p.targets[0].expr).toContain('traces_span_metrics_duration_seconds_bucket');
  });
});
