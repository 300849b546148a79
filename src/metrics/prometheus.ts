import { Counter, Gauge, Registry } from 'prom-client';
import { isLevel, SHARD_LEVEL_METRICS, snakeCase, STREAM_METRICS } from './names.js';
import type { MetricsRecorder } from './recorder.js';
import type { MinuteBuckets } from './buckets.js';

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
export function createPrometheusRegistry(recorder: MetricsRecorder, shardLabel: (index: number) => string): Registry {
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
      if (isLevel(name)) {
        new Gauge({
          name: familyName(scope, name),
          help,
          labelNames,
          registers: [registry],
          collect() {
            this.reset();
            each((labels, b) => {
              const v = b.level(i);
              if (v !== undefined) this.set(labels, v);
            });
          },
        });
      } else {
        new Counter({
          name: familyName(scope, name),
          help,
          labelNames,
          registers: [registry],
          collect() {
            this.reset();
            each((labels, b) => this.inc(labels, b.total(i)));
          },
        });
      }
    });
  };
  define('stream', STREAM_METRICS);
  define('shard', SHARD_LEVEL_METRICS);
  return registry;
}
