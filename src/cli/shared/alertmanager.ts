// Reads the open alerts from Alertmanager (API v2). Any failure is a CliError (exit 2).
import { CliError } from './errors.js';
import { reason } from './prometheus.js';

export interface OpenAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
}

/** Active alerts, neither silenced nor inhibited. */
export async function openAlerts(base: URL, timeoutMs: number): Promise<OpenAlert[]> {
  const url = new URL(`${base.pathname.replace(/\/+$/, '')}/api/v2/alerts`, base);
  url.search = new URLSearchParams({ active: 'true', silenced: 'false', inhibited: 'false' }).toString();
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new CliError(`cannot reach Alertmanager at ${base.origin}: ${reason(err)}`);
  }
  const body = (await res.json().catch(() => undefined)) as unknown;
  if (!res.ok || !Array.isArray(body)) {
    throw new CliError(`Alertmanager at ${base.origin} answered HTTP ${res.status} without a list of alerts; is this an Alertmanager URL?`);
  }
  return body.map((a: { labels?: Record<string, string>; annotations?: Record<string, string>; startsAt?: string }) => ({
    labels: a.labels ?? {},
    annotations: a.annotations ?? {},
    startsAt: a.startsAt ?? '',
  }));
}
