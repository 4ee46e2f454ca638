// Typed parsers for one environment variable each, in the spirit of dd-trace's config/parsers.js:
// each takes (env, name, default, warn), returns the default when the variable is unset or blank,
// and on a bad value says so once through `warn` and returns the default.
import type { Env, Sourced } from './types.js';

/** Says one thing wrong with one variable. `line` is for warnings that must not quote the value (secrets). */
export interface Warn {
  (name: string, value: string, fallback: string, why: string): void;
  line(text: string): void;
}

/** A Warn that appends the warning lines to `warnings`. */
export function collectWarnings(warnings: string[]): Warn {
  const say = (name: string, value: string, fallback: string, why: string) => {
    warnings.push(`${name}=${quote(value)} ${why}; using ${fallback}`);
  };
  return Object.assign(say, { line: (text: string) => void warnings.push(text) });
}

/** A value as a warning quotes it: one line (JSON escapes), and short, so a huge value cannot flood stderr. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/** Node turns a timer over 2^31-1 ms into 1 ms. */
export const TIMER_MAX = 2 ** 31 - 1;

/** The trimmed value, or undefined when unset or blank. */
export function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

export function bool(env: Env, name: string, fallback: boolean, warn: Warn): boolean {
  const v = str(env, name);
  if (v === undefined) return fallback;
  const lower = v.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  warn(name, v, String(fallback), 'is not a boolean');
  return fallback;
}

/** Every number read is a count or milliseconds: a whole number in [min, max]. */
export function int(env: Env, name: string, fallback: number, warn: Warn, min = 0, max = TIMER_MAX): number {
  const v = str(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || !Number.isInteger(n) || n < min || n > max) {
    warn(name, v, String(fallback), Number.isInteger(n) && n > max ? `is more than ${max}` : `is not a whole number >= ${min}`);
    return fallback;
  }
  return n;
}

/** A comma-separated list without blanks; undefined when unset. */
export function list(env: Env, name: string): string[] | undefined {
  const v = str(env, name);
  if (v === undefined) return undefined;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface OneOfWording {
  /** Why a value is refused; default "is not one of a, b, c". */
  why?: (value: string) => string;
  /** How the fallback is named in the warning; default the fallback itself. */
  fallback?: string;
  /** Quote the value as given rather than lower-cased. */
  quoteAsGiven?: boolean;
}

/** One of a fixed set of values, compared lower-cased. An undefined fallback needs `wording.fallback`. */
export function oneOf<T extends string, F extends T | undefined = T>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: F,
  warn: Warn,
  wording: OneOfWording = {},
): T | F {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  const v = raw.toLowerCase();
  if ((allowed as readonly string[]).includes(v)) return v as T;
  const why = wording.why?.(v) ?? `is not one of ${allowed.join(', ')}`;
  warn(name, wording.quoteAsGiven ? raw : v, wording.fallback ?? String(fallback), why);
  return fallback;
}

/** The first of `names` that is set, and which one it was. */
export function firstOf(env: Env, ...names: string[]): Sourced | undefined {
  for (const n of names) {
    const v = str(env, n);
    if (v !== undefined) return { value: v, source: n };
  }
  return undefined;
}

/** An http(s) URL; the warning strips credentials from the value it quotes. */
export function url(env: Env, name: string, fallback: string, warn: Warn): string {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  try {
    const u = new URL(raw);
    if (u.protocol === 'http:' || u.protocol === 'https:') return raw;
  } catch {
    /* fall through to the warning */
  }
  warn(name, redactUrl(raw), fallback, 'is not an http(s) URL');
  return fallback;
}

/** An HTTP header name (RFC 9110 token), lower-cased. */
export function headerName(env: Env, name: string, fallback: string, warn: Warn): string {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(raw)) return raw.toLowerCase();
  warn(name, raw, fallback, 'is not an HTTP header name');
  return fallback;
}

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** `k1=v1,k2=v2` HTTP headers with percent-encoded values (the OTLP exporter spec). */
export function headers(env: Env, name: string, warn: Warn): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = str(env, name);
  if (!raw) return out;
  let bad = 0;
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      if (part.trim()) bad++;
      continue;
    }
    try {
      const key = part.slice(0, eq).trim().toLowerCase();
      const value = decodeURIComponent(part.slice(eq + 1).trim());
      // What Node's http.request would reject at every export is dropped here, once.
      if (HTTP_TOKEN.test(key) && !INVALID_HEADER_VALUE.test(value)) out[key] = value;
      else bad++;
    } catch {
      bad++;
    }
  }
  // Header values are usually credentials, so the warning counts entries rather than quoting them.
  if (bad) warn.line(`${name} has ${bad} malformed entr${bad === 1 ? 'y' : 'ies'}; using the well-formed headers only`);
  return out;
}

export function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/** Strips credentials from a URL-ish string so it can be printed. */
export function redactUrl(raw: string): string {
  return raw.replace(/\/\/([^/@\s]+)@/, '//[REDACTED]@');
}
