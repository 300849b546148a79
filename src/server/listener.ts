import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { UnsentBudget } from './unsent.js';

export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface ListenerOptions {
  host: string;
  port: number;
  /** An HTTP/1.1 connection waiting for its next request is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Time allowed to receive a whole request (headers and body), HTTP/1.1 or HTTP/2; slow senders are cut off. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** Largest request head (HTTP/1.1: 431 beyond) or header list (HTTP/2: the stream is refused). */
  maxHeaderBytes: number;
  /**
   * A connection with no traffic for this long is closed (0: never): an HTTP/2 session with no
   * stream traffic (pings do not count), an HTTP/1.1 connection whose response makes no progress
   * (a client that stopped reading).
   */
  idleTimeoutMs?: number;
  /** Connections held at once; beyond it new ones are closed as they arrive (0: no limit). */
  maxConnections?: number;
  /** Streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxConcurrentStreams?: number;
  /**
   * Response bytes held for clients that have not read them, over all connections; beyond it the
   * connections (HTTP/2: streams) whose responses made no progress are dropped, most behind first (0: no limit).
   */
  maxUnsentBytes?: number;
  /** Pending connections the kernel queues before the server accepts them. */
  backlog?: number;
  /** Told about failures of the listening socket that do not stop it (e.g. running out of descriptors). */
  onError?: (err: Error) => void;
  /**
   * Serve HTTPS instead: TLS on the same port, HTTP/2 or HTTP/1.1 chosen by ALPN. Plaintext
   * connections are then refused (HTTP/1.1 ones get a 400 that says so).
   */
  tls?: { cert: Buffer; key: Buffer };
  /**
   * The body of the answer to an HTTP/1.1 request the server cannot take (400 malformed, 408 not
   * received in time, 431 head too large); absent, Node's bodiless answer.
   */
  clientErrorBody?: (status: ClientErrorStatus) => { status?: number; headers: Readonly<Record<string, string>>; body: Buffer };
  /** Told about each such request and each connection a client dropped (for debug logging). */
  onClientError?: (err: Error, status: ClientErrorStatus | undefined) => void;
}

export type ClientErrorStatus = 400 | 408 | 431;

