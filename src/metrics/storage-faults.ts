/**
 * Storage faults seen by this process, per shard and kind: damaged batches, torn tails cut off,
 * failed writes and fsyncs, and the records that damage cost. Counted since the server started,
 * for `/metrics`; the log has the details of each one.
 */
export interface StorageFaultRow {
  stream: string;
  shard: string;
  kind: string;
  count: number;
}

export interface LostRecordsRow {
  stream: string;
  shard: string;
  records: number;
}

export class StorageFaultCounts {
  private readonly faults = new Map<string, StorageFaultRow>();
  private readonly lost = new Map<string, LostRecordsRow>();

  /** One fault of `kind` on a shard, which cost `lostRecords` records. */
  record(stream: string, shard: string, kind: string, lostRecords = 0): void {
    const key = JSON.stringify([stream, shard, kind]);
    const row = this.faults.get(key) ?? { stream, shard, kind, count: 0 };
    row.count++;
    this.faults.set(key, row);
    if (lostRecords > 0) {
      const lostKey = JSON.stringify([stream, shard]);
      const lost = this.lost.get(lostKey) ?? { stream, shard, records: 0 };
      lost.records += lostRecords;
      this.lost.set(lostKey, lost);
    }
  }

  faultRows(): Iterable<StorageFaultRow> {
    return this.faults.values();
  }

  lostRows(): Iterable<LostRecordsRow> {
    return this.lost.values();
  }
}
