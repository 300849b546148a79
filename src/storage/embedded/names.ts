/** File and directory names of the embedded engine. */

const SEGMENT_NAME = /^(\d{20})\.log$/;
const INDEX_NAME = /^(\d{20})\.idx$/;

export const TRIM_POINT_FILE = 'trim.json';

function pad(base: number): string {
  return String(base).padStart(20, '0');
}

export function segmentFileName(base: number): string {
  return `${pad(base)}.log`;
}

export function indexFileName(base: number): string {
  return `${pad(base)}.idx`;
}

/** The base offset named by a segment file name, or -1 if it is not one. */
export function parseSegmentFileName(name: string): number {
  const m = SEGMENT_NAME.exec(name);
  return m ? Number(m[1]) : -1;
}

/** The base offset named by an index file name, or -1 if it is not one. */
export function parseIndexFileName(name: string): number {
  const m = INDEX_NAME.exec(name);
  return m ? Number(m[1]) : -1;
}

/**
 * A directory name for a stream key that is one path segment whatever the key holds: the key
 * percent-encoded, with a leading dot encoded too so that "." and ".." stay ordinary names.
 * Distinct keys get distinct names.
 */
export function streamDirName(streamKey: string): string {
  if (streamKey.length === 0) throw new TypeError('stream key must not be empty');
  return encodeURIComponent(streamKey).replace(/^\./, '%2E');
}
