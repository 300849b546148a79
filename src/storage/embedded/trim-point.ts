/**
 * The trim point: a tiny JSON file holding the start offset set by the last trim and the newest
 * timestamp known then. After a restart the start offset is the larger of this and the base of
 * the oldest remaining segment, and the last timestamp is never older than the one kept here, even
 * when trimming deleted every record.
 */
import { readFile, rename } from 'node:fs/promises';
import { openPrivate, writePrivateFile } from '../../util/private-files.js';
import { join } from 'node:path';
import type { Warn } from './events.js';
import { TRIM_POINT_FILE } from './names.js';
import { syncDirectory } from './segment.js';

export interface TrimPoint {
  startOffset: number;
  lastTimestamp: number | undefined;
}

export async function readTrimPoint(dir: string, warn: Warn): Promise<TrimPoint | null> {
  const path = join(dir, TRIM_POINT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const value = JSON.parse(text) as { startOffset?: unknown; lastTimestamp?: unknown };
    const { startOffset, lastTimestamp } = value;
    if (!Number.isSafeInteger(startOffset) || (startOffset as number) < 0) throw new Error('bad startOffset');
    if (lastTimestamp !== null && !Number.isSafeInteger(lastTimestamp)) throw new Error('bad lastTimestamp');
    return { startOffset: startOffset as number, lastTimestamp: (lastTimestamp as number | null) ?? undefined };
  } catch (err) {
    warn('bad-trim-point', path, `ignored: ${(err as Error).message}`);
    return null;
  }
}

/** Replaces the trim point atomically: write, rename, and when durable fsync the file and its directory. */
export async function writeTrimPoint(dir: string, point: TrimPoint, durable: boolean): Promise<void> {
  const path = join(dir, TRIM_POINT_FILE);
  const tmp = `${path}.tmp`;
  const text = JSON.stringify({ startOffset: point.startOffset, lastTimestamp: point.lastTimestamp ?? null });
  if (durable) {
    const fh = await openPrivate(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  } else {
    await writePrivateFile(tmp, text);
  }
  await rename(tmp, path);
  if (durable) await syncDirectory(dir);
}
