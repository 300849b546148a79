/**
 * A channel's S3 Tables destination: each flushed buffer becomes one append snapshot of the
 * channel's Apache Iceberg table (delivery/iceberg/table.ts), written through the S3 API to the
 * bucket named after the table bucket (`arn:…:s3tables:…:bucket/<name>` → bucket `<name>`), at
 * `s3://<name>/<namespace>/<table>/`. The table is created with the channel's first delivery.
 *
 * The API carries no table schema (a Glue Schema Registry schema is not supported here), so every
 * channel table has the same columns: the record's Kinesis metadata and its body as text.
 *
 *   1 shard_id                       string       required
 *   2 sequence_number                string       required
 *   3 partition_key                  string       required
 *   4 approximate_arrival_timestamp  timestamptz  required
 *   5 data                           string       optional  JSON and STRING records as they are,
 *                                                           BYTE_ARRAY records in base64
 *
 * Exactly once: each snapshot's summary holds, per source shard, the offset of the last record
 * the table holds (`tributary.shard-offsets`). A commit is planned against the table's current
 * snapshot: records at or below those offsets are dropped, so a batch delivered again after a
 * restart (the channel's progress is saved after the commit) or copied twice into the channel's
 * log adds nothing twice, and a conflicting commit is re-planned on the snapshot that won.
 * Records that are not of the channel's format go to the dead-letter bucket, never the table.
 * A PartitionSpec (one TIME_HOUR field of approximate_arrival_timestamp) partitions the table by
 * the hour of arrival: `approximate_arrival_timestamp_hour`, one data file per hour and commit.
 */
import type { BatchDestination, DeliveryBatch } from '../delivery/pipeline.js';
import type { DeliveryRecord, FailedRecord } from '../delivery/records.js';
import { IcebergTable, type IcebergField, type IcebergRow, type PointerStore, type TableObjects } from '../delivery/iceberg/table.js';
import { registerTable, tablePointerName } from '../delivery/iceberg/registry.js';
import type { ChannelMeta, ChannelTable } from './channel-model.js';

export const CHANNEL_TABLE_FIELDS: readonly IcebergField[] = [
  { id: 1, name: 'shard_id', required: true, type: 'string' },
  { id: 2, name: 'sequence_number', required: true, type: 'string' },
  { id: 3, name: 'partition_key', required: true, type: 'string' },
  { id: 4, name: 'approximate_arrival_timestamp', required: true, type: 'timestamptz' },
  { id: 5, name: 'data', required: false, type: 'string' },
];

/** The snapshot summary key holding the per-shard offsets the table holds records up to. */
export const OFFSETS_KEY = 'tributary.shard-offsets';

type ChannelTableObjects = TableObjects & { put(bucket: string, key: string, body: Buffer): Promise<unknown>; ensureBucket?(bucket: string): Promise<void> };

export interface TableDestinationDeps {
  objects(): ChannelTableObjects | undefined;
  pointers: PointerStore & { getSetting(name: string): Promise<string | undefined>; putSetting(name: string, value: string): Promise<void> };
  now(): number;
  /** Where failed records go. */
  deadLetter: Pick<BatchDestination, 'deliverFailures'>;
  /** Why a record is not of the channel's format, or undefined. */
  problem(data: Buffer): string | undefined;
}

/** The general purpose bucket a table bucket's tables are stored in. */
export function tableBucketName(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

export function tableDestination(channel: ChannelMeta, deps: TableDestinationDeps): BatchDestination {
  const target = channel.tables as ChannelTable;
  const bucket = tableBucketName(target.TableBucketARN);
  let table: IcebergTable | undefined;
  let ready = false;
  const objects: TableObjects = {
    get: (b, k) => store().get(b, k),
    put: (b, k, body) => store().put(b, k, body),
    putIfAbsent: (b, k, body) => store().putIfAbsent(b, k, body),
  };
  function store(): ChannelTableObjects {
    const o = deps.objects();
    if (!o) throw new Error('no object store to deliver to');
    return o;
  }
  async function open(): Promise<IcebergTable> {
    table ??= new IcebergTable({
      bucket,
      namespace: target.Namespace,
      name: target.TableName,
      fields: CHANNEL_TABLE_FIELDS,
      compression: target.CompressionType === 'SNAPPY' ? 'SNAPPY' : 'UNCOMPRESSED',
      ...(target.PartitionSpec ? { hourOf: 'approximate_arrival_timestamp' } : {}),
      objects,
      pointers: deps.pointers,
      pointerName: tablePointerName(target.TableBucketARN, target.Namespace, target.TableName),
      now: deps.now,
    });
    if (!ready) {
      await store().ensureBucket?.(bucket);
      await registerTable(deps.pointers, { tableBucketArn: target.TableBucketARN, namespace: target.Namespace, name: target.TableName, bucket });
      await table.current();
      ready = true;
    }
    return table;
  }
  return {
    // The channel's pipeline takes its retry period from channel-delivery.ts.
    retryForMs: 24 * 60 * 60 * 1000,
    async deliver(batch: DeliveryBatch) {
      const ok: DeliveryRecord[] = [];
      const failed: FailedRecord[] = [];
      for (const record of batch.records) {
        const problem = deps.problem(record.data);
        if (problem === undefined) ok.push(record);
        else failed.push({ record, errorCode: 'InvalidRecordFormat', errorMessage: problem, errorOutputType: 'invalid-record-format', attemptsMade: 1 });
      }
      const t = await open();
      await t.append((summary) => {
        const offsets = JSON.parse(summary?.[OFFSETS_KEY] ?? '{}') as Record<string, number>;
        const rows: IcebergRow[] = [];
        for (const r of ok) {
          const k = r.kinesis;
          if (!k) continue;
          if (k.offset !== undefined) {
            if (k.offset <= (offsets[k.shardId] ?? -1)) continue;
            offsets[k.shardId] = k.offset;
          }
          rows.push({
            shard_id: k.shardId,
            sequence_number: k.sequenceNumber,
            partition_key: k.partitionKey,
            approximate_arrival_timestamp: BigInt(k.approximateArrivalTimestamp) * 1000n,
            data: channel.stream.recordFormat === 'BYTE_ARRAY' ? r.data.toString('base64') : r.data.toString('utf8'),
          });
        }
        return { rows, summary: { [OFFSETS_KEY]: JSON.stringify(offsets), 'tributary.channel-id': channel.id } };
      });
      return { failed };
    },
    deliverFailures: (failed, now) => deps.deadLetter.deliverFailures(failed, now),
  };
}
