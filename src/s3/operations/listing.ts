import type { S3Context, S3Response } from '../context.js';
import { invalidArgument } from '../errors.js';
import { isoDate, quoted, xmlResponse } from '../headers.js';
import type { ObjectRecord } from '../store.js';
import type { XmlNode } from '../xml.js';

const FF = Buffer.from([0xff]);

type Item = { record: ObjectRecord } | { prefix: string };

interface Walk {
  items: Item[];
  truncated: boolean;
  /** Where the next page starts (exclusive), as key bytes. */
  next?: Buffer;
}

/**
 * One page of a listing in UTF-8 byte order: keys after `after`, under `prefix`, those holding
 * the delimiter past the prefix rolled up into common prefixes (each counting once). A page that
 * ends on a common prefix continues after every key under it (the bound prefix‖FF: valid UTF-8
 * never holds 0xFF). A marker equal to a common prefix (ListObjects' NextMarker) skips it.
 */
export async function walk(ctx: S3Context, bucket: string, prefix: string, delimiter: string | undefined, after: Buffer | undefined, max: number): Promise<Walk> {
  const prefixBytes = Buffer.from(prefix, 'utf8');
  const items: Item[] = [];
  const bounds: Buffer[] = [];
  let bound = after;
  let more = true;
  while (more && items.length <= max) {
    const rows = await ctx.store.list(bucket, bound, prefixBytes, 1000);
    if (rows.length < 1000) more = false;
    if (rows.length === 0) break;
    let jumped = false;
    for (const row of rows) {
      const key = row.record.key;
      const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (at >= 0) {
        const cp = key.slice(0, at + delimiter!.length);
        const cpBytes = Buffer.from(cp, 'utf8');
        if (!(after && cpBytes.equals(after))) {
          items.push({ prefix: cp });
          bounds.push(Buffer.concat([cpBytes, FF]));
        }
        bound = Buffer.concat([cpBytes, FF]);
        jumped = true;
        more = true;
        break;
      }
      items.push({ record: row.record });
      bounds.push(row.key);
      bound = row.key;
      if (items.length > max) break;
    }
    if (!jumped && items.length > max) break;
  }
  const truncated = items.length > max;
  const page = items.slice(0, max);
  return { items: page, truncated, next: truncated && page.length > 0 ? bounds[page.length - 1] : undefined };
}

function maxKeys(ctx: S3Context): number {
  const raw = ctx.r.query.get('max-keys');
  if (raw === undefined) return 1000;
  if (!/^\d+$/.test(raw)) throw invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', raw);
  return Math.min(1000, Number(raw));
}

/** `encoding-type=url`: keys and prefixes percent-encoded (`/` kept), `+` as %2B. */
const urlEncode = (s: string) => encodeURIComponent(s).replace(/%2F/g, '/');

function contents(ctx: S3Context, items: Item[], enc: (s: string) => string, withOwner: boolean): XmlNode[] {
  const owner: XmlNode = ['Owner', [['ID', ctx.owner.id], ['DisplayName', ctx.owner.displayName]]];
  const out: XmlNode[] = [];
  for (const it of items) {
    if (!('record' in it)) continue;
    const o = it.record;
    const node: XmlNode[] = [['Key', enc(o.key)], ['LastModified', isoDate(o.lastModified)], ['ETag', quoted(o.etag)]];
    const algorithms = Object.keys(o.checksums);
    if (algorithms.length > 0) node.push(['ChecksumAlgorithm', algorithms[0]], ['ChecksumType', o.checksumType]);
    node.push(['Size', o.size]);
    if (withOwner) node.push(owner);
    node.push(['StorageClass', 'STANDARD']);
    out.push(['Contents', node]);
  }
  for (const it of items) if ('prefix' in it) out.push(['CommonPrefixes', [['Prefix', enc(it.prefix)]]]);
  return out;
}

function encodingOf(ctx: S3Context): { type?: string; enc: (s: string) => string } {
  const t = ctx.r.query.get('encoding-type');
  if (t === undefined || t === '') return { enc: (s) => s };
  if (t !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', t);
  return { type: 'url', enc: urlEncode };
}

export async function listObjectsV2(ctx: S3Context): Promise<S3Response> {
  const b = await ctx.bucket();
  const q = ctx.r.query;
  const max = maxKeys(ctx);
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const token = q.get('continuation-token');
  const startAfter = q.get('start-after');
  let after: Buffer | undefined;
  if (token !== undefined) {
    after = Buffer.from(token, 'base64url');
    if (token === '' || after.toString('base64url') !== token) throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  } else if (startAfter) {
    after = Buffer.from(startAfter, 'utf8');
  }
  const { type, enc } = encodingOf(ctx);
  const w = await walk(ctx, b.name, prefix, delimiter, after, max);
  return xmlResponse('ListBucketResult', [
    ['Name', b.name],
    ['Prefix', enc(prefix)],
    ['Delimiter', delimiter && enc(delimiter)],
    ['MaxKeys', max],
    ['EncodingType', type],
    ['IsTruncated', w.truncated],
    ['KeyCount', w.items.length],
    ['ContinuationToken', token],
    ['NextContinuationToken', w.next?.toString('base64url')],
    ['StartAfter', startAfter && enc(startAfter)],
    ...contents(ctx, w.items, enc, q.get('fetch-owner') === 'true'),
  ]);
}

export async function listObjects(ctx: S3Context): Promise<S3Response> {
  const b = await ctx.bucket();
  const q = ctx.r.query;
  const max = maxKeys(ctx);
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const marker = q.get('marker') ?? '';
  const { type, enc } = encodingOf(ctx);
  const w = await walk(ctx, b.name, prefix, delimiter, marker === '' ? undefined : Buffer.from(marker, 'utf8'), max);
  const last = w.items[w.items.length - 1];
  const nextMarker = w.truncated && delimiter && last ? ('record' in last ? last.record.key : last.prefix) : undefined;
  return xmlResponse('ListBucketResult', [
    ['Name', b.name],
    ['Prefix', enc(prefix)],
    ['Marker', enc(marker)],
    ['NextMarker', nextMarker && enc(nextMarker)],
    ['MaxKeys', max],
    ['Delimiter', delimiter && enc(delimiter)],
    ['EncodingType', type],
    ['IsTruncated', w.truncated],
    ...contents(ctx, w.items, enc, true),
  ]);
}
