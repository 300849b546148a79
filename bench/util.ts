import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/** Monotonic clock in nanoseconds. */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Monotonic clock in milliseconds (float). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return delay(Math.max(0, ms));
}

/** Per-process unique suffix for resource names. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A pool of distinct payloads of `size` bytes, built once up front. */
export function payloadPool(count: number, size: number): Buffer[] {
  const slab = randomBytes(count * size);
  const out: Buffer[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = slab.subarray(i * size, (i + 1) * size);
  return out;
}

/** Partition keys spread evenly over the hash key space. */
export function partitionKeys(count: number): string[] {
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = `pk-${i.toString(36)}-${randomBytes(3).toString('hex')}`;
  return out;
}

const LOOPBACK_HOSTS = new Set(['localhost', '::1', '[::1]']);

/** True when a host name or literal is on the loopback interface. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (LOOPBACK_HOSTS.has(h)) return true;
  return /^127(\.\d{1,3}){3}$/.test(h);
}

/** Parses an endpoint URL and refuses anything that is not loopback. */
export function checkEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`not a URL: ${endpoint}`);
  }
  if (url.protocol !== 'http:') throw new Error(`only http:// endpoints are supported: ${endpoint}`);
  if (!isLoopbackHost(url.hostname)) {
    throw new Error(`refusing non-loopback endpoint ${endpoint}; use 127.0.0.1, localhost or [::1]`);
  }
  return url;
}

/** Reads VmRSS and VmHWM (bytes) of a process from /proc, or null when unavailable. */
export function readProcMemory(pid: number): { rss: number; hwm: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(text);
  if (!rss || !hwm) return null;
  return { rss: Number(rss[1]) * 1024, hwm: Number(hwm[1]) * 1024 };
}

/** Samples a process's resident set size at a fixed interval. */
export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  peakRss = 0;
  samples = 0;

  constructor(private readonly pid: number, private readonly intervalMs = 25) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const m = readProcMemory(this.pid);
    if (!m) return;
    this.samples++;
    if (m.rss > this.peakRss) this.peakRss = m.rss;
  }

  stop(): { peakRss: number; hwm: number } | null {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    const m = readProcMemory(this.pid);
    if (!m || this.samples === 0) return null;
    return { peakRss: this.peakRss, hwm: m.hwm };
  }
}

export function errorName(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; code?: unknown; __type?: unknown };
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
    if (typeof e.code === 'string') return e.code;
  }
  return err instanceof Error ? err.message : String(err);
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const name = errorName(err);
    return name && name !== err.message && err.message ? `${name}: ${err.message}` : err.message || name;
  }
  return String(err);
}

/** Counts errors by name so a run can report what went wrong without stopping. */
export class ErrorTally {
  private readonly counts = new Map<string, number>();
  total = 0;

  add(err: unknown): void {
    const name = errorName(err);
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    this.total++;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  summary(): string {
    return [...this.counts].map(([k, v]) => `${k}×${v}`).join(', ');
  }
}

/** Linux user-visible clock ticks per second (USER_HZ), fixed at 100 on common platforms. */
const USER_HZ = 100;

function procCpuSeconds(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / USER_HZ;
}

/**
 * CPU used by this process and, when known, by the server process over an
 * interval, as a percentage of one core.
 */
export class CpuMeter {
  private readonly t0 = nowMs();
  private readonly client0 = process.cpuUsage();
  private readonly server0: number | null;

  constructor(private readonly serverPid: number | null) {
    this.server0 = serverPid === null ? null : procCpuSeconds(serverPid);
  }

  stop(): { clientCpuPct: number; serverCpuPct: number | null } {
    const wall = (nowMs() - this.t0) / 1000;
    const c = process.cpuUsage(this.client0);
    const clientCpuPct = Math.round(((c.user + c.system) / 1e6 / wall) * 1000) / 10;
    let serverCpuPct: number | null = null;
    if (this.serverPid !== null && this.server0 !== null) {
      const s1 = procCpuSeconds(this.serverPid);
      if (s1 !== null) serverCpuPct = Math.round(((s1 - this.server0) / wall) * 1000) / 10;
    }
    return { clientCpuPct, serverCpuPct };
  }
}
