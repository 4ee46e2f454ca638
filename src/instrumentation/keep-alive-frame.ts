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

// One module instance per process (the CJS entry requires the ESM build, and start.ts lets one
// SDK start), so the mark and the installed flag are plain module state.
let pending: Socket | undefined;
let installed = false;

/** The next setTimeout on `socket`, if Node makes it while detaching the finished response, gets the start-up frame. */
export function markKeepAlive(socket: Socket): void {
  pending = socket;
}

/** Wraps Socket.prototype.setTimeout, once. */
export function installKeepAliveFrame(): void {
  if (installed) return;
  installed = true;
  const proto = Socket.prototype as Socket & { setTimeout: SetTimeout };
  const original = proto.setTimeout;
  // An AsyncResource runs a function in the frame current when it was made (start-up: no request,
  // no span) and then puts back the exact frame it found: nothing is copied or allocated per call
  // (25-30 ns in a microbenchmark, against 130-200 for the enterWith it replaces).
  const startup = new AsyncResource('otel-monitor.keep-alive');
  proto.setTimeout = function setTimeout(this: Socket, msecs: number, callback?: () => void): Socket {
    // `_httpMessage` is null once resOnFinish has detached the response: the keep-alive call. A
    // pipelined request's response is attached instead, and then the mark is not this call's.
    if (pending !== this || (this as Socket & { _httpMessage?: unknown })._httpMessage) return original.call(this, msecs, callback);
    pending = undefined;
    return startup.runInAsyncScope(original, this, msecs, callback);
  };
}
