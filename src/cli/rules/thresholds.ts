// The alert thresholds file (`otel-monitor rules --thresholds FILE`): one readable YAML document
// with a warning and a critical level per alert, each with its own `for:`. Parsed strictly: an
// unknown key, a missing level or a value without its unit is one CliError naming the key (exit 2),
// because a typo in an alerting file must never silently mean "no alert".
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { durationSeconds } from '../shared/args.js';
import { CliError } from '../shared/errors.js';

export type Severity = 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['warning', 'critical'];

/** One level of an alert: the threshold (a fraction, seconds or a health status) and its `for:`. */
export interface Level {
  /** Fraction (80% -> 0.8), seconds (1s -> 1), or health value (degraded -> 0.5). */
  threshold: number;
  /** As written in the file, for messages and annotations: `80%`, `1s`, `degraded`. */
  shown: string;
  /** Prometheus duration. */
  for: string;
}
export type Levels = Record<Severity, Level>;

export interface Thresholds {
  host: { cpu?: Levels; memory?: Levels; disk?: Levels };
  runtime: { eventLoopDelayP99?: Levels };
  http: { window: string; errorRatio?: Levels; latencyP95?: Levels };
  health: { criticalChecks?: Levels };
  collector: { exportFailures?: Levels; queueFill?: Levels; droppingData?: Levels; down?: Levels };
  pipeline: { dropped?: Levels; exporterFailing?: Levels };
  tasks: { lookback: string; list: Array<{ name: string; late: Levels; failing: Levels }> };
  lastSeen: { lookback: string; list: Array<{ role: string; notSeen: Levels }> };
}

type Kind = 'percent' | 'seconds' | 'age' | 'health' | 'none';
type Obj = Record<string, unknown>;

const HEALTH: Record<string, number> = { degraded: 0.5, unhealthy: 0 };
const THRESHOLD_KEY: Record<Kind, string | undefined> = { percent: 'above', seconds: 'above', age: 'after', health: 'status', none: undefined };

class Reader {
  constructor(private readonly file: string) {}

  fail(path: string, message: string): never {
    throw new CliError(`${this.file}: ${path}: ${message}`);
  }

  /** A mapping with only the given keys (`required` ones must be there). */
  object(value: unknown, path: string, allowed: readonly string[], required: readonly string[] = []): Obj {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path || '(top level)', 'expected a mapping of keys');
    const obj = value as Obj;
    for (const k of Object.keys(obj)) if (!allowed.includes(k)) this.fail(join(path, k), `unknown key (expected one of: ${allowed.join(', ')})`);
    for (const k of required) if (obj[k] === undefined) this.fail(join(path, k), 'is missing');
    return obj;
  }

  duration(value: unknown, path: string): string {
    const text = scalar(value);
    if (durationSeconds(text) === undefined) this.fail(path, `expected a duration such as 5m or 1h, got ${JSON.stringify(text)}`);
    return text;
  }

  threshold(value: unknown, path: string, kind: Kind): { threshold: number; shown: string } {
    const text = scalar(value);
    if (kind === 'percent') {
      const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
      if (!m || Number(m[1]) > 100) this.fail(path, `expected a percentage such as 80%, got ${JSON.stringify(text)}`);
      return { threshold: Number(m[1]) / 100, shown: `${m[1]}%` };
    }
    if (kind === 'seconds' || kind === 'age') {
      const seconds = durationSeconds(text);
      if (seconds === undefined) this.fail(path, `expected a duration such as 250ms or 1s, got ${JSON.stringify(text)}`);
      return { threshold: seconds, shown: text };
    }
    if (!(text in HEALTH)) this.fail(path, `expected degraded or unhealthy, got ${JSON.stringify(text)}`);
    return { threshold: HEALTH[text]!, shown: text };
  }

  /** `{ warning: { above: X, for: D }, critical: { ... } }`, warning no stricter than critical. */
  levels(value: unknown, path: string, kind: Kind): Levels {
    const obj = this.object(value, path, SEVERITIES, SEVERITIES);
    const key = THRESHOLD_KEY[kind];
    const out = {} as Levels;
    for (const sev of SEVERITIES) {
      const p = join(path, sev);
      const level = this.object(obj[sev], p, key ? [key, 'for'] : ['for'], key ? [key, 'for'] : ['for']);
      const t = key ? this.threshold(level[key], join(p, key), kind) : { threshold: 0, shown: '' };
      out[sev] = { ...t, for: this.duration(level.for, join(p, 'for')) };
    }
    // Health values fall as things get worse (1 healthy, 0 unhealthy); everything else rises.
    const { warning: w, critical: c } = out;
    const inverted = kind === 'health' ? w.threshold < c.threshold : w.threshold > c.threshold;
    if (key && inverted) this.fail(path, `the warning level (${w.shown}) must not be worse than the critical level (${c.shown})`);
    return out;
  }

  section<T>(doc: Obj, key: string, allowed: readonly string[], read: (obj: Obj) => T, empty: T): T {
    return doc[key] === undefined ? empty : read(this.object(doc[key], key, allowed));
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function scalar(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value).trim() : JSON.stringify(value) ?? '';
}

