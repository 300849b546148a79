/**
 * Hive column types as Glue stores them (`StorageDescriptor.Columns[].Type`), parsed into a typed
 * tree. The grammar is Hive's:
 *
 *   type      := primitive | 'decimal' ['(' int [',' int] ')'] | ('char' | 'varchar') '(' int ')'
 *              | 'array' '<' type '>' | 'map' '<' primitive-ish ',' type '>'
 *              | 'struct' '<' [field (',' field)*] '>'
 *   field     := name ':' type          (name: identifier, or `back-quoted`)
 *
 * Keywords are case-insensitive and whitespace may appear between tokens. `integer` is Hive's
 * alias of `int`; `decimal` without arguments is decimal(10,0), as in Hive. Errors carry the
 * zero-based character position at which the text stopped making sense.
 */

export type HivePrimitiveKind =
  | 'boolean'
  | 'tinyint'
  | 'smallint'
  | 'int'
  | 'bigint'
  | 'float'
  | 'double'
  | 'string'
  | 'binary'
  | 'date'
  | 'timestamp';

export interface HiveStructField {
  readonly name: string;
  readonly type: HiveType;
}

export type HiveType =
  | { readonly kind: HivePrimitiveKind }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'char' | 'varchar'; readonly length: number }
  | { readonly kind: 'array'; readonly element: HiveType }
  | { readonly kind: 'map'; readonly key: HiveType; readonly value: HiveType }
  | { readonly kind: 'struct'; readonly fields: readonly HiveStructField[] };

export class HiveTypeError extends Error {
  readonly position: number;
  readonly text: string;
  constructor(text: string, position: number, reason: string) {
    super(`${reason} at position ${position} of '${text}'`);
    this.name = 'HiveTypeError';
    this.text = text;
    this.position = position;
  }
}

const PRIMITIVES: Readonly<Record<string, HivePrimitiveKind>> = {
  boolean: 'boolean',
  tinyint: 'tinyint',
  smallint: 'smallint',
  int: 'int',
  integer: 'int',
  bigint: 'bigint',
  float: 'float',
  double: 'double',
  string: 'string',
  binary: 'binary',
  date: 'date',
  timestamp: 'timestamp',
};

const MAX_DECIMAL_PRECISION = 38;
const MAX_CHAR_LENGTH = 255;
const MAX_VARCHAR_LENGTH = 65535;

/** Parses one Hive type string; throws HiveTypeError with the position of the first problem. */
export function parseHiveType(text: string): HiveType {
  const parser = new TypeParser(text);
  const type = parser.type();
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail(`unexpected '${text[parser.pos]}' after the type`);
  return type;
}

/** Writes a type back in Hive's canonical lower-case spelling. */
export function formatHiveType(type: HiveType): string {
  switch (type.kind) {
    case 'decimal':
      return `decimal(${type.precision},${type.scale})`;
    case 'char':
    case 'varchar':
      return `${type.kind}(${type.length})`;
    case 'array':
      return `array<${formatHiveType(type.element)}>`;
    case 'map':
      return `map<${formatHiveType(type.key)},${formatHiveType(type.value)}>`;
    case 'struct':
      return `struct<${type.fields.map((f) => `${f.name}:${formatHiveType(f.type)}`).join(',')}>`;
    default:
      return type.kind;
  }
}

class TypeParser {
  pos = 0;
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(reason: string, at = this.pos): never {
    throw new HiveTypeError(this.text, at, reason);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private expect(ch: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== ch) {
      this.fail(this.atEnd() ? `expected '${ch}' but the type ended` : `expected '${ch}' but found '${this.text[this.pos]}'`);
    }
    this.pos++;
  }

  private peek(): string | undefined {
    this.skipSpace();
    return this.text[this.pos];
  }

  private word(): { word: string; at: number } {
    this.skipSpace();
    const at = this.pos;
    while (this.pos < this.text.length && /[A-Za-z0-9_]/.test(this.text[this.pos]!)) this.pos++;
    if (at === this.pos) this.fail(this.atEnd() ? 'expected a type name but the type ended' : `expected a type name but found '${this.text[at]}'`);
    return { word: this.text.slice(at, this.pos), at };
  }

