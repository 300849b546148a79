import { readSmallBody } from '../body.js';
import type { S3Context, S3Response } from '../context.js';
import { bucketAlreadyOwnedByYou, bucketNotEmpty, invalidBucketName, malformedXml, noSuchBucket } from '../errors.js';
import { isoDate, xmlResponse } from '../headers.js';
import { validBucketName } from '../names.js';
import { childText, escapeXml, parseXml, S3_NAMESPACE, XmlSyntaxError } from '../xml.js';

export async function listBuckets(ctx: S3Context): Promise<S3Response> {
  const prefix = ctx.r.query.get('prefix') ?? '';
  const buckets = (await ctx.store.buckets()).filter((b) => b.name.startsWith(prefix));
  return xmlResponse('ListAllMyBucketsResult', [
    ['Owner', [['ID', ctx.owner.id], ['DisplayName', ctx.owner.displayName]]],
    ['Buckets', buckets.map((b) => ['Bucket', [['Name', b.name], ['CreationDate', isoDate(b.createdAt)], ['BucketRegion', b.region]]])],
    ['Prefix', ctx.r.query.has('prefix') ? prefix : undefined],
  ]);
}

export async function createBucket(ctx: S3Context): Promise<S3Response> {
  const name = ctx.r.bucket!;
  if (!validBucketName(name)) throw invalidBucketName(name);
  const { body } = await readSmallBody(ctx.req, ctx.r, { max: 64 * 1024, signing: ctx.signing });
  let region = ctx.deps.settings.region;
  if (body.length > 0) {
    try {
      const doc = parseXml(body.toString('utf8'));
      if (doc.name !== 'CreateBucketConfiguration') throw malformedXml();
      const constraint = childText(doc, 'LocationConstraint');
      if (constraint) region = constraint;
    } catch (err) {
      if (err instanceof XmlSyntaxError) throw malformedXml();
      throw err;
    }
  }
  if ((await ctx.store.createBucket(name, region, ctx.now)) === 'exists') throw bucketAlreadyOwnedByYou(name);
  return { status: 200, headers: { Location: `/${name}` } };
}

export async function headBucket(ctx: S3Context): Promise<S3Response> {
  const b = await ctx.bucket();
  return { status: 200, headers: { 'x-amz-bucket-region': b.region, 'x-amz-access-point-alias': 'false' } };
}

export async function deleteBucket(ctx: S3Context): Promise<S3Response> {
  const name = ctx.r.bucket!;
  const result = await ctx.store.deleteBucket(name);
  if (result === 'missing') throw noSuchBucket(name);
  if (result === 'not-empty') throw bucketNotEmpty(name);
  return { status: 204 };
}

export async function getBucketLocation(ctx: S3Context): Promise<S3Response> {
  const b = await ctx.bucket();
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_NAMESPACE}">` +
    `${b.region === 'us-east-1' ? '' : escapeXml(b.region)}</LocationConstraint>`;
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
}

export async function getBucketVersioning(ctx: S3Context): Promise<S3Response> {
  await ctx.bucket();
  return xmlResponse('VersioningConfiguration', []);
}
