import { Counter, Gauge, Registry } from 'prom-client';
import { isLevel, SHARD_LEVEL_METRICS, snakeCase, STREAM_METRICS } from './names.js';
import type { MetricsRecorder } from './recorder.js';
import type { MinuteBuckets } from './buckets.js';
import type { StorageFaultCounts } from './storage-faults.js';
import { FIREHOSE_METRICS, type FirehoseMetrics } from './firehose.js';

const PREFIX = 'tributary_kinesis';

/** The Prometheus family name of a metric: `stream` or `shard` scope, and its unit. */
export function familyName(scope: 'stream' | 'shard', name: string): string {
  const base = `${PREFIX}_${scope}_${snakeCase(name)}`;
  if (name.endsWith('.Latency')) return `${base}_milliseconds`;
  return isLevel(name) ? base : `${base}_total`;
}

/**
 * A Prometheus registry whose families are read from the recorder at each scrape: amounts are
 * counters (the total since the server started), latencies and iterator ages are gauges (the
 * maximum in the current minute, or in the last minute that had a sample). `shardLabel` names a
 * shard by its index (the service's shard id) in the `shard` label.
 */
export function createPrometheusRegistry(
  recorder: MetricsRecorder,
  shardLabel: (index: number) => string,
  faults?: StorageFaultCounts,
  firehose?: FirehoseMetrics,
): Registry {
  const registry = new Registry();
  const define = (scope: 'stream' | 'shard', names: readonly string[]) => {
    names.forEach((name, i) => {
      const labelNames = scope === 'stream' ? ['stream'] : ['stream', 'shard'];
      const help = `Kinesis ${name} (${scope} level)`;
      const each = (fn: (labels: Record<string, string>, b: MinuteBuckets) => void) => {
        for (const m of recorder.all()) {
          if (scope === 'stream') fn({ stream: m.name }, m.stream);
          else for (const [index, b] of m.shards) fn({ stream: m.name, shard: shardLabel(index) }, b);
        }
      };
      defineBucketFamily(registry, { name: familyName(scope, name), help, labelNames, level: isLevel(name), metric: i, each });
    });
  };
  define('stream', STREAM_METRICS);
  define('shard', SHARD_LEVEL_METRICS);
  if (faults) defineStorageFaults(registry, faults);
  if (firehose) defineFirehose(registry, firehose);
  return registry;
}

/** The storage engine's fault counters: STORAGE_FAULTS by kind, and STORAGE_LOST_RECORDS. */
export const STORAGE_FAULTS = 'tributary_storage_shard_faults_total';
export const STORAGE_LOST_RECORDS = 'tributary_storage_shard_lost_records_total';

function defineStorageFaults(registry: Registry, faults: StorageFaultCounts): void {
  new Counter({
    name: STORAGE_FAULTS,
    help: 'Storage faults of a shard log: corrupt-batch, truncated-tail, write-failed, sync-failed',
    labelNames: ['stream', 'shard', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of faults.faultRows()) this.inc({ stream: r.stream, shard: r.shard, kind: r.kind }, r.count);
    },
  });
  new Counter({
    name: STORAGE_LOST_RECORDS,
    help: 'Records of a shard log lost to damaged batches (not served)',
    labelNames: ['stream', 'shard'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of faults.lostRows()) this.inc({ stream: r.stream, shard: r.shard }, r.records);
    },
  });
}

/** The Prometheus family name of a Firehose metric: levels carry their unit, amounts are totals. */
export function firehoseFamilyName(name: string): string {
  const base = `tributary_firehose_${snakeCase(name)}`;
  if (name.endsWith('.Latency')) return `${base}_milliseconds`;
  if (name.endsWith('.DataFreshness')) return `${base}_seconds`;
  return `${base}_total`;
}

/** Firehose's metrics by delivery stream: amounts as counters, latency and freshness as gauges. */
function defineFirehose(registry: Registry, firehose: FirehoseMetrics): void {
  FIREHOSE_METRICS.forEach((name, i) => {
    defineBucketFamily(registry, {
      name: firehoseFamilyName(name),
      help: `Firehose ${name}`,
      labelNames: ['delivery_stream'],
      level: name.endsWith('.Latency') || name.endsWith('.DataFreshness'),
      metric: i,
      each: (fn) => {
        for (const [stream, b] of firehose.all()) fn({ delivery_stream: stream }, b);
      },
    });
  });
}

/**
 * One family read from minute buckets at each scrape: a level is a gauge (the maximum of the
 * current minute, or of the last minute that had a sample), an amount a counter (the total).
 */
function defineBucketFamily(
  registry: Registry,
  f: {
    name: string;
    help: string;
    labelNames: string[];
    level: boolean;
    metric: number;
    each: (fn: (labels: Record<string, string>, b: MinuteBuckets) => void) => void;
  },
): void {
  const { name, help, labelNames, metric, each } = f;
  if (f.level) {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        each((labels, b) => {
          const v = b.level(metric);
          if (v !== undefined) this.set(labels, v);
        });
      },
    });
  } else {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        each((labels, b) => this.inc(labels, b.total(metric)));
      },
    });
  }
}
