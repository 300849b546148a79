import { createHash, randomBytes } from 'node:crypto';
import { readSmallBody, receiveBody } from '../body.js';
import { algorithmOf, checksumField, compositeChecksum, type ChecksumAlgorithm } from '../checksums.js';
import type { S3Context, S3Response } from '../context.js';
import {
  entityTooSmall,
  invalidArgument,
  invalidPart,
  invalidPartOrder,
  invalidRange,
  malformedXml,
  noSuchUpload,
} from '../errors.js';
import { checksumEcho, contentHeadersOf, isoDate, metadataOf, quoted, xmlResponse } from '../headers.js';
import { header } from '../request.js';
import type { ObjectRecord, UploadRecord } from '../store.js';
import { childrenNamed, childText, parseXml, XmlSyntaxError, type XmlNode } from '../xml.js';
import { copyBytes, copySource } from './objects.js';

export const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

async function upload(ctx: S3Context): Promise<UploadRecord> {
  const b = await ctx.bucket();
  const id = ctx.r.query.get('uploadId') ?? '';
  const u = await ctx.store.upload(id);
  if (!u || u.bucket !== b.name || u.key !== ctx.r.key) throw noSuchUpload(id);
  return u;
}

function partNumberOf(ctx: S3Context): number {
  const raw = ctx.r.query.get('partNumber') ?? '';
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_PARTS) {
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', raw);
  }
  return n;
}

const initiator = (ctx: S3Context): XmlNode[] => [['ID', ctx.owner.id], ['DisplayName', ctx.owner.displayName]];

export async function createMultipartUpload(ctx: S3Context): Promise<S3Response> {
  const b = await ctx.bucket();
  const { r } = ctx;
  const algoHeader = header(r, 'x-amz-checksum-algorithm');
  const algorithm = algoHeader ? algorithmOf(algoHeader) : undefined;
  if (algoHeader && !algorithm) throw invalidArgument('Checksum algorithm provided is unsupported.', 'x-amz-checksum-algorithm', algoHeader);
  const typeHeader = header(r, 'x-amz-checksum-type')?.toUpperCase();
  const u: UploadRecord = {
    uploadId: randomBytes(24).toString('base64url'),
    bucket: b.name,
    key: r.key,
    initiated: ctx.now,
    headers: contentHeadersOf(r),
    metadata: metadataOf(r),
    checksumAlgorithm: algorithm,
    checksumType: algorithm ? (typeHeader === 'FULL_OBJECT' ? 'FULL_OBJECT' : 'COMPOSITE') : undefined,
  };
  await ctx.store.createUpload(u);
  return xmlResponse('InitiateMultipartUploadResult', [['Bucket', b.name], ['Key', r.key], ['UploadId', u.uploadId]], 200, {
    'x-amz-checksum-algorithm': algorithm,
    'x-amz-checksum-type': u.checksumType,
  });
}

export async function uploadPart(ctx: S3Context): Promise<S3Response> {
  const u = await upload(ctx);
  const partNumber = partNumberOf(ctx);
  const sink = ctx.store.blob(u.bucket);
  let received;
  let blob: string;
  try {
    received = await receiveBody(ctx.req, ctx.r, sink.stream, {
      max: ctx.deps.settings.maxObjectBytes,
      signing: ctx.signing,
      algorithms: u.checksumAlgorithm ? [u.checksumAlgorithm] : [],
    });
    blob = await sink.commit();
  } catch (err) {
    await sink.discard();
    throw err;
  }
  const part = { partNumber, size: received.size, etag: received.md5.toString('hex'), lastModified: ctx.deps.clock.now(), checksums: received.checksums };
  if (!(await ctx.store.putPart(u.uploadId, part, blob))) throw noSuchUpload(u.uploadId);
  return { status: 200, headers: { ETag: quoted(part.etag), 'x-amz-server-side-encryption': 'AES256', ...checksumEcho(part.checksums) } };
}

