import http2 from 'node:http2';
import type net from 'node:net';
import { SIGNED } from '../../helpers/raw.js';
import { closed, connect, pool, sleep } from './probe.js';

/** An HTTP/1.1 request head for a Kinesis operation, signed well enough for development mode. */
export function requestHead(target: string, contentLength: number, extra = ''): string {
  return (
    'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n' +
    `X-Amz-Target: Kinesis_20131202.${target}\r\nAuthorization: ${SIGNED.authorization}\r\n` +
    `X-Amz-Date: ${SIGNED['x-amz-date']}\r\n${extra}Content-Length: ${contentLength}\r\n\r\n`
  );
}

export function rawRequest(target: string, body: string | Buffer): Buffer {
  const b = Buffer.from(body);
  return Buffer.concat([Buffer.from(requestHead(target, b.length)), b]);
}

/**
 * Opens `count` connections, `parallel` at a time, handing each to `onOpen` as soon as it is open;
 * connections that fail are counted, not thrown.
 */
export async function openMany(
  port: number,
  count: number,
  parallel = 200,
  onOpen?: (socket: net.Socket, index: number) => void,
): Promise<{ sockets: net.Socket[]; failed: number }> {
  let failed = 0;
  const sockets = await pool(Array.from({ length: count }), parallel, async (_, i) => {
    try {
      const socket = await connect(port);
      onOpen?.(socket, i);
      return socket;
    } catch {
      failed++;
      return undefined;
    }
  });
  return { sockets: sockets.filter((s): s is net.Socket => s !== undefined), failed };
}

/** How many of these sockets the server has closed. */
export function closedCount(sockets: readonly net.Socket[]): number {
  return sockets.filter((s) => s.destroyed || s.readableEnded).length;
}

export function destroyAll(sockets: readonly net.Socket[]): void {
  for (const s of sockets) s.destroy();
}

/**
 * Slowloris: each socket sends the start of a request, then one more header byte every `everyMs`
 * until the server closes it (or `untilMs` passes). Resolves with each socket's time to close.
 */
export async function slowloris(sockets: readonly net.Socket[], everyMs: number, untilMs: number): Promise<number[]> {
  const started = Date.now();
  const line = Buffer.from('X-Slow-Header: ' + 'a'.repeat(4000));
  return Promise.all(
    sockets.map(async (socket) => {
      socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      let i = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || Date.now() - started > untilMs) return;
        socket.write(line.subarray(i % line.length, (i % line.length) + 1));
        i++;
      }, everyMs);
      await Promise.race([closed(socket), sleep(untilMs)]);
      clearInterval(timer);
      return socket.destroyed ? Date.now() - started : Infinity;
    }),
  );
}

/** The status line of the first response on a socket, or '' if it closed without one. */
export function firstStatus(socket: net.Socket, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? '');
    };
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) done();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', onData);
    socket.once('close', done);
  });
}

/** Outcome of one HTTP/2 request as seen by a raw client. */
export interface H2Outcome {
  status: number;
  /** The RST_STREAM code if the server reset the stream, else 0. */
  rstCode: number;
  ms: number;
}

/** Sends a request's headers and part of its body on a session, then nothing more. */
export function h2Stalled(session: http2.ClientHttp2Session, target: string, declared: number, sent: Buffer): Promise<H2Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': '/',
      'content-type': 'application/x-amz-json-1.1',
      'content-length': String(declared),
      'x-amz-target': `Kinesis_20131202.${target}`,
      ...SIGNED,
    });
    let status = 0;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('error', () => {});
    stream.resume();
    stream.write(sent);
    stream.once('close', () => resolve({ status, rstCode: stream.rstCode ?? 0, ms: Date.now() - started }));
  });
}

/** One HTTP/2 request with these extra headers; the status, or the reset code. */
export function h2Request(session: http2.ClientHttp2Session, target: string, body: string | Buffer, extra: http2.OutgoingHttpHeaders = {}): Promise<H2Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': '/',
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `Kinesis_20131202.${target}`,
      ...SIGNED,
      ...extra,
    });
    let status = 0;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('error', () => {});
    stream.resume();
    stream.end(body);
    stream.once('close', () => resolve({ status, rstCode: stream.rstCode ?? 0, ms: Date.now() - started }));
  });
}

export function h2Connect(endpoint: string, settings: http2.Settings = {}): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(endpoint, { settings });
    session.once('connect', () => {
      session.off('error', reject);
      session.on('error', () => {});
      resolve(session);
    });
    session.once('error', reject);
  });
}
