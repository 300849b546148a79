import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  configFromValues,
  defaultConfig,
  flagName,
  resolveConfig,
  serveSettings,
  settingKeys,
  settingsTableMarkdown,
  SettingError,
  withSettingsTable,
} from '../../src/settings/index.js';
import { CLI, removeDir, tempDir } from '../helpers/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('the settings table', () => {
  it('gives every setting its own flag and TRIBUTARY_ variable, and a default its parser accepts', () => {
    const flags = new Set<string>();
    const envs = new Set<string>();
    for (const key of settingKeys) {
      const spec = serveSettings[key];
      assert.match(spec.flag, /^--[a-z][a-z0-9-]* <[^>]+>$/, key);
      assert.match(spec.env, /^TRIBUTARY_[A-Z0-9_]+$/, key);
      assert.equal(spec.env, `TRIBUTARY_${flagName(key).slice(2).replaceAll('-', '_').toUpperCase()}`, `${key}: the variable follows the flag`);
      flags.add(flagName(key));
      envs.add(spec.env);
      if (spec.default !== '') assert.deepEqual(spec.parse(spec.default as string | number), spec.default, `${key}: default parses to itself`);
      assert.ok(spec.help.length > 0 && !spec.help.includes('\n'), key);
    }
    assert.equal(flags.size, settingKeys.length);
    assert.equal(envs.size, settingKeys.length);
  });

  it("matches the README's table", () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    assert.ok(readme.includes(settingsTableMarkdown()), 'README.md differs from the settings table: run `node dist/src/cli/readme-settings.js`');
    assert.equal(withSettingsTable(readme), readme, 'README.md differs from the settings table: run `node dist/src/cli/readme-settings.js`');
  });
});

describe('resolveConfig', () => {
  it('takes flags over the environment over the config file over the defaults', () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'settings.json');
      writeFileSync(file, JSON.stringify({ port: 4601, fsync: 'never', region: 'eu-west-1', shardLimit: 7 }));
      const c = resolveConfig({ port: '4603' }, { TRIBUTARY_PORT: '4602', TRIBUTARY_FSYNC: 'interval' }, file);
      assert.equal(c.port, 4603, 'flag');
      assert.equal(c.fsync, 'interval', 'environment over file');
      assert.equal(c.region, 'eu-west-1', 'file');
      assert.equal(c.shardLimit, 7, 'file, a JSON number');
      assert.equal(c.host, defaultConfig.host, 'default');
      // An empty variable is unset: the file's value applies.
      assert.equal(resolveConfig({}, { TRIBUTARY_REGION: '' }, file).region, 'eu-west-1');
    } finally {
      removeDir(dir);
    }
  });

  it('names the flag, the variable or the file key of a bad value, and what it accepts', () => {
    assert.throws(() => resolveConfig({ fsync: 'sometimes' }, {}), { name: 'SettingError', message: '--fsync: must be always, interval or never, not sometimes' });
    assert.throws(() => resolveConfig({}, { TRIBUTARY_FSYNC: 'sometimes' }), { message: 'TRIBUTARY_FSYNC: must be always, interval or never, not sometimes' });
    assert.throws(() => resolveConfig({}, { TRIBUTARY_PORT: '70000' }), { message: 'TRIBUTARY_PORT: must be a whole number from 0 to 65535, not 70000' });
    assert.throws(() => resolveConfig({ shardLimit: 'many' }, {}), { message: '--shard-limit: must be a number, 0 or more, not many' });
    assert.throws(() => resolveConfig({ accountId: '12' }, {}), { message: '--account-id: must be 12 digits, not 12' });
    assert.throws(() => resolveConfig({}, { TRIBUTARY_CONTROL_PLANE_RATES: 'ListShards' }), {
      message: 'TRIBUTARY_CONTROL_PLANE_RATES: expected Operation=rate, not ListShards',
    });
    const dir = tempDir();
    try {
      const file = path.join(dir, 'settings.json');
      writeFileSync(file, JSON.stringify({ limits: 'maybe' }));
      assert.throws(() => resolveConfig({}, {}, file), { message: `--config ${file}: limits: must be on or off, not maybe` });
      writeFileSync(file, JSON.stringify({ prot: 1 }));
      assert.throws(() => resolveConfig({}, {}, file), { message: `--config ${file}: prot is not a setting (the keys are listed in the README)` });
      writeFileSync(file, JSON.stringify({ port: [1] }));
      assert.throws(() => resolveConfig({}, {}, file), { message: `--config ${file}: port: must be a string or a number, not [1]` });
      writeFileSync(file, '{ port: 1 }');
      assert.throws(() => resolveConfig({}, {}, file), (err) => err instanceof SettingError && err.message.startsWith(`--config ${file}: not valid JSON`));
      assert.throws(() => resolveConfig({}, {}, path.join(dir, 'missing.json')), { message: `--config ${path.join(dir, 'missing.json')}: cannot be read (ENOENT)` });
    } finally {
      removeDir(dir);
    }
  });

  it('takes values by key for an embedded server, checked by the same parsers', () => {
    const c = configFromValues({ port: 0, limits: 'off', fsync: 'never' });
    assert.deepEqual([c.port, c.limits, c.fsync], [0, 'off', 'never']);
    assert.throws(() => configFromValues({ limits: 'maybe' }), { message: 'startServer: limits: must be on or off, not maybe' });
    assert.throws(() => configFromValues({ nope: 1 } as never), { message: 'startServer: nope is not a setting (the keys are listed in the README)' });
  });
});

