import http2 from 'node:http2';
import type http from 'node:http';
import type { WireFormat } from '../protocol/decode.js';
import {
  EVENT_STREAM_CONTENT_TYPE,
  exceptionMessage,
  initialResponseMessage,
  type EventSink,
  type EventStreamOutput,
} from '../protocol/eventstream.js';

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

const noop = (): void => {};

/**
 * An event stream written to an HTTP response through Node's compatibility API, so the same code
 * serves HTTP/1.1 (chunked transfer encoding), HTTP/2 over cleartext and HTTP/2 over TLS.
 * Backpressure is the response's own: a write that fills the transport's buffer (the socket for
 * HTTP/1.1, the stream's flow-control window for HTTP/2) makes `blocked` true until 'drain'.
 */
class ResponseSink implements EventSink {
  blocked = false;
  closed = false;
  private drainWaiters: Array<() => void> = [];
  private closeWaiters: Array<() => void> = [];

  constructor(
    req: Req,
    private readonly res: Res,
  ) {
    res.on('drain', this.drained);
    res.once('close', this.markClosed);
    res.on('error', noop);
    req.on('error', noop);
    const stream = (res as http2.Http2ServerResponse).stream as http2.Http2Stream | undefined;
    stream?.on('error', noop);
  }

  write(message: Buffer): boolean {
    if (this.closed || this.res.writableEnded) return false;
    const ok = (this.res as http.ServerResponse).write(message);
    if (!ok) this.blocked = true;
    return ok;
  }

  onDrain(fn: () => void): void {
    if (!this.blocked || this.closed) {
      queueMicrotask(fn);
      return;
    }
    this.drainWaiters.push(fn);
  }

  end(): void {
    if (this.closed || this.res.writableEnded) return;
    this.res.end();
  }

  destroy(): void {
    if (this.closed) return;
    const stream = (this.res as http2.Http2ServerResponse).stream as http2.Http2Stream | undefined;
    if (stream) {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    } else {
      (this.res as http.ServerResponse).destroy();
    }
    // A reset stream reports 'close' asynchronously; the sink is closed from now on.
    this.markClosed();
  }

  onClose(fn: () => void): void {
    if (this.closed) {
      queueMicrotask(fn);
      return;
    }
    this.closeWaiters.push(fn);
  }

  private readonly drained = (): void => {
    this.blocked = false;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const fn of waiters) fn();
  };

  private readonly markClosed = (): void => {
    if (this.closed) return;
    this.closed = true;
    this.blocked = false;
    this.res.off('drain', this.drained);
    this.drainWaiters = [];
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const fn of waiters) fn();
  };
}

/** True when the client is already gone, or the response can no longer be written. */
function responseGone(req: Req, res: Res): boolean {
  const stream = (res as http2.Http2ServerResponse).stream as http2.Http2Stream | undefined;
  if (stream) return stream.destroyed || stream.closed || res.writableEnded;
  return res.writableEnded || (res as http.ServerResponse).destroyed || req.socket?.destroyed === true;
}

/**
 * Answers a request with an event stream: HTTP 200 with `application/vnd.amazon.eventstream`, the
 * `initial-response` message, then whatever the producer writes. The headers go out at once, so
 * a client learns that the call succeeded before any event is due.
 */
export function sendEventStream(req: Req, res: Res, output: EventStreamOutput, format: WireFormat): void {
  if (responseGone(req, res)) {
    output.abandon();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', EVENT_STREAM_CONTENT_TYPE);
  const sink = new ResponseSink(req, res);
  sink.write(initialResponseMessage(format, output.initial));
  try {
    output.start(sink, format);
  } catch {
    // The response is under way, so a failure to start is reported inside the stream.
    sink.write(exceptionMessage('InternalFailureException', 'Internal service failure.', format));
    sink.end();
  }
}
