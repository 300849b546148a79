/**
 * Object keys as Firehose names them (spec firehose.md §5.2–§5.3): a prefix with `!{namespace:value}`
 * expressions, evaluated per object, then `<stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid><ext>`.
 *
 * - `!{timestamp:<pattern>}`: the arrival time of the object's oldest record, formatted with a
 *   Java DateTimeFormatter pattern in the stream's time zone (UTC unless CustomTimeZone); every
 *   occurrence in one key uses the same instant.
 * - `!{firehose:random-string}`: 11 random characters, new for each occurrence.
 * - `!{firehose:error-output-type}`: the failure's type (error output prefix only).
 * - `!{partitionKeyFromQuery:k}` / `!{partitionKeyFromLambda:k}`: dynamic partitioning keys.
 * A prefix without a timestamp expression gets `yyyy/MM/dd/HH/` appended.
 */
import { randomBytes } from 'node:crypto';

export type PrefixPart =
  | { kind: 'text'; text: string }
  | { kind: 'timestamp'; pattern: string }
  | { kind: 'random' }
  | { kind: 'errorType' }
  | { kind: 'fromQuery'; key: string }
  | { kind: 'fromLambda'; key: string };

export interface CompiledPrefix {
  parts: PrefixPart[];
  hasTimestamp: boolean;
  hasExpressions: boolean;
}

export const MAX_PREFIX_LENGTH = 512;

/** Compiles a prefix, or returns the message of the InvalidArgumentException AWS answers. */
export function parsePrefix(template: string, where: 'Prefix' | 'ErrorOutputPrefix'): CompiledPrefix | { error: string } {
  const parts: PrefixPart[] = [];
  let at = 0;
  let hasTimestamp = false;
  let hasExpressions = false;
  while (at < template.length) {
    const open = template.indexOf('!{', at);
    if (open < 0) {
      parts.push({ kind: 'text', text: template.slice(at) });
      break;
    }
    if (open > at) parts.push({ kind: 'text', text: template.slice(at, open) });
    const close = template.indexOf('}', open);
    if (close < 0) return { error: `The expression starting at position ${open} of ${where} is not closed: "${template}".` };
    const body = template.slice(open + 2, close);
    const colon = body.indexOf(':');
    const namespace = colon < 0 ? body : body.slice(0, colon);
    const value = colon < 0 ? '' : body.slice(colon + 1);
    hasExpressions = true;
    switch (namespace) {
      case 'timestamp': {
        const problem = checkPattern(value);
        if (problem) return { error: `Invalid timestamp format "${value}" in ${where}: ${problem}` };
        parts.push({ kind: 'timestamp', pattern: value });
        hasTimestamp = true;
        break;
      }
      case 'firehose':
        if (value === 'random-string') parts.push({ kind: 'random' });
        else if (value === 'error-output-type') {
          if (where === 'Prefix') return { error: 'The expression !{firehose:error-output-type} is only allowed in ErrorOutputPrefix.' };
          parts.push({ kind: 'errorType' });
        } else return { error: `Unsupported expression !{${body}} in ${where}.` };
        break;
      case 'partitionKeyFromQuery':
      case 'partitionKeyFromLambda':
        if (where === 'ErrorOutputPrefix') return { error: `The expression !{${body}} is not allowed in ErrorOutputPrefix.` };
        if (value === '') return { error: `The expression !{${body}} in ${where} names no key.` };
        parts.push({ kind: namespace === 'partitionKeyFromQuery' ? 'fromQuery' : 'fromLambda', key: value });
        break;
      default:
        return { error: `Unsupported expression namespace "${namespace}" in ${where}.` };
    }
    at = close + 1;
  }
  return { parts, hasTimestamp, hasExpressions };
}

