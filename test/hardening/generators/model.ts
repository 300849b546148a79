import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evenHashRanges, partitionKeyHash } from '../../../src/util/hash-key.js';
import { Http1Pool, kinesisRequest, type HttpResponse } from './wire.js';

/**
 * A model of the state that a known sequence of valid Kinesis requests makes, the commands that
 * make it, and the comparison of a live server against it (streams, summaries, tags, and every
 * record read back with GetRecords).
 */

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';

export function arnOf(stream: string): string {
  return `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${stream}`;
}

export function shardIdOf(i: number): string {
  return 'shardId-' + String(i).padStart(12, '0');
}

export interface ModelRecord {
  partitionKey: string;
  data: string;
  sequenceNumber: string;
}

export interface ModelStream {
  name: string;
  shardCount: number;
  retentionHours: number;
  tags: Map<string, string>;
  /** Per shard, in order. */
  records: ModelRecord[][];
}

export class Model {
  readonly streams = new Map<string, ModelStream>();

  create(name: string, shardCount: number, tags: Record<string, string> = {}): void {
    this.streams.set(name, {
      name,
      shardCount,
      retentionHours: 24,
      tags: new Map(Object.entries(tags)),
      records: Array.from({ length: shardCount }, () => []),
    });
  }

  get(name: string): ModelStream {
    const s = this.streams.get(name);
    assert.ok(s, `stream ${name} is in the model`);
    return s;
  }

  /** The shard a partition key maps to in a new stream of `shardCount` shards. */
  static shardFor(partitionKey: string, shardCount: number): number {
    const h = partitionKeyHash(partitionKey);
    return evenHashRanges(shardCount).findIndex((r) => h >= r.start && h <= r.end);
  }
}

export type Command =
  | { op: 'put'; stream: string; partitionKey: string; data: string }
  | { op: 'putMany'; stream: string; records: Array<{ partitionKey: string; data: string }> }
  | { op: 'addTags'; stream: string; tags: Record<string, string> }
  | { op: 'removeTags'; stream: string; keys: string[] }
  | { op: 'retention'; stream: string; fraction: number }
  | { op: 'create'; shardCount: number }
  | { op: 'delete' };

const partitionKeyArb = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ minLength: 1, maxLength: 5, unit: 'binary' }).filter((s) => s.length > 0));
const dataArb = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString('base64'));
/** Tag values use the characters AWS allows: letters, digits, white space and `_ . / = + - @ :`. */
const tagValue = fc.string({ maxLength: 12, unit: fc.constantFrom(...'aZ09 _./=+-@:é中') });
const tagKey = fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `t${i}`));

