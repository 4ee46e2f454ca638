// The Loki stand-in's contract. No Loki runs here, so LogQL is checked against what Loki would make
// of the log records our Collector actually exported (captured by the OTLP stand-in):
//  - index labels: the resource attributes Loki indexes by default for OTLP (Loki's
//    pkg/loghttp/push/otlp_config.go, DefaultOTLPConfig) plus those deploy/loki/loki-config.yaml
//    adds (limits_config.otlp_config), names normalised with `.` -> `_`;
//  - structured metadata: every other resource attribute, the log attributes, severity_text,
//    severity_number, trace_id, span_id, and detected_level (Loki derives it from
//    severity_number when limits_config.discover_log_levels is on).
// A query is parsed with Grafana's own LogQL grammar (@grafana/lezer-logql) and the subset our
// dashboards use (stream selectors, line filters, label and number filters, `by` grouping) is
// evaluated against those entries; anything outside that subset is reported, not ignored.
import { readFileSync } from 'node:fs';
import { parser } from '@grafana/lezer-logql';
import YAML from 'yaml';
import type { LogRecordOut } from './otlp-receiver.js';
import { abs, PATHS } from './stack.js';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** Loki's default OTLP index labels (resource attributes). */
export const LOKI_DEFAULT_INDEX_ATTRIBUTES = [
  'service.name', 'service.namespace', 'service.instance.id', 'deployment.environment', 'cloud.region',
  'cloud.availability_zone', 'k8s.cluster.name', 'k8s.namespace.name', 'k8s.pod.name', 'k8s.container.name',
  'container.name', 'k8s.replicaset.name', 'k8s.deployment.name', 'k8s.statefulset.name', 'k8s.daemonset.name',
  'k8s.cronjob.name', 'k8s.job.name',
];

export interface LokiEntry {
  labels: Record<string, string>;
  metadata: Record<string, string>;
  line: string;
}

function lokiConfig(): any {
  return YAML.parse(readFileSync(abs(PATHS.lokiConfig), 'utf8'));
}

/** The resource attributes our Loki config turns into index labels. */
export function lokiIndexAttributes(): Set<string> {
  const ra = lokiConfig().limits_config?.otlp_config?.resource_attributes ?? {};
  const out = new Set<string>(ra.ignore_defaults ? [] : LOKI_DEFAULT_INDEX_ATTRIBUTES);
  for (const c of ra.attributes_config ?? []) if (c.action === 'index_label') for (const a of c.attributes ?? []) out.add(a);
  return out;
}

/** Prometheus-style label name, as Loki normalises OTLP attribute names. */
export const labelName = (attr: string) => attr.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^(\d)/, 'key_$1');

const str = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** OTLP severity number -> Loki's detected_level. */
function detectedLevel(n: number): string {
  if (!n) return 'unknown';
  return n <= 4 ? 'trace' : n <= 8 ? 'debug' : n <= 12 ? 'info' : n <= 16 ? 'warn' : n <= 20 ? 'error' : 'fatal';
}

export function toLokiEntry(r: LogRecordOut, index: Set<string>, discoverLevels = lokiConfig().limits_config?.discover_log_levels !== false): LokiEntry {
  const labels: Record<string, string> = {};
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.resource)) (index.has(k) ? labels : metadata)[labelName(k)] = str(v);
  for (const [k, v] of Object.entries(r.attributes)) metadata[labelName(k)] = str(v);
  if (r.severityText) metadata.severity_text = r.severityText;
  metadata.severity_number = String(r.severityNumber ?? 0);
  if (r.traceId) metadata.trace_id = r.traceId;
  if (r.spanId) metadata.span_id = r.spanId;
  if (discoverLevels) metadata.detected_level = detectedLevel(r.severityNumber ?? 0);
  return { labels, metadata, line: str(r.body) };
}

const unquote = (s: string) => (s.startsWith('`') ? s.slice(1, -1) : (JSON.parse(s) as string));
const anchored = (re: string) => new RegExp(`^(?:${re})$`);
const text = (q: string, n: SyntaxNode | null) => (n ? q.slice(n.from, n.to) : '');

/** Every node named `name` below `n`, depth first. */
function descendants(n: SyntaxNode, name: string): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) {
    if (c.name === name) out.push(c);
    out.push(...descendants(c, name));
  }
  return out;
}

type Pred = (e: LokiEntry) => boolean;

function matcher(q: string, m: SyntaxNode, where: (e: LokiEntry, k: string) => string | undefined): { label: string; pred: Pred; matchesEmpty: boolean } {
  const label = text(q, m.getChild('Identifier'));
  const op = m.getChild('Eq') ?? m.getChild('Neq') ?? m.getChild('Re') ?? m.getChild('Nre');
  const value = unquote(text(q, m.getChild('String')));
  const test = (v: string) => {
    switch (op?.name) {
      case 'Eq': return v === value;
      case 'Neq': return v !== value;
      case 'Re': return anchored(value).test(v);
      case 'Nre': return !anchored(value).test(v);
      default: throw new Error(`unknown matcher operator in ${text(q, m)}`);
    }
  };
  return { label, pred: (e) => test(where(e, label) ?? ''), matchesEmpty: test('') };
}

