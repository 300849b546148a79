import type { Catalog, MetricRow } from '../storage/catalog.js';

/** Where completed minutes go: the catalog when it keeps metrics, else process memory. */
export interface MetricsStore {
  /** Adds rows; a row for a (stream, shard, minute, name) already stored is merged into it. */
  append(rows: readonly MetricRow[]): Promise<void>;
  /** The rows of a stream in [fromMinute, toMinute]. */
  read(stream: string, fromMinute: number, toMinute: number): Promise<MetricRow[]>;
  /** Deletes every row of a minute before `minute`. */
  deleteBefore(minute: number): Promise<void>;
}

export function mergeRow(into: MetricRow, row: MetricRow): void {
  into.sum += row.sum;
  into.count += row.count;
  if (row.max > into.max) into.max = row.max;
}

/** Completed minutes in memory only: lost on restart. */
export class MemoryMetricsStore implements MetricsStore {
  private readonly rows = new Map<string, MetricRow>();

  async append(rows: readonly MetricRow[]): Promise<void> {
    for (const r of rows) {
      const id = `${r.stream}\u0000${r.shard}\u0000${r.minute}\u0000${r.name}`;
      const have = this.rows.get(id);
      if (have) mergeRow(have, r);
      else this.rows.set(id, { ...r });
    }
  }

  async read(stream: string, fromMinute: number, toMinute: number): Promise<MetricRow[]> {
    const out: MetricRow[] = [];
    for (const r of this.rows.values()) {
      if (r.stream === stream && r.minute >= fromMinute && r.minute <= toMinute) out.push({ ...r });
    }
    return out;
  }

  async deleteBefore(minute: number): Promise<void> {
    for (const [id, r] of this.rows) if (r.minute < minute) this.rows.delete(id);
  }
}

/** The catalog's metrics table, when the catalog has one; otherwise memory. */
export function metricsStoreFor(catalog: Catalog): MetricsStore {
  if (catalog.appendMetrics && catalog.readMetrics && catalog.deleteMetricsBefore) {
    return {
      append: (rows) => catalog.appendMetrics!(rows),
      read: (stream, from, to) => catalog.readMetrics!(stream, from, to),
      deleteBefore: (minute) => catalog.deleteMetricsBefore!(minute),
    };
  }
  return new MemoryMetricsStore();
}
