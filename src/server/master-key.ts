/**
 * The master key that encryption at rest derives its data keys from (see kinesis/at-rest.ts).
 *
 * Either the operator supplies it (`--master-key-file`: 32 random bytes, base64, e.g.
 * `head -c 32 /dev/urandom | base64`), or the server generates one on first start and keeps it in
 * the key directory (`--key-dir`, default `<data-dir>/keys`; the directory is created with mode
 * 0700 and `master.key` with mode 0600). The key directory is never inside `<data-dir>/streams`,
 * where the segment files are; point `--key-dir` elsewhere (another volume) to keep the key away
 * from backups of the data.
 *
 * The data directory keeps `master-key.check`: an HMAC of a fixed label under the key, which
 * identifies the key without revealing it. A start with another key stops with an error instead
 * of serving records that cannot be opened.
 */
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdirPrivateSync, PRIVATE_DIR_MODE, writePrivateFileSync } from '../util/private-files.js';
import { AtRestCipher, MASTER_KEY_BYTES } from '../kinesis/at-rest.js';

export interface MasterKeyOptions {
  dataDir: string;
  /** Operator-supplied key file ('' for none). */
  masterKeyFile: string;
  /** Where a generated key is kept ('' for `<data-dir>/keys`). */
  keyDir: string;
}

export interface MasterKey {
  cipher: AtRestCipher;
  /** The file the key was read from or written to. */
  file: string;
  generated: boolean;
}

const CHECK_FILE = 'master-key.check';

export function keyDirOf(opts: Pick<MasterKeyOptions, 'dataDir' | 'keyDir'>): string {
  return opts.keyDir !== '' ? opts.keyDir : path.join(opts.dataDir, 'keys');
}

function decodeKey(text: string, file: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== MASTER_KEY_BYTES) {
    throw new Error(`master key file ${file}: expected ${MASTER_KEY_BYTES} bytes in base64`);
  }
  return key;
}

/** Loads (or creates) the master key and checks it against the data directory. */
export function loadMasterKey(opts: MasterKeyOptions): MasterKey {
  let file: string;
  let key: Buffer;
  let generated = false;
  if (opts.masterKeyFile !== '') {
    file = opts.masterKeyFile;
    key = decodeKey(readFileSync(file, 'utf8'), file);
  } else {
    const dir = keyDirOf(opts);
    file = path.join(dir, 'master.key');
    if (existsSync(file)) {
      key = decodeKey(readFileSync(file, 'utf8'), file);
    } else {
      mkdirPrivateSync(dir);
      chmodSync(dir, PRIVATE_DIR_MODE);
      key = randomBytes(MASTER_KEY_BYTES);
      writePrivateFileSync(file, key.toString('base64') + '\n', 'wx');
      generated = true;
    }
  }
  const cipher = new AtRestCipher(key);
  const check = path.join(opts.dataDir, CHECK_FILE);
  const fingerprint = cipher.fingerprint();
  if (existsSync(check)) {
    const stored = readFileSync(check, 'utf8').trim();
    if (stored !== fingerprint) {
      throw new Error(
        `the master key in ${file} is not the key the data in ${opts.dataDir} was written with ` +
          `(${CHECK_FILE} differs); refusing to start`,
      );
    }
  } else {
    writePrivateFileSync(check, fingerprint + '\n');
  }
  return { cipher, file, generated };
}
