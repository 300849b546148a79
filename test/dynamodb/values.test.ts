import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ValidationException } from '../../src/protocol/errors.js';
import { addNumbers, canonicalNumber, compareNumbers, numberKeyBytes, parseDecimal } from '../../src/dynamodb/numbers.js';
import { checkValue, itemFromJson, itemToJson, storageKey, valuesEqual, type AttributeMap } from '../../src/dynamodb/values.js';

function rejects(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => err instanceof ValidationException && err.message === message);
}

/** Decimal text from an integer mantissa and a power of ten, in varied spellings. */
const decimal = fc
  .tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: -30, max: 30 }), fc.boolean())
  .map(([m, e, exponent]) => {
    if (exponent) return `${m}E${e}`;
    const neg = m < 0n;
    let digits = (neg ? -m : m).toString();
    if (e >= 0) digits += '0'.repeat(e);
    else {
      digits = digits.padStart(-e + 1, '0');
      digits = `${digits.slice(0, digits.length + e)}.${digits.slice(digits.length + e)}`;
    }
    return (neg ? '-' : '') + digits;
  });

function exact(text: string): { m: bigint; e: number } {
  const [mant, exp] = text.split('E') as [string, string | undefined];
  const [int, frac = ''] = mant.split('.') as [string, string | undefined];
  return { m: BigInt(int + frac), e: Number(exp ?? 0) - frac.length };
}

function exactCompare(a: string, b: string): number {
  const x = exact(a);
  const y = exact(b);
  const e = Math.min(x.e, y.e);
  const l = x.m * 10n ** BigInt(x.e - e);
  const r = y.m * 10n ** BigInt(y.e - e);
  return l < r ? -1 : l > r ? 1 : 0;
}

describe('numbers', () => {
  it('come back without leading or trailing zeros, in plain notation', () => {
    const cases: [string, string][] = [
      ['-12.50', '-12.5'], ['0.0', '0'], ['-0', '0'], ['007', '7'], ['1E2', '100'], ['1.250e-2', '0.0125'], ['+3', '3'], ['.5', '0.5'],
    ];
    for (const [text, canonical] of cases) assert.equal(canonicalNumber(parseDecimal(text)!), canonical, text);
    const item = { n: { N: '10.00' }, ns: { NS: ['1.0', '2E1'] } };
    checkValue({ M: item });
    assert.deepEqual(item, { n: { N: '10' }, ns: { NS: ['1', '20'] } });
  });

  it('keep their value when made canonical (property)', () => {
    fc.assert(fc.property(decimal, (text) => compareNumbers(canonicalNumber(parseDecimal(text)!), text) === 0));
  });

  it('compare as exact decimals (property)', () => {
    fc.assert(fc.property(decimal, decimal, (a, b) => Math.sign(compareNumbers(a, b)) === exactCompare(a, b)));
  });

  it('have storage keys whose byte order is their numeric order (property)', () => {
    fc.assert(
      fc.property(decimal, decimal, (a, b) => Math.sign(Buffer.compare(numberKeyBytes(a), numberKeyBytes(b))) === exactCompare(a, b)),
    );
  });

  it('add exactly (property)', () => {
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        const x = exact(a);
        const y = exact(b);
        const e = Math.min(x.e, y.e);
        const expected = x.m * 10n ** BigInt(x.e - e) + y.m * 10n ** BigInt(y.e - e);
        const significant = (expected < 0n ? -expected : expected).toString().replace(/0+$/, '').length;
        if (significant > 38) {
          // DynamoDB refuses a result it cannot store.
          assert.throws(() => addNumbers(a, b), ValidationException);
          return true;
        }
        return exactCompare(addNumbers(a, b), `${expected}E${e}`) === 0;
      }),
    );
  });

  it('are refused outside DynamoDB limits', () => {
    rejects(() => checkValue({ N: 'abc' }), 'A value provided cannot be converted into a number');
    rejects(() => checkValue({ N: '' }), 'A value provided cannot be converted into a number');
    rejects(() => checkValue({ N: '1'.repeat(39) }), 'Attempting to store more than 38 significant digits in a Number');
    rejects(() => checkValue({ N: '1E126' }), 'Number overflow. Attempting to store a number with magnitude larger than supported range');
    rejects(() => checkValue({ N: '1E-131' }), 'Number underflow. Attempting to store a number with magnitude smaller than supported range');
    checkValue({ N: '9.9999999999999999999999999999999999999E+125' });
    checkValue({ N: '1E-130' });
    checkValue({ N: '-0.000' });
  });
});

describe('attribute values', () => {
  it('are checked as DynamoDB checks them', () => {
    rejects(() => checkValue({}), 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
    rejects(
      () => checkValue({ S: 'a', N: '1' }),
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    );
    rejects(() => checkValue({ SS: [] }), 'One or more parameter values were invalid: An string set  may not be empty');
    rejects(() => checkValue({ SS: ['a', 'a'] }), 'One or more parameter values were invalid: Input collection [a, a] contains duplicates.');
    rejects(() => checkValue({ NS: ['1', '1.0'] }), 'One or more parameter values were invalid: Input collection [1, 1.0] contains duplicates.');
    rejects(() => checkValue({ NULL: false }), 'One or more parameter values were invalid: Null attribute value types must have the value of true');
    rejects(() => checkValue({ L: [{ M: { a: {} } }] }), 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  });

  it('compare sets without order and numbers by value', () => {
    assert.equal(valuesEqual({ SS: ['a', 'b'] }, { SS: ['b', 'a'] }), true);
    assert.equal(valuesEqual({ NS: ['1', '2'] }, { NS: ['2.0', '1'] }), true);
    assert.equal(valuesEqual({ M: { a: { N: '1' } } }, { M: { a: { N: '1.00' } } }), true);
    assert.equal(valuesEqual({ L: [{ S: 'a' }] }, { L: [{ S: 'b' }] }), false);
    assert.equal(valuesEqual({ S: '1' }, { N: '1' }), false);
  });

  it('survive the stored form of every type', () => {
    const item: AttributeMap = {
      s: { S: 'text ✓' },
      n: { N: '-12.50' },
      b: { B: Buffer.from([0, 255, 7]) },
      bool: { BOOL: false },
      nul: { NULL: true },
      m: { M: { inner: { BS: [Buffer.from('x'), Buffer.from('y')] } } },
      l: { L: [{ NS: ['1', '2'] }, { SS: ['a'] }, { M: {} }, { L: [] }] },
    };
    assert.deepEqual(itemFromJson(itemToJson(item)), item);
  });

  it('give keys that sort by hash key, then range key (property)', () => {
    const key = fc.tuple(fc.string(), fc.integer());
    fc.assert(
      fc.property(key, key, ([h1, r1], [h2, r2]) => {
        const a = storageKey({ S: h1 }, { N: String(r1) });
        const b = storageKey({ S: h2 }, { N: String(r2) });
        const byHash = Buffer.compare(Buffer.from(h1), Buffer.from(h2));
        const expected = byHash !== 0 ? byHash : Math.sign(r1 - r2);
        return Math.sign(a < b ? -1 : a > b ? 1 : 0) === expected;
      }),
    );
  });
});
