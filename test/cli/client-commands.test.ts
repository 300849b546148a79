import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { describeError } from '../../src/cli/client-options.js';
import { fieldText, keyChooser, lines } from '../../src/cli/commands/put.js';
import { keyPercent } from '../../src/cli/commands/shards.js';
import { parseFrom } from '../../src/cli/commands/tail.js';
import { formatTable } from '../../src/cli/table.js';

async function collect(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines(Readable.from(chunks.map((c) => Buffer.from(c))))) out.push(line.toString());
  return out;
}

describe('put input', () => {
  it('splits lines across chunks, drops empty lines and a trailing \\r, keeps a last line without newline', async () => {
    assert.deepEqual(await collect(['al', 'pha\nbe', 'ta\r\n\n', '\ngam', 'ma']), ['alpha', 'beta', 'gamma']);
    assert.deepEqual(await collect(['alpha\nbeta\n']), ['alpha', 'beta']);
    assert.deepEqual(await collect([]), []);
  });

  it('picks partition keys from a field, a template or a fixed text', () => {
    const doc = Buffer.from('{"a":{"b":7},"c":"x"}');
    assert.equal(fieldText(JSON.parse(doc.toString()), 'a.b'), '7');
    assert.equal(fieldText(JSON.parse(doc.toString()), 'a'), '{"b":7}');
    assert.equal(fieldText(JSON.parse(doc.toString()), 'z.y'), undefined);
    assert.equal(keyChooser({ keyField: 'c' })(doc, 1), 'x');
    assert.equal(keyChooser({ keyTemplate: '{n}-{a.b}-{c}' })(doc, 3), '3-7-x');
    assert.equal(keyChooser({ keyTemplate: 'n{n}' })(Buffer.from('not json'), 2), 'n2');
    assert.equal(keyChooser({ partitionKey: 'p' })(doc, 1), 'p');
    assert.throws(() => keyChooser({ keyField: 'c' })(Buffer.from('plain'), 4), /record 4 is not JSON/);
    assert.throws(() => keyChooser({ keyField: 'q' })(doc, 5), /record 5 has no field q/);
    const random = keyChooser({});
    assert.notEqual(random(doc, 1), random(doc, 1));
  });
});

describe('tail positions', () => {
  it('reads trim-horizon, latest, sequence numbers and ISO-8601 times', () => {
    assert.deepEqual(parseFrom('trim-horizon'), { kind: 'trim-horizon' });
    assert.deepEqual(parseFrom('LATEST'), { kind: 'latest' });
    assert.deepEqual(parseFrom('49590338271490256608559692538361571095921575989136588898'), {
      kind: 'sequence',
      sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
    });
    assert.deepEqual(parseFrom('2026-01-15T10:04:00Z'), { kind: 'time', at: new Date('2026-01-15T10:04:00Z') });
    assert.throws(() => parseFrom('yesterday'), /expected trim-horizon/);
  });
});

describe('shard and table output', () => {
  it('prints hash keys as shares of the key space', () => {
    assert.equal(keyPercent(0n), '0.00%');
    assert.equal(keyPercent(2n ** 126n), '25.00%');
    assert.equal(keyPercent(2n ** 128n), '100.00%');
    assert.equal(keyPercent(2n ** 128n / 3n), '33.33%');
  });

  it('pads columns to the widest cell', () => {
    assert.equal(formatTable(['A', 'BB'], [['xyz', '1'], ['q', '22']]), 'A    BB\nxyz  1\nq    22\n');
  });
});

describe('error lines', () => {
  it('names the endpoint for a refused connection, and prints service errors as the AWS CLI does', () => {
    const refused = Object.assign(new Error('The pending stream has been canceled'), {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 9 }),
      $metadata: {},
    });
    assert.equal(describeError(refused, { endpointUrl: 'http://127.0.0.1:9' }), 'tributary: cannot reach http://127.0.0.1:9: connection refused (ECONNREFUSED)');
    assert.equal(describeError(refused, {}), 'tributary: cannot reach 127.0.0.1:9: connection refused (ECONNREFUSED)');
    const notFound = Object.assign(new Error('Stream x under account 000000000000 not found.'), {
      name: 'ResourceNotFoundException',
      $fault: 'client',
      $metadata: {},
    });
    assert.equal(describeError(notFound, {}), 'ResourceNotFoundException: Stream x under account 000000000000 not found.');
  });
});
