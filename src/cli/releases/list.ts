// `otel-monitor releases list`: the releases Prometheus has seen per service, with when they were
// first and last seen, their requests, error ratio and instances. The names it prints are the ones
// `releases compare` takes.
import { durationSeconds, parseArgs, parseLabels } from '../shared/args.js';
import { UsageError } from '../shared/errors.js';
import { CONNECTION_HELP, CONNECTION_SPEC, prometheusOption } from '../shared/connection-options.js';
import { isoTime, json, shortTime, table, type Io } from '../shared/output.js';
import { eq, extraMatchers } from '../shared/promql.js';
import type { PrometheusClient, Sample } from '../shared/prometheus.js';
import { failedSelectors, HTTP_DURATION, LABEL_RELEASE, LABEL_SERVICE, windowCount } from './queries.js';
import { promRange, type Window } from './window.js';

export const LIST_HELP = `Usage: otel-monitor releases list [options]

Lists the releases (service_version) seen in Prometheus per service: first and last seen,
requests, error ratio (5xx or error.type set) and instances, newest first.

Options:
  --service NAME           Only this service (the job label).
  --since DURATION         How far back to look (default 24h).
  --label NAME=VALUE       Only series with this label. Repeatable.
  --json                   One JSON document instead of the table.
  -h, --help               Show this help.

${CONNECTION_HELP}

Exit status: 0, or 2 on a usage error or when Prometheus cannot be reached.`;

/** The Collector's own telemetry has a target_info too; it is not a service of ours. */
const NOT_A_SERVICE = 'job!="otel-collector-internal"';

export interface ReleaseRow {
  service: string;
  release: string;
  firstSeen: number | undefined;
  lastSeen: number | undefined;
  requests: number;
  errorRatio: number | null;
  instances: number;
}

const key = (s: Sample) => `${s.labels[LABEL_SERVICE] ?? ''}\u0000${s.labels[LABEL_RELEASE] ?? ''}`;
const byKey = (rows: Sample[]) => new Map(rows.map((r) => [key(r), r.value]));

export async function readReleases(prom: PrometheusClient, w: Window, matchers: string[]): Promise<ReleaseRow[]> {
  const sel = [`${LABEL_RELEASE}!=""`, NOT_A_SERVICE, ...matchers].join(', ');
  const range = promRange(w);
  // A step of ~1/500 of the range keeps the subquery cheap on a day of data; never under 10 s.
  const step = `${Math.max(10, Math.round((w.end - w.start) / 500))}s`;
  const by = `${LABEL_SERVICE}, ${LABEL_RELEASE}`;
  const at = (expr: string) => prom.query(expr, w.end);
  // Subquery steps are aligned to multiples of the step, so a coarse one can miss a release that
  // started minutes ago: the last 15 minutes are also read at 10 s. A release scraped only since
  // the last 10 s boundary is in neither; the newest sample itself (`now`) covers it.
  // `or` keeps its left side where both have a release: the whole range first for first-seen, the
  // newest sample and then the fine recent read first for last-seen.
  const coarse = (fn: string) => `${fn}_over_time(timestamp(target_info{${sel}})[${range}:${step}])`;
  const fine = (fn: string) => `${fn}_over_time(timestamp(target_info{${sel}})[15m:10s])`;
  const now = `timestamp(target_info{${sel}})`;
  const order = (fn: 'min' | 'max') => (fn === 'min' ? [coarse(fn), fine(fn), now] : [now, fine(fn), coarse(fn)]);
  const seen = (fn: 'min' | 'max') => `${fn} by (${by}) (${order(fn).join(' or ')})`;
  const [instances, first, last, requests, errors] = await Promise.all([
    at(`count by (${by}) (count by (${by}, instance) (last_over_time(target_info{${sel}}[${range}])))`),
    at(seen('min')),
    at(seen('max')),
    at(windowCount(`${HTTP_DURATION}_count`, [sel], [LABEL_SERVICE, LABEL_RELEASE], w)),
    at(windowCount(`${HTTP_DURATION}_count`, failedSelectors(sel), [LABEL_SERVICE, LABEL_RELEASE], w)),
  ]);
  const [firstBy, lastBy, reqBy, errBy] = [first, last, requests, errors].map(byKey) as Array<Map<string, number>>;
  return instances
    .map((r) => {
      const k = key(r);
      const n = Math.round(reqBy!.get(k) ?? 0);
      return {
        service: r.labels[LABEL_SERVICE] ?? '',
        release: r.labels[LABEL_RELEASE] ?? '',
        firstSeen: firstBy!.get(k),
        lastSeen: lastBy!.get(k),
        requests: n,
        errorRatio: n > 0 ? Math.round(errBy!.get(k) ?? 0) / n : null,
        instances: r.value,
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service) || (b.lastSeen ?? 0) - (a.lastSeen ?? 0));
}

export async function releasesList(argv: readonly string[], io: Io): Promise<number> {
  const p = parseArgs(argv, { service: 'value', since: 'value', label: 'list', ...CONNECTION_SPEC, json: 'flag' });
  if (p.flags.has('help')) {
    io.out(LIST_HELP);
    return 0;
  }
  const sinceText = p.values.get('since') ?? '24h';
  const since = durationSeconds(sinceText);
  if (since === undefined || since < 60) throw new UsageError(`--since must be a duration of at least 1m such as 24h or 7d, got "${sinceText}"`);
  const now = io.now() / 1000;
  const matchers = extraMatchers(parseLabels(p.lists.get('label') ?? []));
  const service = p.values.get('service');
  if (service !== undefined) matchers.push(eq(LABEL_SERVICE, service));
  const rows = await readReleases(prometheusOption(p, io), { start: now - since, end: now }, matchers);
  if (p.flags.has('json')) {
    io.out(json(rows.map((r) => ({ ...r, firstSeen: isoTime(r.firstSeen), lastSeen: isoTime(r.lastSeen) }))));
    return 0;
  }
  if (rows.length === 0) {
    io.out(`No releases seen in the last ${sinceText}${service ? ` for ${service}` : ''}.`);
    return 0;
  }
  const ratio = (r: ReleaseRow) => (r.errorRatio === null ? '-' : `${(r.errorRatio * 100).toFixed(2)}%`);
  io.out(
    table(
      ['SERVICE', 'RELEASE', 'FIRST SEEN', 'LAST SEEN', 'REQUESTS', 'ERRORS', 'INSTANCES'],
      rows.map((r) => [r.service, r.release, shortTime(r.firstSeen), shortTime(r.lastSeen), String(r.requests), ratio(r), String(r.instances)]),
    ),
  );
  return 0;
}
