/**
 * Everything the README shows is true and runs. Each fenced block of README.md carries a
 * `<!-- readme-check: KIND -->` line above it saying how it is checked, and a block without one
 * fails the test, so a new example cannot be added unchecked:
 *
 * - scripts: the two commands at the top (`npm ci && npm start`, `npm test`) exist as scripts, CI
 *   runs them, and the defaults the comment states are the settings' defaults;
 * - serve: the `npm start -- …` line starts a server with those options (port and data directory
 *   moved to a free port and a temporary directory);
 * - shell: run with bash, in order, against one real server (the endpoint rewritten to it), with
 *   `tributary` on the PATH;
 * - node: a JavaScript or TypeScript program, compiled and run with node against that server;
 * - tls-node: the same against a server started with `--tls self-signed`;
 * - credentials: the credentials file, given to a server with `--credentials`, grants what it says;
 * - layout: every folder of src/ is listed, and every listed one exists.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import ts from 'typescript';
import { defaultConfig } from '../../src/settings/index.js';
import { expectError } from '../helpers/kinesis.js';
import { removeDir, spawnServer, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const README_ENDPOINT = 'http://127.0.0.1:4567';
const README_S3_ENDPOINT = 'http://127.0.0.1:4568';
const run = promisify(execFile);

interface Block {
  kind: string;
  lang: string;
  code: string;
  line: number;
}

/** The fenced blocks of a Markdown text, each with the check named on the line above it. */
export function readmeBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    assert.ok(end > i, `README.md:${i + 1}: a code block that never closes`);
    const mark = /^<!-- readme-check: ([a-z-]+) -->$/.exec(lines[i - 1] ?? '');
    blocks.push({ kind: mark?.[1] ?? '', lang: open[1]!, code: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return blocks;
}

const blocks = readmeBlocks(README);
const ofKind = (kind: string) => blocks.filter((b) => b.kind === kind);
const KINDS = ['scripts', 'serve', 'shell', 'node', 'tls-node', 'credentials', 'layout'];

/** Environment of the reader following the tour: dummy credentials, a region, no pager. */
const TOUR_ENV = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_PAGER: '',
  AWS_EC2_METADATA_DISABLED: 'true',
};

