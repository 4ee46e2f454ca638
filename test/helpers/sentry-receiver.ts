// A local stand-in for Sentry's ingest endpoint: accepts envelopes at /api/<project>/envelope/,
// checks the DSN key and project like Sentry does, and keeps every item for assertions.
//
//   const sentry = await startSentryReceiver();
//   spawn app with SENTRY_DSN=sentry.dsn ...
//   const checkIns = await sentry.waitForItems('check_in', (items) => items.length >= 2);
//
// Envelope format: https://develop.sentry.dev/sdk/data-model/envelopes/ — a JSON header line,
// then per item a JSON item-header line and a payload of `length` bytes (or up to the next \n).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { waitFor } from './process.js';

export interface EnvelopeItem {
  type: string;
  headers: Record<string, unknown>;
  /** Parsed JSON payload; the raw text when the payload is not JSON (e.g. attachments). */
  payload: any;
}

export interface Envelope {
  projectId: string;
  headers: Record<string, unknown>;
  items: EnvelopeItem[];
  /** The sentry_key the request authenticated with. */
  key: string;
}

export interface Rejection {
  status: number;
  reason: string;
  path: string;
}

export interface SentryReceiver {
  /** DSN to give the SDK: http://<publicKey>@127.0.0.1:<port>/<projectId> */
  dsn: string;
  port: number;
  envelopes: Envelope[];
  /** Requests refused (wrong key, wrong project, unparsable body): a test can assert none. */
  rejected: Rejection[];
  /** All items, optionally only those of one type (`check_in`, `event`, `session`, `sessions`, ...). */
  items: (type?: string) => EnvelopeItem[];
  /** Payloads of `check_in` items. */
  checkIns: () => any[];
  /** Payloads of `event` items (errors and messages). */
  events: () => any[];
  /** Payloads of `session` and `sessions` (aggregate) items: release health. */
  sessions: () => any[];
  /** Waits until `done(items of that type)` is true; returns those items' payloads. */
  waitForItems: (type: string, done: (payloads: any[]) => boolean, timeoutMs?: number) => Promise<any[]>;
  clear: () => void;
  close: () => Promise<void>;
}

export interface SentryReceiverOptions {
  publicKey?: string;
  projectId?: string;
  port?: number;
}

const decoders: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

