/**
 * Loaded with `node --import` into servers the benchmark starts: every TCP
 * listen is pinned to 127.0.0.1 whatever host the server asked for, so a
 * peer that binds all interfaces by default stays on loopback.
 */
import net from 'node:net';

const LOOPBACK = '127.0.0.1';
type Listen = (...args: unknown[]) => net.Server;
const original = net.Server.prototype.listen as unknown as Listen;

function isLoopback(host: unknown): boolean {
  return typeof host === 'string' && (host === 'localhost' || host === '::1' || /^127\./.test(host));
}

function pinned(this: net.Server, ...args: unknown[]): net.Server {
  const first = args[0];
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    const o = first as { port?: unknown; path?: unknown; host?: unknown; handle?: unknown; fd?: unknown };
    if (o.path === undefined && o.handle === undefined && o.fd === undefined && !isLoopback(o.host)) {
      args[0] = { ...o, host: LOOPBACK };
    }
    return original.apply(this, args);
  }
  const isPort = typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first));
  if (isPort || first === undefined || typeof first === 'function') {
    const port = isPort ? Number(first) : 0;
    let host: unknown;
    let backlog: number | undefined;
    let callback: unknown;
    for (const a of args.slice(isPort ? 1 : 0)) {
      if (typeof a === 'function') callback = a;
      else if (typeof a === 'string') host = a;
      else if (typeof a === 'number') backlog = a;
    }
    const options: net.ListenOptions = { port, host: isLoopback(host) ? (host as string) : LOOPBACK };
    if (backlog !== undefined) options.backlog = backlog;
    return callback === undefined ? original.call(this, options) : original.call(this, options, callback);
  }
  return original.apply(this, args);
}

net.Server.prototype.listen = pinned as unknown as typeof net.Server.prototype.listen;
