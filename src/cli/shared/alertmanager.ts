// Reads the open alerts from Alertmanager (API v2). Any failure is a CliError (exit 2).
import { CliError } from './errors.js';
import type { HttpAnswer, HttpEndpoint } from './http-endpoint.js';

export interface OpenAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
}

/** Active alerts, neither silenced nor inhibited. */
export async function openAlerts(alertmanager: HttpEndpoint): Promise<OpenAlert[]> {
  let res: HttpAnswer;
  try {
    res = await alertmanager.request(`/api/v2/alerts?${new URLSearchParams({ active: 'true', silenced: 'false', inhibited: 'false' })}`);
  } catch (err) {
    throw new CliError(`cannot reach Alertmanager at ${alertmanager.display}: ${alertmanager.failure(err)}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    body = undefined;
  }
  if (res.status >= 300 || !Array.isArray(body)) {
    throw new CliError(`Alertmanager at ${alertmanager.display} answered HTTP ${res.status} without a list of alerts; is this an Alertmanager URL?`);
  }
  return body.map((a: { labels?: Record<string, string>; annotations?: Record<string, string>; startsAt?: string }) => ({
    labels: a.labels ?? {},
    annotations: a.annotations ?? {},
    startsAt: a.startsAt ?? '',
  }));
}