export async function uploadPartCopy(ctx: S3Context): Promise<S3Response> {
  const u = await upload(ctx);
  const partNumber = partNumberOf(ctx);
  const src = await copySource(ctx);
  let range: { start: number; end: number } | undefined;
  const rangeHeader = header(ctx.r, 'x-amz-copy-source-range');
  if (rangeHeader !== undefined) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader.trim());
    if (!m) throw invalidArgument('The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', 'x-amz-copy-source-range', rangeHeader);
    const start = Number(m[1]);
    const end = Number(m[2]);
    if (end < start || end >= src.record.size) throw invalidRange(src.record.size);
    range = { start, end };
  }
  const read = await ctx.store.read(src.bucket, src.key, range);
  if (!read) throw noSuchUpload(u.uploadId);
  const algorithms: ChecksumAlgorithm[] = u.checksumAlgorithm ? [u.checksumAlgorithm] : [];
  const copied = await copyBytes(ctx, u.bucket, read.body, algorithms);
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
  for (const a of algorithms) checksums[a] = copied.digests.checksums.get(a);
  const part = { partNumber, size: copied.size, etag: copied.digests.md5.toString('hex'), lastModified: ctx.deps.clock.now(), checksums };
  if (!(await ctx.store.putPart(u.uploadId, part, copied.blob))) throw noSuchUpload(u.uploadId);
  const nodes: XmlNode[] = [['ETag', quoted(part.etag)], ['LastModified', isoDate(part.lastModified)]];
  for (const a of algorithms) nodes.push([checksumField(a), checksums[a]]);
  return xmlResponse('CopyPartResult', nodes);
}

export async function completeMultipartUpload(ctx: S3Context): Promise<S3Response> {
  const u = await upload(ctx);
  const { body } = await readSmallBody(ctx.req, ctx.r, { max: 4 * 1024 * 1024, signing: ctx.signing });
  let listed: { partNumber: number; etag: string }[];
  try {
    const doc = parseXml(body.toString('utf8'));
    if (doc.name !== 'CompleteMultipartUpload') throw malformedXml();
    listed = childrenNamed(doc, 'Part').map((p) => {
      const n = childText(p, 'PartNumber');
      const etag = childText(p, 'ETag');
      if (n === undefined || etag === undefined || !/^\s*\d+\s*$/.test(n)) throw malformedXml();
      return { partNumber: Number(n), etag: etag.trim().replace(/^"(.*)"$/, '$1') };
    });
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw malformedXml();
    throw err;
  }
  if (listed.length === 0) throw malformedXml();
  for (let i = 1; i < listed.length; i++) if (listed[i]!.partNumber <= listed[i - 1]!.partNumber) throw invalidPartOrder();
  const stored = new Map((await ctx.store.parts(u.uploadId)).map((p) => [p.partNumber, p]));
  const chosen = listed.map((l) => {
    const p = stored.get(l.partNumber);
    if (!p || p.etag !== l.etag) throw invalidPart();
    return p;
  });
  for (let i = 0; i < chosen.length - 1; i++) {
    if (chosen[i]!.size < MIN_PART_BYTES) {
      throw entityTooSmall({ ProposedSize: String(chosen[i]!.size), MinSizeAllowed: String(MIN_PART_BYTES), PartNumber: String(chosen[i]!.partNumber), ETag: chosen[i]!.etag });
    }
  }
  const md5s = createHash('md5');
  for (const p of chosen) md5s.update(Buffer.from(p.etag, 'hex'));
  const etag = `${md5s.digest('hex')}-${chosen.length}`;
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
  const a = u.checksumAlgorithm;
  if (a && u.checksumType === 'COMPOSITE' && chosen.every((p) => p.checksums[a] !== undefined)) {
    checksums[a] = compositeChecksum(a, chosen.map((p) => p.checksums[a]!));
  }
  const blob = await ctx.store.concat(u.bucket, chosen.map((p) => ({ bucket: u.bucket, blob: p.blob })));
  const record: ObjectRecord = {
    bucket: u.bucket,
    key: u.key,
    size: chosen.reduce((s, p) => s + p.size, 0),
    etag,
    lastModified: ctx.deps.clock.now(),
    headers: u.headers,
    metadata: u.metadata,
    checksums,
    checksumType: Object.keys(checksums).length > 0 ? 'COMPOSITE' : undefined,
    parts: chosen.map((p) => p.size),
  };
  if (!(await ctx.store.completeUpload(u.uploadId, record, blob))) throw noSuchUpload(u.uploadId);
  const proto = 'encrypted' in ctx.req.socket && ctx.req.socket.encrypted ? 'https' : 'http';
  const host = header(ctx.r, 'host') ?? 'localhost';
  const location = ctx.r.virtualHost ? `${proto}://${host}/${encodeURI(u.key)}` : `${proto}://${host}/${u.bucket}/${encodeURI(u.key)}`;
  const nodes: XmlNode[] = [['Location', location], ['Bucket', u.bucket], ['Key', u.key], ['ETag', quoted(etag)]];
  if (a && checksums[a]) nodes.push([checksumField(a), checksums[a]], ['ChecksumType', 'COMPOSITE']);
  return xmlResponse('CompleteMultipartUploadResult', nodes, 200, { 'x-amz-server-side-encryption': 'AES256' });
}

