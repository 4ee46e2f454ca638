// The provisioned Grafana dashboards as data, for the tests: every dashboard JSON under
// deploy/grafana/dashboards (custom/ included, as Grafana's file provider walks subfolders), their
// panel queries, their variables, and Grafana's variable substitution.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import YAML from 'yaml';
import { abs, PATHS } from './stack.js';

export interface Dashboard {
  /** Path relative to deploy/grafana/dashboards, e.g. "custom/example-team-routes.json". */
  file: string;
  json: any;
}

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  refId: string;
  datasource: { type?: string; uid?: string };
  expr: string;
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name.startsWith('.') ? [] : jsonFiles(p);
    return e.name.endsWith('.json') ? [p] : [];
  });
}

export function loadDashboards(): Dashboard[] {
  const root = abs(PATHS.grafanaDashboards);
  return jsonFiles(root)
    .sort()
    .map((p) => ({ file: relative(root, p), json: JSON.parse(readFileSync(p, 'utf8')) }));
}

/** Every panel, rows' nested panels included. */
export function allPanels(d: Dashboard): any[] {
  return (d.json.panels ?? []).flatMap((p: any) => [p, ...(p.panels ?? [])]);
}

/** Every panel target with an expression; a target without a datasource uses its panel's. */
export function panelQueries(d: Dashboard): DashboardQuery[] {
  return allPanels(d).flatMap((p) =>
    (p.targets ?? [])
      .filter((t: any) => typeof t.expr === 'string')
      .map((t: any) => ({ dashboard: d.file, panel: p.title, refId: t.refId, datasource: t.datasource ?? p.datasource ?? {}, expr: t.expr })),
  );
}

/** The provisioned datasources: uid -> type. */
export function provisionedDatasources(): Map<string, string> {
  const doc = YAML.parse(readFileSync(abs(`${PATHS.grafanaProvisioning}/datasources/datasources.yaml`), 'utf8'));
  return new Map((doc.datasources ?? []).map((d: any) => [d.uid, d.type]));
}

/** Grafana's global variables; the tests give them fixed values. */
export const BUILTIN_VALUES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __interval_ms: '15000',
  __range: '5m',
  __range_s: '300',
  __range_ms: '300000',
  __auto: '1m',
};
/** Data-link variables, only meaningful inside a link. */
const LINK_ONLY = new Set(['__value', '__field', '__series', '__data', '__url_time_range', '__from', '__to']);

// $name, ${name}, ${name:format}, ${name.path}, [[name]]
const VAR_RE = /\$\{([\w]+)(?:\.[\w.]+)?(?::(\w+))?\}|\$([A-Za-z_]\w*)|\[\[(\w+)\]\]/g;

export function variablesUsed(text: string): string[] {
  return [...text.matchAll(VAR_RE)].map((m) => m[1] ?? m[3] ?? m[4]!);
}

export function isBuiltin(name: string): boolean {
  return name in BUILTIN_VALUES || LINK_ONLY.has(name);
}

/** Grafana's interpolation of `text` with single values; throws on a variable without a value. */
export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(VAR_RE, (_m, a?: string, fmt?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    const v = values[name] ?? BUILTIN_VALUES[name];
    if (v === undefined) throw new Error(`no value for variable $${name} in: ${text}`);
    return fmt === 'percentencode' ? encodeURIComponent(v) : v;
  });
}

/** `label_values(selector, label)` or `label_values(label)` of a query variable. */
export function parseLabelValues(v: any): { selector?: string; label: string } {
  const def: string = v.definition ?? (typeof v.query === 'string' ? v.query : v.query?.query) ?? '';
  const m = /^label_values\((?:(.+),\s*)?(\w+)\)$/.exec(def.trim());
  if (!m) throw new Error(`variable ${v.name}: only label_values(...) queries are supported, got "${def}"`);
  return { selector: m[1], label: m[2]! };
}

/** The provisioned datasources as Grafana reads them (Grafana's `$$` escape undone). */
export function provisionedDatasourceDocs(): any[] {
  const text = readFileSync(abs(`${PATHS.grafanaProvisioning}/datasources/datasources.yaml`), 'utf8');
  return YAML.parse(text.replace(/\$\$/g, '$')).datasources ?? [];
}

/**
 * A link into a trace store: a Loki derived field, a Prometheus exemplar destination or a
 * dashboard data link that opens a datasource (Grafana's internal links), or a dashboard panel
 * that queries the trace store itself. `query` is the template Grafana fills in (with the trace
 * id as `${__value.raw}`); a panel has its target instead.
 */
export interface TraceLink {
  where: string;
  datasourceUid: string;
  query?: string;
  /** Exemplars: the exemplar label whose value is the trace id. */
  label?: string;
  target?: any;
}

export function traceLinks(dashboards: Dashboard[]): TraceLink[] {
  const out: TraceLink[] = [];
  for (const ds of provisionedDatasourceDocs()) {
    for (const d of ds.jsonData?.exemplarTraceIdDestinations ?? []) {
      out.push({ where: `${ds.name} exemplars (${d.name})`, datasourceUid: d.datasourceUid, query: '${__value.raw}', label: d.name });
    }
    for (const f of ds.jsonData?.derivedFields ?? []) {
      if (f.datasourceUid) out.push({ where: `${ds.name} derived field ${f.name}`, datasourceUid: f.datasourceUid, query: f.url });
    }
  }
  for (const d of dashboards) {
    for (const p of allPanels(d)) {
      const links = [...(p.fieldConfig?.defaults?.links ?? []), ...(p.fieldConfig?.overrides ?? []).flatMap((o: any) => o.properties.filter((x: any) => x.id === 'links').flatMap((x: any) => x.value))];
      for (const l of links.filter((x: any) => x.internal)) {
        out.push({ where: `${d.file} ${p.title}: ${l.title}`, datasourceUid: l.internal.datasourceUid, query: l.internal.query?.query });
      }
      if (p.datasource?.type === 'jaeger') {
        for (const t of p.targets ?? []) out.push({ where: `${d.file} ${p.title} [${t.refId}]`, datasourceUid: t.datasource?.uid ?? p.datasource.uid, target: t });
      }
    }
  }
  return out;
}

/**
 * Grafana's Jaeger search (queryType "search") as the query-API parameters its data source
 * sends: tags are logfmt in the editor and a JSON object of strings on the wire.
 */
export function jaegerSearchParams(target: any, values: Record<string, string>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const m of substitute(target.tags ?? '', values).matchAll(/([\w.-]+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))/g)) tags[m[1]!] = m[2] ?? m[3]!;
  return {
    service: substitute(target.service, values),
    ...(target.operation ? { operation: substitute(target.operation, values) } : {}),
    ...(Object.keys(tags).length ? { tags: JSON.stringify(tags) } : {}),
    ...(target.minDuration ? { minDuration: target.minDuration } : {}),
    limit: String(target.limit ?? 20),
  };
}
