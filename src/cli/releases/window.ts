// Time windows for `releases list` and `releases compare`: `1h` (the last hour) or `START..END`,
// where each end is RFC 3339, Unix seconds, `now` or `now-DURATION`. Parsed here once so both
// commands, and their error messages, agree.
import { durationSeconds } from '../shared/args.js';
import { UsageError } from '../shared/errors.js';

export interface Window {
  /** Unix seconds. */
  start: number;
  end: number;
}

function instant(text: string, nowSeconds: number, what: string): number {
  if (text === 'now') return nowSeconds;
  const relative = /^now-(.+)$/.exec(text);
  if (relative) {
    const d = durationSeconds(relative[1]!);
    if (d !== undefined) return nowSeconds - d;
  } else if (/^\d+(\.\d+)?$/.test(text)) {
    return Number(text);
  } else if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  throw new UsageError(`${what}: "${text}" is not a time (RFC 3339, Unix seconds, now or now-DURATION such as now-2h)`);
}

/** Parses `DURATION` (ending now) or `START..END`; the window must be at least a minute long. */
export function parseWindow(text: string, nowSeconds: number, what: string): Window {
  const duration = durationSeconds(text);
  const window = duration !== undefined ? { start: nowSeconds - duration, end: nowSeconds } : range(text, nowSeconds, what);
  if (window.end - window.start < 60) {
    throw new UsageError(`${what} must be at least 1m long, got "${text}"`);
  }
  if (window.end > nowSeconds + 60) throw new UsageError(`${what} ends in the future: "${text}"`);
  return window;
}

function range(text: string, nowSeconds: number, what: string): Window {
  const parts = text.split('..');
  if (parts.length !== 2) {
    throw new UsageError(`${what} must be a duration such as 1h, or START..END (e.g. now-2h..now-1h), got "${text}"`);
  }
  return { start: instant(parts[0]!, nowSeconds, what), end: instant(parts[1]!, nowSeconds, what) };
}

/** A PromQL range of the window's length, in whole seconds (at least 1). */
export function promRange(w: Window): string {
  return `${Math.max(1, Math.round(w.end - w.start))}s`;
}
