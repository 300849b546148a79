/** What the embedded engine reports about itself, for logs, metrics and tests. */

export type LogWarningCode =
  /** Recovery cut off a torn tail of the active segment: a write that a crash cut short. */
  | 'truncated-tail'
  /**
   * Damaged bytes inside a segment: the records they held are not served (see `lost`); reads go
   * on at the next good batch.
   */
  | 'corrupt-batch'
  /** A segment's .idx file was missing or did not match, and the segment was scanned instead. */
  | 'index-rebuilt'
  /** Writing an .idx or trim file failed; it is a cache or is rewritten later, so nothing is lost. */
  | 'write-failed'
  /** A background fdatasync (interval mode) failed; it is retried on the next tick. */
  | 'sync-failed'
  /** The trim point file could not be read and was ignored. */
  | 'bad-trim-point';

/** Offsets that a damaged range of a segment held, [from, to); to === from when none. */
export interface LostOffsets {
  from: number;
  to: number;
}

export interface LogWarning {
  code: LogWarningCode;
  /** The file concerned. */
  path: string;
  message: string;
  /** The shard's stream (the catalog's stream key) and index; set by the LogStore. */
  stream?: string;
  shard?: number;
  /** The damaged or cut-off bytes of the file, [from, to). */
  bytes?: { from: number; to: number };
  /** The offsets lost with them, for damage inside a segment. */
  lost?: LostOffsets;
}

export interface EmbeddedHooks {
  /** Called for every warning; by default they go to process.emitWarning. */
  onWarning?: (warning: LogWarning) => void;
  /** Called after each fdatasync of a segment file, with its path. */
  onSync?: (path: string) => void;
}

/** Extra facts about a warning. */
export type WarningDetails = Pick<LogWarning, 'bytes' | 'lost'>;

export type Warn = (code: LogWarningCode, path: string, message: string, details?: WarningDetails) => void;

/**
 * Whether a warning is a fault: damage, a cut-off tail or a failed disk operation, which an
 * operator must hear of (the rest is housekeeping that lost nothing).
 */
export function isFault(code: LogWarningCode): boolean {
  return code === 'truncated-tail' || code === 'corrupt-batch' || code === 'write-failed' || code === 'sync-failed';
}

export function warner(hooks: EmbeddedHooks): Warn {
  const sink = hooks.onWarning;
  if (sink) return (code, path, message, details) => sink({ code, path, message, ...details });
  return (code, path, message) => process.emitWarning(`${path}: ${message}`, { code: `TRIBUTARY_${code.toUpperCase().replace(/-/g, '_')}` });
}
