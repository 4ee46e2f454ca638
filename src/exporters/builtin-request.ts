// Gives otlp-exporter-base's HTTP transport node:http's (or node:https's) `request` without an ESM
// import. Upstream takes it with `import("http")` at the first export, and that builds node:http's
// ESM facade, which reads every export: the WebSocket, CloseEvent and MessageEvent getters then
// load Node's bundled undici, about 38 ms of the event loop at the first export and 2.2 MB of heap
// in an app that never uses fetch. process.getBuiltinModule returns the same module object.
import { log } from '../log.js';

/**
 * node:https or node:http, taken with process.getBuiltinModule (no ESM facade, above). Each caller
 * decides which from its URL's protocol; the property it reads (request, Agent) is read at its
 * call, after instrumentation-http patched the module.
 */
export function builtinHttpModule(https: boolean): typeof import('node:http') | typeof import('node:https') {
  return https ? process.getBuiltinModule('node:https') : process.getBuiltinModule('node:http');
}

interface Utils {
  agent: unknown;
  request: unknown;
}

/** The private shape of otlp-exporter-base's HttpExporterTransport (the SDK line is pinned). */
interface HttpTransportShape {
  _utils?: Utils | null;
  _parameters?: { url?: unknown; agentFactory?: (protocol: string) => unknown };
  _loadUtils?: () => Promise<Utils>;
}

/**
 * Replaces the transport's own loading of agent and request; the agent still comes from its agent
 * factory. On any other shape the transport is left as it is and loads them its own way.
 */
export function useBuiltinRequest(transport: unknown): void {
  const t = transport as HttpTransportShape;
  const factory = t._parameters?.agentFactory;
  const url = t._parameters?.url;
  if (t._utils !== null || typeof t._loadUtils !== 'function' || typeof factory !== 'function' || typeof url !== 'string') {
    log.debug('OTLP HTTP transport shape not recognised: it loads node:http itself');
    return;
  }
  const protocol = new URL(url).protocol;
  const mod = builtinHttpModule(protocol !== 'http:');
  t._loadUtils = async () => (t._utils ??= { agent: await factory(protocol), request: mod.request });
}
