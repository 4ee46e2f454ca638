// What the HTTP semantic conventions fix for every HTTP span and duration histogram, server
// (http-server.ts) and client (undici/tracer.ts) alike.

/** Methods recorded as they are; any other is `_OTHER`, with the original beside it. */
export const KNOWN_HTTP_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** `http.server.request.duration` and `http.client.request.duration` buckets, in seconds. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