/** AWS's rules across the two prefixes (spec §5.3, §7); the InvalidArgumentException message, or undefined. */
export function checkPrefixes(o: { prefix?: string; errorOutputPrefix?: string; dynamicPartitioning: boolean }): string | undefined {
  const prefix = parsePrefix(o.prefix ?? '', 'Prefix');
  if ('error' in prefix) return prefix.error;
  const errorPrefix = o.errorOutputPrefix ? parsePrefix(o.errorOutputPrefix, 'ErrorOutputPrefix') : undefined;
  if (errorPrefix && 'error' in errorPrefix) return errorPrefix.error;
  if (prefix.hasExpressions && !errorPrefix) {
    return 'ErrorOutputPrefix cannot be null or empty when Prefix contains expressions.';
  }
  if (errorPrefix?.hasExpressions && !errorPrefix.parts.some((p) => p.kind === 'errorType')) {
    return 'ErrorOutputPrefix must contain !{firehose:error-output-type} when it contains expressions.';
  }
  const keyed = prefix.parts.some((p) => p.kind === 'fromQuery' || p.kind === 'fromLambda');
  if (keyed && !o.dynamicPartitioning) {
    return 'Partition key expressions (partitionKeyFromQuery, partitionKeyFromLambda) in Prefix require dynamic partitioning to be enabled.';
  }
  if (o.dynamicPartitioning && !keyed) {
    return 'When dynamic partitioning is enabled, Prefix must contain at least one partitionKeyFromQuery or partitionKeyFromLambda expression.';
  }
  return undefined;
}

export interface PrefixContext {
  /** Arrival time of the oldest record in the object (epoch ms). */
  arrival: number;
  timeZone: string;
  errorOutputType?: string;
  keysFromQuery?: Record<string, string>;
  keysFromLambda?: Record<string, string>;
  random?: () => string;
}

/** The evaluated prefix, or the reason it cannot be (a missing key, or over 512 characters). */
export function evaluatePrefix(compiled: CompiledPrefix, ctx: PrefixContext): { prefix: string } | { error: string } {
  let out = '';
  for (const part of compiled.parts) {
    switch (part.kind) {
      case 'text':
        out += part.text;
        break;
      case 'timestamp':
        out += formatTimestamp(part.pattern, ctx.arrival, ctx.timeZone);
        break;
      case 'random':
        out += (ctx.random ?? randomString)();
        break;
      case 'errorType':
        out += ctx.errorOutputType ?? '';
        break;
      case 'fromQuery':
      case 'fromLambda': {
        const value = (part.kind === 'fromQuery' ? ctx.keysFromQuery : ctx.keysFromLambda)?.[part.key];
        if (value === undefined) return { error: `The partition key ${part.key} has no value for the record.` };
        out += value;
        break;
      }
    }
  }
  if (!compiled.hasTimestamp) {
    if (ctx.errorOutputType !== undefined && !compiled.parts.some((p) => p.kind === 'errorType')) out += `${ctx.errorOutputType}/`;
    out += formatTimestamp("yyyy'/'MM'/'dd'/'HH'/'", ctx.arrival, ctx.timeZone);
  }
  if (out.length > MAX_PREFIX_LENGTH) return { error: `The evaluated prefix is longer than ${MAX_PREFIX_LENGTH} characters.` };
  return { prefix: out };
}

/** `<stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid><ext>`. */
export function objectName(o: { streamName: string; versionId: number; createdAt: number; timeZone: string; uuid: string; extension: string }): string {
  return `${o.streamName}-${o.versionId}-${formatTimestamp('yyyy-MM-dd-HH-mm-ss', o.createdAt, o.timeZone)}-${o.uuid}${o.extension}`;
}

const RANDOM_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomString(): string {
  const bytes = randomBytes(11);
  let s = '';
  for (const b of bytes) s += RANDOM_ALPHABET[b % RANDOM_ALPHABET.length];
  return s;
}

// ---- Java DateTimeFormatter patterns ----

const SUPPORTED: ReadonlySet<string> = new Set('yuMLdDHhkKmsSaEeZXxw'.split(''));
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

type Token = { literal: string } | { letter: string; count: number };

function tokenize(pattern: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        tokens.push({ literal: "'" });
        i += 2;
        continue;
      }
      const end = pattern.indexOf("'", i + 1);
      if (end < 0) return 'unterminated quoted text';
      tokens.push({ literal: pattern.slice(i + 1, end) });
      i = end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let n = 1;
      while (pattern[i + n] === c) n++;
      if (!SUPPORTED.has(c)) return `unknown pattern letter '${c}'`;
      tokens.push({ letter: c, count: n });
      i += n;
    } else if (c === '[' || c === ']' || c === '{' || c === '}' || c === '#') {
      return `reserved character '${c}'`;
    } else {
      tokens.push({ literal: c });
      i++;
    }
  }
  return tokens;
}

