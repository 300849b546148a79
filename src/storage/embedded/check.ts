/**
 * `tributary check <data-dir>`: verifies a data directory offline, and with `repair` rewrites what
 * can be saved.
 *
 * What is checked:
 * - every segment file, batch by batch: frame, CRC, format, record layout, offsets following on
 *   (scan.ts). Damage is a hole whose offsets are lost; damage at the end of the last segment is a
 *   torn tail, which a server cuts off when it starts. Gap batches (offsets an earlier repair
 *   recorded as lost) are counted, not reported.
 * - that segments do not overlap, and every closed segment's .idx against its segment;
 * - the trim point file;
 * - the catalog and table databases (SQLite `PRAGMA integrity_check`), and that every stream and
 *   shard in the catalog has its files and every stream and shard directory its catalog entry.
 *
 * The repair of a damaged segment writes a copy without the damaged bytes, with a gap batch in
 * place of each hole so that offsets still follow on, and swaps it in with a rename (fsynced); a
 * torn tail is cut off; indexes are written again from the repaired segment. What the repair cannot
 * decide (a directory the catalog does not know, a database that fails its check) is left alone
 * and stays a problem. The data directory's lock (dir-lock.ts) is held throughout, so neither runs
 * against a live server.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { open, readdir, readFile, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { openPrivate, writePrivateFile } from '../../util/private-files.js';
import { join } from 'node:path';
import type { StreamMeta } from '../catalog.js';
import type { PositionalSource } from './batch-cursor.js';
import { DataDirLock } from './dir-lock.js';
import { encodeGap } from './format.js';
import { decodeIndexEntries, decodeIndexHeader, encodeIndexFile } from './index-file.js';
import { indexFileName, parseIndexFileName, parseSegmentFileName, segmentFileName, streamDirName, TRIM_POINT_FILE } from './names.js';
import { scanSegment, type ScanResult } from './scan.js';
import { syncDirectory } from './segment.js';
import type { SparseIndex } from './sparse-index.js';
import { readTrimPoint } from './trim-point.js';

export interface CheckProblem {
  path: string;
  message: string;
  /** Whether `repair` fixes it. */
  repairable: boolean;
}

export interface CheckReport {
  problems: CheckProblem[];
  /** What `repair` did, one line each. */
  repaired: string[];
  streams: number;
  shardLogs: number;
  segments: number;
  batches: number;
  /** Offsets that damage found now costs (holes), and that earlier repairs recorded (gaps). */
  lostRecords: number;
  gapRecords: number;
}

/** Where the pieces of a data directory are (as the server lays them out). */
export const CATALOG_FILE = 'catalog.sqlite';
export const TABLES_FILE = 'tables.sqlite';
export const STREAMS_DIR = 'streams';

/**
 * Checks `dataDir`; with `repair`, repairs what it can and checks again, so that the report
 * describes the directory as it is left.
 */
export async function checkDataDir(dataDir: string, options: { repair?: boolean } = {}): Promise<CheckReport> {
  const info = await stat(dataDir).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`${dataDir} is not a directory`);
  if (![CATALOG_FILE, STREAMS_DIR, TABLES_FILE].some((name) => existsSync(join(dataDir, name)))) {
    throw new Error(`${dataDir} holds no Tributary data (no ${CATALOG_FILE}, ${STREAMS_DIR}/ or ${TABLES_FILE})`);
  }
  const lock = DataDirLock.acquire(dataDir);
  try {
    if (!options.repair) return await inspect(dataDir, false);
    const first = await inspect(dataDir, true);
    const after = await inspect(dataDir, false);
    return { ...after, repaired: first.repaired };
  } finally {
    lock.release();
  }
}

