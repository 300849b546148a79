/** What the embedded engine reports about itself, for logs and tests. */

export type LogWarningCode =
  /** Recovery cut off an incomplete or corrupt tail of the active segment. */
  | 'truncated-tail'
  /** A complete batch failed its checks; it and the rest of its segment are no longer served. */
  | 'corrupt-batch'
  /** A segment's .idx file was missing or did not match, and the segment was scanned instead. */
  | 'index-rebuilt'
  /** Writing an .idx or trim file failed; it is a cache or is rewritten later, so nothing is lost. */
  | 'write-failed'
  /** A background fdatasync (interval mode) failed; it is retried on the next tick. */
  | 'sync-failed'
  /** The trim point file could not be read and was ignored. */
  | 'bad-trim-point';

export interface LogWarning {
  code: LogWarningCode;
  /** The file concerned. */
  path: string;
  message: string;
}

export interface EmbeddedHooks {
  /** Called for every warning; by default they go to process.emitWarning. */
  onWarning?: (warning: LogWarning) => void;
  /** Called after each fdatasync of a segment file, with its path. */
  onSync?: (path: string) => void;
}

export type Warn = (code: LogWarningCode, path: string, message: string) => void;

export function warner(hooks: EmbeddedHooks): Warn {
  const sink = hooks.onWarning;
  if (sink) return (code, path, message) => sink({ code, path, message });
  return (code, path, message) => process.emitWarning(`${path}: ${message}`, { code: `TRIBUTARY_${code.toUpperCase().replace(/-/g, '_')}` });
}
