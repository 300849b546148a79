/**
 * Tokens of DynamoDB expressions: attribute names, `#name` placeholders, `:value` placeholders,
 * list indexes, operators and punctuation. Keywords (AND, OR, NOT, BETWEEN, IN, SET, REMOVE, ADD,
 * DELETE) are names the parser recognises without regard to case.
 */

/** `invalid` is a character no token starts with; the parser reports it as a syntax error there. */
export type TokenKind = 'name' | 'hash' | 'colon' | 'number' | 'op' | 'invalid' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The token's text as written (for eof, '<EOF>'). */
  text: string;
  /** Offset of its first character in the expression. */
  start: number;
  end: number;
}

const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_]/;
const PLACEHOLDER_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (NAME_START.test(c)) {
      while (i < src.length && NAME_PART.test(src[i]!)) i++;
      tokens.push({ kind: 'name', text: src.slice(start, i), start, end: i });
      continue;
    }
    if (c === '#' || c === ':') {
      i++;
      while (i < src.length && PLACEHOLDER_PART.test(src[i]!)) i++;
      tokens.push({ kind: i === start + 1 ? 'invalid' : c === '#' ? 'hash' : 'colon', text: src.slice(start, i), start, end: i });
      continue;
    }
    if (DIGIT.test(c)) {
      while (i < src.length && DIGIT.test(src[i]!)) i++;
      tokens.push({ kind: 'number', text: src.slice(start, i), start, end: i });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '<>' || two === '<=' || two === '>=') {
      i += 2;
      tokens.push({ kind: 'op', text: two, start, end: i });
      continue;
    }
    if ('=<>()[],.+-'.includes(c)) {
      i++;
      tokens.push({ kind: 'op', text: c, start, end: i });
      continue;
    }
    i++;
    tokens.push({ kind: 'invalid', text: c, start, end: i });
  }
  tokens.push({ kind: 'eof', text: '<EOF>', start: src.length, end: src.length });
  return tokens;
}
