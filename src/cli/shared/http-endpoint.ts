// One HTTP(S) server the CLI talks to (Prometheus or a compatible store, Alertmanager), with the
// connection options of docs/CLI.md: extra headers (tenants), a bearer token from the environment,
// Basic auth from the URL's userinfo and a private CA. node:http(s) rather than fetch(): fetch
// cannot take a CA per request without a dependency (undici's Agent), and refuses userinfo URLs.
//
// Secrets never reach a message: the URL shown is the one without userinfo, and every text that
// could echo a request (an error body, a system error) is scrubbed of the credential values.
import http from 'node:http';
import https from 'node:https';

export interface EndpointOptions {
  /** Extra request headers, e.g. X-Scope-OrgID for a Mimir or Cortex tenant. */
  headers?: Readonly<Record<string, string>>;
  /** Sent as `Authorization: Bearer`. */
  bearerToken?: string;
  /** PEM certificates trusted for https, replacing the default roots. */
  ca?: string;
  timeoutMs?: number;
}

export interface HttpAnswer {
  status: number;
  text: string;
}

export class HttpEndpoint {
  /** Base URL without userinfo, query or trailing slash: what messages show. */
  readonly display: string;
  private readonly headers: Record<string, string>;
  private readonly secrets: string[] = [];

  constructor(
    url: URL,
    private readonly opts: EndpointOptions = {},
  ) {
    const clean = new URL(url);
    this.headers = { ...opts.headers };
    // A credential passed as a header (--header Authorization=...) is as secret as the token.
    for (const [name, value] of Object.entries(this.headers)) if (/auth|token|key|secret|cookie/i.test(name)) this.secrets.push(value);
    if (clean.username || clean.password) {
      const user = decodeURIComponent(clean.username);
      const pass = decodeURIComponent(clean.password);
      this.headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      this.secrets.push(pass, clean.password, this.headers.authorization);
      clean.username = '';
      clean.password = '';
    }
    if (opts.bearerToken) {
      this.headers.authorization = `Bearer ${opts.bearerToken}`;
      this.secrets.push(opts.bearerToken);
    }
    // Keep a path prefix (a store behind a proxy at /prometheus), drop query and fragment.
    this.display = `${clean.origin}${clean.pathname.replace(/\/+$/, '')}`;
  }

  get timeoutMs(): number {
    return this.opts.timeoutMs ?? 10_000;
  }

  /** `text` with every credential value replaced by `***`. */
  scrub(text: string): string {
    return this.secrets.filter((s) => s.length >= 3).reduce((t, s) => t.split(s).join('***'), text);
  }

  /** A request to `path` (with its query) under the base URL; rejects only when no answer came. */
  request(path: string, init: { method?: string; body?: string; contentType?: string } = {}): Promise<HttpAnswer> {
    const url = new URL(`${this.display}${path}`);
    const headers: Record<string, string> = { accept: 'application/json', ...this.headers };
    if (init.contentType) headers['content-type'] = init.contentType;
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = client.request(
        url,
        { method: init.method ?? 'GET', headers, signal: AbortSignal.timeout(this.timeoutMs), ...(this.opts.ca ? { ca: this.opts.ca } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });
  }

  /** A short, scrubbed reason for a request that got no answer, with a hint for TLS trust errors. */
  failure(err: unknown): string {
    const why = this.scrub(reason(err));
    return TLS_TRUST_ERRORS.has(why) ? `${why} (a private CA? pass its certificate with --ca-file)` : why;
  }
}

const TLS_TRUST_ERRORS = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

/** A short reason for a failed request: the underlying system error code if there is one. */
export function reason(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { name?: string; code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return 'timed out';
  return e?.code ?? e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

