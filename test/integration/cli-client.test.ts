/**
 * The client commands (`tributary put`, `tail`, `streams`, `shards`), run as the real CLI in a
 * child process against a server started here, with credentials and region in the environment as
 * a reader of the README has them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DescribeStreamSummaryCommand, type KinesisClient, PutRecordCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../src/util/clock.js';
import { createStream, HASH_KEY_MAX, readShard, shardId, streamNotFound, texts } from '../helpers/kinesis.js';
import { CLI, removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const env: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_EC2_METADATA_DISABLED: 'true',
};
for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_KINESIS', 'AWS_DEFAULT_REGION']) delete env[name];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Running {
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Resolves once stdout holds `n` lines. */
  lines(n: number): Promise<void>;
  /** Resolves once stderr matches. */
  stderrMatches(re: RegExp): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  done: Promise<Run>;
}

function start(args: string[], input?: string | Buffer, extraEnv: NodeJS.ProcessEnv = {}): Running {
  const childEnv = { ...env, ...extraEnv };
  // A variable given as undefined is left out of the child's environment.
  for (const [name, value] of Object.entries(extraEnv)) if (value === undefined) delete childEnv[name];
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const check = () => {
    const count = out.split('\n').length - 1;
    for (const w of waiters.filter((w) => count >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    check();
  });
  const errWaiters: Array<{ re: RegExp; resolve: () => void }> = [];
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
    for (const w of errWaiters.filter((w) => w.re.test(err))) {
      errWaiters.splice(errWaiters.indexOf(w), 1);
      w.resolve();
    }
  });
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  const done = new Promise<Run>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err })));
  return {
    stdout: () => out,
    lines: (n) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ n, resolve });
        check();
        void done.then((r) => reject(new Error(`the command ended (${r.code}) before printing ${n} lines: ${r.stdout}${r.stderr}`)));
      }),
    stderrMatches: (re) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(err)) return resolve();
        errWaiters.push({ re, resolve });
        void done.then((r) => reject(new Error(`the command ended (${r.code}) before printing ${re} on stderr: ${r.stderr}`)));
      }),
    kill: (signal) => child.kill(signal),
    done,
  };
}

const tributary = (args: string[], input?: string | Buffer) => start(args, input).done;

