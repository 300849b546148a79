/**
 * Timestamp and date parsing for the two JSON deserializers. Every parser answers microseconds
 * since the epoch as a bigint (a Hive timestamp has no zone: wall-clock values are read as UTC,
 * and a value with an offset is moved to UTC), or undefined when the text does not fit.
 *
 * OpenX JSON SerDe (Firehose developer guide, "Choose the JSON deserializer"):
 *   yyyy-MM-dd'T'HH:mm:ss[.S]'Z' and yyyy-[M]M-[d]d HH:mm:ss[.S] (fraction up to 9 digits),
 *   epoch seconds, epoch milliseconds, floating-point epoch seconds. An integer written with 13
 *   or more characters is read as milliseconds, a shorter one as seconds (the OpenX rule).
 * Hive JSON SerDe: the configured `TimestampFormats` (Joda-Time patterns, or `millis` for epoch
 *   milliseconds) in order, then java.sql.Timestamp.valueOf's yyyy-[m]m-[d]d hh:mm:ss[.f...].
 */

const MICROS_PER_MILLI = 1000n;
const MICROS_PER_SECOND = 1_000_000n;
const DAY_MILLIS = 86_400_000;

/** Micros for a calendar instant, or undefined when a field is out of range (Feb 30, 25:00...). */
export function civilToMicros(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  fractionDigits: string,
  offsetMinutes = 0,
): bigint | undefined {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  const fraction = fractionDigits === '' ? 0n : BigInt(fractionDigits.padEnd(9, '0').slice(0, 6));
  return BigInt(date.getTime() - offsetMinutes * 60_000) * MICROS_PER_MILLI + fraction;
}

/** Days since the epoch for yyyy-[m]m-[d]d, as java.sql.Date.valueOf reads it. */
export function parseDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const micros = civilToMicros(Number(m[1]), Number(m[2]), Number(m[3]), 0, 0, 0, '');
  return micros === undefined ? undefined : Math.floor(Number(micros / MICROS_PER_MILLI) / DAY_MILLIS);
}

const VALUE_OF = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{0,9}))?$/;
const OPENX_UTC = /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** java.sql.Timestamp.valueOf: yyyy-[m]m-[d]d hh:mm:ss[.f...]. */
export function parseTimestampValueOf(text: string): bigint | undefined {
  const m = VALUE_OF.exec(text);
  if (!m) return undefined;
  return civilToMicros(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), m[7] ?? '');
}

function epochInteger(text: string): bigint {
  const n = BigInt(text);
  return text.length >= 13 ? n * MICROS_PER_MILLI : n * MICROS_PER_SECOND;
}

/** The OpenX SerDe's timestamp rules for a JSON number or string. */
export function parseOpenXTimestamp(value: number | string): bigint | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    if (Number.isInteger(value)) return Number.isSafeInteger(value) ? epochInteger(value.toFixed(0)) : undefined;
    return BigInt(Math.trunc(value * 1000)) * MICROS_PER_MILLI;
  }
  if (/^-?\d{1,18}$/.test(value)) return epochInteger(value);
  if (/^-?\d+\.\d+$/.test(value)) return BigInt(Math.trunc(Number(value) * 1000)) * MICROS_PER_MILLI;
  const m = OPENX_UTC.exec(value) ?? VALUE_OF.exec(value);
  if (!m) return undefined;
  return civilToMicros(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), m[7] ?? '');
}

export class TimestampPatternError extends Error {
  constructor(pattern: string, reason: string) {
    super(`TimestampFormats '${pattern}': ${reason}`);
    this.name = 'TimestampPatternError';
  }
}

export type TimestampParser = (value: number | string) => bigint | undefined;

/** Compiles the Hive SerDe's TimestampFormats into one parser; throws TimestampPatternError. */
export function hiveTimestampParser(formats: readonly string[] | undefined): TimestampParser {
  const parsers = (formats ?? []).map(compileFormat);
  return (value) => {
    for (const parse of parsers) {
      const micros = parse(value);
      if (micros !== undefined) return micros;
    }
    return typeof value === 'string' ? parseTimestampValueOf(value) : undefined;
  };
}

