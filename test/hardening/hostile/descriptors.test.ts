import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { createStream, readShard, shardId } from '../../helpers/kinesis.js';
import { kinesisClient, removeDir, tempDir } from '../../helpers/server.js';
import { scale } from '../scale.js';
import { destroyAll, firstStatus, openMany, rawRequest } from './attacks.js';
import { sampleProc, sleep, spawnTributary, waitFor, type Spawned } from './probe.js';

/** The server's open-file limit in this test: far below the connections thrown at it. */
const NOFILE = 256;

describe('a server that runs out of file descriptors', { timeout: scale(180_000, 900_000) }, () => {
  const dataDir = tempDir('tributary-nofile-');
  let server: Spawned;
  let sdk: KinesisClient;

  before(async () => {
    server = await spawnTributary(dataDir, ['--limits', 'off', '--headers-timeout-ms', '2000', '--keep-alive-timeout-ms', '2000'], { nofile: NOFILE });
    sdk = kinesisClient(server.endpoint);
    await createStream(sdk, 'fd', 1);
    await sleep(100);
  });
  after(async () => {
    sdk?.destroy();
    await server?.stop();
    removeDir(dataDir);
  });

  it('degrades gracefully: it survives, keeps its data, and serves again once connections leave', async (t) => {
    const count = scale(1_000, 5_000);
    const before = sampleProc(server.pid);
    let peakFds = before.fds;
    const sampler = setInterval(() => {
      try {
        peakFds = Math.max(peakFds, sampleProc(server.pid).fds);
      } catch {
        // gone: asserted below
      }
    }, 50);
    const { sockets, failed } = await openMany(server.port, count, 200);
    // Connections the server could not accept are closed by it (or never answered); either way
    // none of them may take the server down.
    const statuses = await Promise.all(
      sockets.map((s) => {
        const st = firstStatus(s, 15_000);
        s.write(rawRequest('ListStreams', '{}'));
        return st;
      }),
    );
    clearInterval(sampler);
    const answered = statuses.filter((s) => s === '200').length;
    const refused = statuses.filter((s) => s !== '200' && s !== '').length;
    destroyAll(sockets);
    t.diagnostic(
      `${count} connections at an open-file limit of ${NOFILE}: ${sockets.length} connected, ${failed} failed to connect, ` +
        `${answered} answered 200, ${refused} answered otherwise; server fds ${before.fds}, at most ${peakFds}`,
    );
    assert.equal(server.child.exitCode, null, `the server is still running; stderr: ${server.stderr().slice(-2000)}`);
    assert.ok(peakFds < NOFILE, `the server kept descriptors free for its files (at most ${peakFds} of ${NOFILE})`);
    assert.ok(answered > 0, 'the server answered what it could');
    for (const s of statuses) assert.ok(s === '200' || s === '' || s === '503', `answer ${s}`);

    // Once the crowd has gone, the server is whole again.
    assert.ok(await waitFor(() => sampleProc(server.pid).fds <= before.fds + 8, 30_000), 'descriptors come back');
    const fresh = kinesisClient(server.endpoint);
    try {
      await fresh.send(new PutRecordCommand({ StreamName: 'fd', PartitionKey: 'k', Data: Buffer.from('after') }));
      const records = await readShard(fresh, 'fd', shardId(0));
      assert.deepEqual(records.map((r) => Buffer.from(r.Data!).toString()), ['after']);
    } finally {
      fresh.destroy();
    }
  });
});
