import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { startServer } from '../../src/index.js';
import { removeDir, tempDir } from '../helpers/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = path.join(root, 'test/package-entry/fixture');

/** Links fixture/node_modules/tributary to the repository root, as `npm install ../..` would. */
function linkPackage(): void {
  const link = path.join(fixture, 'node_modules', 'tributary');
  mkdirSync(path.dirname(link), { recursive: true });
  if (existsSync(link) || lstatSync(link, { throwIfNoEntry: false })) {
    if (lstatSync(link).isSymbolicLink() && path.resolve(path.dirname(link), readlinkSync(link)) === root) return;
    rmSync(link, { recursive: true, force: true });
  }
  symlinkSync(path.relative(path.dirname(link), root), link, 'dir');
}

function runFixture(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['embed.mjs'], { cwd: fixture, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // The program never calls process.exit: it ends only if close() left nothing running.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the embedding program did not exit on its own within 60 s; it printed ${stdout} ${stderr}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("the package entry, imported by name as 'tributary'", () => {
  it('starts a server that the AWS SDK writes to and reads from, and close() leaves nothing behind', async () => {
    linkPackage();
    const r = await runFixture();
    assert.equal(r.code, 0, r.stderr);
    // Quiet by default: no log lines (the AWS SDK may warn about the Node version on its own).
    assert.deepEqual(r.stderr.split('\n').filter((line) => line.startsWith('{')), [], 'no logs at the default level');
    const seen = JSON.parse(r.stdout.trim()) as {
      entry: string;
      url: string;
      port: number;
      status: string;
      records: string[];
      dataDir: string;
      dataDirExistedOpen: boolean;
      dataDirExists: boolean;
      refused: boolean;
      resources: string[];
    };
    assert.equal(seen.entry, new URL('dist/src/index.js', `file://${root}/`).href, "'tributary' resolves to the package's exports");
    assert.match(seen.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(seen.port, 4567, 'a free port by default');
    assert.equal(seen.status, 'ACTIVE');
    assert.deepEqual(seen.records, ['hello from a test suite']);
    assert.ok(seen.dataDirExistedOpen, 'a temporary data directory while open');
    assert.equal(seen.dataDirExists, false, 'close() removed the temporary data directory');
    assert.equal(existsSync(seen.dataDir), false);
    assert.equal(seen.refused, true, 'the port is closed after close()');
    for (const kind of ['TCPServerWrap', 'TCPWrap', 'Timeout', 'Immediate']) {
      assert.ok(!seen.resources.includes(kind), `${kind} still active after close(): ${seen.resources.join(', ')}`);
    }
  });

  it('declares its types in package.json', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    const types = path.join(root, pkg.exports['.']!.types);
    assert.match(readFileSync(types, 'utf8'), /export declare function startServer\(options\?: StartOptions\): Promise<TributaryServer>/);
    assert.ok(existsSync(path.join(root, pkg.exports['.']!.default)));
  });

  it('keeps a given data directory, and takes serve settings by key', async () => {
    const dir = tempDir();
    try {
      const server = await startServer({ dataDir: dir, region: 'eu-west-1', limits: 'off' });
      assert.equal(server.dataDir, dir);
      assert.deepEqual([server.settings.region, server.settings.limits, server.settings.logLevel, server.settings.host], ['eu-west-1', 'off', 'warn', '127.0.0.1']);
      const client = new KinesisClient({ endpoint: server.url, region: 'eu-west-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' }, maxAttempts: 1 });
      assert.deepEqual((await client.send(new ListStreamsCommand({}))).StreamNames, []);
      client.destroy();
      await server.close();
      await server.close();
      assert.ok(existsSync(path.join(dir, 'catalog.sqlite')), 'the given directory and its data stay');
    } finally {
      removeDir(dir);
    }
  });

  it('refuses a bad setting with a message naming it', async () => {
    await assert.rejects(startServer({ fsync: 'sometimes' as never }), { name: 'SettingError', message: 'startServer: fsync: must be always, interval or never, not sometimes' });
  });
});