/** Runs a command that must succeed and returns its stdout. */
async function ok(args: string[], input?: string | Buffer): Promise<string> {
  const r = await tributary(args, input);
  assert.equal(r.code, 0, `tributary ${args.join(' ')} exited with ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function untilActive(kinesis: KinesisClient, stream: string): Promise<void> {
  for (;;) {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface JsonLine {
  shardId: string;
  sequenceNumber: string;
  subSequenceNumber?: number;
  partitionKey: string;
  approximateArrivalTimestamp: string;
  data: string;
  dataEncoding: string;
}
const jsonLines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JsonLine);

describe('tributary client commands', () => {
  let server: TestServer;
  let kinesis: KinesisClient;
  let ep: string[];
  const dir = tempDir();

  before(async () => {
    server = await startTestServer({ updateStreamDelayMs: 0 });
    kinesis = server.client();
    ep = ['--endpoint-url', server.endpoint];
  });
  after(async () => {
    await server.destroy();
    removeDir(dir);
  });

  it('puts one record per line of stdin, as the shell script form writes it', async () => {
    await createStream(kinesis, 'orders', 1);
    await untilActive(kinesis, 'orders');
    const r = await new Promise<Run>((resolve) => {
      const child = spawn('bash', ['-c', `printf 'alpha\\nbeta\\n' | "${process.execPath}" "${CLI}" put orders --endpoint-url ${server.endpoint}`], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^tributary put: 2 records, 9 bytes in \d+\.\d\d s\n$/);
    assert.deepEqual(texts(await readShard(kinesis, 'orders', shardId(0))), ['alpha', 'beta']);
  });

  it('tails from the trim horizon: each record on its line, then exits after --max', async () => {
    const r = await tributary(['tail', 'orders', '--from', 'trim-horizon', '--max', '2', ...ep]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'alpha\nbeta\n');
  });

  it('tails from a sequence number, from one shard, and from the latest record', async () => {
    const [, beta] = await readShard(kinesis, 'orders', shardId(0));
    assert.equal(await ok(['tail', 'orders', '--from', beta!.SequenceNumber!, '--max', '1', ...ep]), 'beta\n');
    assert.equal(await ok(['tail', 'orders', '--shard', shardId(0), '--from', 'trim-horizon', '--max', '1', ...ep]), 'alpha\n');
    const noShard = await tributary(['tail', 'orders', '--shard', shardId(5), ...ep]);
    assert.equal(noShard.code, 1);
    assert.equal(noShard.stderr, `tributary: stream orders has no shard ${shardId(5)}\n`);
    // From latest (the default): only what is put once the tail has read (its first lag line).
    await createStream(kinesis, 'latest', 1);
    await untilActive(kinesis, 'latest');
    await ok(['put', 'latest', ...ep], 'old\n');
    const tail = start(['tail', 'latest', '--max', '1', '--lag', '--poll-ms', '50', ...ep]);
    await tail.stderrMatches(/behind latest/);
    await ok(['put', 'latest', ...ep], 'gamma\n');
    const r = await tail.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'gamma\n');
  });

  it('takes partition keys from a JSON field of each line of a file, keeping the order of each key', async () => {
    await createStream(kinesis, 'keyed', 2);
    await untilActive(kinesis, 'keyed');
    const file = path.join(dir, 'orders.jsonl');
    const docs = Array.from({ length: 300 }, (_, i) => ({ id: i, customer: { id: `c${i % 7}` } }));
    writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const r = await tributary(['put', 'keyed', '--file', file, '--key-field', 'customer.id', ...ep]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /tributary put: 300 records/);
    const stored = [...(await readShard(kinesis, 'keyed', shardId(0))), ...(await readShard(kinesis, 'keyed', shardId(1)))];
    assert.equal(stored.length, 300);
    const idsByKey = new Map<string, number[]>();
    for (const rec of stored) {
      const doc = JSON.parse(Buffer.from(rec.Data!).toString()) as (typeof docs)[number];
      assert.equal(rec.PartitionKey, doc.customer.id, 'the partition key is the field');
      idsByKey.set(rec.PartitionKey!, [...(idsByKey.get(rec.PartitionKey!) ?? []), doc.id]);
    }
    assert.equal(idsByKey.size, 7);
    for (const [key, ids] of idsByKey) {
      assert.deepEqual(ids, docs.filter((d) => d.customer.id === key).map((d) => d.id), `records of ${key} in the order of the file`);
    }
  });

  it('prints JSON lines with the fields of each record, binary data in base64', async () => {
    await createStream(kinesis, 'formats', 1);
    await untilActive(kinesis, 'formats');
    const binary = path.join(dir, 'blob.bin');
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]);
    writeFileSync(binary, bytes);
    await ok(['put', 'formats', '--partition-key', 'pk-text', ...ep], 'héllo\n');
    await ok(['put', 'formats', '--whole-file', '--file', binary, '--key-template', 'blob-{n}', ...ep]);
    const [text, blob] = jsonLines(await ok(['tail', 'formats', '--from', 'trim-horizon', '--max', '2', '--format', 'json', ...ep]));
    const stored = await readShard(kinesis, 'formats', shardId(0));
    assert.deepEqual(text, {
      shardId: shardId(0),
      sequenceNumber: stored[0]!.SequenceNumber,
      partitionKey: 'pk-text',
      approximateArrivalTimestamp: stored[0]!.ApproximateArrivalTimestamp!.toISOString(),
      data: 'héllo',
      dataEncoding: 'utf-8',
    });
    assert.equal(blob!.partitionKey, 'blob-1');
    assert.equal(blob!.sequenceNumber, stored[1]!.SequenceNumber);
    assert.equal(blob!.dataEncoding, 'base64');
    assert.deepEqual(Buffer.from(blob!.data, 'base64'), bytes);
    assert.equal(await ok(['tail', 'formats', '--from', 'trim-horizon', '--max', '2', '--format', 'hex', ...ep]), `${Buffer.from('héllo').toString('hex')}\nfffe000180\n`);
  });

  it('packs records with --aggregate, and tail de-aggregates them', async () => {
    await createStream(kinesis, 'packed', 1);
    await untilActive(kinesis, 'packed');
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`);
    const put = await tributary(['put', 'packed', '--aggregate', '--partition-key', 'k', ...ep], lines.join('\n'));
    assert.equal(put.code, 0, put.stderr);
    const stored = await readShard(kinesis, 'packed', shardId(0));
    assert.ok(stored.length < 50, `${stored.length} Kinesis records hold the 50 lines`);
    assert.deepEqual([...Buffer.from(stored[0]!.Data!).subarray(0, 4)], [0xf3, 0x89, 0x9a, 0xc2], 'a KPL aggregated record');
    assert.equal(await ok(['tail', 'packed', '--from', 'trim-horizon', '--max', '50', ...ep]), lines.join('\n') + '\n');
    const json = jsonLines(await ok(['tail', 'packed', '--from', 'trim-horizon', '--max', '3', '--format', 'json', ...ep]));
    assert.deepEqual(json.map((j) => [j.sequenceNumber, j.subSequenceNumber, j.partitionKey, j.data]), [
      [stored[0]!.SequenceNumber, 0, 'k', 'line 0'],
      [stored[0]!.SequenceNumber, 1, 'k', 'line 1'],
      [stored[0]!.SequenceNumber, 2, 'k', 'line 2'],
    ]);
    // Without de-aggregation the stored record comes out as it is.
    const raw = await ok(['tail', 'packed', '--from', 'trim-horizon', '--max', '1', '--format', 'hex', '--no-deaggregate', ...ep]);
    assert.equal(raw, `${Buffer.from(stored[0]!.Data!).toString('hex')}\n`);
  });

  it('follows the children of a shard that is split while it tails', async () => {
    await createStream(kinesis, 'splitting', 1);
    await untilActive(kinesis, 'splitting');
    await ok(['put', 'splitting', '--partition-key', 'p', ...ep], 'before-1\nbefore-2\n');
    const tail = start(['tail', 'splitting', '--from', 'trim-horizon', '--max', '4', '--poll-ms', '50', ...ep]);
    await tail.lines(2);
    const half = (HASH_KEY_MAX + 1n) / 2n;
    await kinesis.send(new SplitShardCommand({ StreamName: 'splitting', ShardToSplit: shardId(0), NewStartingHashKey: half.toString() }));
    await untilActive(kinesis, 'splitting');
    await kinesis.send(new PutRecordCommand({ StreamName: 'splitting', PartitionKey: 'x', ExplicitHashKey: '0', Data: Buffer.from('after-low') }));
    await kinesis.send(new PutRecordCommand({ StreamName: 'splitting', PartitionKey: 'x', ExplicitHashKey: HASH_KEY_MAX.toString(), Data: Buffer.from('after-high') }));
    const r = await tail.done;
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trim().split('\n');
    assert.deepEqual(out.slice(0, 2), ['before-1', 'before-2']);
    assert.deepEqual(out.slice(2).sort(), ['after-high', 'after-low']);

    const table = await ok(['shards', 'splitting', ...ep]);
    const rows = table.trim().split('\n').map((l) => l.split(/\s{2,}/));
    assert.deepEqual(rows[0], ['SHARD', 'PARENTS', 'HASH START', 'HASH END', 'STATE', 'STARTING SEQUENCE']);
    assert.deepEqual(
      rows.slice(1).map((r) => r.slice(0, 5)),
      [
        [shardId(0), '-', '0.00%', '100.00%', 'closed'],
        [shardId(1), shardId(0), '0.00%', '50.00%', 'open'],
        [shardId(2), shardId(0), '50.00%', '100.00%', 'open'],
      ],
    );
    const full = (await ok(['shards', 'splitting', '--full', ...ep])).trim().split('\n').map((l) => l.split(/\s{2,}/));
    assert.deepEqual(full[3]!.slice(2, 4), [half.toString(), HASH_KEY_MAX.toString()]);
  });

  it('follows until SIGTERM when there is no --max, and exits with 0', async () => {
    const tail = start(['tail', 'orders', '--from', 'trim-horizon', '--poll-ms', '50', '--lag', ...ep]);
    await tail.lines(2);
    tail.kill('SIGTERM');
    const r = await tail.done;
    assert.equal(r.signal, null);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'alpha\nbeta\n');
    assert.match(r.stderr, /^tributary tail: \d+ ms behind latest \(MillisBehindLatest, 1 shard\)$/m);
  });

  it('takes region, credentials and endpoint from a profile, by --profile or AWS_PROFILE', async () => {
    const config = path.join(dir, 'config');
    const credentials = path.join(dir, 'credentials');
    writeFileSync(config, `[profile dev]\nregion = us-east-1\nendpoint_url = ${server.endpoint}\n`);
    writeFileSync(credentials, '[dev]\naws_access_key_id = from-profile\naws_secret_access_key = secret\n');
    const profileEnv = { AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_REGION: undefined };
    for (const [args, extra] of [
      [['--profile', 'dev'], {}],
      [[], { AWS_PROFILE: 'dev' }],
    ] as const) {
      const r = await start(['tail', 'orders', '--from', 'trim-horizon', '--max', '1', ...args], undefined, { ...profileEnv, ...extra }).done;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'alpha\n');
    }
  });

  it('creates, lists, describes and deletes streams, and reports an AWS error on one line', async () => {
    assert.equal(await ok(['streams', 'create', 'made', '--shards', '3', '--wait', ...ep]), 'made: ACTIVE\n');
    assert.equal(await ok(['streams', 'create', 'elastic', '--on-demand', '--wait', ...ep]), 'elastic: ACTIVE\n');
    const list = (await ok(['streams', 'list', ...ep])).trim().split('\n').map((l) => l.split(/\s{2,}/));
    assert.deepEqual(list[0], ['NAME', 'STATUS', 'MODE', 'CREATED']);
    assert.deepEqual(list.find((r) => r[0] === 'made')!.slice(0, 3), ['made', 'ACTIVE', 'PROVISIONED']);
    assert.deepEqual(list.find((r) => r[0] === 'elastic')!.slice(0, 3), ['elastic', 'ACTIVE', 'ON_DEMAND']);
    const listed = JSON.parse(await ok(['streams', 'list', '--json', ...ep])) as { StreamNames: string[] };
    assert.ok(listed.StreamNames.includes('made') && listed.StreamNames.includes('orders'));
    const described = await ok(['streams', 'describe', 'made', ...ep]);
    assert.match(described, /^Open shards: +3$/m);
    assert.match(described, /^Status: +ACTIVE$/m);
    const json = JSON.parse(await ok(['streams', 'describe', 'made', '--json', ...ep])) as {
      StreamDescriptionSummary: { OpenShardCount: number; StreamName: string };
      $metadata?: unknown;
    };
    assert.equal(json.StreamDescriptionSummary.OpenShardCount, 3);
    assert.equal(json.$metadata, undefined);
    assert.equal(await ok(['streams', 'delete', 'made', ...ep]), 'made: DELETING\n');
    const missing = await tributary(['streams', 'describe', 'made', ...ep]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr, `ResourceNotFoundException: ${streamNotFound('made')}\n`);
    const putMissing = await tributary(['put', 'made', ...ep], 'x\n');
    assert.equal(putMissing.code, 1);
    assert.equal(putMissing.stderr, `ResourceNotFoundException: ${streamNotFound('made')}\n`);
  });

  it('names the endpoint on one line when nothing listens there, and exits with 1', async () => {
    for (const args of [['streams', 'list'], ['tail', 'orders'], ['put', 'orders'], ['shards', 'orders']]) {
      const r = await tributary([...args, '--endpoint-url', 'http://127.0.0.1:9'], 'x\n');
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, 'tributary: cannot reach http://127.0.0.1:9: connection refused (ECONNREFUSED)\n');
    }
  });

  it('rejects bad arguments with a usage error and exit 2; every command has --help', async () => {
    for (const args of [
      ['put'],
      ['put', 'orders', '--bogus'],
      ['tail', 'orders', '--format', 'yaml'],
      ['tail', 'orders', '--from', 'yesterday'],
      ['tail', 'orders', '--max', '0'],
      ['streams', 'create', 'x', '--shards', '2', '--on-demand'],
      ['put', 'orders', '--partition-key', 'a', '--key-field', 'b'],
      ['streams', 'list', '--endpoint-url', 'localhost:4567'],
    ]) {
      const r = await tributary(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^error: /, args.join(' '));
    }
    for (const args of [['put'], ['tail'], ['streams'], ['streams', 'list'], ['streams', 'describe'], ['streams', 'create'], ['streams', 'delete'], ['shards']]) {
      const r = await tributary([...args, '--help']);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, new RegExp(`^Usage: tributary ${args.join(' ')}`), args.join(' '));
    }
    const help = await tributary(['tail', '--help']);
    assert.match(help.stdout, /--endpoint-url <url>/);
    assert.match(help.stdout, /--profile <name>/);
  });

  it('uses the endpoint the SDK resolves from AWS_ENDPOINT_URL_KINESIS when no --endpoint-url is given', async () => {
    const r = await start(['tail', 'orders', '--from', 'trim-horizon', '--max', '1'], undefined, { AWS_ENDPOINT_URL_KINESIS: server.endpoint }).done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'alpha\n');
  });
});

