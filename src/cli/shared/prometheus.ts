// Minimal Prometheus HTTP API client: instant queries only. Any failure becomes a CliError with a
// one-line reason (exit 2), never a stack trace.
import { CliError } from './errors.js';

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export class PrometheusClient {
  private readonly base: string;
  private readonly headers: Record<string, string> = { accept: 'application/json' };

  constructor(
    url: URL,
    private readonly timeoutMs = 10_000,
  ) {
    // fetch() refuses URLs with credentials; move them into a Basic auth header instead.
    const clean = new URL(url);
    if (clean.username || clean.password) {
      const user = decodeURIComponent(clean.username);
      const pass = decodeURIComponent(clean.password);
      this.headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      clean.username = '';
      clean.password = '';
    }
    // Keep a path prefix (Prometheus behind a proxy at /prometheus), drop query and fragment.
    this.base = `${clean.origin}${clean.pathname.replace(/\/+$/, '')}`;
  }

  /** The URL shown to users: no credentials. */
  get displayUrl(): string {
    return this.base;
  }

  /** Runs an instant query at `time` (seconds) and returns the vector's samples. */
  async query(promql: string, time: number): Promise<Sample[]> {
    const url = `${this.base}/api/v1/query?${new URLSearchParams({ query: promql, time: time.toFixed(3) })}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: this.headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new CliError(`cannot reach Prometheus at ${this.base}: ${reason(err)}`);
    }
    const text = await res.text().catch(() => '');
    let body: { status?: string; error?: string; data?: { resultType?: string; result?: unknown[] } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new CliError(`Prometheus at ${this.base} answered HTTP ${res.status} without JSON; is this a Prometheus URL?`);
    }
    if (body.status !== 'success') {
      throw new CliError(`Prometheus at ${this.base} rejected the query (HTTP ${res.status}): ${body.error ?? 'unknown error'}`);
    }
    if (body.data?.resultType !== 'vector' || !Array.isArray(body.data.result)) {
      throw new CliError(`Prometheus at ${this.base} returned ${body.data?.resultType ?? 'no'} result, expected a vector`);
    }
    return body.data.result.map((r) => {
      const { metric, value } = r as { metric: Record<string, string>; value: [number, string] };
      return { labels: metric, value: Number(value[1]) };
    });
  }
}

/** A short reason for a failed fetch: the underlying system error code if there is one. */
export function reason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
