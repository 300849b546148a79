import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHiveType } from '../../../src/delivery/formats/hive-types.js';
import {
  DeserializerConfigError,
  type DeserializerSettings,
  MALFORMED_DATA,
  PARSE_ERROR,
  parseDecimal,
  RecordDecoder,
  type Row,
  splitJsonValues,
} from '../../../src/delivery/formats/json-serde.js';
import type { TableColumn } from '../../../src/delivery/formats/schema-catalog.js';

function columns(spec: Record<string, string>): TableColumn[] {
  return Object.entries(spec).map(([name, typeText]) => ({ name, typeText, type: parseHiveType(typeText) }));
}

const OPENX: DeserializerSettings = { OpenXJsonSerDe: {} };
const HIVE: DeserializerSettings = { HiveJsonSerDe: {} };

function rows(spec: Record<string, string>, settings: DeserializerSettings, text: string): Row[] {
  const result = new RecordDecoder(columns(spec), settings).decode(Buffer.from(text));
  if (!result.ok) assert.fail(`${result.errorCode}: ${result.errorMessage}`);
  return result.rows;
}

function row(spec: Record<string, string>, settings: DeserializerSettings, text: string): Row {
  const all = rows(spec, settings, text);
  assert.equal(all.length, 1);
  return all[0]!;
}