/** Commands on the model's fixed streams; `create` and `delete` act on extra ones. */
export function commandArb(fixed: readonly string[]): fc.Arbitrary<Command> {
  const stream = fc.constantFrom(...fixed);
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('put' as const), stream, partitionKey: partitionKeyArb, data: dataArb }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('putMany' as const),
        stream,
        records: fc.array(fc.record({ partitionKey: partitionKeyArb, data: dataArb }), { minLength: 1, maxLength: 8 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('addTags' as const),
        stream,
        tags: fc.dictionary(tagKey, tagValue, { minKeys: 1, maxKeys: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('removeTags' as const), stream, keys: fc.uniqueArray(tagKey, { minLength: 1, maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('retention' as const), stream, fraction: fc.double({ min: 0, max: 1, noNaN: true }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('create' as const), shardCount: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'delete' as const }) },
  );
}

/** Sends valid requests (JSON over HTTP/1.1) and checks that they succeed. */
export class ValidClient {
  private extra = 0;
  constructor(
    readonly pool: Http1Pool,
    readonly model: Model,
  ) {}

  async call(operation: string, input: Record<string, unknown>): Promise<Record<string, any>> {
    const res: HttpResponse = await this.pool.send(kinesisRequest(operation, Buffer.from(JSON.stringify(input))));
    assert.equal(res.status, 200, `${operation} ${JSON.stringify(input).slice(0, 200)} succeeds: ${res.body.toString('utf8')}`);
    return res.body.length === 0 ? {} : (JSON.parse(res.body.toString('utf8')) as Record<string, any>);
  }

  async createStream(name: string, shardCount: number, tags?: Record<string, string>): Promise<void> {
    await this.call('CreateStream', { StreamName: name, ShardCount: shardCount, ...(tags ? { Tags: tags } : {}) });
    this.model.create(name, shardCount, tags);
  }

  /** Runs one command against the server and applies it to the model. */
  async run(c: Command): Promise<void> {
    const m = this.model;
    switch (c.op) {
      case 'put': {
        const r = await this.call('PutRecord', { StreamName: c.stream, PartitionKey: c.partitionKey, Data: c.data });
        this.place(c.stream, r.ShardId as string, { partitionKey: c.partitionKey, data: c.data, sequenceNumber: r.SequenceNumber as string });
        return;
      }
      case 'putMany': {
        const r = await this.call('PutRecords', {
          StreamName: c.stream,
          Records: c.records.map((x) => ({ PartitionKey: x.partitionKey, Data: x.data })),
        });
        assert.equal(r.FailedRecordCount ?? 0, 0, 'no record of a PutRecords fails');
        (r.Records as Array<Record<string, string>>).forEach((e, i) => {
          const x = c.records[i]!;
          this.place(c.stream, e.ShardId!, { partitionKey: x.partitionKey, data: x.data, sequenceNumber: e.SequenceNumber! });
        });
        return;
      }
      case 'addTags': {
        const s = m.get(c.stream);
        const after = new Map(s.tags);
        for (const [k, v] of Object.entries(c.tags)) after.set(k, v);
        if (after.size > 50) return;
        await this.call('AddTagsToStream', { StreamName: c.stream, Tags: c.tags });
        s.tags = after;
        return;
      }
      case 'removeTags': {
        await this.call('RemoveTagsFromStream', { StreamName: c.stream, TagKeys: c.keys });
        for (const k of c.keys) m.get(c.stream).tags.delete(k);
        return;
      }
      case 'retention': {
        const s = m.get(c.stream);
        const increase = c.fraction >= 0.5;
        const hours = increase
          ? s.retentionHours + Math.floor((8760 - s.retentionHours) * (c.fraction - 0.5) * 2)
          : 24 + Math.floor((s.retentionHours - 24) * c.fraction * 2);
        await this.call(increase ? 'IncreaseStreamRetentionPeriod' : 'DecreaseStreamRetentionPeriod', {
          StreamName: c.stream,
          RetentionPeriodHours: hours,
        });
        s.retentionHours = hours;
        return;
      }
      case 'create': {
        await this.createStream(`fz-extra-${this.extra++}`, c.shardCount);
        return;
      }
      case 'delete': {
        const victim = [...m.streams.keys()].find((n) => n.startsWith('fz-extra-'));
        if (!victim) return;
        await this.call('DeleteStream', { StreamName: victim });
        m.streams.delete(victim);
        return;
      }
    }
  }

  private place(stream: string, shardId: string, r: ModelRecord): void {
    const s = this.model.get(stream);
    const index = Model.shardFor(r.partitionKey, s.shardCount);
    assert.equal(shardId, shardIdOf(index), `the record with key ${JSON.stringify(r.partitionKey)} goes to the shard its hash names`);
    s.records[index]!.push(r);
  }
}

/** Compares the live server with the model; waits (bounded) for deletions to finish. */
export async function compareWithModel(client: ValidClient): Promise<{ records: number }> {
  const model = client.model;
  const expectedNames = [...model.streams.keys()].sort();
  let names: string[] = [];
  for (let i = 0; i < 200; i++) {
    names = ((await client.call('ListStreams', { Limit: 1000 })).StreamNames as string[]).slice().sort();
    if (JSON.stringify(names) === JSON.stringify(expectedNames)) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.deepEqual(names, expectedNames, 'ListStreams names the streams the valid requests made');
  let records = 0;
  for (const s of model.streams.values()) {
    const d = (await client.call('DescribeStreamSummary', { StreamName: s.name })).StreamDescriptionSummary as Record<string, unknown>;
    assert.equal(d.StreamName, s.name);
    assert.equal(d.StreamStatus, 'ACTIVE', `${s.name} is ACTIVE`);
    assert.equal(d.RetentionPeriodHours, s.retentionHours, `${s.name}'s retention period`);
    assert.equal(d.OpenShardCount, s.shardCount, `${s.name}'s shard count`);
    assert.equal(d.StreamARN, arnOf(s.name));
    const tags = (await client.call('ListTagsForStream', { StreamName: s.name, Limit: 50 })) as { Tags: Array<{ Key: string; Value: string }>; HasMoreTags: boolean };
    assert.equal(tags.HasMoreTags, false);
    assert.deepEqual(
      tags.Tags.map((t) => [t.Key, t.Value]).sort(),
      [...s.tags.entries()].sort(),
      `${s.name}'s tags`,
    );
    for (let shard = 0; shard < s.shardCount; shard++) {
      const got = await readShard(client, s.name, shardIdOf(shard));
      const want = s.records[shard]!;
      assert.equal(got.length, want.length, `${s.name}/${shardIdOf(shard)} holds exactly the records put`);
      for (let i = 0; i < want.length; i++) {
        assert.deepEqual(got[i], want[i], `${s.name}/${shardIdOf(shard)} record ${i}`);
      }
      records += got.length;
    }
  }
  return { records };
}

async function readShard(client: ValidClient, stream: string, shardId: string): Promise<ModelRecord[]> {
  let it = (await client.call('GetShardIterator', { StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' })).ShardIterator as string;
  const out: ModelRecord[] = [];
  for (let calls = 0; calls < 10_000; calls++) {
    const r = await client.call('GetRecords', { ShardIterator: it, Limit: 10_000 });
    const recs = r.Records as Array<Record<string, string>>;
    for (const x of recs) out.push({ partitionKey: x.PartitionKey!, data: x.Data!, sequenceNumber: x.SequenceNumber! });
    it = r.NextShardIterator as string;
    if (recs.length === 0 && r.MillisBehindLatest === 0) return out;
  }
  throw new Error('the shard never caught up');
}
