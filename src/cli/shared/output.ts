// Human and JSON output helpers. Commands build plain result objects; this file turns them into a
// table for people or one JSON document for scripts.

/** Where a command writes, and what it reads from the outside world; swapped out in tests. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Milliseconds since the epoch. */
  now: () => number;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  env: process.env,
  now: () => Date.now(),
};

/** Left-aligned columns separated by two spaces. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Unix seconds as ISO 8601 (JSON), or null. */
export function isoTime(seconds: number | undefined): string | null {
  return seconds === undefined ? null : new Date(Math.round(seconds * 1000)).toISOString();
}

/** Unix seconds for the table: `2026-11-22 10:04:05Z`, or `-`. */
export function shortTime(seconds: number | undefined): string {
  const iso = isoTime(seconds);
  return iso === null ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** Minutes with one decimal; the unit the thresholds are given in. */
export function roundMinutes(minutes: number): number {
  return Math.round(minutes * 10) / 10;
}

export function formatMinutes(minutes: number | null): string {
  return minutes === null ? '-' : roundMinutes(minutes).toString();
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
