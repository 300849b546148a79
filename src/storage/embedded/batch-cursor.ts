/**
 * Walks the batches of one segment from a known batch boundary. Every batch it stops at is whole
 * in `buf` and has passed its checks (frame, CRC, format, record layout); the caller checks offset
 * continuity.
 *
 * The file is read with positional reads in pieces. Up to `planned` bytes from the start, the next
 * piece is read while the caller works on the current one, so file reads and decoding overlap. A
 * batch that straddles two pieces is copied into a buffer of its own; past `planned`, pieces are
 * read on demand.
 */
import {
  HEADER_SIZE,
  crcMatches,
  frameLength,
  knownFormat,
  newHeader,
  readHeader,
  recordsWellFormed,
  type BatchHeader,
} from './format.js';

export interface PositionalSource {
  /** Reads up to `length` bytes at `position`; shorter only at the end of the file. */
  readAt(position: number, length: number): Promise<Buffer>;
}

export type CursorStatus = 'ok' | 'end' | 'corrupt';

const EMPTY = Buffer.alloc(0);

export class BatchCursor {
  readonly header: BatchHeader = newHeader();
  /** The buffer holding the current batch, and where in it the batch starts. */
  buf: Buffer = EMPTY;
  at = 0;
  /** File position of the current batch. */
  position: number;
  /** Why the last step returned 'corrupt'. */
  reason = '';
  private length = 0;
  /** The piece being walked, its file position, and the unread tail of the piece before it. */
  private piece: Buffer = EMPTY;
  private pieceStart: number;
  private carry: Buffer = EMPTY;
  /** The piece being read ahead, starting where `piece` ends. */
  private ahead: Promise<Buffer> | null = null;
  private readonly plannedEnd: number;

  /**
   * @param end file position where the walk stops (the end of the bytes known to be written)
   * @param planned bytes from `start` the caller expects to walk; they are read ahead
   * @param pieceSize bytes per read (a batch longer than this is read whole)
   */
  constructor(
    private readonly src: PositionalSource,
    start: number,
    private readonly end: number,
    planned: number,
    private readonly pieceSize: number,
  ) {
    this.position = start;
    this.pieceStart = start;
    this.plannedEnd = Math.min(end, start + planned);
  }

  /** File position of the batch the next step moves to. */
  get nextPosition(): number {
    return this.position + this.length;
  }

  /** Moves to the next batch. */
  async next(): Promise<CursorStatus> {
    this.position += this.length;
    this.length = 0;
    const left = this.end - this.position;
    if (left <= 0) return 'end';
    if (left < HEADER_SIZE) return this.fail(`${left} bytes at byte ${this.position} are less than a batch header`);
    if (!(await this.ensure(HEADER_SIZE))) return this.fail(`file ends inside the batch header at byte ${this.position}`);
    const length = frameLength(this.buf, this.at);
    if (length < 0) return this.fail(`no batch header at byte ${this.position}`);
    if (length > left) return this.fail(`batch at byte ${this.position} of ${length} bytes runs past the end (${left} bytes left)`);
    if (!(await this.ensure(length))) return this.fail(`file ends inside the batch at byte ${this.position}`);
    if (!crcMatches(this.buf, this.at, length)) return this.fail(`batch at byte ${this.position} fails its CRC`);
    readHeader(this.buf, this.at, this.header);
    if (!knownFormat(this.header.format)) {
      throw new Error(`batch at byte ${this.position} has format ${this.header.format}, which this version cannot read`);
    }
    if (!recordsWellFormed(this.buf, this.at, this.header)) {
      return this.fail(`records of the batch at byte ${this.position} do not fit its length`);
    }
    this.length = length;
    return 'ok';
  }

  private fail(reason: string): CursorStatus {
    this.reason = reason;
    return 'corrupt';
  }

  /** Makes `n` bytes from the current position available in `buf` from `at`. */
  private async ensure(n: number): Promise<boolean> {
    for (;;) {
      const from = this.position - this.pieceStart;
      if (from >= 0 && from + n <= this.piece.length) {
        this.buf = this.piece;
        this.at = from;
        return true;
      }
      if (from < 0 && -from <= this.carry.length && from + n <= this.piece.length) {
        // The batch starts in the previous piece: give it a buffer of its own.
        const head = -from;
        const joined = Buffer.allocUnsafe(n);
        this.carry.copy(joined, 0, this.carry.length - head);
        this.piece.copy(joined, head, 0, n - head);
        this.buf = joined;
        this.at = 0;
        return true;
      }
      if (from < 0 || from > this.piece.length || !this.ahead) break;
      // Move on to the piece read ahead, keeping the unread tail of this one.
      const next = await this.ahead;
      this.ahead = null;
      this.carry = this.piece.subarray(from);
      this.pieceStart += this.piece.length;
      this.piece = next;
      this.readAhead();
      if (next.length === 0) break;
    }
    this.ahead = null;
    const size = Math.min(Math.max(n, this.pieceSize), this.end - this.position);
    this.piece = await this.src.readAt(this.position, size);
    this.pieceStart = this.position;
    this.carry = EMPTY;
    this.buf = this.piece;
    this.at = 0;
    this.readAhead();
    return this.piece.length >= n;
  }

  private readAhead(): void {
    const from = this.pieceStart + this.piece.length;
    if (from >= this.plannedEnd || this.piece.length === 0) return;
    const ahead = this.src.readAt(from, Math.min(this.pieceSize, this.end - from));
    ahead.catch(() => {});
    this.ahead = ahead;
  }
}
