import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, removeDir, spawnCli, tempDir } from '../helpers/server.js';

const dirs: string[] = [];
function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

/** The log lines of a server's stdout, without the port announcements. */
function logLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '' && !l.startsWith('TRIBUTARY_'));
}

function baseArgs(dataDir: string): string[] {
  return ['--port', '0', '--s3-port', 'off', '--host', '127.0.0.1', '--data-dir', dataDir];
}

describe('start-up logs', () => {
  after(() => {
    for (const d of dirs) removeDir(d);
  });

  it('--log-format pretty prints readable lines, with the level by name', async () => {
    const server = await spawnCli([...baseArgs(path.join(dir(), 'data')), '--log-format', 'pretty']);
    await server.stop();
    const lines = logLines(server.stdout());
    const start = lines.find((l) => l.includes('Tributary listening on'));
    assert.ok(start, `a start line in ${lines.join('\n')}`);
    assert.match(start, /\bINFO\b/);
    assert.match(start, new RegExp(`Tributary listening on http://127\\.0\\.0\\.1:${server.port}`));
    assert.doesNotMatch(start, /^\{/, 'not a JSON object');
    assert.doesNotMatch(start, /"level"|"msg"/);
    for (const l of lines) assert.doesNotMatch(l, /^\{/, `no JSON lines: ${l}`);
  });

  it('--log-format json, and auto on a stdout that is not a terminal, print one JSON object per line', async () => {
    for (const args of [['--log-format', 'json'], [], ['--log-format', 'auto']]) {
      const server = await spawnCli([...baseArgs(path.join(dir(), 'data')), ...args]);
      await server.stop();
      const lines = logLines(server.stdout());
      assert.ok(lines.length > 0);
      const events = lines.map((l) => JSON.parse(l) as { level: number; msg: string; endpoint?: string });
      const start = events.find((e) => e.msg.startsWith('Tributary listening on'));
      assert.ok(start, `${args.join(' ') || '(default)'}: the start event`);
      assert.equal(start.level, 30);
      assert.equal(start.endpoint, server.endpoint);
    }
  });

  it('auto prints readable, coloured lines when stdout is a terminal', async () => {
    // A port in use makes the server stop after its first log lines; `script` gives it a terminal.
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      const command = [process.execPath, CLI, 'serve', ...baseArgs(path.join(dir(), 'data')), '--port', String(port)]
        .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
        .join(' ');
      const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TRIBUTARY_LOG_FORMAT: 'auto' } });
      assert.notEqual(r.status, 0, 'the server could not listen');
      const line = r.stdout.split(/\r?\n/).find((l) => l.includes('master key for encryption at rest'));
      assert.ok(line, `a log line in ${r.stdout}`);
      assert.match(line, /\u001b\[\d+mINFO\u001b\[\d+m/, 'the level, coloured');
      assert.doesNotMatch(line, /^\{/);
    } finally {
      busy.close();
    }
  });

  it('TRIBUTARY_LOG_FORMAT picks the format too', async () => {
    const server = await spawnCli(baseArgs(path.join(dir(), 'data')), { env: { TRIBUTARY_LOG_FORMAT: 'pretty' } });
    await server.stop();
    assert.ok(logLines(server.stdout()).some((l) => /\bINFO\b.*Tributary listening on/.test(l)));
  });

  it('a bad --log-format is one clear line and exit 2', () => {
    let status: number | null = null;
    let stderr = '';
    try {
      execFileSync(process.execPath, [CLI, 'serve', '--log-format', 'xml', '--port', '0'], { stdio: 'pipe' });
    } catch (err) {
      const e = err as { status: number | null; stderr: Buffer };
      status = e.status;
      stderr = e.stderr.toString();
    }
    assert.equal(status, 2);
    assert.match(stderr, /log-format/);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
  });

  it('warns once for each secret file others can read, naming its mode and the fix, and still starts', async () => {
    const files = dir();
    const credentials = path.join(files, 'credentials.json');
    writeFileSync(credentials, JSON.stringify([{ accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret', principal: 'alice' }]));
    chmodSync(credentials, 0o644);
    const masterKey = path.join(files, 'master.key');
    writeFileSync(masterKey, randomBytes(32).toString('base64') + '\n');
    chmodSync(masterKey, 0o640);
    const cert = path.join(files, 'server.crt');
    const key = path.join(files, 'server.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    chmodSync(key, 0o604);
    const server = await spawnCli([
      ...baseArgs(path.join(dir(), 'data')), '--log-format', 'json',
      '--credentials', credentials, '--master-key-file', masterKey, '--tls-cert', cert, '--tls-key', key,
    ]);
    assert.ok(server.port > 0, 'the server starts');
    await server.stop();
    const warnings = logLines(server.stdout())
      .map((l) => JSON.parse(l) as { level: number; msg: string; file?: string; mode?: string })
      .filter((e) => e.level === 40);
    assert.deepEqual(
      warnings.map((w) => [w.file, w.mode]),
      [[credentials, '0644'], [masterKey, '0640'], [key, '0604']],
    );
    for (const w of warnings) assert.match(w.msg, new RegExp(`\\(mode ${w.mode}\\): chmod 600 ${w.file!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    assert.match(warnings[0]!.msg, /^the credentials file /);
    assert.match(warnings[1]!.msg, /^the master key file /);
    assert.match(warnings[2]!.msg, /^the TLS key file /);
  });

  it('says nothing about secret files only their owner can read', async () => {
    const files = dir();
    const credentials = path.join(files, 'credentials.json');
    writeFileSync(credentials, JSON.stringify([{ accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret', principal: 'alice' }]), { mode: 0o600 });
    const server = await spawnCli([...baseArgs(path.join(dir(), 'data')), '--log-format', 'json', '--credentials', credentials]);
    await server.stop();
    const warnings = logLines(server.stdout()).filter((l) => (JSON.parse(l) as { level: number }).level >= 40);
    assert.deepEqual(warnings, []);
  });
});
