import { LONG_MAX, LONG_MIN } from './decode.js';
import type { Shape } from './shape.js';

/**
 * A value as AWS's Java service prints it inside a validation message: strings bare, blobs as
 * the ByteBuffer that held them, lists and maps as Java collections print, structures (inside
 * lists) by their class name. Only called on the failure path.
 */
export function valueText(value: unknown, shape: Shape): string {
  if (value === null || value === undefined) return 'null';
  switch (shape.kind) {
    case 'blob': {
      const n = (value as Uint8Array).length;
      return `java.nio.HeapByteBuffer[pos=0 lim=${n} cap=${n}]`;
    }
    case 'list': {
      const items = value as unknown[];
      const parts = new Array<string>(items.length);
      for (let i = 0; i < items.length; i++) parts[i] = valueText(items[i], shape.member);
      return `[${parts.join(', ')}]`;
    }
    case 'map': {
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(obj)) parts.push(`${key}=${valueText(obj[key], shape.value)}`);
      return `{${parts.join(', ')}}`;
    }
    case 'structure':
      return shape.printedAs;
    case 'timestamp':
      return javaDateText(value as Date);
    case 'integer':
    case 'long':
      return integerText(value as number);
    default:
      return String(value);
  }
}

function integerText(n: number): string {
  if (n >= LONG_MAX) return '9223372036854775807';
  if (n <= LONG_MIN) return '-9223372036854775808';
  return Number.isSafeInteger(n) ? String(n) : BigInt(Math.trunc(n)).toString();
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `java.util.Date#toString` in UTC: `Mon Apr 04 19:58:46 UTC 2016`. */
function javaDateText(date: Date): string {
  const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
  return (
    `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${two(date.getUTCDate())} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`
  );
}
