export type Better = 'higher' | 'lower' | 'none';

export interface MetricDef {
  key: string;
  label: string;
  unit: string;
  better: Better;
  /** Decimal places when printed. */
  digits?: number;
}

export interface ScenarioOptions {
  /** Length of a timed measurement window, seconds. */
  seconds: number;
  /** Untimed warm-up before a timed window, seconds. */
  warmupSeconds: number;
  /** Bytes of data per record. */
  recordSize: number;
  /** Records loaded and then read back by the GetRecords scenario. */
  getRecordsCount: number;
  /** Upper bound on the time spent loading those records, seconds. */
  loadSeconds: number;
  /** Records written by the put-to-visible scenario. */
  latencyRecords: number;
  /** Milliseconds between puts in the put-to-visible scenario. */
  latencyIntervalMs: number;
  /**
   * Which client makes the measured calls: the AWS SDK v3 client, or the lean
   * HTTP/1.1 client in raw-client.ts (JSON writes, CBOR GetRecords).
   */
  client: ClientKind;
}

export type ClientKind = 'sdk' | 'raw';
export const CLIENT_KINDS: readonly ClientKind[] = ['sdk', 'raw'];

/** How results name the client that produced them. */
export function describeClient(kind: ClientKind): string {
  return kind === 'raw' ? 'raw (lean HTTP/1.1, JSON writes, CBOR GetRecords)' : 'sdk';
}

export interface ScenarioContext {
  endpoint: string;
  /** Process id of the server when the benchmark started it, else null. */
  serverPid: number | null;
  /** What is measured: a server kind the benchmark started (tributary, kinesalite...), or endpoint. */
  serverKind?: string;
  options: ScenarioOptions;
  log(message: string): void;
}

export interface ScenarioOutcome {
  values: Record<string, number | null>;
  /** Why particular values are missing, keyed like values. */
  notes?: Record<string, string>;
  details: Record<string, unknown>;
}

export interface Scenario {
  id: string;
  title: string;
  metrics: MetricDef[];
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}

export type ScenarioStatus = 'ok' | 'n/a' | 'error';

export interface ScenarioResult {
  id: string;
  title: string;
  status: ScenarioStatus;
  reason?: string;
  metrics: Array<MetricDef & { value: number | null; note?: string }>;
  details: Record<string, unknown>;
  elapsedSeconds: number;
}

/** Thrown when a scenario needs an operation the server does not offer. */
export class UnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedError';
  }
}
