import { isUnsupported } from '../client.js';
import { CpuMeter, ErrorTally, errorMessage, nowNs } from '../util.js';
import { UnsupportedError } from './types.js';

export interface WindowOptions {
  /** Operation name, for messages. */
  operation: string;
  concurrency: number;
  warmupMs: number;
  measureMs: number;
  /** Give up after this many failures in a row. */
  maxConsecutiveErrors?: number;
  /** Server process whose CPU use over the window is reported, when known. */
  serverPid?: number | null;
}

export interface WindowStats {
  windowSeconds: number;
  calls: number;
  errorCalls: number;
  errors: Record<string, number>;
  /** CPU over the window as % of one core; the server's is null when unknown. */
  clientCpuPct: number | null;
  serverCpuPct: number | null;
}

/**
 * Keeps `concurrency` calls in flight for warm-up plus a measurement window.
 * Only calls that complete inside the window are handed to `record`, so the
 * rate is completions per window length, with no ramp-up or drain in it.
 */
export async function timedWindow<T>(
  opts: WindowOptions,
  call: (seq: number) => Promise<T>,
  record: (result: T, latencyNs: bigint) => void,
  onError?: (err: unknown) => void,
): Promise<WindowStats> {
  const start = nowNs();
  const windowStart = start + BigInt(Math.round(opts.warmupMs * 1e6));
  const windowEnd = windowStart + BigInt(Math.round(opts.measureMs * 1e6));
  const maxErrors = opts.maxConsecutiveErrors ?? 50;
  const errors = new ErrorTally();
  let calls = 0;
  let consecutive = 0;
  let seq = 0;
  let fatal: unknown = null;

  const worker = async (): Promise<void> => {
    while (fatal === null && nowNs() < windowEnd) {
      const n = seq++;
      const t0 = nowNs();
      try {
        const result = await call(n);
        const t1 = nowNs();
        consecutive = 0;
        if (t1 >= windowStart && t1 <= windowEnd) {
          calls++;
          record(result, t1 - t0);
        }
      } catch (err) {
        const t1 = nowNs();
        if (isUnsupported(err)) {
          fatal = new UnsupportedError(`${opts.operation} not supported (${errorMessage(err)})`);
          return;
        }
        if (t1 >= windowStart && t1 <= windowEnd) {
          errors.add(err);
          onError?.(err);
        }
        if (++consecutive >= maxErrors) {
          fatal = err;
          return;
        }
      }
    }
  };

  let meter: CpuMeter | null = null;
  let cpu: ReturnType<CpuMeter['stop']> | null = null;
  const startMeter = setTimeout(() => {
    meter = new CpuMeter(opts.serverPid ?? null);
  }, opts.warmupMs);
  const stopMeter = setTimeout(() => {
    cpu = meter?.stop() ?? null;
  }, opts.warmupMs + opts.measureMs);
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    clearTimeout(startMeter);
    clearTimeout(stopMeter);
  }
  if (fatal !== null) throw fatal;
  const usage = cpu as ReturnType<CpuMeter['stop']> | null;
  return {
    windowSeconds: opts.measureMs / 1000,
    calls,
    errorCalls: errors.total,
    errors: errors.toJSON(),
    clientCpuPct: usage?.clientCpuPct ?? null,
    serverCpuPct: usage?.serverCpuPct ?? null,
  };
}
