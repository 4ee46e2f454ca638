// Minimal Prometheus HTTP API client: instant queries and the down scrape targets, against Prometheus or any store with
// its API (VictoriaMetrics, Mimir, Thanos; docs/SCALING.md). Any failure becomes a CliError with a
// one-line reason (exit 2), never a stack trace and never a credential.
import { CliError } from './errors.js';
import { HttpEndpoint, type EndpointOptions } from './http-endpoint.js';

export { reason } from './http-endpoint.js';

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export class PrometheusClient {
  private readonly endpoint: HttpEndpoint;

  /** Credentials in `url` are sent as Basic auth; `opts` adds headers, a bearer token, a CA. */
  constructor(url: URL, timeoutMs = 10_000, opts: Omit<EndpointOptions, 'timeoutMs'> = {}) {
    this.endpoint = new HttpEndpoint(url, { ...opts, timeoutMs });
  }

  /** The URL shown to users: no credentials. */
  get displayUrl(): string {
    return this.endpoint.display;
  }

  /** Runs an instant query at `time` (seconds) and returns the vector's samples. */
  async query(promql: string, time: number): Promise<Sample[]> {
    const where = `Prometheus at ${this.endpoint.display}`;
    let res: { status: number; text: string };
    try {
      res = await this.endpoint.request(`/api/v1/query?${new URLSearchParams({ query: promql, time: time.toFixed(3) })}`);
    } catch (err) {
      throw new CliError(`cannot reach ${where}: ${this.endpoint.failure(err)}`);
    }
    if (res.status === 401 || res.status === 403) {
      // The body of a refusal may echo the credentials it refused, so it is not shown.
      throw new CliError(
        `${where} refused the request (HTTP ${res.status}): check OTEL_MONITOR_PROMETHEUS_TOKEN, the user:password in the URL or --header`,
      );
    }
    let body: { status?: string; error?: string; data?: { resultType?: string; result?: unknown[] } };
    try {
      body = JSON.parse(res.text) as typeof body;
    } catch {
      // A proxy's refusal (no route for a tenant, a bad gateway) is plain text: show its start.
      const said = this.endpoint.scrub(res.text).replace(/\s+/g, ' ').trim().slice(0, 160);
      throw new CliError(`${where} answered HTTP ${res.status} without JSON${said ? ` ("${said}")` : ''}; is this a Prometheus URL?`);
    }
    if (body.status !== 'success') {
      throw new CliError(this.endpoint.scrub(`${where} rejected the query (HTTP ${res.status}): ${body.error ?? 'unknown error'}`));
    }
    if (body.data?.resultType !== 'vector' || !Array.isArray(body.data.result)) {
      throw new CliError(`${where} returned ${body.data?.resultType ?? 'no'} result, expected a vector`);
    }
    return body.data.result.map((r) => {
      const { metric, value } = r as { metric: Record<string, string>; value: [number, string] };
      return { labels: metric, value: Number(value[1]) };
    });
  }

  /** The active scrape targets that are down (doctor's hint when a metric is missing). */
  async downTargets(): Promise<Array<{ scrapePool?: string; lastError?: string }>> {
    const res = await this.endpoint.request('/api/v1/targets?state=active');
    const body = JSON.parse(res.text) as { data?: { activeTargets?: Array<{ health?: string; scrapePool?: string; lastError?: string }> } };
    return (body.data?.activeTargets ?? []).filter((t) => t.health === 'down');
  }
}
