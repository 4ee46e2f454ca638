// What a client span knows about the server from the request's origin alone (scheme, address,
// port, and the normalised prefix of url.full), worked out once per origin and kept: upstream's
// instrumentation-undici parses `new URL(path, origin)` for every request, the largest part of its
// per-request cost after the span itself.

export interface OriginInfo {
  /** `http://example.com:8080`, as `new URL()` writes it (default port dropped, host lower-cased). */
  prefix: string;
  scheme: string;
  /** URL.hostname: IPv6 keeps its brackets, as upstream records it. */
  address: string;
  port: number | undefined;
}

export interface RequestUrl {
  full: string;
  path: string;
  /** URL.search: `?a=1`, or '' when there is no query (upstream records it so). */
  query: string;
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };
const MAX_ORIGINS = 1000;
// Paths `new URL()` would write back unchanged: no character it percent-encodes, no backslash,
// no fragment. Anything else (and dot segments, which it resolves) takes the slow, exact path.
const VERBATIM_PATH = /^\/[\w\-.~!$&()*+,;=:@/%?]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?]|$)/;

const cache = new Map<string, OriginInfo>();

function parseOrigin(origin: string): OriginInfo | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  const scheme = url.protocol.slice(0, -1);
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[scheme];
  return { prefix: `${url.protocol}//${url.host}`, scheme, address: url.hostname, port: Number.isNaN(port) ? undefined : port };
}

/** The origin's cached server attributes; undefined when it is not a URL (no span then, as upstream). */
export function originInfo(origin: unknown): OriginInfo | undefined {
  // undici.request() may be handed a URL object as its origin: keyed by its string form.
  const key = typeof origin === 'string' ? origin : String(origin);
  let info = cache.get(key);
  if (info === undefined) {
    info = parseOrigin(key);
    if (info !== undefined && cache.size < MAX_ORIGINS) cache.set(key, info);
  }
  return info;
}

/** url.full, url.path and url.query of `path` on `origin`, equal to what `new URL(path, origin)` gives. */
export function requestUrl(info: OriginInfo, path: string): RequestUrl | undefined {
  // `//host/x` would be read as another host: slow path too.
  if (VERBATIM_PATH.test(path) && path.charCodeAt(1) !== 47 && !DOT_SEGMENT.test(path)) {
    const q = path.indexOf('?');
    if (q === -1) return { full: info.prefix + path, path, query: '' };
    return { full: info.prefix + path, path: path.slice(0, q), query: q === path.length - 1 ? '' : path.slice(q) };
  }
  try {
    const url = new URL(path, info.prefix);
    return { full: url.href, path: url.pathname, query: url.search };
  } catch {
    return undefined;
  }
}