function compileFormat(format: string): TimestampParser {
  if (format === 'millis') {
    return (value) => {
      if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) * MICROS_PER_MILLI : undefined;
      return /^-?\d{1,18}$/.test(value) ? BigInt(value) * MICROS_PER_MILLI : undefined;
    };
  }
  const pattern = compileJodaPattern(format);
  return (value) => (typeof value === 'string' ? pattern(value) : undefined);
}

type Field = 'year' | 'year2' | 'month' | 'monthName' | 'day' | 'hour' | 'hour12' | 'hour24' | 'hour11' | 'minute' | 'second' | 'fraction' | 'ampm' | 'offset' | 'zoneId' | 'dayName' | 'dayOfYear';

interface Token {
  regex: string;
  field?: Field;
  numeric: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const FULL_MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * A Joda-Time DateTimeFormat pattern as a parser. Letters supported: y (yyyy, yy), M (M, MM,
 * MMM, MMMM), d, D, H, k, h, K, m, s, S (fraction), a, Z (Z = +hhmm or Z, ZZ = +hh:mm, ZZZ = a
 * zone id: UTC/GMT/Z only), E (day name, checked for shape and ignored); 'quoted' text and
 * punctuation are literals. A numeric field next to another numeric field takes exactly as many
 * digits as its letters, as Joda does.
 */
export function compileJodaPattern(pattern: string): (text: string) => bigint | undefined {
  const raw: { letter?: string; count: number; literal?: string }[] = [];
  for (let i = 0; i < pattern.length; ) {
    const ch = pattern[i]!;
    if (ch === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end === i + 1) {
        raw.push({ literal: "'", count: 0 });
        i += 2;
        continue;
      }
      if (end < 0) throw new TimestampPatternError(pattern, `unterminated quote at position ${i}`);
      raw.push({ literal: pattern.slice(i + 1, end), count: 0 });
      i = end + 1;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      let j = i;
      while (pattern[j] === ch) j++;
      raw.push({ letter: ch, count: j - i });
      i = j;
      continue;
    }
    raw.push({ literal: ch, count: 0 });
    i++;
  }
  const isNumeric = (t: { letter?: string; count: number } | undefined) =>
    t?.letter !== undefined && ('yDdHkhKmsS'.includes(t.letter) || (t.letter === 'M' && t.count <= 2));
  const tokens: Token[] = raw.map((t, index) => {
    if (t.literal !== undefined) return { regex: escapeRegex(t.literal), numeric: false };
    const adjacent = isNumeric(raw[index - 1]) || isNumeric(raw[index + 1]);
    const digits = (max: number) => (adjacent ? `(\\d{${t.count}})` : `(\\d{${Math.min(t.count, max)},${Math.max(t.count, max)}})`);
    switch (t.letter) {
      case 'y':
        return t.count === 2 ? { regex: '(\\d{2})', field: 'year2', numeric: true } : { regex: adjacent ? `(\\d{${t.count}})` : '(\\d{4,9})', field: 'year', numeric: true };
      case 'M':
        if (t.count >= 4) return { regex: '([A-Za-z]+)', field: 'monthName', numeric: false };
        if (t.count === 3) return { regex: '([A-Za-z]{3})', field: 'monthName', numeric: false };
        return { regex: digits(2), field: 'month', numeric: true };
      case 'd':
        return { regex: digits(2), field: 'day', numeric: true };
      case 'D':
        return { regex: digits(3), field: 'dayOfYear', numeric: true };
      case 'H':
        return { regex: digits(2), field: 'hour', numeric: true };
      case 'k':
        return { regex: digits(2), field: 'hour24', numeric: true };
      case 'h':
        return { regex: digits(2), field: 'hour12', numeric: true };
      case 'K':
        return { regex: digits(2), field: 'hour11', numeric: true };
      case 'm':
        return { regex: digits(2), field: 'minute', numeric: true };
      case 's':
        return { regex: digits(2), field: 'second', numeric: true };
      case 'S':
        return { regex: adjacent ? `(\\d{${t.count}})` : `(\\d{1,9})`, field: 'fraction', numeric: true };
      case 'a':
        return { regex: '([AaPp][Mm])', field: 'ampm', numeric: false };
      case 'Z':
        if (t.count === 1) return { regex: '(Z|[+-]\\d{4})', field: 'offset', numeric: false };
        if (t.count === 2) return { regex: '(Z|[+-]\\d{2}:\\d{2})', field: 'offset', numeric: false };
        return { regex: '(UTC|GMT|Z|Etc/UTC)', field: 'zoneId', numeric: false };
      case 'E':
        return { regex: '([A-Za-z]+)', field: 'dayName', numeric: false };
      default:
        throw new TimestampPatternError(pattern, `pattern letter '${t.letter}' is not supported`);
    }
  });
  const regex = new RegExp(`^${tokens.map((t) => t.regex).join('')}$`);
  const fields = tokens.filter((t) => t.field !== undefined).map((t) => t.field!);
  if (!fields.includes('year') && !fields.includes('year2')) {
    throw new TimestampPatternError(pattern, 'a timestamp pattern needs a year (y)');
  }
  return (text) => {
    const m = regex.exec(text);
    if (!m) return undefined;
    let year = 1970;
    let month = 1;
    let day = 1;
    let dayOfYear: number | undefined;
    let hour = 0;
    let pm: boolean | undefined;
    let hour12: number | undefined;
    let minute = 0;
    let second = 0;
    let fraction = '';
    let offset = 0;
    for (let i = 0; i < fields.length; i++) {
      const value = m[i + 1]!;
      switch (fields[i]) {
        case 'year':
          year = Number(value);
          break;
        case 'year2':
          year = 2000 + Number(value);
          break;
        case 'month':
          month = Number(value);
          break;
        case 'monthName': {
          const lower = value.toLowerCase();
          const index = lower.length === 3 ? MONTHS.indexOf(lower) : FULL_MONTHS.indexOf(lower);
          if (index < 0) return undefined;
          month = index + 1;
          break;
        }
        case 'day':
          day = Number(value);
          break;
        case 'dayOfYear':
          dayOfYear = Number(value);
          break;
        case 'hour':
          hour = Number(value);
          break;
        case 'hour24':
          hour = Number(value) === 24 ? 0 : Number(value);
          if (Number(value) < 1 || Number(value) > 24) return undefined;
          break;
        case 'hour12':
          hour12 = Number(value);
          if (hour12 < 1 || hour12 > 12) return undefined;
          break;
        case 'hour11':
          hour12 = Number(value) === 0 ? 12 : Number(value);
          if (Number(value) > 11) return undefined;
          break;
        case 'minute':
          minute = Number(value);
          break;
        case 'second':
          second = Number(value);
          break;
        case 'fraction':
          fraction = value;
          break;
        case 'ampm':
          pm = value.toLowerCase() === 'pm';
          break;
        case 'offset':
          if (value !== 'Z') {
            const digits = value.replace(':', '');
            const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
            offset = digits[0] === '-' ? -minutes : minutes;
          }
          break;
        default:
          break;
      }
    }
    if (hour12 !== undefined) hour = (hour12 % 12) + (pm ? 12 : 0);
    else if (pm !== undefined && hour > 12) return undefined;
    if (dayOfYear !== undefined) {
      const start = civilToMicros(year, 1, 1, 0, 0, 0, '');
      if (start === undefined || dayOfYear < 1 || dayOfYear > 366) return undefined;
      const date = new Date(Number(start / MICROS_PER_MILLI) + (dayOfYear - 1) * DAY_MILLIS);
      if (date.getUTCFullYear() !== year) return undefined;
      month = date.getUTCMonth() + 1;
      day = date.getUTCDate();
    }
    return civilToMicros(year, month, day, hour, minute, second, fraction, offset);
  };
}
