/**
 * DynamoDB numbers: decimal text with up to 38 significant digits and a magnitude between 1E-130
 * and 9.9999999999999999999999999999999999999E+125 (or zero). They are compared and added exactly,
 * as decimals, never through binary floating point.
 */
import { ValidationException } from '../protocol/errors.js';

/** A parsed number: sign × 0.digits × 10^exp, `digits` without leading or trailing zeros ('' for zero). */
export interface Decimal {
  sign: 1 | -1 | 0;
  digits: string;
  exp: number;
}

const NUMBER = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;

export const NOT_A_NUMBER = 'A value provided cannot be converted into a number';
const TOO_PRECISE = 'Attempting to store more than 38 significant digits in a Number';
const OVERFLOW = 'Number overflow. Attempting to store a number with magnitude larger than supported range';
const UNDERFLOW = 'Number underflow. Attempting to store a number with magnitude smaller than supported range';

/** Parses without checking DynamoDB's limits; undefined when the text is not a number. */
export function parseDecimal(text: string): Decimal | undefined {
  const m = NUMBER.exec(text);
  if (!m) return undefined;
  const int = m[2] ?? '';
  const frac = m[3] ?? '';
  if (int === '' && frac === '') return undefined;
  const exponentText = m[4];
  if (exponentText !== undefined && exponentText.replace(/^[+-]?0*/, '').length > 6) {
    // Far beyond any supported magnitude; keep it out of integer arithmetic.
    const all = (int + frac).replace(/^0+/, '');
    if (all === '') return { sign: 0, digits: '', exp: 0 };
    return { sign: m[1] === '-' ? -1 : 1, digits: '1', exp: exponentText.startsWith('-') ? -1e7 : 1e7 };
  }
  const e = exponentText === undefined ? 0 : Number(exponentText);
  let all = int + frac;
  let exp = int.length + e;
  const lead = all.length - all.replace(/^0+/, '').length;
  all = all.slice(lead);
  exp -= lead;
  all = all.replace(/0+$/, '');
  if (all === '') return { sign: 0, digits: '', exp: 0 };
  return { sign: m[1] === '-' ? -1 : 1, digits: all, exp };
}

/** Parses and checks a number as DynamoDB stores it; throws ValidationException otherwise. */
export function checkNumber(text: string): Decimal {
  const d = parseDecimal(text);
  if (d === undefined || /\s/.test(text)) throw new ValidationException(NOT_A_NUMBER);
  checkLimits(d);
  return d;
}

function checkLimits(d: Decimal): void {
  if (d.sign === 0) return;
  if (d.digits.length > 38) throw new ValidationException(TOO_PRECISE);
  // 0.d × 10^exp: the largest is 0.99… × 10^126, the smallest 0.1 × 10^-129.
  if (d.exp > 126) throw new ValidationException(OVERFLOW);
  if (d.exp < -129) throw new ValidationException(UNDERFLOW);
}

/**
 * The text DynamoDB gives back for a number: plain decimal notation without leading or trailing
 * zeros ("-12.50" → "-12.5", "1E2" → "100", "0.0" → "0"), as AWS documents that it trims them.
 */
export function canonicalNumber(d: Decimal): string {
  if (d.sign === 0) return '0';
  const m = BigInt(d.digits) * BigInt(d.sign);
  return formatScaled(m, d.exp - d.digits.length);
}

/** -1, 0 or 1 as a is less than, equal to or greater than b. */
export function compareDecimals(a: Decimal, b: Decimal): number {
  if (a.sign !== b.sign) return a.sign < b.sign ? -1 : 1;
  if (a.sign === 0) return 0;
  let c: number;
  if (a.exp !== b.exp) c = a.exp < b.exp ? -1 : 1;
  else c = a.digits < b.digits ? -1 : a.digits > b.digits ? 1 : 0;
  return a.sign === 1 ? c : -c;
}

export function compareNumbers(a: string, b: string): number {
  return compareDecimals(parseDecimal(a)!, parseDecimal(b)!);
}

/** The decimal as a BigInt mantissa and a power of ten. */
function scaled(d: Decimal): { m: bigint; e: number } {
  if (d.sign === 0) return { m: 0n, e: 0 };
  const m = BigInt(d.digits) * BigInt(d.sign);
  return { m, e: d.exp - d.digits.length };
}

/** Exact a + b (or a - b) as DynamoDB text; throws when the result leaves the supported range. */
export function addNumbers(a: string, b: string, subtract = false): string {
  const x = scaled(parseDecimal(a)!);
  const y = scaled(parseDecimal(b)!);
  const e = Math.min(x.e, y.e);
  const mx = x.m * 10n ** BigInt(x.e - e);
  let my = y.m * 10n ** BigInt(y.e - e);
  if (subtract) my = -my;
  const sum = mx + my;
  const text = formatScaled(sum, e);
  const d = parseDecimal(text)!;
  checkLimits(d);
  return text;
}

/** m × 10^e in plain decimal notation, without superfluous zeros. */
function formatScaled(m: bigint, e: number): string {
  if (m === 0n) return '0';
  const negative = m < 0n;
  let digits = (negative ? -m : m).toString();
  let exp = e;
  while (exp < 0 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exp++;
  }
  let text: string;
  if (exp >= 0) text = digits + '0'.repeat(exp);
  else if (digits.length > -exp) text = `${digits.slice(0, digits.length + exp)}.${digits.slice(digits.length + exp)}`;
  else text = `0.${'0'.repeat(-exp - digits.length)}${digits}`;
  return negative ? `-${text}` : text;
}

/**
 * Bytes whose unsigned lexicographic order is the numeric order of the numbers, equal for equal
 * numbers whatever their text ("1", "1.0", "10E-1").
 */
export function numberKeyBytes(text: string): Buffer {
  const d = parseDecimal(text)!;
  if (d.sign === 0) return Buffer.from([0x02]);
  const out = Buffer.alloc(4 + d.digits.length);
  // Exponents lie within ±200 once checked; offset them into an unsigned 16-bit field.
  const biased = d.exp + 0x8000;
  if (d.sign > 0) {
    out[0] = 0x03;
    out.writeUInt16BE(biased, 1);
    for (let i = 0; i < d.digits.length; i++) out[3 + i] = 0x30 + d.digits.charCodeAt(i) - 48;
    out[3 + d.digits.length] = 0x00;
  } else {
    out[0] = 0x01;
    out.writeUInt16BE(0xffff - biased, 1);
    for (let i = 0; i < d.digits.length; i++) out[3 + i] = 0x39 - (d.digits.charCodeAt(i) - 48);
    out[3 + d.digits.length] = 0x7f;
  }
  return out;
}

/** The approximate stored size of a number, as DynamoDB counts it: one byte per two significant digits, plus one. */
export function numberSize(text: string): number {
  const d = parseDecimal(text);
  if (!d || d.sign === 0) return 1;
  return Math.ceil(d.digits.length / 2) + 1;
}