function checkPattern(pattern: string): string | undefined {
  if (pattern === '') return 'empty pattern';
  const tokens = tokenize(pattern);
  return typeof tokens === 'string' ? tokens : undefined;
}

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
  offsetMinutes: number;
}

function fieldsIn(epochMs: number, timeZone: string): Fields {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(epochMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const year = get('year');
  const month = get('month');
  const day = get('day');
  const hour = get('hour');
  const minute = get('minute');
  const second = get('second');
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const offsetMinutes = Math.round((local - Math.floor(epochMs / 1000) * 1000) / 60_000);
  return { year, month, day, hour, minute, second, weekday: new Date(local).getUTCDay(), offsetMinutes };
}

/** Formats an instant with a Java DateTimeFormatter pattern (the letters Firehose prefixes use). */
export function formatTimestamp(pattern: string, epochMs: number, timeZone = 'UTC'): string {
  const tokens = tokenize(pattern);
  if (typeof tokens === 'string') throw new RangeError(`invalid timestamp pattern ${pattern}: ${tokens}`);
  const f = fieldsIn(epochMs, timeZone);
  const millis = ((epochMs % 1000) + 1000) % 1000;
  let out = '';
  for (const t of tokens) {
    if ('literal' in t) {
      out += t.literal;
      continue;
    }
    const n = t.count;
    const pad = (v: number, width = n) => String(v).padStart(width, '0');
    switch (t.letter) {
      case 'y':
      case 'u':
        out += n === 2 ? pad(f.year % 100, 2) : pad(f.year);
        break;
      case 'M':
      case 'L':
        out += n >= 4 ? MONTHS[f.month - 1]! : n === 3 ? MONTHS[f.month - 1]!.slice(0, 3) : pad(f.month);
        break;
      case 'd':
        out += pad(f.day);
        break;
      case 'D': {
        const dayOfYear = Math.round((Date.UTC(f.year, f.month - 1, f.day) - Date.UTC(f.year, 0, 1)) / 86_400_000) + 1;
        out += pad(dayOfYear);
        break;
      }
      case 'H':
        out += pad(f.hour);
        break;
      case 'k':
        out += pad(f.hour === 0 ? 24 : f.hour);
        break;
      case 'h':
        out += pad(f.hour % 12 === 0 ? 12 : f.hour % 12);
        break;
      case 'K':
        out += pad(f.hour % 12);
        break;
      case 'm':
        out += pad(f.minute);
        break;
      case 's':
        out += pad(f.second);
        break;
      case 'S':
        out += String(millis).padStart(3, '0').padEnd(n, '0').slice(0, n);
        break;
      case 'a':
        out += f.hour < 12 ? 'AM' : 'PM';
        break;
      case 'E':
      case 'e':
        out += n >= 4 ? DAYS[f.weekday]! : DAYS[f.weekday]!.slice(0, 3);
        break;
      case 'w': {
        // ISO week of year (Monday first, week 1 holds the first Thursday).
        const date = Date.UTC(f.year, f.month - 1, f.day);
        const weekday = (f.weekday + 6) % 7;
        const thursday = date - weekday * 86_400_000 + 3 * 86_400_000;
        const yearStart = Date.UTC(new Date(thursday).getUTCFullYear(), 0, 1);
        out += pad(Math.floor((thursday - yearStart) / (7 * 86_400_000)) + 1);
        break;
      }
      case 'Z':
      case 'X':
      case 'x': {
        const m = f.offsetMinutes;
        if (t.letter === 'X' && m === 0) {
          out += 'Z';
          break;
        }
        const sign = m < 0 ? '-' : '+';
        const hh = pad(Math.floor(Math.abs(m) / 60), 2);
        const mm = pad(Math.abs(m) % 60, 2);
        out += n === 1 ? `${sign}${hh}${mm === '00' ? '' : mm}` : n === 3 || n === 5 ? `${sign}${hh}:${mm}` : `${sign}${hh}${mm}`;
        break;
      }
    }
  }
  return out;
}
