import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';

export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface ListenerOptions {
  host: string;
  port: number;
  keepAliveTimeoutMs: number;
  /** Time allowed to receive a whole request (headers and body); slow senders are cut off. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  maxHeaderBytes: number;
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * One port for HTTP/1.1 and HTTP/2 with prior knowledge (h2c): the first bytes of a connection
 * tell which. HTTP/2 clients open with a fixed preface ("PRI * HTTP/2.0…"), which no HTTP/1.1
 * request can start with.
 */
export class Listener {
  readonly server: net.Server;
  readonly h1: http.Server;
  readonly h2: http2.Http2Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly h2Sessions = new Set<http2.Http2Session>();

  constructor(handler: RequestHandler, private readonly opts: ListenerOptions) {
    this.h1 = http.createServer(
      {
        keepAliveTimeout: opts.keepAliveTimeoutMs,
        requestTimeout: opts.requestTimeoutMs,
        headersTimeout: opts.headersTimeoutMs,
        maxHeaderSize: opts.maxHeaderBytes,
      },
      handler,
    );
    // The HTTP/1.1 server never listens itself; telling it that it does starts Node's connection
    // tracking, which idle-connection closing and the request and headers timeouts rely on.
    this.h1.emit('listening');
    this.h2 = http2.createServer({ maxSessionMemory: 64, settings: { maxHeaderListSize: opts.maxHeaderBytes } }, handler);
    this.h2.on('session', (session) => {
      this.h2Sessions.add(session);
      session.once('close', () => this.h2Sessions.delete(session));
    });
    this.server = net.createServer({ noDelay: true }, (socket) => this.route(socket));
  }

  private route(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let seen: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const isH2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isH2 && seen.length < PREFACE.length) return; // wait for the whole preface
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (isH2) {
        // The HTTP/2 session reads what is already buffered itself, then takes over the socket.
        this.h2.emit('connection', socket);
      } else {
        this.h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.setTimeout(this.opts.headersTimeoutMs, () => {
      if (seen.length === 0) socket.destroy();
    });
    socket.once('data', () => socket.setTimeout(0));
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then drops what is left. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.h1.closeIdleConnections();
    for (const s of this.h2Sessions) s.close();
    const deadline = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, graceMs);
    const idle = setInterval(() => this.h1.closeIdleConnections(), 50);
    await closed;
    clearTimeout(deadline);
    clearInterval(idle);
    this.h1.close();
  }
}