function failure(spec: Record<string, string>, settings: DeserializerSettings, data: string | Uint8Array): { code: string; message: string } {
  const result = new RecordDecoder(columns(spec), settings).decode(typeof data === 'string' ? Buffer.from(data) : data);
  if (result.ok) assert.fail(`decoded: ${JSON.stringify(result.rows, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  return { code: result.errorCode, message: result.errorMessage };
}

const micros = (iso: string, extra = 0n) => BigInt(Date.parse(iso)) * 1000n + extra;

describe('concatenated JSON', () => {
  it('splits objects written back to back, with or without whitespace', () => {
    const split = splitJsonValues('{"a":1}{"a":"}{"}\n{"a":[1,{"b":2}]}  {"a":"\\"}"}');
    assert.deepEqual(split, { ok: true, values: [{ a: 1 }, { a: '}{' }, { a: [1, { b: 2 }] }, { a: '"}' }] });
  });

  it('gives one row per object of a record', () => {
    assert.deepEqual(rows({ a: 'int' }, OPENX, '{"a":1}{"a":2}\n{"a":3}'), [{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  it('fails malformed JSON, empty records, primitives and arrays with Firehose codes', () => {
    const spec = { a: 'int' };
    assert.deepEqual(failure(spec, OPENX, '{"a":1'), { code: PARSE_ERROR, message: 'Encountered malformed JSON.' });
    assert.deepEqual(failure(spec, OPENX, '{"a":1}{"a":'), { code: PARSE_ERROR, message: 'Encountered malformed JSON.' });
    assert.deepEqual(failure(spec, OPENX, '{"a":1} x'), { code: PARSE_ERROR, message: 'Encountered malformed JSON.' });
    assert.deepEqual(failure(spec, OPENX, new Uint8Array([0x7b, 0xff, 0x7d])), { code: PARSE_ERROR, message: 'Encountered malformed JSON.' });
    assert.deepEqual(failure(spec, OPENX, ' \n '), { code: MALFORMED_DATA, message: 'The record was empty or contained only whitespace.' });
    assert.deepEqual(failure(spec, OPENX, '42'), {
      code: MALFORMED_DATA,
      message: 'The input JSON contained a primitive at the top level. The top level must be an object or array.',
    });
    assert.equal(failure(spec, OPENX, '[{"a":1},{"a":2}]').code, MALFORMED_DATA);
    // one bad object fails the whole record
    assert.equal(failure(spec, OPENX, '{"a":1}{"a":"x"}').code, MALFORMED_DATA);
  });
});

describe('the OpenX JSON SerDe', () => {
  it('matches keys case-insensitively by default, drops unknown keys and nulls missing columns', () => {
    assert.deepEqual(row({ userid: 'string', n: 'int', gone: 'string' }, OPENX, '{"UserId":"u1","N":3,"extra":true}'), {
      userid: 'u1',
      n: 3,
      gone: null,
    });
  });

  it('matches keys exactly when CaseInsensitive is false', () => {
    const settings = { OpenXJsonSerDe: { CaseInsensitive: false } };
    assert.deepEqual(row({ userid: 'string' }, settings, '{"UserId":"u1"}'), { userid: null });
    assert.deepEqual(row({ userid: 'string' }, settings, '{"userid":"u2"}'), { userid: 'u2' });
  });

  it('turns dots into underscores when asked, at every level', () => {
    const spec = { a_b: 'int', s: 'struct<c_d:string>' };
    assert.deepEqual(row(spec, OPENX, '{"a.b":1,"s":{"c.d":"x"}}'), { a_b: null, s: { c_d: null } });
    const settings = { OpenXJsonSerDe: { ConvertDotsInJsonKeysToUnderscores: true } };
    assert.deepEqual(row(spec, settings, '{"A.b":1,"s":{"c.D":"x"}}'), { a_b: 1, s: { c_d: 'x' } });
  });

  it('reads columns from the JSON keys ColumnToJsonKeyMappings names', () => {
    const settings = { OpenXJsonSerDe: { ColumnToJsonKeyMappings: { ts: 'timestamp', kind: 'type' } } };
    assert.deepEqual(row({ ts: 'bigint', kind: 'string' }, settings, '{"timestamp":5,"type":"x","ts":9}'), { ts: 5n, kind: 'x' });
  });

  it('coerces numbers and booleans from strings, cuts fractions and stringifies scalars', () => {
    const spec = { i: 'int', b: 'bigint', t: 'tinyint', s: 'smallint', f: 'float', d: 'double', ok: 'boolean', str: 'string', obj: 'string' };
    assert.deepEqual(
      row(spec, OPENX, '{"i":"42","b":"9007199254740993","t":-1.9,"s":"-32768","f":"1.5","d":"2.5e3","ok":"TRUE","str":12.5,"obj":{"x":[1,2]}}'),
      { i: 42, b: 9007199254740993n, t: -1, s: -32768, f: 1.5, d: 2500, ok: true, str: '12.5', obj: '{"x":[1,2]}' },
    );
    assert.deepEqual(row({ f: 'float' }, OPENX, '{"f":0.1}'), { f: Math.fround(0.1) });
    assert.deepEqual(row({ i: 'int', b: 'bigint' }, OPENX, '{"i":"0x2A","b":"+7"}'), { i: 42, b: 7n });
  });

  it('fails a value that does not fit its column', () => {
    assert.deepEqual(failure({ i: 'int' }, OPENX, '{"i":"oops"}'), {
      code: MALFORMED_DATA,
      message: 'Data does not match the schema. For input string: "oops"',
    });
    assert.match(failure({ i: 'int' }, OPENX, '{"i":3000000000}').message, /out of range for int/);
    assert.match(failure({ t: 'tinyint' }, OPENX, '{"t":128}').message, /out of range for tinyint/);
    assert.match(failure({ b: 'bigint' }, OPENX, '{"b":"99999999999999999999"}').message, /out of range for bigint/);
    assert.match(failure({ ok: 'boolean' }, OPENX, '{"ok":"yes"}').message, /Expected a boolean at 'ok' but found the string "yes"/);
    assert.match(failure({ s: 'struct<a:int>' }, OPENX, '{"s":42}').message, /Expected an object at 's' but found the number 42/);
    assert.match(failure({ a: 'array<int>' }, OPENX, '{"a":{"x":1}}').message, /Expected an array at 'a' but found an object/);
    assert.match(failure({ s: 'struct<a:array<int>>' }, OPENX, '{"s":{"a":[1,"x"]}}').message, /For input string: "x"/);
    assert.match(failure({ m: 'map<string,int>' }, OPENX, '{"m":[1]}').message, /Expected an object for a map at 'm'/);
  });

  it('reads decimals exactly, rounding half up and nulling values too wide for the precision', () => {
    const spec = { d: 'decimal(5,2)' };
    assert.deepEqual(row(spec, OPENX, '{"d":123.456}'), { d: 12346n });
    assert.deepEqual(row(spec, OPENX, '{"d":"-0.005"}'), { d: -1n });
    assert.deepEqual(row(spec, OPENX, '{"d":"1e2"}'), { d: 10000n });
    assert.deepEqual(row(spec, OPENX, '{"d":1000}'), { d: null });
    assert.deepEqual(row({ d: 'decimal(38,10)' }, OPENX, '{"d":"1234567890123456789012345678.0123456789"}'), {
      d: 12345678901234567890123456780123456789n,
    });
    assert.equal(parseDecimal('.5', 0), 1n);
    assert.equal(parseDecimal('abc', 2), undefined);
    assert.equal(parseDecimal('', 2), undefined);
  });

  it('reads the timestamp forms the Firehose guide lists for OpenX', () => {
    const spec = { ts: 'timestamp' };
    const read = (value: string) => row(spec, OPENX, `{"ts":${value}}`).ts;
    assert.equal(read('"2017-02-07T15:13:01.39256Z"'), micros('2017-02-07T15:13:01.392Z', 560n));
    assert.equal(read('"2017-02-07T15:13:01.123456789Z"'), micros('2017-02-07T15:13:01.123Z', 456n));
    assert.equal(read('"2017-02-07 15:13:01.14"'), micros('2017-02-07T15:13:01.140Z'));
    assert.equal(read('"2017-2-7 15:13:01"'), micros('2017-02-07T15:13:01Z'));
    assert.equal(read('1518033528'), micros('2018-02-07T19:58:48Z'));
    assert.equal(read('"1518033528"'), micros('2018-02-07T19:58:48Z'));
    assert.equal(read('1518033528123'), micros('2018-02-07T19:58:48.123Z'));
    assert.equal(read('"15180335281230"'), micros('2018-02-07T19:58:48.123Z') * 10n);
    assert.equal(read('999999999999'), 999999999999n * 1_000_000n);
    assert.equal(read('1518033528.123'), micros('2018-02-07T19:58:48.123Z'));
    for (const bad of ['"2017-02-07T15:13:01+00:00"', '"2017-02-30 00:00:00"', '"yesterday"', 'true', '{}']) {
      assert.match(failure(spec, OPENX, `{"ts":${bad}}`).message, /Expected a timestamp at 'ts'/, bad);
    }
  });

  it('reads dates, base64 binary, char and varchar', () => {
    assert.deepEqual(row({ d: 'date', b: 'binary', c: 'char(3)', v: 'varchar(2)' }, OPENX, '{"d":"2024-02-29","b":"AQID/w==","c":"abcdef","v":"xyz"}'), {
      d: Date.UTC(2024, 1, 29) / 86_400_000,
      b: new Uint8Array([1, 2, 3, 255]),
      c: 'abc',
      v: 'xy',
    });
    assert.match(failure({ d: 'date' }, OPENX, '{"d":"2023-02-29"}').message, /Expected a date/);
    assert.match(failure({ b: 'binary' }, OPENX, '{"b":"not base64!"}').message, /Expected base64 binary/);
  });

  it('reads nested arrays, maps and structs, matching struct fields case-insensitively', () => {
    const spec = { tags: 'array<string>', counts: 'map<string,int>', byid: 'map<int,boolean>', who: 'struct<name:string,langs:array<struct<code:string>>>' };
    assert.deepEqual(
      row(spec, OPENX, '{"tags":["a",null,"c"],"counts":{"x":1,"y":null},"byId":{"7":true},"WHO":{"Name":"n","LANGS":[{"CODE":"en"},null]}}'),
      {
        tags: ['a', null, 'c'],
        counts: [{ key: 'x', value: 1 }, { key: 'y', value: null }],
        byid: [{ key: 7, value: true }],
        who: { name: 'n', langs: [{ code: 'en' }, null] },
      },
    );
  });
});

describe('the Hive JSON SerDe', () => {
  it('refuses strings where the schema wants numbers', () => {
    assert.match(failure({ a: 'int' }, HIVE, '{"a":"123"}').message, /^Data does not match the schema\. Expected int at 'a' but found the string "123"\./);
    assert.match(failure({ a: 'double' }, HIVE, '{"a":"1.5"}').message, /Expected double/);
    assert.match(failure({ a: 'string' }, HIVE, '{"a":{"b":1}}').message, /Expected a string at 'a' but found an object/);
    assert.deepEqual(row({ a: 'int', s: 'string', d: 'decimal(4,1)' }, HIVE, '{"A":123,"s":5,"d":"1.25"}'), { a: 123, s: '5', d: 13n });
  });

  it('does not turn dots into underscores and refuses dotted column names', () => {
    assert.deepEqual(row({ a_b: 'int' }, HIVE, '{"a.b":1}'), { a_b: null });
    assert.throws(() => new RecordDecoder(columns({ 'a.b': 'int' }), HIVE), DeserializerConfigError);
  });

  it('parses timestamps with java.sql.Timestamp.valueOf by default', () => {
    assert.deepEqual(row({ ts: 'timestamp' }, HIVE, '{"ts":"2020-01-02 03:04:05.123456789"}'), { ts: micros('2020-01-02T03:04:05.123Z', 456n) });
    assert.match(failure({ ts: 'timestamp' }, HIVE, '{"ts":"2020-01-02T03:04:05Z"}').message, /Expected a timestamp/);
    assert.match(failure({ ts: 'timestamp' }, HIVE, '{"ts":1577934245000}').message, /Expected a timestamp/);
  });

  it('parses timestamps with the TimestampFormats given, in order, then valueOf', () => {
    const settings = { HiveJsonSerDe: { TimestampFormats: ["yyyy-MM-dd'T'HH:mm:ss.SSSZZ", 'dd/MMM/yyyy:HH:mm:ss Z', 'yyyyMMddHHmmss', 'millis', 'MM/dd/yy h:mm a'] } };
    const read = (value: string) => row({ ts: 'timestamp' }, settings, `{"ts":${value}}`).ts;
    assert.equal(read('"2020-01-02T03:04:05.678+02:00"'), micros('2020-01-02T01:04:05.678Z'));
    assert.equal(read('"2020-01-02T03:04:05.678Z"'), micros('2020-01-02T03:04:05.678Z'));
    assert.equal(read('"10/Oct/2000:13:55:36 -0700"'), micros('2000-10-10T20:55:36Z'));
    assert.equal(read('1577934245123'), micros('2020-01-02T03:04:05.123Z'));
    assert.equal(read('"1577934245123"'), micros('2020-01-02T03:04:05.123Z'));
    assert.equal(read('"20200102030405"'), micros('2020-01-02T03:04:05Z'));
    assert.equal(read('"01/02/20 3:04 PM"'), micros('2020-01-02T15:04:00Z'));
    assert.equal(read('"2020-01-02 03:04:05"'), micros('2020-01-02T03:04:05Z'));
    assert.match(failure({ ts: 'timestamp' }, settings, '{"ts":"02.01.2020"}').message, /Expected a timestamp/);
  });

  it('refuses a TimestampFormats pattern it cannot read', () => {
    assert.throws(() => new RecordDecoder(columns({ ts: 'timestamp' }), { HiveJsonSerDe: { TimestampFormats: ['yyyy-ww'] } }), /pattern letter 'w' is not supported/);
    assert.throws(() => new RecordDecoder(columns({ ts: 'timestamp' }), { HiveJsonSerDe: { TimestampFormats: ["yyyy-'MM"] } }), /unterminated quote/);
    assert.throws(() => new RecordDecoder(columns({ a: 'int' }), { OpenXJsonSerDe: {}, HiveJsonSerDe: {} }), /Only one of/);
  });
});
