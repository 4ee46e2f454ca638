// What exporting does once the process is on its way out. The OTLP transport retries a refused
// connection with backoff for up to the export timeout (10 s by default): right for a long-running
// service whose Collector restarts, wrong for a process that is exiting, which would wait for every
// retry of every signal. So from the start of shutdown:
// - nothing is retried and batches waiting for a retry go at once (retrying-transport.ts), so a
//   dead Collector costs one connection attempt per export, not a backoff schedule;
// - exporters count what they could not deliver instead of printing an error per signal, and
//   lifecycle.ts prints the total in one line.
// Before that, neither the retry timers nor the export sockets keep the event loop alive.
import type { Agent } from 'node:http';
import type { Socket } from 'node:net';
import { builtinHttpModule } from './builtin-request.js';

export type Signal = 'spans' | 'metric points' | 'log records';

let closing = false;
const dropped: Record<Signal, number> = { spans: 0, 'metric points': 0, 'log records': 0 };
let lastReason: string | undefined;
const exitListeners: Array<() => void> = [];

export function beginExit(): void {
  if (closing) return;
  closing = true;
  for (const fn of exitListeners) fn();
}

/** Runs `fn` when the process starts exiting. */
export function onExit(fn: () => void): void {
  exitListeners.push(fn);
}

export function isExiting(): boolean {
  return closing;
}

/** Counts telemetry an export failed to deliver during shutdown. */
export function countDropped(signal: Signal, n: number, reason: string | undefined): void {
  if (!closing || n <= 0) return;
  dropped[signal] += n;
  lastReason = reason ?? lastReason;
}

/** The one line that says what shutdown could not deliver, or undefined if nothing was lost. */
export function dropSummary(timedOutAfterMs?: number): string | undefined {
  const parts = (Object.entries(dropped) as Array<[Signal, number]>).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`);
  if (parts.length === 0 && timedOutAfterMs === undefined) return undefined;
  const what = parts.length ? `dropped ${parts.join(', ')}` : 'nothing counted as dropped';
  const why = lastReason ? ` (${lastReason})` : '';
  const cut = timedOutAfterMs === undefined ? '' : `; stopped waiting after the ${timedOutAfterMs} ms shutdown timeout, exports still in flight were lost`;
  return `telemetry not delivered at exit: ${what}${why}${cut}`;
}

/** Test seam: forget the exit state. */
export function resetExitMode(): void {
  closing = false;
  lastReason = undefined;
  for (const k of Object.keys(dropped) as Signal[]) dropped[k] = 0;
}

/** The exporters' agents: instrumentation-http ignores requests made on them (isExportRequest). */
const exportAgents = new WeakSet<object>();

/**
 * True for an export request (its options carry one of the exporters' agents). Such a request runs
 * with tracing suppressed, but instrumentation-http still records http.client.request.duration
 * for it; this keeps the exporters' own requests out of the app's metrics too.
 */
export function isExportRequest(options: { agent?: unknown }): boolean {
  const agent = agentOf(options);
  return agent !== undefined && exportAgents.has(agent);
}

/** The request options' agent, when it is an object (not `false`, not absent). */
function agentOf(options: { agent?: unknown } | undefined): object | undefined {
  return typeof options?.agent === 'object' && options.agent !== null ? options.agent : undefined;
}

/**
 * node:http or node:https (by the URL's protocol) as a transport's `httpModule`, for a transport
 * that makes its own agent (Sentry's): the agent of each request it makes is remembered as an
 * export agent, so that isExportRequest keeps these requests out of the app's client metrics.
 */
export function exportHttpModule(url: string): { request: typeof import('node:http').request } {
  const mod = builtinHttpModule(url.startsWith('https:'));
  const request = (...args: unknown[]) => {
    const agent = agentOf(args[0] as { agent?: unknown } | undefined);
    if (agent !== undefined) exportAgents.add(agent);
    // Looked up on each call: instrumentation-http patches the module's property, not our copy.
    return (mod.request as (...a: unknown[]) => ReturnType<typeof mod.request>)(...args);
  };
  return { request: request as typeof import('node:http').request };
}

/**
 * The exporters' HTTP agent factory (the `httpAgentOptions` function form of otlp-exporter-base):
 * the keep-alive agent the exporters use by default, with sockets that do not keep the event loop
 * alive. A request to a Collector that does not answer must not hold a process that has finished
 * its work; at exit, lifecycle.ts keeps the process alive for the flush, up to its timeout.
 */
export async function exitAwareAgent(protocol: string): Promise<Agent> {
  // Taken here, not at the top: instrumentation-http must have patched the module first. Not
  // import(): node:http's ESM facade would load Node's bundled undici (health/endpoint.ts).
  const mod = builtinHttpModule(protocol !== 'http:');
  const agent = new mod.Agent({ keepAlive: true });
  exportAgents.add(agent);
  const hooks = agent as unknown as {
    createConnection(...args: unknown[]): Socket;
    reuseSocket(socket: Socket, req: unknown): void;
  };
  const create = hooks.createConnection.bind(agent);
  hooks.createConnection = (...args: unknown[]) => create(...args).unref();
  // Node's agent refs a kept-alive socket again when it reuses it.
  const reuse = hooks.reuseSocket.bind(agent);
  hooks.reuseSocket = (socket, req) => {
    reuse(socket, req);
    socket.unref();
  };
  return agent;
}
