// A TCP proxy in front of a real endpoint that a test can break: `blackHole()` accepts connections
// and never answers (nor forwards) them, and forwards nothing more on the open ones; `cut()`
// refuses new connections and closes the open ones; `heal()` forwards again (new connections).
// For faults no real process gives on demand: an OTLP endpoint that does not answer, a scrape
// target that is unreachable. Everything else passes through byte for byte.
import net from 'node:net';
import { freePort } from './process.js';

export type ProxyMode = 'forward' | 'black-hole' | 'cut';

export interface FaultProxy {
  /** host:port to point clients at. */
  address: string;
  url: string;
  mode(): ProxyMode;
  blackHole(): void;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  let mode: ProxyMode = 'forward';
  const open = new Set<net.Socket>();
  /** Forwarding connections: client → its upstream. */
  const forwarding = new Map<net.Socket, net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    if (mode === 'cut') return client.destroy();
    if (mode === 'black-hole') return client.pause(); // held open, never read, never answered
    const upstream = net.connect(port, host);
    open.add(upstream);
    forwarding.set(client, upstream);
    upstream.on('close', () => (open.delete(upstream), forwarding.delete(client), client.destroy()));
    upstream.on('error', () => client.destroy());
    client.on('close', () => (forwarding.delete(client), upstream.destroy()));
    client.pipe(upstream).pipe(client);
  });
  const listenPort = await freePort();
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const dropAll = () => {
    for (const s of open) s.destroy();
  };
  return {
    address: `127.0.0.1:${listenPort}`,
    url: `http://127.0.0.1:${listenPort}`,
    mode: () => mode,
    blackHole: () => {
      mode = 'black-hole';
      // Kept-alive connections would otherwise still reach the target: nothing more is forwarded
      // on them, but an answer to what was already forwarded still goes back. Closing them instead
      // would leave a request the target had received (and may ingest) with no answer: an outcome
      // the client cannot know, where a black hole's is certain (never delivered).
      for (const [client, upstream] of forwarding) {
        client.unpipe(upstream);
        client.pause();
      }
      forwarding.clear();
    },
    cut: () => {
      mode = 'cut';
      dropAll();
    },
    heal: () => {
      mode = 'forward';
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}
