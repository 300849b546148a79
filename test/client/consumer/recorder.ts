import type { UserRecord } from '../../../src/client/aggregation.js';
import type { Checkpointer, RecordProcessor } from '../../../src/client/consumer/index.js';

export interface RecordedEvent {
  ev: 'init' | 'rec' | 'cp' | 'end' | 'lost' | 'shutdown';
  shard: string;
  seq?: string;
  sub?: number;
  pk?: string;
  data?: string;
}

export interface RecorderOptions {
  /** Decides after each batch whether (and where) to checkpoint: 'last' = checkpoint(), a record = there, undefined = not. */
  checkpointAfterBatch?: (shard: string, records: UserRecord[]) => 'last' | UserRecord | undefined;
  /** Checkpoint in shutdownRequested (default true). */
  checkpointOnShutdown?: boolean;
}

/** A record processor factory that writes down everything it sees. */
export function recorder(opts: RecorderOptions = {}): { events: RecordedEvent[]; factory: (shard: string) => RecordProcessor; records(shard?: string): RecordedEvent[] } {
  const events: RecordedEvent[] = [];
  const cp = async (shard: string, checkpointer: Checkpointer, at?: UserRecord) => {
    if (at) await checkpointer.checkpointRecord(at);
    else await checkpointer.checkpoint();
    events.push({ ev: 'cp', shard, seq: checkpointer.lastCheckpoint.sequenceNumber, sub: checkpointer.lastCheckpoint.subSequenceNumber });
  };
  const factory = (shard: string): RecordProcessor => ({
    initialize(input) {
      events.push({ ev: 'init', shard, seq: input.extendedSequenceNumber.sequenceNumber, sub: input.extendedSequenceNumber.subSequenceNumber });
    },
    async processRecords({ records, checkpointer }) {
      for (const r of records) {
        events.push({ ev: 'rec', shard, seq: r.sequenceNumber, sub: r.subSequenceNumber, pk: r.partitionKey, data: Buffer.from(r.data).toString() });
      }
      const decision = (opts.checkpointAfterBatch ?? (() => 'last'))(shard, records);
      if (decision === 'last') await cp(shard, checkpointer);
      else if (decision) await cp(shard, checkpointer, decision);
    },
    leaseLost() {
      events.push({ ev: 'lost', shard });
    },
    async shardEnded({ checkpointer }) {
      await cp(shard, checkpointer);
      events.push({ ev: 'end', shard });
    },
    async shutdownRequested({ checkpointer }) {
      if (opts.checkpointOnShutdown ?? true) await cp(shard, checkpointer);
      events.push({ ev: 'shutdown', shard });
    },
  });
  return { events, factory, records: (shard) => events.filter((e) => e.ev === 'rec' && (!shard || e.shard === shard)) };
}
