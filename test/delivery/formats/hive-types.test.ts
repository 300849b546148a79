import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatHiveType, HiveTypeError, parseHiveType } from '../../../src/delivery/formats/hive-types.js';

function failure(text: string): HiveTypeError {
  try {
    parseHiveType(text);
  } catch (err) {
    assert.ok(err instanceof HiveTypeError, `expected a HiveTypeError for '${text}'`);
    return err;
  }
  assert.fail(`'${text}' parsed`);
}

describe('Hive type strings', () => {
  it('parses every scalar type, case-insensitively', () => {
    for (const name of ['boolean', 'tinyint', 'smallint', 'int', 'bigint', 'float', 'double', 'string', 'binary', 'date', 'timestamp']) {
      assert.deepEqual(parseHiveType(name), { kind: name });
      assert.deepEqual(parseHiveType(name.toUpperCase()), { kind: name });
    }
    assert.deepEqual(parseHiveType('integer'), { kind: 'int' });
  });

  it('parses decimal, char and varchar with their arguments', () => {
    assert.deepEqual(parseHiveType('decimal(10,2)'), { kind: 'decimal', precision: 10, scale: 2 });
    assert.deepEqual(parseHiveType('DECIMAL ( 38 , 0 )'), { kind: 'decimal', precision: 38, scale: 0 });
    assert.deepEqual(parseHiveType('decimal(5)'), { kind: 'decimal', precision: 5, scale: 0 });
    assert.deepEqual(parseHiveType('decimal'), { kind: 'decimal', precision: 10, scale: 0 });
    assert.deepEqual(parseHiveType('char(3)'), { kind: 'char', length: 3 });
    assert.deepEqual(parseHiveType('varchar(200)'), { kind: 'varchar', length: 200 });
  });

  it('parses nested arrays, maps and structs', () => {
    const type = parseHiveType('struct<id:bigint, tags:array<string>, attrs:map<string,struct<`x-y`:int,z:double>>>');
    assert.deepEqual(type, {
      kind: 'struct',
      fields: [
        { name: 'id', type: { kind: 'bigint' } },
        { name: 'tags', type: { kind: 'array', element: { kind: 'string' } } },
        {
          name: 'attrs',
          type: {
            kind: 'map',
            key: { kind: 'string' },
            value: { kind: 'struct', fields: [{ name: 'x-y', type: { kind: 'int' } }, { name: 'z', type: { kind: 'double' } }] },
          },
        },
      ],
    });
    assert.equal(formatHiveType(type), 'struct<id:bigint,tags:array<string>,attrs:map<string,struct<x-y:int,z:double>>>');
  });

  it('round-trips through the canonical spelling', () => {
    for (const text of ['array<map<int,decimal(12,3)>>', 'struct<a:char(2),b:varchar(9),c:array<struct<d:date>>>', 'map<bigint,timestamp>']) {
      assert.equal(formatHiveType(parseHiveType(text)), text);
    }
  });

  it('reports the position of the problem', () => {
    const cases: [string, number, RegExp][] = [
      ['strin', 0, /unknown type 'strin'/],
      ['array<strng>', 6, /unknown type 'strng'/],
      ['array<string', 12, /expected '>' but the type ended/],
      ['map<array<int>,string>', 4, /map key must be a primitive/],
      ['struct<a:int,,b:int>', 13, /expected a field name/],
      ['struct<a:int,a:string>', 13, /duplicate struct field 'a'/],
      ['decimal(39,2)', 8, /precision must be between 1 and 38/],
      ['decimal(5,6)', 10, /scale must not exceed/],
      ['varchar', 0, /varchar needs a length/],
      ['char(256)', 5, /char length must be between 1 and 255/],
      ['int extra', 4, /unexpected 'e' after the type/],
      ['uniontype<int,string>', 0, /uniontype is not supported/],
      ['', 0, /expected a type name but the type ended/],
    ];
    for (const [text, position, message] of cases) {
      const err = failure(text);
      assert.equal(err.position, position, `position for '${text}': ${err.message}`);
      assert.match(err.message, message);
      assert.match(err.message, new RegExp(`at position ${position} of`));
    }
  });
});