describe('tributary serve', () => {
  it('lists every flag and variable in --help, grouped by part', async () => {
    const r = await run(['serve', '--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const key of settingKeys) {
      assert.ok(r.stdout.includes(serveSettings[key].flag), `${key} flag`);
      assert.ok(r.stdout.replace(/\s+/g, ' ').includes(serveSettings[key].env), `${key} variable`);
    }
    assert.match(r.stdout, /^Kinesis limits:$/m);
    assert.match(r.stdout, /^Listener:$/m);
  });

  it('prints the version of package.json with --version and -V', async () => {
    const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    assert.match(version, /^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const r = await run([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`);
    }
  });

  it('prints the settings table', async () => {
    const r = await run(['serve', '--print-settings-table']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, settingsTableMarkdown());
  });

  it('refuses a bad flag, variable or file value with one line and exit code 2', async () => {
    const flag = await run(['serve', '--port', 'abc']);
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, 'tributary: --port: must be a whole number from 0 to 65535, not abc\n');
    const env = await run(['serve'], { TRIBUTARY_METRICS_ENDPOINT: 'sometimes' });
    assert.equal(env.code, 2);
    assert.equal(env.stderr, 'tributary: TRIBUTARY_METRICS_ENDPOINT: must be auto, on or off, not sometimes\n');
    const dir = tempDir();
    try {
      const file = path.join(dir, 'settings.json');
      writeFileSync(file, JSON.stringify({ fsyncIntervalMs: -1 }));
      const bad = await run(['serve', '--config', file]);
      assert.equal(bad.code, 2);
      assert.equal(bad.stderr, `tributary: --config ${file}: fsyncIntervalMs: must be a number, 0 or more, not -1\n`);
    } finally {
      removeDir(dir);
    }
  });

  it('reports a start-up failure in one line with exit code 1', async () => {
    const dir = tempDir();
    try {
      const missing = path.join(dir, 'missing.pem');
      const r = await run(['serve', '--port', '0', '--data-dir', path.join(dir, 'data'), '--tls-cert', missing, '--tls-key', missing, '--log-level', 'warn']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^tributary: could not start: .*missing\.pem'?\n$/);
    } finally {
      removeDir(dir);
    }
  });

  it('says in one line, with exit code 1 and what to do, that the port is taken, the credentials file is missing or the master key is not the data\'s', async () => {
    const dir = tempDir();
    const taken = createServer();
    try {
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const port = (taken.address() as AddressInfo).port;
      const inUse = await run(['serve', '--port', String(port), '--s3-port', '0', '--data-dir', path.join(dir, 'a'), '--log-level', 'warn']);
      assert.equal(inUse.code, 1);
      assert.equal(inUse.stderr, `tributary: could not start: 127.0.0.1:${port} is already in use by another process: stop it, or choose another port (--port, --s3-port)\n`);

      const missing = path.join(dir, 'no-such-credentials.json');
      const noFile = await run(['serve', '--port', '0', '--s3-port', '0', '--data-dir', path.join(dir, 'b'), '--credentials', missing, '--log-level', 'warn']);
      assert.equal(noFile.code, 1);
      assert.match(noFile.stderr, /^tributary: could not start: --credentials: cannot read .*no-such-credentials\.json: ENOENT[^\n]*\n$/);

      // A data directory written with one master key refuses another.
      const key = (name: string) => {
        const file = path.join(dir, name);
        writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
        return file;
      };
      const first = key('first.key');
      const data = path.join(dir, 'c');
      const ran = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--s3-port', '0', '--data-dir', data, '--master-key-file', first, '--log-level', 'warn'], {
        env: { ...process.env, TRIBUTARY_ANNOUNCE: '1' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const ranExit = new Promise<number | null>((resolve) => ran.once('exit', (code) => resolve(code)));
      const ranPort = await new Promise<number>((resolve, reject) => {
        let out = '';
        ran.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /TRIBUTARY_LISTENING (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        ran.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      assert.ok(ranPort > 0);
      // At once: a signal right after the server says it listens stops it cleanly too.
      ran.kill('SIGTERM');
      assert.equal(await ranExit, 0);
      const second = key('second.key');
      const wrongKey = await run(['serve', '--port', '0', '--s3-port', '0', '--data-dir', data, '--master-key-file', second, '--log-level', 'warn']);
      assert.equal(wrongKey.code, 1);
      assert.match(wrongKey.stderr, /^tributary: could not start: the master key in .*second\.key is not the key the data in .* was written with \(master-key\.check differs\); refusing to start\n$/);
    } finally {
      taken.close();
      removeDir(dir);
    }
  });

  it('serves with the settings of a config file', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'settings.json');
      writeFileSync(file, JSON.stringify({ port: 0, dataDir: path.join(dir, 'data'), logLevel: 'warn' }));
      const child = spawn(process.execPath, [CLI, 'serve', '--config', file], { env: { ...process.env, TRIBUTARY_ANNOUNCE: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /TRIBUTARY_LISTENING (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      await res.text();
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.ok(readFileSync(path.join(dir, 'data', 'keys', 'master.key')).length > 0, 'the data directory of the file was used');
    } finally {
      removeDir(dir);
    }
  });
});