const NUM_OPS: Record<string, (a: number, b: number) => boolean> = {
  Gtr: (a, b) => a > b, Gte: (a, b) => a >= b, Lss: (a, b) => a < b, Lte: (a, b) => a <= b, Eql: (a, b) => a === b, Neq: (a, b) => a !== b,
};

function lineFilter(q: string, f: SyntaxNode): Pred {
  const op = f.getChild('Filter')?.firstChild?.name;
  const value = unquote(text(q, f.getChild('String')));
  switch (op) {
    case 'PipeExact': return (e) => e.line.includes(value);
    case 'Neq': return (e) => !e.line.includes(value);
    case 'PipeMatch': return (e) => new RegExp(value).test(e.line);
    case 'Nre': return (e) => !new RegExp(value).test(e.line);
    default: throw new Error(`unsupported line filter ${text(q, f)}`);
  }
}

function stagePredicates(q: string, stage: SyntaxNode, errors: string[], fields: Set<string>): Pred[] {
  const lf = stage.getChild('LineFilters');
  if (lf) return descendants(lf, 'LineFilter').map((f) => lineFilter(q, f));
  const label = stage.getChild('LabelFilter')?.firstChild;
  const get = (e: LokiEntry, k: string) => e.labels[k] ?? e.metadata[k];
  if (label?.name === 'Matcher') {
    const m = matcher(q, label, get);
    fields.add(m.label);
    return [m.pred];
  }
  if (label?.name === 'NumberFilter') {
    const id = text(q, label.getChild('Identifier'));
    const opNode = label.firstChild?.nextSibling;
    const cmp = opNode ? NUM_OPS[opNode.name] : undefined;
    const n = Number(text(q, label.getChild('LiteralExpr')));
    if (!cmp) errors.push(`unsupported number filter: ${text(q, label)}`);
    fields.add(id);
    return [(e) => cmp !== undefined && get(e, id) !== undefined && cmp(Number(get(e, id)), n)];
  }
  errors.push(`pipeline stage outside the checked subset: ${text(q, stage)}`);
  return [];
}

export interface LogQLCheck {
  errors: string[];
  /** Per log expression of the query, the number of entries it selects. */
  matched: number[];
  /** The entries the query's log expressions select. */
  selected: LokiEntry[];
}

/** Grammar check and evaluation of one LogQL query (variables already substituted). */
export function checkLogQL(q: string, entries: LokiEntry[]): LogQLCheck {
  const errors: string[] = [];
  const tree = parser.parse(q);
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(`LogQL syntax error at ${n.from}: …${q.slice(Math.max(0, n.from - 20), n.from + 20)}…`);
    },
  });
  if (errors.length) return { errors, matched: [], selected: [] };
  const indexLabels = new Set(entries.flatMap((e) => Object.keys(e.labels)));
  const matched: number[] = [];
  const selected: LokiEntry[] = [];
  const logExprs = [...descendants(tree.topNode, 'LogExpr'), ...descendants(tree.topNode, 'LogRangeExpr')];
  if (logExprs.length === 0) errors.push('no log stream selector');
  for (const le of logExprs) {
    const sel = le.getChild('Selector');
    const ms = sel ? descendants(sel, 'Matcher').map((m) => matcher(q, m, (e, k) => e.labels[k])) : [];
    for (const m of ms) if (!indexLabels.has(m.label)) errors.push(`stream selector label "${m.label}" is not an index label Loki makes of our Collector's logs (${[...indexLabels].sort().join(', ')})`);
    if (!ms.some((m) => !m.matchesEmpty)) errors.push(`stream selector ${text(q, sel)} needs a matcher that cannot match the empty value (Loki refuses it)`);
    const fields = new Set<string>();
    const preds = [...ms.map((m) => m.pred)];
    const pipe = le.getChild('PipelineExpr');
    if (pipe) for (const stage of descendants(pipe, 'PipelineStage')) preds.push(...stagePredicates(q, stage, errors, fields));
    const known = new Set(entries.flatMap((e) => [...Object.keys(e.labels), ...Object.keys(e.metadata)]));
    for (const f of fields) if (!known.has(f)) errors.push(`label filter on "${f}", which no log entry has as a label or structured metadata`);
    const hits = entries.filter((e) => preds.every((p) => p(e)));
    matched.push(hits.length);
    selected.push(...hits);
  }
  // sum by (x): x must exist on what the query selects.
  for (const g of descendants(tree.topNode, 'Grouping')) {
    for (const id of descendants(g, 'Identifier')) {
      const name = text(q, id);
      if (!selected.some((e) => name in e.labels || name in e.metadata)) errors.push(`grouping by "${name}", which none of the selected entries has`);
    }
  }
  return { errors, matched, selected };
}