  private integer(what: string): number {
    this.skipSpace();
    const at = this.pos;
    while (this.pos < this.text.length && /[0-9]/.test(this.text[this.pos]!)) this.pos++;
    if (at === this.pos) this.fail(`expected ${what}`);
    return Number(this.text.slice(at, this.pos));
  }

  type(): HiveType {
    const { word, at } = this.word();
    const name = word.toLowerCase();
    const primitive = PRIMITIVES[name];
    if (primitive) return { kind: primitive };
    switch (name) {
      case 'decimal':
        return this.decimal();
      case 'char':
      case 'varchar':
        return this.sized(name, at);
      case 'array': {
        this.expect('<');
        const element = this.type();
        this.expect('>');
        return { kind: 'array', element };
      }
      case 'map': {
        this.expect('<');
        const keyAt = (this.skipSpace(), this.pos);
        const key = this.type();
        if (key.kind === 'array' || key.kind === 'map' || key.kind === 'struct') {
          this.fail('a map key must be a primitive type', keyAt);
        }
        this.expect(',');
        const value = this.type();
        this.expect('>');
        return { kind: 'map', key, value };
      }
      case 'struct':
        return this.struct();
      case 'uniontype':
        return this.fail('uniontype is not supported', at);
      default:
        return this.fail(`unknown type '${word}'`, at);
    }
  }

  private decimal(): HiveType {
    if (this.peek() !== '(') return { kind: 'decimal', precision: 10, scale: 0 };
    this.pos++;
    const precisionAt = (this.skipSpace(), this.pos);
    const precision = this.integer('a decimal precision');
    if (precision < 1 || precision > MAX_DECIMAL_PRECISION) {
      this.fail(`decimal precision must be between 1 and ${MAX_DECIMAL_PRECISION}`, precisionAt);
    }
    let scale = 0;
    if (this.peek() === ',') {
      this.pos++;
      const scaleAt = (this.skipSpace(), this.pos);
      scale = this.integer('a decimal scale');
      if (scale > precision) this.fail('decimal scale must not exceed its precision', scaleAt);
    }
    this.expect(')');
    return { kind: 'decimal', precision, scale };
  }

  private sized(kind: 'char' | 'varchar', at: number): HiveType {
    if (this.peek() !== '(') this.fail(`${kind} needs a length, as in ${kind}(10)`, at);
    this.pos++;
    const lengthAt = (this.skipSpace(), this.pos);
    const length = this.integer(`a ${kind} length`);
    const max = kind === 'char' ? MAX_CHAR_LENGTH : MAX_VARCHAR_LENGTH;
    if (length < 1 || length > max) this.fail(`${kind} length must be between 1 and ${max}`, lengthAt);
    this.expect(')');
    return { kind, length };
  }

  private struct(): HiveType {
    this.expect('<');
    const fields: HiveStructField[] = [];
    const seen = new Set<string>();
    if (this.peek() === '>') {
      this.pos++;
      return { kind: 'struct', fields };
    }
    for (;;) {
      this.skipSpace();
      const nameAt = this.pos;
      const name = this.fieldName();
      const key = name.toLowerCase();
      if (seen.has(key)) this.fail(`duplicate struct field '${name}'`, nameAt);
      seen.add(key);
      this.expect(':');
      fields.push({ name, type: this.type() });
      const next = this.peek();
      if (next === ',') {
        this.pos++;
        continue;
      }
      if (next === '>') {
        this.pos++;
        return { kind: 'struct', fields };
      }
      this.fail(next === undefined ? "expected ',' or '>' but the type ended" : `expected ',' or '>' but found '${next}'`);
    }
  }

  private fieldName(): string {
    if (this.text[this.pos] === '`') {
      const start = ++this.pos;
      const end = this.text.indexOf('`', start);
      if (end < 0) this.fail('unterminated back-quoted field name', start - 1);
      this.pos = end + 1;
      if (end === start) this.fail('empty field name', start - 1);
      return this.text.slice(start, end);
    }
    const at = this.pos;
    while (this.pos < this.text.length && /[A-Za-z0-9_$]/.test(this.text[this.pos]!)) this.pos++;
    if (at === this.pos) this.fail(this.atEnd() ? 'expected a field name but the type ended' : `expected a field name but found '${this.text[at]}'`);
    return this.text.slice(at, this.pos);
  }
}