describe('tributary tail by time', () => {
  // Arrival times come from the server's clock, which the test sets.
  const clock = new ManualClock(Date.parse('2026-01-15T10:00:00.000Z'));
  let server: TestServer;
  let ep: string[];
  before(async () => {
    server = await startTestServer({}, { clock });
    ep = ['--endpoint-url', server.endpoint];
    const kinesis = server.client();
    await createStream(kinesis, 'timed', 2);
    await untilActive(kinesis, 'timed');
  });
  after(() => server.destroy());

  it('starts at a time with --from and stops at one with --to', async () => {
    await ok(['put', 'timed', ...ep], 'early-1\nearly-2\n');
    clock.set(Date.parse('2026-01-15T10:05:00.000Z'));
    await ok(['put', 'timed', '--partition-key', 'a', ...ep], 'late-1\nlate-2\n');
    clock.set(Date.parse('2026-01-15T10:10:00.000Z'));
    await ok(['put', 'timed', '--partition-key', 'b', ...ep], 'last\n');
    const from = await ok(['tail', 'timed', '--from', '2026-01-15T10:04:00Z', '--max', '3', ...ep]);
    assert.equal(from, 'late-1\nlate-2\nlast\n');
    // --to ends the tail by itself once every shard is past it (here: in the past already).
    const window = await tributary(['tail', 'timed', '--from', '2026-01-15T10:04:00Z', '--to', '2026-01-15T10:06:00Z', '--poll-ms', '50', ...ep]);
    assert.equal(window.code, 0, window.stderr);
    assert.equal(window.stdout, 'late-1\nlate-2\n');
    const all = (await ok(['tail', 'timed', '--from', 'trim-horizon', '--to', '2026-01-15T10:01:00Z', '--poll-ms', '50', ...ep])).trim().split('\n');
    assert.deepEqual(all.sort(), ['early-1', 'early-2']);
  });
});
