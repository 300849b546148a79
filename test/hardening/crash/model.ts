/**
 * What the crash tests know about the server's state from the client side: every record sent, every
 * record acknowledged (with the shard and sequence number the server gave it), every stream and
 * consumer asked for. A request whose reply never came (the server was killed) may or may not
 * have taken effect; one that was answered must have.
 */

/** A seeded PRNG (mulberry32), so that a failing run can be repeated with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Acked {
  stream: string;
  shard: string;
  seq: string;
  round: number;
}

/** Record payloads are `<stream>|<round>|<writer>|<n>|<padding>`: each names where it was sent, and is unique. */
export function payload(stream: string, round: number, writer: string, n: number, pad: number): string {
  return `${stream}|${round}|${writer}|${n}|${'.'.repeat(pad)}`;
}

export function parsePayload(data: string): { stream: string; round: number } | undefined {
  const [stream, round] = data.split('|');
  if (stream === undefined || round === undefined || !/^\d+$/.test(round)) return undefined;
  return { stream, round: Number(round) };
}

export interface ChurnStream {
  createAcked: boolean;
  deleteSent: boolean;
  deleteAcked: boolean;
}

export interface ConsumerState {
  stream: string;
  registerAcked: boolean;
  deregisterSent: boolean;
  deregisterAcked: boolean;
}

export class Model {
  /** Every payload sent whose round is still inside the retention window (older ones are forgotten once checked gone). */
  readonly sent = new Set<string>();
  readonly acked = new Map<string, Acked>();
  readonly churn = new Map<string, ChurnStream>();
  readonly consumers = new Map<string, ConsumerState>();
  /** Shard ids listed open at the last check, per stream. */
  openShards = new Map<string, Set<string>>();

  /** Forgets what was sent up to `round`, once the check has seen that none of it is served. */
  forget(round: number): void {
    for (const data of this.sent) if (parsePayload(data)!.round <= round) this.sent.delete(data);
    for (const [data, a] of this.acked) if (a.round <= round) this.acked.delete(data);
  }
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

export type ErrorKind = 'transport' | 'client' | 'server';

/** A transport error (no HTTP reply: the server is gone), an AWS 4xx, or an AWS 5xx. */
export function errorKind(err: unknown): ErrorKind {
  const e = err as SdkError;
  const status = e.$metadata?.httpStatusCode;
  // A reply cut off mid-body carries the status of its headers but fails on the connection or in parsing.
  if (status === undefined || /^E[A-Z]+$/.test(e.code ?? '') || /ECONNRESET|EPIPE|socket hang up|aborted|Deserialization error/.test(e.message ?? '')) {
    return 'transport';
  }
  return status >= 500 ? 'server' : 'client';
}

export function describeError(err: unknown): string {
  const e = err as SdkError;
  return `${e.name ?? 'Error'}${e.code ? ` ${e.code}` : ''} (${e.$metadata?.httpStatusCode ?? 'no reply'}): ${e.message ?? String(err)}`;
}