/** Compiles a block (TypeScript or JavaScript) to an ES module inside the package, and runs it. */
async function runNode(block: Block, rewrite: (code: string) => string, env: NodeJS.ProcessEnv = TOUR_ENV): Promise<string> {
  const dir = path.join(ROOT, 'dist', 'readme');
  mkdirSync(dir, { recursive: true });
  const js = ts.transpileModule(rewrite(block.code), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const file = path.join(dir, `block-${block.line}.mjs`);
  writeFileSync(file, js);
  const { stdout } = await run(process.execPath, [file], { cwd: ROOT, env, timeout: 90_000 });
  return stdout;
}

describe('README.md', () => {
  it('names how each of its code blocks is checked', () => {
    assert.ok(blocks.length >= 8, `only ${blocks.length} code blocks found`);
    for (const b of blocks) assert.ok(KINDS.includes(b.kind), `README.md:${b.line}: no or unknown readme-check (${b.kind || 'none'})`);
  });

  it('starts with the two commands, which are what they say', () => {
    const [top] = ofKind('scripts');
    assert.ok(top && /npm ci && npm start/.test(top.code) && /npm test/.test(top.code));
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.start, 'node dist/src/cli/main.js serve');
    assert.ok(pkg.scripts.test, 'npm test is a script');
    const ci = readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
    assert.match(ci, /^npm ci\b/m);
    assert.match(ci, /^npm test\b/m);
    assert.match(top.code, new RegExp(`http://${defaultConfig.host}:${defaultConfig.port}\\b`));
    assert.match(top.code, new RegExp(`data in ${defaultConfig.dataDir.replace('.', '\\.')}\\b`));
  });

  it('starts a server the way its serve line says', async () => {
    const [serve] = ofKind('serve');
    const m = /^npm start -- (.*?)\s*(#.*)?$/m.exec(serve!.code);
    assert.ok(m, 'the serve block runs npm start -- …');
    const args = m[1]!.split(/\s+/);
    const dir = tempDir();
    try {
      // The port and the data directory move to a free port and a temporary directory.
      const at = (flag: string) => args.indexOf(flag) + 1;
      assert.ok(at('--port') > 0 && at('--data-dir') > 0);
      args[at('--port')] = '0';
      args.splice(at('--data-dir') - 1, 2);
      const child = await spawnServer(dir, args);
      try {
        const health = await fetch(`${child.endpoint}/health`);
        assert.equal(health.status, 200);
      } finally {
        child.child.kill('SIGTERM');
        assert.equal(await child.exited, 0, 'the server stops cleanly on SIGTERM');
      }
    } finally {
      removeDir(dir);
    }
  });

  describe('its tour, run in order against one server', () => {
    let server: TestServer;
    // The reader's working directory, where the tour's files go.
    const workDir = tempDir();
    after(() => removeDir(workDir));
    before(async () => {
      // Streams and reshards settle at once here; the tour's waits hold on a real deployment too.
      server = await startTestServer({ updateStreamDelayMs: 0 });
    });
    after(() => server.destroy());
    // The reader has `tributary` on the PATH (npm link): here a script running this checkout's build.
    const binDir = path.join(ROOT, 'dist', 'readme', 'bin');
    mkdirSync(binDir, { recursive: true });
    writeFileSync(path.join(binDir, 'tributary'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'dist', 'src', 'cli', 'main.js')}" "$@"\n`, { mode: 0o755 });
    const shellEnv = { ...TOUR_ENV, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}` };
    const toServer = (code: string) => code.replaceAll(README_ENDPOINT, server.endpoint).replaceAll(README_S3_ENDPOINT, server.s3Endpoint!);

    for (const block of blocks.filter((b) => b.kind === 'shell' || b.kind === 'node')) {
      it(`runs the ${block.kind} block at README.md:${block.line}`, async () => {
        if (block.kind === 'shell') {
          const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', toServer(block.code)], { env: shellEnv, timeout: 120_000, cwd: workDir });
          // A comment `# <output> (<what it is>)` at the end of a line says what the command prints.
          for (const [, expected] of block.code.matchAll(/#\s*(\S+)\s*\([^)]*\)\s*$/gm)) {
            assert.ok(stdout.includes(expected!), `README.md:${block.line}: expected ${expected} in\n${stdout}`);
          }
          return;
        }
        const stdout = await runNode(block, toServer);
        for (const [, expected] of block.code.matchAll(/console\.log\([^\n]*\/\/ … (.+)$/gm)) {
          assert.ok(stdout.includes(expected!.trim()), `README.md:${block.line}: expected "${expected}" in\n${stdout}`);
        }
      });
    }
  });

  it('runs its HTTPS example against a server with a self-signed certificate', async () => {
    const [tls] = ofKind('tls-node');
    const server = await startTestServer({ tls: 'self-signed' });
    try {
      const url = new URL(server.endpoint);
      assert.equal(url.protocol, 'https:');
      const stdout = await runNode(tls!, (code) =>
        code.replaceAll('/var/lib/tributary', server.dataDir).replaceAll('https://localhost:4567', `https://localhost:${url.port}`),
      );
      // ListStreams answered over HTTPS, trusting the certificate by its file: no streams yet.
      assert.match(stdout, /^\[\]$/m);
    } finally {
      await server.destroy();
    }
  });

  it('shows a credentials file that grants what it says', async () => {
    const [file] = ofKind('credentials');
    const entries = JSON.parse(file!.code) as Array<{ accessKeyId: string; secretAccessKey: string }>;
    const alice = entries.find((e) => e.accessKeyId === 'AKIAALICE')!;
    const dir = tempDir();
    const credentials = path.join(dir, 'credentials.json');
    writeFileSync(credentials, file!.code, { mode: 0o600 });
    const server = await startTestServer({ credentials });
    const client = new KinesisClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: alice.accessKeyId, secretAccessKey: alice.secretAccessKey },
    });
    try {
      await client.send(new CreateStreamCommand({ StreamName: 'orders', ShardCount: 1 }));
      await expectError(client.send(new CreateStreamCommand({ StreamName: 'other', ShardCount: 1 })), 'AccessDeniedException');
    } finally {
      client.destroy();
      await server.destroy();
      removeDir(dir);
    }
  });

  it('lists every folder of src/ in its layout, and only those', () => {
    const [layout] = ofKind('layout');
    const listed = new Set([...layout!.code.matchAll(/^src\/([a-z0-9-]+(?:\.ts)?)\/?\s/gm)].map((m) => m[1]!));
    const present = readdirSync(path.join(ROOT, 'src'));
    assert.deepEqual([...listed].sort(), present.sort());
  });
});

// The tour's shell blocks call the AWS CLI; say so plainly if it is missing rather than fail obscurely.
before(async () => {
  await new Promise<void>((resolve, reject) => {
    const probe = spawn('aws', ['--version'], { stdio: 'ignore' });
    probe.on('error', () => reject(new Error('the README test needs the AWS CLI (apt-get install awscli)')));
    probe.on('exit', () => resolve());
  });
});
