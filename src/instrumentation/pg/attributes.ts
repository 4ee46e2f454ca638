// What a pg query span and its duration metric carry, built once per server and per query text
// rather than per query: instrumentation-pg 0.77 (stable database semconv, its default here) trims,
// splits and upper-cases the text for every span name and builds a fresh attribute set for every
// histogram record, which the SDK then hashes. The values are upstream's, so dashboards and the
// golden test see the same names (docs/ARCHITECTURE.md lists the differences).
import type { Attributes } from '@opentelemetry/api';

/** The part of pg's ConnectionParameters a span reads. */
export interface PgConnectionParameters {
  database?: string;
  host?: string;
  port?: unknown;
}

/** One query text on one server: the span name and the histogram's attribute set. */
export interface QueryShape {
  spanName: string;
  /** Undefined when the query has no text (upstream then leaves db.operation.name out too). */
  operation: string | undefined;
  metric: Attributes;
}

/** One server (a client's connection parameters): its span attributes and cached query shapes. */
export interface ServerShape {
  span: Attributes;
  metricBase: Attributes;
  database: string | undefined;
  shapes: Map<string, QueryShape>;
}

// Query texts are few in an app (its prepared shapes), but an app that builds SQL with literal
// values would grow a cache without end: past this many per server, shapes are built per query.
const MAX_SHAPES_PER_SERVER = 500;
const kServer = Symbol('otel-monitor.pg.server');

/** upstream's parseNormalizedOperationName: the first word, upper-cased, without a trailing `;`. */
export function operationName(text: string): string {
  const trimmed = text.trim();
  const space = trimmed.indexOf(' ');
  const command = (space === -1 ? trimmed : trimmed.slice(0, space)).toUpperCase();
  return command.endsWith(';') ? command.slice(0, -1) : command;
}

/** `pg.query:<plan name or operation>[ <database>]`, or `pg.query` for a query without text. */
export function spanName(database: string | undefined, name: unknown, text: string | undefined): string {
  if (text === undefined) return 'pg.query';
  const what = typeof name === 'string' && name ? name : operationName(text);
  return database ? `pg.query:${what} ${database}` : `pg.query:${what}`;
}

// Servers by host, port and database: a pool replaces idle clients, and each new client has new
// connection parameters, which should find the shapes (and their metric attribute sets) again.
const MAX_SERVERS = 100;
const servers = new Map<string, ServerShape>();

/** The server's attributes, cached on the connection parameters object (one per client). */
export function serverShape(params: PgConnectionParameters, clientDatabase: string | undefined): ServerShape {
  const holder = params as PgConnectionParameters & { [kServer]?: ServerShape };
  const cached = holder[kServer];
  if (cached) return cached;
  const key = `${String(params.host)}\u0000${String(params.port)}\u0000${String(params.database)}\u0000${String(clientDatabase)}`;
  let shape = servers.get(key);
  if (shape === undefined) {
    shape = buildServer(params, clientDatabase);
    if (servers.size < MAX_SERVERS) servers.set(key, shape);
  }
  Object.defineProperty(holder, kServer, { value: shape, enumerable: false, configurable: true });
  return shape;
}

function buildServer(params: PgConnectionParameters, clientDatabase: string | undefined): ServerShape {
  const span: Attributes = { 'db.system.name': 'postgresql' };
  const metricBase: Attributes = { 'db.system.name': 'postgresql' };
  // Only defined values: the SDK warns about undefined ones, and upstream's drop out the same way.
  if (params.database !== undefined) span['db.namespace'] = params.database;
  if (params.host !== undefined) span['server.address'] = params.host;
  if (Number.isInteger(params.port)) span['server.port'] = params.port as number;
  // Upstream's histogram reads the client's `database` and the raw port.
  if (clientDatabase !== undefined) metricBase['db.namespace'] = clientDatabase;
  if (params.host !== undefined) metricBase['server.address'] = params.host;
  if (params.port !== undefined) metricBase['server.port'] = params.port as number;
  return { span, metricBase, database: params.database, shapes: new Map() };
}

function buildShape(server: ServerShape, name: unknown, text: string | undefined): QueryShape {
  const operation = text === undefined ? undefined : operationName(text);
  const metric: Attributes = operation === undefined ? server.metricBase : { ...server.metricBase, 'db.operation.name': operation };
  return { spanName: spanName(server.database, name, text), operation, metric };
}

/** The span name and metric attributes of one query text (plan name included) on one server. */
export function queryShape(server: ServerShape, name: unknown, text: string | undefined): QueryShape {
  if (text === undefined) return buildShape(server, name, text);
  const key = typeof name === 'string' && name ? `${name}\u0000${text}` : text;
  let shape = server.shapes.get(key);
  if (shape === undefined) {
    shape = buildShape(server, name, text);
    if (server.shapes.size < MAX_SHAPES_PER_SERVER) server.shapes.set(key, shape);
  }
  return shape;
}

/** `error.type` of a failed query: the PostgreSQL error code (SQLSTATE) when there is one. */
export function errorType(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && name) return name;
  }
  return '_OTHER';
}

/** upstream's exception event text: the error's type and code, never its message (values live there). */
export function sanitizedErrorMessage(err: { name?: unknown; code?: unknown }): string {
  return `PostgreSQL error of type '${String(err.name ?? 'PostgreSQLError')}' occurred (code: ${String(err.code ?? 'UNKNOWN')})`;
}