export async function startSentryReceiver(opts: SentryReceiverOptions = {}): Promise<SentryReceiver> {
  const publicKey = opts.publicKey ?? 'otelmonitortestkey0000000000000000';
  const projectId = opts.projectId ?? '4242';
  const envelopes: Envelope[] = [];
  const rejected: Rejection[] = [];

  const server: Server = createServer((req, res) => {
    handle(req)
      .then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      })
      .catch((err: unknown) => {
        rejected.push({ status: 400, reason: String(err), path: req.url ?? '' });
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ detail: String(err) }));
      });
  });

  async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const reject = (status: number, reason: string) => {
      rejected.push({ status, reason, path });
      return { status, body: { detail: reason } };
    };
    const match = /^\/api\/([^/]+)\/envelope\/?$/.exec(path);
    if (req.method !== 'POST' || !match) return reject(404, `not an envelope endpoint: ${req.method} ${path}`);
    if (match[1] !== projectId) return reject(403, `unknown project ${match[1]}`);

    const raw = await readBody(req);
    const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
    const body = encoding && encoding !== 'identity' ? await decode(encoding, raw) : raw;
    const envelope = parseEnvelope(body);

    // Sentry accepts the key from the X-Sentry-Auth header, the sentry_key query parameter, or
    // the envelope header's dsn; the SDK normally uses one of the first two.
    const key =
      /sentry_key=([^,\s]+)/.exec(String(req.headers['x-sentry-auth'] ?? ''))?.[1] ??
      url.searchParams.get('sentry_key') ??
      keyFromDsn(envelope.headers.dsn);
    if (key === undefined) return reject(401, 'missing authentication (no X-Sentry-Auth, sentry_key or dsn)');
    if (key !== publicKey) return reject(401, `invalid public key ${key}`);

    envelopes.push({ projectId: match[1], headers: envelope.headers, items: envelope.items, key });
    return { status: 200, body: { id: envelope.headers.event_id ?? null } };
  }

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const items = (type?: string) =>
    envelopes.flatMap((e) => e.items).filter((i) => type === undefined || i.type === type);
  const payloads = (...types: string[]) =>
    envelopes.flatMap((e) => e.items).filter((i) => types.includes(i.type)).map((i) => i.payload);

  return {
    dsn: `http://${publicKey}@127.0.0.1:${port}/${projectId}`,
    port,
    envelopes,
    rejected,
    items,
    checkIns: () => payloads('check_in'),
    events: () => payloads('event'),
    sessions: () => payloads('session', 'sessions'),
    async waitForItems(type, done, timeoutMs = 15_000) {
      return waitFor(
        () => {
          const found = payloads(type);
          return done(found) ? found : undefined;
        },
        { timeoutMs, what: `Sentry ${type} items (have ${items().map((i) => i.type).join(', ') || 'none'})` },
      );
    },
    clear() {
      envelopes.length = 0;
      rejected.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function decode(encoding: string, body: Buffer): Promise<Buffer> {
  const decoder = decoders[encoding];
  if (!decoder) throw new Error(`unsupported content-encoding ${encoding}`);
  return decoder(body);
}

function keyFromDsn(dsn: unknown): string | undefined {
  if (typeof dsn !== 'string') return undefined;
  try {
    return new URL(dsn).username || undefined;
  } catch {
    return undefined;
  }
}

const HEX32 = /^[0-9a-f]{32}$/;

/**
 * Parses an envelope body strictly, as Sentry documents it (develop.sentry.dev/sdk/data-model/envelopes/):
 * a JSON header line; per item a JSON item header with a string `type` and, when `length` is given,
 * exactly that many payload bytes followed by a newline or the end; an `event_id` (envelope header,
 * event payload) is 32 lowercase hex digits. Anything else throws, and the receiver answers 400.
 */
export function parseEnvelope(body: Buffer): { headers: Record<string, unknown>; items: EnvelopeItem[] } {
  let offset = 0;
  const readLine = (): Buffer | undefined => {
    if (offset >= body.length) return undefined;
    let end = body.indexOf(0x0a, offset);
    if (end === -1) end = body.length;
    const line = body.subarray(offset, end);
    offset = end + 1;
    return line;
  };
  const json = (line: Buffer, what: string): Record<string, unknown> => {
    const v = JSON.parse(line.toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} is not a JSON object`);
    return v as Record<string, unknown>;
  };
  const headerLine = readLine();
  if (!headerLine) throw new Error('empty envelope');
  const headers = json(headerLine, 'envelope header');
  if (headers.event_id !== undefined && !HEX32.test(String(headers.event_id))) throw new Error(`envelope event_id ${String(headers.event_id)} is not 32 hex digits`);
  const items: EnvelopeItem[] = [];
  for (;;) {
    const itemHeaderLine = readLine();
    if (itemHeaderLine === undefined) break;
    if (itemHeaderLine.length === 0 && offset >= body.length) break; // a trailing newline
    const itemHeaders = json(itemHeaderLine, 'item header');
    if (typeof itemHeaders.type !== 'string' || !itemHeaders.type) throw new Error('item header without a type');
    let payload: Buffer;
    if (itemHeaders.length !== undefined) {
      const length = itemHeaders.length;
      if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) throw new Error(`item length ${String(length)} is not a byte count`);
      if (offset + length > body.length) throw new Error(`${itemHeaders.type} item says ${length} bytes, ${body.length - offset} left`);
      payload = body.subarray(offset, offset + length);
      offset += length;
      if (offset < body.length && body[offset] !== 0x0a) throw new Error(`${itemHeaders.type} item payload is not followed by a newline`);
      offset++;
    } else {
      payload = readLine() ?? Buffer.alloc(0);
    }
    const text = payload.toString('utf8');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      if (['event', 'transaction', 'session', 'sessions', 'check_in', 'client_report', 'profile_chunk'].includes(itemHeaders.type)) {
        throw new Error(`${itemHeaders.type} item payload is not JSON`);
      }
    }
    if (itemHeaders.type === 'event' && !HEX32.test(String((parsed as { event_id?: unknown }).event_id))) throw new Error('event payload without a 32-hex event_id');
    items.push({ type: itemHeaders.type, headers: itemHeaders, payload: parsed });
  }
  return { headers, items };
}
