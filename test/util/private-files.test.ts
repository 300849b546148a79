import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createPrivateFileSync, exposedMode, mkdirPrivate, mkdirPrivateSync, openPrivate, writePrivateFile, writePrivateFileSync } from '../../src/util/private-files.js';

const modeOf = (p: string) => statSync(p).mode & 0o777;

describe('private files', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'tributary-private-'));
  // The widest umask: whatever is asked for is what is made.
  const previous = process.umask(0);
  after(() => {
    process.umask(previous);
    rmSync(root, { recursive: true, force: true });
  });

  it('mkdir -p makes every new directory 0700 and leaves existing ones alone', async () => {
    const existing = path.join(root, 'existing');
    mkdirSync(existing, { mode: 0o755 });
    chmodSync(existing, 0o755);
    assert.equal(mkdirPrivateSync(path.join(existing, 'a', 'b')), path.join(existing, 'a'));
    assert.equal(modeOf(existing), 0o755);
    assert.equal(modeOf(path.join(existing, 'a')), 0o700);
    assert.equal(modeOf(path.join(existing, 'a', 'b')), 0o700);
    assert.equal(mkdirPrivateSync(path.join(existing, 'a', 'b')), undefined, 'nothing made the second time');
    await mkdirPrivate(path.join(existing, 'c', 'd'));
    assert.equal(modeOf(path.join(existing, 'c')), 0o700);
    assert.equal(modeOf(path.join(existing, 'c', 'd')), 0o700);
  });

  it('files written or opened for writing are 0600', async () => {
    writePrivateFileSync(path.join(root, 'one'), 'x');
    await writePrivateFile(path.join(root, 'two'), 'y');
    const fh = await openPrivate(path.join(root, 'three'), 'wx+');
    await fh.close();
    for (const f of ['one', 'two', 'three']) assert.equal(modeOf(path.join(root, f)), 0o600, f);
  });

  it('an empty database file is made 0600, and an existing one is left as it is', () => {
    const fresh = path.join(root, 'fresh.sqlite');
    createPrivateFileSync(fresh);
    assert.equal(modeOf(fresh), 0o600);
    assert.equal(statSync(fresh).size, 0);
    const old = path.join(root, 'old.sqlite');
    writeFileSync(old, 'data', { mode: 0o640 });
    createPrivateFileSync(old);
    assert.equal(modeOf(old), 0o640);
    assert.equal(statSync(old).size, 4);
  });

  it('tells which secret files others can read', () => {
    const f = path.join(root, 'secret');
    writeFileSync(f, 's');
    for (const [mode, exposed] of [[0o600, undefined], [0o400, undefined], [0o640, 0o640], [0o604, 0o604], [0o660, 0o660]] as const) {
      chmodSync(f, mode);
      assert.equal(exposedMode(f), exposed, mode.toString(8));
    }
    assert.equal(exposedMode(path.join(root, 'missing')), undefined);
  });
});