async function inspect(dataDir: string, repair: boolean): Promise<CheckReport> {
  const report: CheckReport = { problems: [], repaired: [], streams: 0, shardLogs: 0, segments: 0, batches: 0, lostRecords: 0, gapRecords: 0 };
  const problem = (path: string, message: string, repairable = false) => report.problems.push({ path, message, repairable });

  const tablesPath = join(dataDir, TABLES_FILE);
  if (existsSync(tablesPath)) checkDatabase(tablesPath, problem)?.close();
  const catalogPath = join(dataDir, CATALOG_FILE);
  const streams = existsSync(catalogPath) ? readCatalog(catalogPath, problem) : null;
  const streamsDir = join(dataDir, STREAMS_DIR);
  const onDisk = existsSync(streamsDir) ? await subdirectories(streamsDir) : [];
  if (streams === null && onDisk.length > 0) problem(catalogPath, `missing, while ${streamsDir} holds ${onDisk.length} stream directories`);
  report.streams = streams?.length ?? 0;

  const byDir = new Map<string, StreamMeta>();
  for (const meta of streams ?? []) byDir.set(streamDirName(meta.key), meta);
  for (const name of onDisk) {
    const meta = byDir.get(name);
    const streamDir = join(streamsDir, name);
    const shardDirs = await subdirectories(streamDir);
    if (streams !== null && !meta) {
      problem(streamDir, `stream directory with no stream in the catalog (${count(shardDirs.length, 'shard log')}); left as it is`);
    }
    for (const shardName of shardDirs) {
      const shardDir = join(streamDir, shardName);
      const index = /^\d+$/.test(shardName) ? Number(shardName) : -1;
      const shard = meta?.shards.find((s) => s.index === index);
      if (meta && !shard) problem(shardDir, `shard log of a shard that stream ${meta.name} does not have; left as it is`);
      report.shardLogs++;
      await checkShardLog(shardDir, repair, report, problem);
    }
  }
  for (const meta of streams ?? []) {
    const streamDir = join(streamsDir, streamDirName(meta.key));
    for (const shard of meta.shards) {
      const closedWithRecords = shard.closedAt !== undefined && (shard.endOffset ?? 0) > 0;
      // Open shards get their log on first use, and expired ones have had it dropped.
      if (shard.expiredAt !== undefined || !closedWithRecords) continue;
      if (!existsSync(join(streamDir, String(shard.index)))) {
        problem(join(streamDir, String(shard.index)), `missing: shard ${shard.index} of stream ${meta.name} was closed with ${shard.endOffset} records and has not expired`);
      }
    }
  }
  return report;
}

function checkDatabase(path: string, problem: (path: string, message: string) => void): Database.Database | null {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (err) {
    problem(path, `cannot be opened: ${(err as Error).message}`);
    return null;
  }
  try {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    for (const row of rows) if (row.integrity_check !== 'ok') problem(path, `integrity check: ${row.integrity_check}`);
  } catch (err) {
    problem(path, `integrity check failed: ${(err as Error).message}`);
  }
  return db;
}

