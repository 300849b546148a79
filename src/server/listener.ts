import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';

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
  /** An HTTP/2 session with no stream traffic for this long is closed; pings do not count (0: never). */
  idleTimeoutMs?: number;
  /**
   * Serve HTTPS instead: TLS on the same port, HTTP/2 or HTTP/1.1 chosen by ALPN. Plaintext
   * connections are then refused (HTTP/1.1 ones get a 400 that says so).
   */
  tls?: { cert: Buffer; key: Buffer };
}

/** The first byte of a TLS record that carries a handshake (a ClientHello opens every connection). */
const TLS_HANDSHAKE = 0x16;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * One port for HTTP/1.1 and HTTP/2 with prior knowledge (h2c): the first bytes of a connection
 * tell which. HTTP/2 clients open with a fixed preface ("PRI * HTTP/2.0…"), which no HTTP/1.1
 * request can start with. With TLS, the port speaks TLS only (a ClientHello starts with 0x16) and
 * ALPN picks h2 or http/1.1; the decrypted connection then goes to the same two servers.
 */
export class Listener {
  readonly server: net.Server;
  readonly h1: http.Server;
  readonly h2: http2.Http2Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly h2Sessions = new Set<http2.Http2Session>();
  readonly tls: tls.Server | undefined;

  constructor(handler: RequestHandler, private readonly opts: ListenerOptions) {
    this.h1 = http.createServer(
      {
        keepAliveTimeout: opts.keepAliveTimeoutMs,
        requestTimeout: opts.requestTimeoutMs,
        headersTimeout: opts.headersTimeoutMs,
        // How often Node looks for requests past those timeouts; a quarter of the shorter one.
        connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(Math.min(opts.requestTimeoutMs || Infinity, opts.headersTimeoutMs || Infinity) / 4))),
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
      const idle = opts.idleTimeoutMs ?? 0;
      if (idle > 0) session.setTimeout(idle, () => session.destroy());
    });
    if (opts.tls) {
      this.tls = tls.createServer({
        cert: opts.tls.cert,
        key: opts.tls.key,
        ALPNProtocols: ['h2', 'http/1.1'],
        minVersion: 'TLSv1.2',
        handshakeTimeout: opts.headersTimeoutMs,
      });
      this.tls.on('secureConnection', (socket) => {
        socket.on('error', () => socket.destroy());
        if (socket.alpnProtocol === 'h2') this.h2.emit('connection', socket);
        else this.h1.emit('connection', socket);
      });
      this.tls.on('tlsClientError', (_err, socket) => socket.destroy());
    }
    this.server = net.createServer({ noDelay: true }, (socket) => this.route(socket));
  }

  private route(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let seen: Buffer = Buffer.alloc(0);
    // A client has headersTimeoutMs in all to show what it speaks: a byte trickled now and then
    // (a preface sent slowly, or nothing at all) does not keep the connection open.
    const sniffing = this.opts.headersTimeoutMs > 0 ? setTimeout(() => socket.destroy(), this.opts.headersTimeoutMs) : undefined;
    socket.once('close', () => clearTimeout(sniffing));
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const isH2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (this.tls && seen[0] !== TLS_HANDSHAKE) {
        clearTimeout(sniffing);
        socket.off('data', onData);
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 40\r\n\r\nThis port speaks TLS only: use https://\n');
        setTimeout(() => socket.destroy(), 1_000).unref();
        return;
      }
      if (!this.tls && isH2 && seen.length < PREFACE.length) return; // wait for the whole preface
      clearTimeout(sniffing);
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (this.tls) {
        // The TLS server reads the ClientHello from what is buffered, then takes over the socket.
        this.tls.emit('connection', socket);
      } else if (isH2) {
        // The HTTP/2 session reads what is already buffered itself, then takes over the socket.
        this.h2.emit('connection', socket);
      } else {
        this.h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
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
