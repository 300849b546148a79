import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { BodyDigests, checksumOf, compositeChecksum } from '../../src/s3/checksums.js';
import { AwsChunkedDecoder } from '../../src/s3/chunked.js';
import { validBucketName } from '../../src/s3/names.js';
import { parseCopySource, parseRange } from '../../src/s3/operations/objects.js';
import { parseXml, XmlSyntaxError } from '../../src/s3/xml.js';
import { S3Error } from '../../src/s3/errors.js';

describe('S3 checksums', () => {
  it('match the published vectors', () => {
    assert.equal(checksumOf('CRC32', Buffer.from('hello world')), 'DUoRhQ==');
    assert.equal(checksumOf('CRC32C', Buffer.alloc(66_560, 'a')), 'sOO8/Q==');
    // The standard check values of "123456789".
    assert.equal(Buffer.from(checksumOf('CRC32C', Buffer.from('123456789')), 'base64').toString('hex'), 'e3069283');
    assert.equal(Buffer.from(checksumOf('CRC64NVME', Buffer.from('123456789')), 'base64').toString('hex'), 'ae8b14860a799888');
    assert.equal(checksumOf('SHA1', Buffer.from('abc')), Buffer.from('a9993e364706816aba3e25717850c26c9cd0d89d', 'hex').toString('base64'));
    const p1 = checksumOf('CRC32', Buffer.alloc(5_242_880, 'a'));
    const p2 = checksumOf('CRC32', Buffer.from('b'));
    assert.equal(compositeChecksum('CRC32', [p1, p2]), 'dYPmEQ==-2');
  });

  it('are the same fed in pieces as whole', () => {
    const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 31) & 0xff));
    const d = new BodyDigests(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']);
    for (let at = 0; at < data.length; at += 777) d.update(data.subarray(at, at + 777));
    const done = d.finish();
    for (const a of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) assert.equal(done.checksums.get(a), checksumOf(a, data), a);
    assert.equal(done.md5.toString('hex'), createHash('md5').update(data).digest('hex'));
  });
});

async function decode(wire: Buffer[], decoder = new AwsChunkedDecoder()) {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(wire),
    decoder,
    new Writable({
      write(c: Buffer, _e, done) {
        out.push(c);
        done();
      },
    }),
  );
  return { data: Buffer.concat(out), trailers: decoder.trailers };
}

describe('aws-chunked decoding', () => {
  it('decodes the JS SDK framing with a checksum trailer, however the bytes are split', async () => {
    const data = Buffer.alloc(100_000, 'z');
    const wire = Buffer.concat([
      Buffer.from('10000\r\n'), data.subarray(0, 65536), Buffer.from('\r\n'),
      Buffer.from('86a0\r\n'), data.subarray(65536), Buffer.from('\r\n'),
      Buffer.from('0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n'),
    ]);
    for (const size of [1, 7, 4096, wire.length]) {
      const pieces: Buffer[] = [];
      for (let at = 0; at < wire.length; at += size) pieces.push(wire.subarray(at, at + size));
      const { data: got, trailers } = await decode(pieces);
      assert.ok(got.equals(data), String(size));
      assert.equal(trailers.get('x-amz-checksum-crc32'), 'AAAAAA==');
    }
  });

  it('refuses a body that ends early or a chunk longer than its size', async () => {
    await assert.rejects(decode([Buffer.from('5\r\nabc')]), (e: S3Error) => e.code === 'IncompleteBody');
    await assert.rejects(decode([Buffer.from('3\r\nabcdef\r\n0\r\n\r\n')]), (e: S3Error) => e.code === 'InvalidRequest');
    await assert.rejects(decode([Buffer.from('zz\r\n')]), (e: S3Error) => e.code === 'InvalidRequest');
  });
});

describe('S3 request pieces', () => {
  it('validates bucket names as S3 does', () => {
    for (const ok of ['abc', 'my-bucket.logs', '0bucket', 'a'.repeat(63)]) assert.ok(validBucketName(ok), ok);
    for (const bad of ['ab', 'a'.repeat(64), 'MyBucket', 'my_bucket', '.abc', 'abc-', 'a..b', '10.0.0.1', 'xn--x', 'sthree-x', 'amzn-s3-demo-x', 'x-s3alias', 'x--ol-s3', 'x.mrap']) {
      assert.ok(!validBucketName(bad), bad);
    }
  });

  it('parses ranges: clamped ends, suffixes, unsatisfiable starts', () => {
    assert.deepEqual(parseRange('bytes=0-4', 10), { start: 0, end: 4 });
    assert.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
    assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRange('bytes=-30', 10), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=8-100', 10), { start: 8, end: 9 });
    assert.equal(parseRange('bytes=0-1,3-4', 10), undefined);
    assert.equal(parseRange('items=0-1', 10), undefined);
    assert.throws(() => parseRange('bytes=10-', 10), (e: S3Error) => e.code === 'InvalidRange' && e.status === 416);
  });

  it('reads copy sources raw or encoded, with or without a leading slash', () => {
    assert.deepEqual(parseCopySource('jsb/dir/a b.txt'), { bucket: 'jsb', key: 'dir/a b.txt' });
    assert.deepEqual(parseCopySource('/b3b/k%201.txt?versionId=null'), { bucket: 'b3b', key: 'k 1.txt' });
    assert.throws(() => parseCopySource('nokey'), (e: S3Error) => e.code === 'InvalidArgument');
  });

  it('parses request XML from both SDKs and refuses what is not well-formed', () => {
    const js = parseXml('<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>&quot;abc&quot;</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>');
    assert.equal(js.name, 'CompleteMultipartUpload');
    assert.equal(js.children[0]!.children[0]!.text, '"abc"');
    const boto = parseXml('<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b &#x263A;</Key></Object><Quiet>true</Quiet></Delete>');
    assert.equal(boto.children[0]!.children[0]!.text, 'a&b ☺');
    for (const bad of ['', '<a>', '<a></b>', '<a/><b/>', '<!DOCTYPE x><a/>', 'text<a/>', '<a>&bogus;</a>']) {
      assert.throws(() => parseXml(bad), XmlSyntaxError, bad);
    }
  });
});
