/**
 * A Kinesis consumer in the model of the Kinesis Client Library 2.x: leases in a DynamoDB table
 * named after the application (the KCL's schema), lease taking and balancing between workers,
 * checkpoints with sub-sequence numbers, parent-before-child across reshards, KPL de-aggregation,
 * and polling or enhanced fan-out retrieval. It uses only @aws-sdk/client-kinesis and
 * @aws-sdk/client-dynamodb, so it runs against AWS or Tributary alike.
 *
 *   const consumer = new Consumer({
 *     applicationName: 'orders-app',
 *     streamName: 'orders',
 *     clientConfig: { endpoint: 'http://127.0.0.1:4567', region: 'us-east-1' },
 *     recordProcessorFactory: () => ({
 *       initialize() {},
 *       async processRecords({ records, checkpointer }) { ...; await checkpointer.checkpoint(); },
 *       leaseLost() {},
 *       async shardEnded({ checkpointer }) { await checkpointer.checkpoint(); },
 *       async shutdownRequested({ checkpointer }) { await checkpointer.checkpoint(); },
 *     }),
 *   });
 *   await consumer.start();
 *   ...
 *   await consumer.shutdown();
 */
export { Consumer, resolveSettings, type ConsumerState, type ResolvedSettings } from './consumer.js';
export { ShardCheckpointer } from './checkpointer.js';
export { InvalidStateException, ShutdownException } from './errors.js';
export { fromItem, toItem, type Lease } from './lease.js';
export { LeaseTable } from './lease-table.js';
export { decideLeasesToTake, LeaseObserver, type TakeDecision, type TakeDecisionInput } from './lease-taker.js';
export { ensureStreamConsumer, fanOutReader } from './retrieval/fanout.js';
export { pollingReader } from './retrieval/polling.js';
export type { RecordBatch, ShardReader, StartPosition } from './retrieval/types.js';
export {
  AT_TIMESTAMP,
  compareExtended,
  LATEST,
  SHARD_END,
  TRIM_HORIZON,
  type ExtendedSequenceNumber,
  type SentinelCheckpoint,
} from './sequence.js';
export { ShardConsumer, startPositionFor, userRecordsAfter, type ShutdownReason } from './shard-consumer.js';
export { leasesToCleanUp, leasesToCreate, listAllShards, syncShards } from './shard-sync.js';
export {
  silentLogger,
  type Checkpointer,
  type ConsumerLogger,
  type ConsumerOptions,
  type InitializationInput,
  type InitialPosition,
  type ProcessRecordsInput,
  type RecordProcessor,
  type RecordProcessorFactory,
  type Retrieval,
  type ShardEndedInput,
  type ShutdownRequestedInput,
} from './types.js';
