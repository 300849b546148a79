import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * S3's additional checksums: each the big-endian digest, in base64, of the object's bytes (or,
 * for a multipart object's COMPOSITE checksum, of its parts' raw checksums, with `-N`). CRC32
 * is zlib's; CRC32C (Castagnoli, reflected 0x82F63B78) and CRC64NVME (reflected
 * 0x9A6C9329AC4BC9B5) are table-driven here; SHA-1 and SHA-256 are Node's.
 */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/** `x-amz-checksum-crc32` for CRC32, and so on. */
export const checksumHeader = (a: ChecksumAlgorithm) => `x-amz-checksum-${a.toLowerCase()}`;
/** The element or field name: ChecksumCRC32, … */
export const checksumField = (a: ChecksumAlgorithm) => `Checksum${a}`;

export function algorithmOf(name: string): ChecksumAlgorithm | undefined {
  const up = name.toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(up) ? (up as ChecksumAlgorithm) : undefined;
}

/** Bytes of each digest, for telling a well-formed header value from a malformed one. */
export const DIGEST_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

/** The 8-bit lookup tables of both CRCs, built on first use and kept by whoever holds them. */
export class CrcTables {
  readonly crc32c: Uint32Array;
  /** CRC64 entries as their high and low 32-bit halves. */
  readonly crc64Hi: Uint32Array;
  readonly crc64Lo: Uint32Array;

  constructor() {
    this.crc32c = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      this.crc32c[i] = c >>> 0;
    }
    this.crc64Hi = new Uint32Array(256);
    this.crc64Lo = new Uint32Array(256);
    const poly = 0x9a6c9329ac4bc9b5n;
    for (let i = 0n; i < 256n; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
      this.crc64Hi[Number(i)] = Number(c >> 32n);
      this.crc64Lo[Number(i)] = Number(c & 0xffffffffn);
    }
  }
}

/** The tables are pure constants: computed once per process. */
let tables: CrcTables | undefined;
const crcTables = () => (tables ??= new CrcTables());

interface Digester {
  update(chunk: Buffer): void;
  digest(): Buffer;
}

class Crc32Digester implements Digester {
  private c = 0;
  update(chunk: Buffer) {
    this.c = crc32(chunk, this.c);
  }
  digest() {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(this.c >>> 0);
    return b;
  }
}

class Crc32cDigester implements Digester {
  private c = 0xffffffff;
  private readonly t = crcTables().crc32c;
  update(chunk: Buffer) {
    let c = this.c;
    const t = this.t;
    for (let i = 0; i < chunk.length; i++) c = t[(c ^ chunk[i]!) & 0xff]! ^ (c >>> 8);
    this.c = c;
  }
  digest() {
    const b = Buffer.alloc(4);
    b.writeUInt32BE((this.c ^ 0xffffffff) >>> 0);
    return b;
  }
}

class Crc64Digester implements Digester {
  private hi = 0xffffffff;
  private lo = 0xffffffff;
  private readonly th = crcTables().crc64Hi;
  private readonly tl = crcTables().crc64Lo;
  update(chunk: Buffer) {
    let hi = this.hi;
    let lo = this.lo;
    const th = this.th;
    const tl = this.tl;
    for (let i = 0; i < chunk.length; i++) {
      const idx = (lo ^ chunk[i]!) & 0xff;
      // (crc >> 8) ^ table[idx], on two 32-bit halves
      lo = ((lo >>> 8) | ((hi & 0xff) << 24)) ^ tl[idx]!;
      hi = (hi >>> 8) ^ th[idx]!;
    }
    this.hi = hi;
    this.lo = lo;
  }
  digest() {
    const b = Buffer.alloc(8);
    b.writeUInt32BE((this.hi ^ 0xffffffff) >>> 0, 0);
    b.writeUInt32BE((this.lo ^ 0xffffffff) >>> 0, 4);
    return b;
  }
}

class HashDigester implements Digester {
  private readonly h: Hash;
  constructor(algorithm: string) {
    this.h = createHash(algorithm);
  }
  update(chunk: Buffer) {
    this.h.update(chunk);
  }
  digest() {
    return this.h.digest();
  }
}

function digester(a: ChecksumAlgorithm): Digester {
  switch (a) {
    case 'CRC32':
      return new Crc32Digester();
    case 'CRC32C':
      return new Crc32cDigester();
    case 'CRC64NVME':
      return new Crc64Digester();
    case 'SHA1':
      return new HashDigester('sha1');
    case 'SHA256':
      return new HashDigester('sha256');
  }
}

/** The MD5 (for the ETag) and the wanted checksums of a body, fed as it streams. */
export class BodyDigests {
  private readonly md5 = createHash('md5');
  private readonly sha = createHash('sha256');
  private readonly others = new Map<ChecksumAlgorithm, Digester>();
  size = 0;
  private done?: { md5: Buffer; sha256: Buffer; checksums: Map<ChecksumAlgorithm, string> };

  constructor(algorithms: Iterable<ChecksumAlgorithm>) {
    for (const a of algorithms) if (a !== 'SHA256') this.others.set(a, digester(a));
  }

  update(chunk: Buffer): void {
    this.size += chunk.length;
    this.md5.update(chunk);
    this.sha.update(chunk);
    for (const d of this.others.values()) d.update(chunk);
  }

  finish() {
    if (!this.done) {
      const sha256 = this.sha.digest();
      const checksums = new Map<ChecksumAlgorithm, string>();
      for (const [a, d] of this.others) checksums.set(a, d.digest().toString('base64'));
      checksums.set('SHA256', sha256.toString('base64'));
      this.done = { md5: this.md5.digest(), sha256, checksums };
    }
    return this.done;
  }
}

/** One checksum of a whole buffer, base64. */
export function checksumOf(a: ChecksumAlgorithm, data: Buffer): string {
  const d = digester(a);
  d.update(data);
  return d.digest().toString('base64');
}

/** A COMPOSITE multipart checksum: the checksum of the parts' raw checksums, then `-N`. */
export function compositeChecksum(a: ChecksumAlgorithm, partChecksums: readonly string[]): string {
  return `${checksumOf(a, Buffer.concat(partChecksums.map((c) => Buffer.from(c, 'base64'))))}-${partChecksums.length}`;
}