/** The status Node's HTTP/1.1 parser's error `code` is answered with. */
export function clientErrorStatus(code: string | undefined): ClientErrorStatus {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * Errors that mean the client has gone (or is going): a reset, or the end of its side of the
 * connection in the middle of a request (HPE_INVALID_EOF_STATE). Nothing is answered.
 */
function clientGone(err: NodeJS.ErrnoException): boolean {
  return err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED' || err.code === 'HPE_INVALID_EOF_STATE';
}

/** Descriptors kept for everything but connections: segment files, the catalog, TLS material. */
const FD_RESERVE = 128;

/** The process's open-file limit (soft), where the system tells it (Linux); else undefined. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Connections held at once: the configured limit (0: none), and never so many that connections
 * take the descriptors the storage needs: a new connection past the cap is closed at once, which
 * a client sees as a clean refusal instead of a server that can no longer open its files.
 */
export function connectionCap(configured: number, fileLimit: number | undefined): number {
  if (fileLimit === undefined) return configured;
  const byFiles = Math.max(1, fileLimit > 2 * FD_RESERVE ? fileLimit - FD_RESERVE : Math.floor(fileLimit / 2));
  return configured > 0 ? Math.min(configured, byFiles) : byFiles;
}

/** The first byte of a TLS record that carries a handshake (a ClientHello opens every connection). */
const TLS_HANDSHAKE = 0x16;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** An HTTP/2 session with no open stream for this long is sent a PING… */
const PROBE_AFTER_MS = 1_000;
/** …and is closed when its acknowledgement has not come within this long. */
const PROBE_DEADLINE_MS = 2_000;

/**
 * Each time an HTTP/2 session has had no open stream for PROBE_AFTER_MS, it is sent one PING; a
 * session whose ACK does not come back within PROBE_DEADLINE_MS is destroyed. When a client's bytes
 * make the HTTP/2 layer end the session (a frame on an idle stream, a malformed frame), it sends
 * GOAWAY and stops reading the socket, and nothing else tells the server: a client that then
 * half-closes (FIN) would hold the connection until the idle timeout. A live client acknowledges a
 * PING at once, so a keep-alive session is probed once per quiet spell and kept; a stream in
 * progress (a SubscribeToShard event stream) is never probed.
 */
function probeWhenQuiet(session: http2.Http2Session): void {
  let open = 0;
  let quiet: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const probe = () => {
    if (session.destroyed || session.closed) return;
    let answered = false;
    // The verdict waits for the poll phase after the deadline, so that a reply already in the
    // socket when a busy event loop fires the timer late still counts.
    deadline = setTimeout(() => setImmediate(() => answered || session.destroyed || session.destroy()), PROBE_DEADLINE_MS);
    deadline.unref();
    const sent = session.ping((err) => {
      answered = true;
      clearTimeout(deadline);
      if (err && !session.destroyed) session.destroy();
    });
    if (!sent) {
      clearTimeout(deadline);
      session.destroy();
    }
  };
  const arm = () => {
    clearTimeout(quiet);
    quiet = setTimeout(probe, PROBE_AFTER_MS);
    quiet.unref();
  };
  session.on('stream', (stream: http2.Http2Stream) => {
    open++;
    // A new stream shows the peer is alive: no verdict on an earlier probe.
    clearTimeout(quiet);
    clearTimeout(deadline);
    stream.once('close', () => {
      if (--open === 0 && !session.destroyed) arm();
    });
  });
  session.once('close', () => {
    clearTimeout(quiet);
    clearTimeout(deadline);
  });
  arm();
}

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
  private readonly unsent: UnsentBudget;

  constructor(handler: RequestHandler, private readonly opts: ListenerOptions) {
    this.unsent = new UnsentBudget(opts.maxUnsentBytes ?? 0);
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
    this.h1.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => this.answerClientError(err, socket));
    // A response that makes no progress for idleTimeoutMs (the client stopped reading) ends the
    // connection, and with it the memory held for the response.
    this.h1.timeout = opts.idleTimeoutMs ?? 0;
    // The HTTP/1.1 server never listens itself; telling it that it does starts Node's connection
    // tracking, which idle-connection closing and the request and headers timeouts rely on.
    this.h1.emit('listening');
    this.h2 = http2.createServer(
      {
        maxSessionMemory: 64,
        settings: { maxHeaderListSize: opts.maxHeaderBytes, maxConcurrentStreams: opts.maxConcurrentStreams ?? 1000 },
      },
      handler,
    );
    this.h2.on('stream', (stream: http2.ServerHttp2Stream) => {
      if (opts.requestTimeoutMs > 0) this.limitRequestTime(stream);
      const forget = this.unsent.add({
        buffered: () => stream.writableLength,
        drop: () => {
          if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
        },
      });
      stream.once('close', forget);
    });
    this.h2.on('session', (session) => {
      this.h2Sessions.add(session);
      session.once('close', () => this.h2Sessions.delete(session));
      const idle = opts.idleTimeoutMs ?? 0;
      if (idle > 0) session.setTimeout(idle, () => session.destroy());
      probeWhenQuiet(session);
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
        else this.serveH1(socket);
      });
      this.tls.on('tlsClientError', (_err, socket) => socket.destroy());
    }
    this.server = net.createServer({ noDelay: true }, (socket) => this.route(socket));
    const maxConnections = connectionCap(opts.maxConnections ?? 0, openFileLimit());
    if (maxConnections > 0) this.server.maxConnections = maxConnections;
  }

  /**
   * An HTTP/2 request must arrive whole (headers and body) within requestTimeoutMs, as HTTP/1.1
   * ones must: a stream whose body is still open then gets 408, or is reset if its response has
   * begun.
   */
  private limitRequestTime(stream: http2.ServerHttp2Stream): void {
    if (stream.readableEnded) return;
    const timer = setTimeout(() => {
      if (stream.destroyed || stream.readableEnded) return;
      if (stream.headersSent) {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        return;
      }
      stream.respond({ ':status': 408, 'content-length': 0 }, { endStream: true });
      stream.close(http2.constants.NGHTTP2_NO_ERROR);
    }, this.opts.requestTimeoutMs);
    timer.unref();
    stream.once('end', () => clearTimeout(timer));
    stream.once('close', () => clearTimeout(timer));
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
        this.serveH1(socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  }

  /**
   * A request Node's HTTP/1.1 server could not take: answered (when a response can still be
   * written on the connection) with its status and the configured body, then the connection is
   * closed, as Node itself does; a client that has gone is only noted.
   */
  private answerClientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
    const current = (socket as net.Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (clientGone(err) || !socket.writable || (current && current.headersSent)) {
      this.opts.onClientError?.(err, undefined);
      socket.destroy();
      return;
    }
    const status = clientErrorStatus(err.code);
    this.opts.onClientError?.(err, status);
    const answer = this.opts.clientErrorBody?.(status);
    const body = answer?.body ?? Buffer.alloc(0);
    // A service may answer with a status of its own (S3 answers these with 400 and a code).
    const answered = answer?.status ?? status;
    let head = `HTTP/1.1 ${answered} ${http.STATUS_CODES[answered]}\r\n`;
    for (const [name, value] of Object.entries(answer?.headers ?? {})) head += `${name}: ${value}\r\n`;
    head += `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    // A client that does not read the answer does not hold the connection.
    setTimeout(() => socket.destroy(), 1_000).unref();
  }

  /** Hands a connection to the HTTP/1.1 server, its unsent responses counted against the budget. */
  private serveH1(socket: net.Socket): void {
    const forget = this.unsent.add({ buffered: () => socket.writableLength, drop: () => socket.destroy() });
    socket.once('close', forget);
    this.h1.emit('connection', socket);
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port: this.opts.port, host: this.opts.host, backlog: this.opts.backlog ?? 4096 }, () => {
        this.server.off('error', reject);
        // Once listening, a failed accept (say, out of file descriptors) costs that one connection,
        // never the server.
        this.server.on('error', (err) => this.opts.onError?.(err));
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
    this.unsent.close();
    this.h1.close();
  }
}
