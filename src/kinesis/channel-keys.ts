/**
 * The object keys of a channel's S3 destination. `OutputKeyTemplate` is literal text with
 * `!{variable}` expressions; without one, the documented default is used:
 *
 *   kinesis-channel/!{channel-name}/!{channel-id}/!{yyyy}/!{MM}/!{dd}/!{HH}/!{channel-name}-!{channel-id}-!{yyyy}-!{MM}-!{dd}-!{HH}-!{mm}!{extension}
 *
 * Time variables read the arrival time (UTC) of the oldest record in the object. Every key gets a
 * unique suffix, as AWS appends one: before the extension when the template ends with
 * `!{extension}`, at the end otherwise. Dead-letter objects go under the error prefix
 * (`kinesis-channel/errors/<channel-name>/<channel-id>/` by default), named like the default
 * object name.
 */

export const DEFAULT_KEY_TEMPLATE =
  'kinesis-channel/!{channel-name}/!{channel-id}/!{yyyy}/!{MM}/!{dd}/!{HH}/!{channel-name}-!{channel-id}-!{yyyy}-!{MM}-!{dd}-!{HH}-!{mm}!{extension}';

const VARIABLES: ReadonlySet<string> = new Set(['channel-name', 'channel-id', 'yyyy', 'YY', 'MM', 'dd', 'HH', 'mm', 'extension']);

export type KeyPart = { text: string } | { variable: string };

/** The parts of a template, or the reason it is refused (said as the InvalidArgumentException message). */
export function parseKeyTemplate(template: string): { parts: KeyPart[] } | { error: string } {
  if (template.startsWith('/')) return { error: 'OutputKeyTemplate must not start with /.' };
  if (template.endsWith('/')) return { error: 'OutputKeyTemplate must not end with /.' };
  if (template.includes('..') || template.includes('./')) return { error: 'OutputKeyTemplate must not contain .. or ./.' };
  const parts: KeyPart[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('!{', i);
    const literalEnd = open < 0 ? template.length : open;
    if (literalEnd > i) {
      const text = template.slice(i, literalEnd);
      if (/[{}]/.test(text)) return { error: `OutputKeyTemplate has an unbalanced brace in "${text}".` };
      parts.push({ text });
    }
    if (open < 0) break;
    const close = template.indexOf('}', open + 2);
    if (close < 0) return { error: 'OutputKeyTemplate has a !{ without a matching }.' };
    const variable = template.slice(open + 2, close);
    if (!VARIABLES.has(variable)) {
      return { error: `OutputKeyTemplate uses the unknown variable !{${variable}}. Supported variables: ${[...VARIABLES].map((v) => `!{${v}}`).join(', ')}.` };
    }
    parts.push({ variable });
    i = close + 1;
  }
  return { parts };
}

export interface KeyContext {
  channelName: string;
  channelId: string;
  /** Epoch ms; the time variables read it in UTC. */
  time: number;
  extension: string;
  /** Appended to make the key unique. */
  unique: string;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The key of one object from a template's parts. */
export function evaluateKeyTemplate(parts: readonly KeyPart[], ctx: KeyContext): string {
  const d = new Date(ctx.time);
  const values: Record<string, string> = {
    'channel-name': ctx.channelName,
    'channel-id': ctx.channelId,
    yyyy: pad(d.getUTCFullYear(), 4),
    YY: pad(d.getUTCFullYear() % 100),
    MM: pad(d.getUTCMonth() + 1),
    dd: pad(d.getUTCDate()),
    HH: pad(d.getUTCHours()),
    mm: pad(d.getUTCMinutes()),
    extension: ctx.extension,
  };
  const last = parts[parts.length - 1];
  const endsWithExtension = last !== undefined && 'variable' in last && last.variable === 'extension';
  const body = endsWithExtension ? parts.slice(0, -1) : parts;
  const key = body.map((p) => ('text' in p ? p.text : values[p.variable]!)).join('');
  return endsWithExtension ? `${key}-${ctx.unique}${ctx.extension}` : `${key}-${ctx.unique}`;
}

/** The error prefix AWS uses when the dead-letter configuration has none. */
export function defaultErrorPrefix(channelName: string, channelId: string): string {
  return `kinesis-channel/errors/${channelName}/${channelId}/`;
}

/** The key of a dead-letter object: the error prefix, then a name like the default object name. */
export function errorObjectKey(prefix: string, ctx: KeyContext): string {
  const d = new Date(ctx.time);
  const stamp = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}`;
  return `${prefix}${ctx.channelName}-${ctx.channelId}-${stamp}-${ctx.unique}${ctx.extension}`;
}
