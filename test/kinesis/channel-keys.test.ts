import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_KEY_TEMPLATE, errorObjectKey, evaluateKeyTemplate, parseKeyTemplate } from '../../src/kinesis/channel-keys.js';

const ctx = { channelName: 'orders', channelId: 'abc', time: Date.UTC(2026, 0, 5, 7, 9, 30), extension: '.gz', unique: 'u1' };

function parts(template: string) {
  const parsed = parseKeyTemplate(template);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.parts;
}

describe('channel object keys', () => {
  it('evaluates the default template, the unique suffix before the extension', () => {
    assert.equal(
      evaluateKeyTemplate(parts(DEFAULT_KEY_TEMPLATE), ctx),
      'kinesis-channel/orders/abc/2026/01/05/07/orders-abc-2026-01-05-07-09-u1.gz',
    );
  });

  it('appends the unique suffix to a template without !{extension}', () => {
    assert.equal(evaluateKeyTemplate(parts('data/!{YY}/!{MM}!{dd}=!{HH}:!{mm}'), ctx), 'data/26/0105=07:09-u1');
  });

  it('refuses unknown variables, unbalanced braces, traversal and slashes at either end', () => {
    for (const [template, message] of [
      ['a/!{topic}', /unknown variable !\{topic\}/],
      ['a/!{yyyy', /without a matching \}/],
      ['a/{b}', /unbalanced brace/],
      ['a/../b', /must not contain \.\./],
      ['/a', /must not start with \//],
      ['a/', /must not end with \//],
    ] as const) {
      const parsed = parseKeyTemplate(template);
      assert.ok('error' in parsed, template);
      assert.match(parsed.error, message, template);
    }
  });

  it('names dead-letter objects under the error prefix', () => {
    assert.equal(errorObjectKey('failed/', ctx), 'failed/orders-abc-2026-01-05-07-09-u1.gz');
  });
});
