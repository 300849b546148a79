/**
 * The S3 destination: a batch becomes one object (its records' bytes concatenated, converted and
 * compressed as configured) under the evaluated prefix; failed records become JSON lines in an
 * object under the error output prefix. Objects are written through the S3 API (the object
 * writer), to Tributary's own buckets or to the endpoint the operator named.
 */
import type { BatchDestination, DeliveryBatch } from '../pipeline.js';
import type { FailedRecord } from '../records.js';

/** Where objects go: `put` resolves once the object is stored. */
export interface ObjectSink {
  put(bucket: string, key: string, body: Buffer, options?: { contentType?: string; contentEncoding?: string }): Promise<unknown>;
}

export interface S3DestinationOptions {
  sink: ObjectSink;
  bucket: string;
  /** The object body of a batch: converted records or concatenated bytes, compressed. Failures are records it could not convert. */
  encode(batch: DeliveryBatch): Promise<{ body: Buffer; failed: FailedRecord[] }>;
  /** The object key of a batch delivered at `now`, or a failure (e.g. a prefix over 512 characters). */
  objectKey(batch: DeliveryBatch, now: number): { key: string } | { error: string; errorCode: string };
  /** The key of an error-output object for failures of one type, the oldest of which arrived at `oldestArrival`. */
  errorKey(errorOutputType: string, oldestArrival: number, now: number): string;
  /** One failed record as the JSON line AWS writes for it. */
  errorLine(failed: FailedRecord, now: number): string;
  /** The body of an error-output object from its lines. */
  encodeErrors(lines: Buffer): Promise<Buffer>;
  /** S3 delivery is retried for 24 hours. */
  retryForMs?: number;
}

export const S3_RETRY_MS = 24 * 3600_000;

export class S3Destination implements BatchDestination {
  readonly retryForMs: number;

  constructor(private readonly o: S3DestinationOptions) {
    this.retryForMs = o.retryForMs ?? S3_RETRY_MS;
  }

  async deliver(batch: DeliveryBatch, now: number): Promise<{ failed: FailedRecord[] }> {
    const named = this.o.objectKey(batch, now);
    if ('error' in named) {
      return {
        failed: batch.records.map((record) => ({ record, errorCode: named.errorCode, errorMessage: named.error, errorOutputType: 'processing-failed', attemptsMade: 1 })),
      };
    }
    const { body, failed } = await this.o.encode(batch);
    if (failed.length < batch.records.length) await this.o.sink.put(this.o.bucket, named.key, body);
    return { failed };
  }

  async deliverFailures(failed: FailedRecord[], now: number): Promise<void> {
    const byType = new Map<string, FailedRecord[]>();
    for (const f of failed) {
      let list = byType.get(f.errorOutputType);
      if (!list) byType.set(f.errorOutputType, (list = []));
      list.push(f);
    }
    for (const [type, list] of byType) {
      const oldest = list.reduce((min, f) => Math.min(min, f.record.arrival), Infinity);
      const lines = Buffer.from(list.map((f) => `${this.o.errorLine(f, now)}\n`).join(''));
      await this.o.sink.put(this.o.bucket, this.o.errorKey(type, oldest, now), await this.o.encodeErrors(lines));
    }
  }
}