function readCatalog(path: string, problem: (path: string, message: string) => void): StreamMeta[] | null {
  const db = checkDatabase(path, problem);
  if (!db) return null;
  try {
    const rows = db.prepare('SELECT key, doc FROM streams').all() as { key: string; doc: string }[];
    const out: StreamMeta[] = [];
    for (const row of rows) {
      try {
        out.push(JSON.parse(row.doc) as StreamMeta);
      } catch {
        problem(path, `the catalog document of stream key ${row.key} is not JSON`);
      }
    }
    return out;
  } catch (err) {
    problem(path, `cannot read the streams: ${(err as Error).message}`);
    return null;
  } finally {
    db.close();
  }
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

class FileSource implements PositionalSource {
  constructor(private readonly fh: FileHandle) {}

  async readAt(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(buf, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === length ? buf : buf.subarray(0, got);
  }
}

async function checkShardLog(
  dir: string,
  repair: boolean,
  report: CheckReport,
  problem: (path: string, message: string, repairable?: boolean) => void,
): Promise<void> {
  const names = await readdir(dir);
  const bases = names.map(parseSegmentFileName).filter((b) => b >= 0).sort((a, b) => a - b);
  const indexed = new Set(names.map(parseIndexFileName).filter((b) => b >= 0));

  const trimPath = join(dir, TRIM_POINT_FILE);
  let badTrim = '';
  await readTrimPoint(dir, (_code, _path, message) => (badTrim = message));
  if (badTrim) {
    if (repair) {
      await unlink(trimPath);
      report.repaired.push(`${trimPath}: removed (it could not be read: the server ignores it)`);
    } else problem(trimPath, `${badTrim} (the server ignores it)`, true);
  }

  for (let k = 0; k < bases.length; k++) {
    const base = bases[k];
    const last = k === bases.length - 1;
    const path = join(dir, segmentFileName(base));
    const indexPath = join(dir, indexFileName(base));
    report.segments++;
    const fh = await open(path, 'r');
    let scan: ScanResult;
    let fileSize: number;
    try {
      fileSize = (await fh.stat()).size;
      scan = await scanSegment(new FileSource(fh), base, fileSize, last ? undefined : bases[k + 1]);
    } finally {
      await fh.close();
    }
    report.batches += scan.batches;
    report.gapRecords += scan.gapOffsets;
    if (!last && scan.endOffset > bases[k + 1]) {
      problem(path, `ends at offset ${scan.endOffset}, past the start of the next segment (${bases[k + 1]}); left as it is`);
    }
    for (const hole of scan.holes) {
      const lost = hole.toOffset - hole.fromOffset;
      report.lostRecords += lost;
      const what = lost > 0 ? `offsets ${hole.fromOffset} to ${hole.toOffset - 1} (${count(lost, 'record')}) lost` : 'no records lost';
      if (!repair) problem(path, `bytes ${hole.position} to ${hole.end} damaged (${hole.reason}): ${what}`, true);
    }
    if (scan.tail && !repair) {
      problem(path, `torn tail from byte ${scan.tail.position} (${scan.tail.reason}): ${fileSize - scan.tail.position} bytes a server cuts off when it starts`, true);
    }
    let index: SparseIndex = scan.index;
    let summary = { base, endOffset: scan.endOffset, size: scan.size, firstTimestamp: scan.firstTimestamp, lastTimestamp: scan.lastTimestamp };
    if (repair && (scan.holes.length > 0 || scan.tail)) {
      const rewritten = await rewriteSegment(dir, base, scan);
      report.repaired.push(`${path}: ${rewritten}`);
      const fresh = await open(path, 'r');
      try {
        const again = await scanSegment(new FileSource(fresh), base, (await fresh.stat()).size, last ? undefined : bases[k + 1]);
        index = again.index;
        summary = { base, endOffset: again.endOffset, size: again.size, firstTimestamp: again.firstTimestamp, lastTimestamp: again.lastTimestamp };
      } finally {
        await fresh.close();
      }
      if (last) await unlink(indexPath).catch(() => {});
    }
    // The active segment's index is not used (recovery scans it and deletes the file).
    if (last) continue;
    const indexProblem = indexed.has(base) ? await compareIndex(indexPath, summary, index) : 'missing';
    if (indexProblem === null) continue;
    if (repair) {
      const tmp = `${indexPath}.tmp`;
      await writePrivateFile(tmp, encodeIndexFile(summary, index));
      await rename(tmp, indexPath);
      report.repaired.push(`${indexPath}: written again from its segment (${indexProblem})`);
    } else if (scan.holes.length === 0) {
      problem(indexPath, `${indexProblem}; a server scans the segment instead`, true);
    }
  }
}

/** Why an index file does not describe its segment, or null when it does. */
async function compareIndex(
  path: string,
  summary: { base: number; endOffset: number; size: number; firstTimestamp: number; lastTimestamp: number },
  index: SparseIndex,
): Promise<string | null> {
  const buf = await readFileOrNull(path);
  if (!buf) return 'missing';
  const header = decodeIndexHeader(buf);
  if (!header) return 'its header does not check';
  for (const field of ['base', 'endOffset', 'size', 'firstTimestamp', 'lastTimestamp'] as const) {
    if (!Object.is(header[field], summary[field])) return `its ${field} is ${header[field]}, the segment's ${summary[field]}`;
  }
  const entries = decodeIndexEntries(buf, header);
  if (!entries) return 'its entries do not check';
  if (entries.count !== index.count) return `it has ${entries.count} entries, the segment ${index.count}`;
  for (let i = 0; i < index.count; i++) {
    if (entries.offsetAt(i) !== index.offsetAt(i) || entries.positionAt(i) !== index.positionAt(i) || entries.timestampAt(i) !== index.timestampAt(i)) {
      return `its entry ${i} does not match the batch it points at`;
    }
  }
  return null;
}

function readFileOrNull(path: string): Promise<Buffer | null> {
  return readFile(path).catch(() => null);
}

/**
 * Writes the segment again without its holes (a gap batch in place of each that cost offsets) and
 * its torn tail, and swaps the copy in. Returns what was done.
 */
async function rewriteSegment(dir: string, base: number, scan: ScanResult): Promise<string> {
  const path = join(dir, segmentFileName(base));
  const end = scan.tail ? scan.tail.position : scan.size;
  if (scan.holes.length === 0) {
    await truncate(path, end);
    await syncFile(path);
    return `torn tail cut off at byte ${end}`;
  }
  const src = await open(path, 'r');
  const tmp = `${path}.tmp`;
  const out = await openPrivate(tmp, 'w');
  let gaps = 0;
  let dropped = 0;
  try {
    const source = new FileSource(src);
    let at = 0;
    let written = 0;
    const copy = async (from: number, to: number) => {
      for (let p = from; p < to; p += 1 << 20) {
        const piece = await source.readAt(p, Math.min(1 << 20, to - p));
        await out.write(piece, 0, piece.length, written);
        written += piece.length;
      }
    };
    for (const hole of scan.holes) {
      await copy(at, hole.position);
      dropped += hole.end - hole.position;
      if (hole.toOffset > hole.fromOffset) {
        const gap = encodeGap(hole.fromOffset, hole.toOffset - hole.fromOffset, hole.timestamp);
        await out.write(gap, 0, gap.length, written);
        written += gap.length;
        gaps++;
      }
      at = hole.end;
    }
    await copy(at, end);
    await out.datasync();
  } finally {
    await out.close();
    await src.close();
  }
  await rename(tmp, path);
  await syncDirectory(dir);
  return `rewritten without ${dropped} damaged bytes, ${gaps} gap batch${gaps === 1 ? '' : 'es'} in their place${scan.tail ? ', torn tail cut off' : ''}`;
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** The report as the CLI prints it: a line per repair and per problem, then a summary line. */
export function formatCheckReport(report: CheckReport, repaired: boolean): string {
  const lines: string[] = [];
  for (const line of report.repaired) lines.push(`repaired: ${line}`);
  for (const p of report.problems) lines.push(`problem: ${p.path}: ${p.message}`);
  const checked = `${count(report.streams, 'stream')}, ${count(report.shardLogs, 'shard log')}, ${count(report.segments, 'segment')}, ${count(report.batches, 'batch', 'batches')} checked`;
  const gaps = report.gapRecords > 0 ? `; ${count(report.gapRecords, 'record')} recorded as lost by earlier repairs` : '';
  const n = report.problems.length;
  if (n === 0) lines.push(`${checked}: no problems${gaps}`);
  else {
    const fixable = report.problems.filter((p) => p.repairable).length;
    const lost = report.lostRecords > 0 ? `, ${count(report.lostRecords, 'record')} lost to damage` : '';
    const hint = !repaired && fixable > 0 ? ` (${fixable} repairable with --repair)` : '';
    lines.push(`${checked}: ${n} problem${n === 1 ? '' : 's'}${hint}${lost}${gaps}`);
  }
  return lines.join('\n') + '\n';
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
