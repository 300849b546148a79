/**
 * Files and directories that only the server's own user may read: every directory Tributary
 * creates is 0700 and every file 0600, whatever the process's umask.
 *
 * A mode given to open(2) or mkdir(2) is narrowed by the umask, never widened, so 0600 and 0700
 * are asked for at creation; a created file or directory is then chmodded to exactly that mode, so
 * that an unusual umask (0277, say) cannot leave the server unable to use its own files either.
 * Only what is created here is changed: a directory the operator made (the data directory, say)
 * keeps its mode.
 *
 * SQLite gives a database's -wal and -shm files the mode of the database file, so a database is
 * created here, empty and 0600, before SQLite opens it (`createPrivateFileSync`).
 */
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** The directories `mkdir -p` made: from the first one created down to `dir`. */
function createdChain(first: string | undefined, dir: string): string[] {
  if (first === undefined) return [];
  const out: string[] = [];
  let d = path.resolve(dir);
  const top = path.resolve(first);
  for (;;) {
    out.push(d);
    if (d === top) break;
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  return out;
}

/** `mkdir -p` where each directory made is 0700; returns the first directory made, as mkdir does. */
export function mkdirPrivateSync(dir: string): string | undefined {
  const first = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  for (const d of createdChain(first, dir)) chmodSync(d, PRIVATE_DIR_MODE);
  return first;
}

/** `mkdir -p` where each directory made is 0700; returns the first directory made, as mkdir does. */
export async function mkdirPrivate(dir: string): Promise<string | undefined> {
  const first = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  for (const d of createdChain(first, dir)) await chmod(d, PRIVATE_DIR_MODE);
  return first;
}

/** Whether open(2) flags may create the file. */
function creates(flags: string): boolean {
  return /[wax]/.test(flags);
}

/** Opens a file; one that the flags may create is 0600. */
export async function openPrivate(file: string, flags: string): Promise<FileHandle> {
  const fh = await open(file, flags, PRIVATE_FILE_MODE);
  if (creates(flags)) {
    try {
      await fh.chmod(PRIVATE_FILE_MODE);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }
  return fh;
}

/** Writes a whole file (created or replaced) with mode 0600. */
export async function writePrivateFile(file: string, data: string | Uint8Array): Promise<void> {
  await writeFile(file, data, { mode: PRIVATE_FILE_MODE });
  await chmod(file, PRIVATE_FILE_MODE);
}

/** Writes a whole file (created or replaced) with mode 0600. */
export function writePrivateFileSync(file: string, data: string | Uint8Array, flag = 'w'): void {
  const fd = openSync(file, flag, PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
    writeFileSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `file` empty with mode 0600 unless it exists (an existing file is left as it is): done
 * before SQLite opens a database, which then gives its -wal and -shm files the same mode.
 */
export function createPrivateFileSync(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'wx', PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/**
 * The permission bits (e.g. 0o644) of a secret file that its group or others may use
 * (mode & 0o077), or undefined when only its owner may (or it cannot be looked at).
 */
export function exposedMode(file: string): number | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return undefined;
  }
  return (mode & 0o077) !== 0 ? mode : undefined;
}
