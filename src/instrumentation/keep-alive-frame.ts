// The context a kept-alive connection's idle timer holds. Node arms that timer inside its own
// response 'finish' listener (`resOnFinish`: `socket.setTimeout(keepAliveTimeout)`), just after the
// `http.server.response.finish` channel fires, and a timer keeps the async context frame current
// when it is created until it is cleared: here, until the connection's next request. Left as it is,
// that frame is the request's, with its span objects; entering a root context instead (what
// http-server.ts did) still made one new frame per response, because `enterWith` always copies the
// current frame. Fifty connections under load kept fifty of them alive at every scavenge: about 9 KB
// of the 29 KB that survived each one (BENCHMARKS.md), enough to double V8's young generation.
//
// So that one timer is created inside the frame current when the preload started, one shared frame
// that holds no request: `markKeepAlive(socket)` from the finish channel names the socket, and the
// next `setTimeout` on it runs in that frame if the socket has no response attached any more (Node
// detaches it just before). Every other `setTimeout` call, the app's included, runs as it always did.
import { AsyncResource } from 'node:async_hooks';
import { Socket } from 'node:net';

type SetTimeout = (this: Socket, msecs: number, callback?: () => void) => Socket;

const kOriginal = Symbol.for('@org/otel-monitor.keep-alive-frame.original');
// Shared through the global registry, like the wrapper's mark: a second copy of this module in the
// process (the ESM and CJS entries both loaded) marks the sockets the installed wrapper reads.
const kState = Symbol.for('@org/otel-monitor.keep-alive-frame.state');
const state: { pending?: Socket } = ((globalThis as { [kState]?: { pending?: Socket } })[kState] ??= {});

/** The next setTimeout on `socket`, if Node makes it while detaching the finished response, gets the start-up frame. */
export function markKeepAlive(socket: Socket): void {
  state.pending = socket;
}

/** Wraps Socket.prototype.setTimeout once; a second call (a second SDK in the process) keeps the first wrapper. */
export function installKeepAliveFrame(): void {
  const proto = Socket.prototype as Socket & { setTimeout: SetTimeout & { [kOriginal]?: SetTimeout } };
  if (proto.setTimeout[kOriginal]) return;
  const original = proto.setTimeout;
  // An AsyncResource runs a function in the frame current when it was made (start-up: no request,
  // no span) and then puts back the exact frame it found: nothing is copied or allocated per call
  // (25-30 ns in a microbenchmark, against 130-200 for the enterWith it replaces).
  const startup = new AsyncResource('otel-monitor.keep-alive');
  const setTimeout = function setTimeout(this: Socket, msecs: number, callback?: () => void): Socket {
    // `_httpMessage` is null once resOnFinish has detached the response: the keep-alive call. A
    // pipelined request's response is attached instead, and then the mark is not this call's.
    if (state.pending !== this || (this as Socket & { _httpMessage?: unknown })._httpMessage) return original.call(this, msecs, callback);
    state.pending = undefined;
    return startup.runInAsyncScope(original, this, msecs, callback);
  } as SetTimeout & { [kOriginal]?: SetTimeout };
  setTimeout[kOriginal] = original;
  proto.setTimeout = setTimeout;
}