export async function abortMultipartUpload(ctx: S3Context): Promise<S3Response> {
  const u = await upload(ctx);
  if (!(await ctx.store.abortUpload(u.uploadId))) throw noSuchUpload(u.uploadId);
  return { status: 204 };
}

function maxOf(ctx: S3Context, name: string): number {
  const raw = ctx.r.query.get(name);
  if (raw === undefined) return 1000;
  if (!/^\d+$/.test(raw)) throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, raw);
  return Math.min(1000, Number(raw));
}

export async function listParts(ctx: S3Context): Promise<S3Response> {
  const u = await upload(ctx);
  const max = maxOf(ctx, 'max-parts');
  const marker = Number(ctx.r.query.get('part-number-marker') ?? '0') || 0;
  const all = (await ctx.store.parts(u.uploadId)).filter((p) => p.partNumber > marker);
  const page = all.slice(0, max);
  const truncated = all.length > page.length;
  const nodes: XmlNode[] = [
    ['Bucket', u.bucket],
    ['Key', u.key],
    ['UploadId', u.uploadId],
    ['PartNumberMarker', marker],
    ['NextPartNumberMarker', page.length > 0 ? page[page.length - 1]!.partNumber : marker],
    ['MaxParts', max],
    ['IsTruncated', truncated],
  ];
  if (u.checksumAlgorithm) nodes.push(['ChecksumAlgorithm', u.checksumAlgorithm], ['ChecksumType', u.checksumType]);
  for (const p of page) {
    const part: XmlNode[] = [['PartNumber', p.partNumber], ['LastModified', isoDate(p.lastModified)], ['ETag', quoted(p.etag)], ['Size', p.size]];
    for (const [alg, v] of Object.entries(p.checksums)) part.push([checksumField(alg as ChecksumAlgorithm), v]);
    nodes.push(['Part', part]);
  }
  nodes.push(['Initiator', initiator(ctx)], ['Owner', initiator(ctx)], ['StorageClass', 'STANDARD']);
  return xmlResponse('ListPartsResult', nodes);
}

export async function listMultipartUploads(ctx: S3Context): Promise<S3Response> {
  const b = await ctx.bucket();
  const q = ctx.r.query;
  const max = maxOf(ctx, 'max-uploads');
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const keyMarker = q.get('key-marker') ?? '';
  const idMarker = q.get('upload-id-marker') ?? '';
  const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  const entries: XmlNode[] = [];
  const prefixes = new Set<string>();
  let count = 0;
  let truncated = false;
  let nextKey = '';
  let nextId = '';
  for (const u of await ctx.store.uploads(b.name)) {
    if (!u.key.startsWith(prefix)) continue;
    if (keyMarker !== '') {
      const c = cmp(u.key, keyMarker);
      if (c < 0 || (c === 0 && (idMarker === '' || u.uploadId <= idMarker))) continue;
    }
    let cp: string | undefined;
    if (delimiter) {
      const at = u.key.indexOf(delimiter, prefix.length);
      if (at >= 0) cp = u.key.slice(0, at + delimiter.length);
    }
    if (cp !== undefined && prefixes.has(cp)) continue;
    if (count >= max) {
      truncated = true;
      break;
    }
    count++;
    nextKey = u.key;
    nextId = u.uploadId;
    if (cp !== undefined) {
      prefixes.add(cp);
      continue;
    }
    entries.push([
      'Upload',
      [
        ['Key', u.key],
        ['UploadId', u.uploadId],
        ['Initiator', initiator(ctx)],
        ['Owner', initiator(ctx)],
        ['StorageClass', 'STANDARD'],
        ['Initiated', isoDate(u.initiated)],
        ['ChecksumAlgorithm', u.checksumAlgorithm],
      ],
    ]);
  }
  const nodes: XmlNode[] = [
    ['Bucket', b.name],
    ['KeyMarker', keyMarker],
    ['UploadIdMarker', idMarker],
    ['NextKeyMarker', truncated ? nextKey : undefined],
    ['NextUploadIdMarker', truncated ? nextId : undefined],
    ['Delimiter', delimiter],
    ['Prefix', prefix],
    ['MaxUploads', max],
    ['IsTruncated', truncated],
    ...entries,
    ...[...prefixes].map((p): XmlNode => ['CommonPrefixes', [['Prefix', p]]]),
  ];
  return xmlResponse('ListMultipartUploadsResult', nodes);
}
