// A tiny argument parser. node:util parseArgs cannot take an option with two values
// (`--task NAME MINUTES`, the FlexMeasures form), so this one is hand-written and strict:
// unknown options, missing values and stray positionals are usage errors.
import { redactUrl } from '../../config/parsers.js';
import { UsageError } from './errors.js';

/** `flag`: boolean. `value`: last one wins. `list`: repeatable. `pair`: repeatable `NAME N` or `NAME=N`. */
export type OptionKind = 'flag' | 'value' | 'list' | 'pair';
export type OptionSpec = Record<string, OptionKind>;

export interface Pair {
  name: string;
  value: string;
}

export interface Parsed {
  flags: Set<string>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
  pairs: Map<string, Pair[]>;
}

export function parseArgs(argv: readonly string[], spec: OptionSpec): Parsed {
  const parsed: Parsed = { flags: new Set(), values: new Map(), lists: new Map(), pairs: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      parsed.flags.add('help');
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const kind = spec[name] ?? (name === 'help' ? 'flag' : undefined);
    if (kind === undefined) throw new UsageError(`unknown option --${name}`);
    const next = (what: string): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs ${what}`);
      return v;
    };
    switch (kind) {
      case 'flag':
        if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
        parsed.flags.add(name);
        break;
      case 'value':
        parsed.values.set(name, inline ?? next('a value'));
        break;
      case 'list':
        parsed.lists.set(name, [...(parsed.lists.get(name) ?? []), inline ?? next('a value')]);
        break;
      case 'pair':
        parsed.pairs.set(name, [...(parsed.pairs.get(name) ?? []), readPair(name, inline, next)]);
        break;
    }
  }
  return parsed;
}

function readPair(option: string, inline: string | undefined, next: (what: string) => string): Pair {
  // Accepts `--task NAME MINUTES`, `--task NAME=MINUTES` and `--task=NAME=MINUTES`.
  const first = inline ?? next('NAME and MINUTES');
  const eq = first.lastIndexOf('=');
  if (eq > 0) return { name: first.slice(0, eq), value: first.slice(eq + 1) };
  if (inline !== undefined) throw new UsageError(`--${option} needs NAME=MINUTES`);
  return { name: first, value: next(`MINUTES after "${first}"`) };
}

/** What a number option accepts: positive (or zero too), up to `max`, in `unit` (for the message). */
export interface NumberRule {
  unit?: string;
  allowZero?: boolean;
  max?: number;
}

/** A number given on the command line, checked by `rule`; every number option says its error the same way. */
export function parseNumber(text: string, what: string, rule: NumberRule = {}): number {
  const n = Number(text);
  const max = rule.max ?? Infinity;
  if (text.trim() === '' || !Number.isFinite(n) || (rule.allowZero ? n < 0 : n <= 0) || n > max) {
    const kind = `${rule.allowZero ? 'non-negative' : 'positive'} number${rule.unit ? ` of ${rule.unit}` : ''}${max < Infinity ? ` up to ${max}` : ''}`;
    throw new UsageError(`${what} must be a ${kind}, got "${text}"`);
  }
  return n;
}

/** Minutes as given on the command line: a positive number, decimals allowed (0.5 = 30 s). */
export function parseMinutes(text: string, what: string): number {
  return parseNumber(text, what, { unit: 'minutes' });
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };

/** Seconds in a Prometheus duration (`90m`, `1h30m`, `7d`), or undefined if the text is not one. */
export function durationSeconds(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(n) * UNIT_SECONDS[unit!]!;
  return total;
}

/** A Prometheus duration such as `7d`, `36h` or `90m`, validated so it cannot break a query. */
export function parseDuration(text: string, what: string): string {
  if (durationSeconds(text) === undefined) {
    throw new UsageError(`${what} must be a Prometheus duration such as 7d or 36h, got "${text}"`);
  }
  return text;
}

/** An http(s) URL; the message about a bad one never shows its credentials. */
export function parseUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${what} is not a valid URL: "${redactUrl(text)}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${what} must be an http(s) URL, got "${redactUrl(text)}"`);
  }
  return url;
}

/** `--label NAME=VALUE` options: extra equality matchers, e.g. deployment_environment_name=production. */
export function parseLabels(items: readonly string[]): Array<[string, string]> {
  return items.map((item) => {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq);
    if (eq <= 0 || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) {
      throw new UsageError(`--label needs NAME=VALUE with a Prometheus label name, got "${item}"`);
    }
    return [name, item.slice(eq + 1)];
  });
}

/** A positive number option, or undefined when absent; `scale` converts the user's unit to the model's. */
export function numberOption(p: Parsed, name: string, scale = 1, max = Infinity): number | undefined {
  const text = p.values.get(name);
  return text === undefined ? undefined : parseNumber(text, `--${name}`, { max }) * scale;
}