const optional = <T>(obj: Obj, key: string, read: (v: unknown, path: string) => T, path: string): T | undefined =>
  obj[key] === undefined ? undefined : read(obj[key], join(path, key));

/** Parses the text of a thresholds file; `file` is only used in messages. */
export function parseThresholds(text: string, file: string): Thresholds {
  const r = new Reader(file);
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new CliError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const top = r.object(doc, '', ['host', 'runtime', 'http', 'health', 'collector', 'pipeline', 'tasks', 'last_seen']);
  const lv = (kind: Kind) => (v: unknown, p: string) => r.levels(v, p, kind);
  return {
    host: r.section<Thresholds['host']>(top, 'host', ['cpu', 'memory', 'disk'], (o) => ({
      cpu: optional(o, 'cpu', lv('percent'), 'host'),
      memory: optional(o, 'memory', lv('percent'), 'host'),
      disk: optional(o, 'disk', lv('percent'), 'host'),
    }), {}),
    runtime: r.section<Thresholds['runtime']>(top, 'runtime', ['event_loop_delay_p99'], (o) => ({
      eventLoopDelayP99: optional(o, 'event_loop_delay_p99', lv('seconds'), 'runtime'),
    }), {}),
    http: r.section<Thresholds['http']>(top, 'http', ['window', 'error_ratio', 'latency_p95'], (o) => ({
      window: o.window === undefined ? '5m' : r.duration(o.window, 'http.window'),
      errorRatio: optional(o, 'error_ratio', lv('percent'), 'http'),
      latencyP95: optional(o, 'latency_p95', lv('seconds'), 'http'),
    }), { window: '5m' }),
    health: r.section<Thresholds['health']>(top, 'health', ['critical_checks'], (o) => ({
      criticalChecks: optional(o, 'critical_checks', lv('health'), 'health'),
    }), {}),
    collector: r.section<Thresholds['collector']>(top, 'collector', ['export_failures', 'queue_fill', 'dropping_data', 'down'], (o) => ({
      exportFailures: optional(o, 'export_failures', lv('percent'), 'collector'),
      queueFill: optional(o, 'queue_fill', lv('percent'), 'collector'),
      droppingData: optional(o, 'dropping_data', lv('none'), 'collector'),
      down: optional(o, 'down', lv('none'), 'collector'),
    }), {}),
    pipeline: r.section<Thresholds['pipeline']>(top, 'pipeline', ['dropped', 'exporter_failing'], (o) => ({
      dropped: optional(o, 'dropped', lv('none'), 'pipeline'),
      exporterFailing: optional(o, 'exporter_failing', lv('none'), 'pipeline'),
    }), {}),
    tasks: readTasks(r, top),
    lastSeen: readLastSeen(r, top),
  };
}

function readTasks(r: Reader, top: Obj): Thresholds['tasks'] {
  if (top.tasks === undefined) return { lookback: '7d', list: [] };
  const o = r.object(top.tasks, 'tasks', ['lookback', 'list'], ['list']);
  const list = r.object(o.list, 'tasks.list', Object.keys((o.list as Obj) ?? {}));
  return {
    lookback: o.lookback === undefined ? '7d' : r.duration(o.lookback, 'tasks.lookback'),
    list: Object.entries(list).map(([name, v]) => {
      const p = `tasks.list.${name}`;
      const t = r.object(v, p, ['late', 'failing'], ['late', 'failing']);
      return { name, late: r.levels(t.late, `${p}.late`, 'age'), failing: r.levels(t.failing, `${p}.failing`, 'none') };
    }),
  };
}

function readLastSeen(r: Reader, top: Obj): Thresholds['lastSeen'] {
  if (top.last_seen === undefined) return { lookback: '7d', list: [] };
  const o = r.object(top.last_seen, 'last_seen', ['lookback', 'roles'], ['roles']);
  const roles = r.object(o.roles, 'last_seen.roles', Object.keys((o.roles as Obj) ?? {}));
  return {
    lookback: o.lookback === undefined ? '7d' : r.duration(o.lookback, 'last_seen.lookback'),
    list: Object.entries(roles).map(([role, v]) => ({ role, notSeen: r.levels(v, `last_seen.roles.${role}`, 'age') })),
  };
}

export function readThresholdsFile(path: string): Thresholds {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the thresholds file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseThresholds(text, path);
}
