/**
 * The compression formats of Firehose's S3 delivery (`CompressionFormat`): GZIP (node:zlib), ZIP
 * (one entry, via fflate), Snappy (the Snappy framing format: a stream identifier, then chunks of
 * at most 64 KiB, each with the masked CRC-32C of its uncompressed bytes) and HADOOP_SNAPPY
 * (Hadoop's block framing: the uncompressed length of each block, then its compressed chunks,
 * each preceded by its length, all as 4-byte big-endian integers).
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
// fflate and snappyjs load with the first object that needs them.
import type SnappyJs from 'snappyjs';

type Snappy = typeof SnappyJs;

async function loadSnappy(): Promise<Snappy> {
  return (await import('snappyjs')).default;
}

export type CompressionFormat = 'UNCOMPRESSED' | 'GZIP' | 'ZIP' | 'Snappy' | 'HADOOP_SNAPPY';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export async function compress(format: CompressionFormat, data: Buffer, entryName: string): Promise<Buffer> {
  switch (format) {
    case 'UNCOMPRESSED':
      return data;
    case 'GZIP':
      return gzipAsync(data);
    case 'ZIP':
      return Buffer.from((await import('fflate')).zipSync({ [entryName]: [data, { level: 6 }] }));
    case 'Snappy':
      return snappyFramed(await loadSnappy(), data);
    case 'HADOOP_SNAPPY':
      return hadoopSnappy(await loadSnappy(), data);
  }
}

export async function decompress(format: CompressionFormat, data: Buffer): Promise<Buffer> {
  switch (format) {
    case 'UNCOMPRESSED':
      return data;
    case 'GZIP':
      return gunzipAsync(data);
    case 'ZIP': {
      const entries = Object.values((await import('fflate')).unzipSync(data));
      return Buffer.concat(entries.map((e) => Buffer.from(e)));
    }
    case 'Snappy':
      return unframeSnappy(await loadSnappy(), data);
    case 'HADOOP_SNAPPY':
      return unHadoopSnappy(await loadSnappy(), data);
  }
}

/** Firehose's default object extensions; a configured FileExtension replaces them. */
export function fileExtension(format: CompressionFormat, dataFormat?: 'parquet' | 'orc', configured?: string): string {
  if (configured !== undefined && configured !== '') return configured;
  if (dataFormat) return `.${dataFormat}`;
  switch (format) {
    case 'GZIP':
      return '.gz';
    case 'ZIP':
      return '.zip';
    case 'Snappy':
    case 'HADOOP_SNAPPY':
      return '.snappy';
    default:
      return '';
  }
}

// ---- Snappy framing format ----

const STREAM_IDENTIFIER = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);
const FRAME_CHUNK = 65_536;

function snappyFramed(snappy: Snappy, data: Buffer): Buffer {
  const parts: Buffer[] = [STREAM_IDENTIFIER];
  for (let at = 0; at < data.length; at += FRAME_CHUNK) {
    const chunk = data.subarray(at, Math.min(data.length, at + FRAME_CHUNK));
    const compressed = Buffer.from(snappy.compress(chunk));
    const useCompressed = compressed.length < chunk.length;
    const body = useCompressed ? compressed : chunk;
    const header = Buffer.alloc(8);
    const length = body.length + 4;
    header[0] = useCompressed ? 0x00 : 0x01;
    header[1] = length & 0xff;
    header[2] = (length >> 8) & 0xff;
    header[3] = (length >> 16) & 0xff;
    header.writeUInt32LE(maskedCrc(chunk), 4);
    parts.push(header, body);
  }
  return Buffer.concat(parts);
}

function unframeSnappy(snappy: Snappy, data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const type = data[at]!;
    const length = data[at + 1]! | (data[at + 2]! << 8) | (data[at + 3]! << 16);
    const body = data.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    if (type === 0xff) continue;
    if (type === 0x00 || type === 0x01) {
      const crc = body.readUInt32LE(0);
      const chunk = type === 0x00 ? Buffer.from(snappy.uncompress(body.subarray(4))) : body.subarray(4);
      if (maskedCrc(chunk) !== crc) throw new Error('snappy frame checksum mismatch');
      out.push(chunk);
    } else if (type <= 0x7f) {
      throw new Error(`unknown unskippable snappy chunk type ${type}`);
    }
  }
  return Buffer.concat(out);
}

// ---- Hadoop's BlockCompressorStream framing ----

const HADOOP_BLOCK = 256 * 1024;

function hadoopSnappy(snappy: Snappy, data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += HADOOP_BLOCK) {
    const block = data.subarray(at, Math.min(data.length, at + HADOOP_BLOCK));
    const compressed = Buffer.from(snappy.compress(block));
    const header = Buffer.alloc(8);
    header.writeUInt32BE(block.length, 0);
    header.writeUInt32BE(compressed.length, 4);
    parts.push(header, compressed);
  }
  return Buffer.concat(parts);
}

function unHadoopSnappy(snappy: Snappy, data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const total = data.readUInt32BE(at);
    at += 4;
    let got = 0;
    while (got < total) {
      const length = data.readUInt32BE(at);
      at += 4;
      const chunk = Buffer.from(snappy.uncompress(data.subarray(at, at + length)));
      at += length;
      got += chunk.length;
      out.push(chunk);
    }
  }
  return Buffer.concat(out);
}

// ---- CRC-32C (Castagnoli), masked as the framing format wants it ----

const CRC_TABLE: readonly number[] = (() => {
  const table: number[] = [];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table.push(c >>> 0);
  }
  return Object.freeze(table);
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function maskedCrc(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
