/**
 * A recursive-descent parser for DynamoDB's expression language: condition (and filter and key
 * condition) expressions, update expressions and projection expressions. Placeholders are resolved
 * while parsing, and the ones used are recorded so that the request can reject unused ones.
 *
 * Grammar (keywords without regard to case, function names as written):
 *   condition  := or
 *   or         := and (OR and)*
 *   and        := not (AND not)*
 *   not        := NOT not | primary
 *   primary    := '(' condition ')' | function '(' operands ')' | operand comparator operand
 *               | operand BETWEEN operand AND operand | operand IN '(' operand (',' operand)* ')'
 *   operand    := path | ':value' | size '(' path ')'
 *   path       := (name | '#name') ('.' (name | '#name') | '[' digits ']')*
 *   update     := (SET set (',' set)* | REMOVE path (',' path)* | ADD path ':v' (',' …)* | DELETE path ':v' (',' …)*)+
 *   set        := path '=' setValue;  setValue := setOperand (('+' | '-') setOperand)?
 *   setOperand := path | ':value' | if_not_exists '(' path ',' setValue ')' | list_append '(' setValue ',' setValue ')'
 *   projection := path (',' path)*
 */
import { ValidationException, type AwsError } from '../../protocol/errors.js';
import type { AttributeValue } from '../values.js';
import type { Comparator, Condition, ConditionFunction, Operand, Path, PathElement, UpdateAction } from './ast.js';
import { tokenize, type Token } from './lexer.js';
import { isReservedWord } from './reserved-words.js';

export type ExpressionKind =
  | 'ConditionExpression'
  | 'FilterExpression'
  | 'KeyConditionExpression'
  | 'UpdateExpression'
  | 'ProjectionExpression';

/** The request's placeholders and which of them expressions used. */
export interface Placeholders {
  names?: Record<string, string>;
  values?: Record<string, AttributeValue>;
  usedNames: Set<string>;
  usedValues: Set<string>;
}

export function placeholders(names?: Record<string, string>, values?: Record<string, AttributeValue>): Placeholders {
  return { names, values, usedNames: new Set(), usedValues: new Set() };
}

const COMPARATORS: ReadonlySet<string> = new Set(['=', '<>', '<', '<=', '>', '>=']);
const CONDITION_FUNCTIONS: ReadonlySet<string> = new Set(['attribute_exists', 'attribute_not_exists', 'attribute_type', 'begins_with', 'contains']);
const UPDATE_FUNCTIONS: ReadonlySet<string> = new Set(['if_not_exists', 'list_append']);
const SECTIONS: ReadonlySet<string> = new Set(['SET', 'REMOVE', 'ADD', 'DELETE']);
/** DynamoDB's limit on the operands of IN. */
const MAX_IN = 100;
const ARITY: Record<string, number> = {
  attribute_exists: 1,
  attribute_not_exists: 1,
  attribute_type: 2,
  begins_with: 2,
  contains: 2,
  size: 1,
  if_not_exists: 2,
  list_append: 2,
};

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  /** Conditions that were written inside parentheses. */
  private readonly parenthesized = new WeakSet<Condition>();

  constructor(
    private readonly src: string,
    private readonly kind: ExpressionKind,
    private readonly ph: Placeholders,
  ) {
    this.tokens = tokenize(src);
    if (this.tokens.length === 1) throw this.fail('The expression can not be empty;');
  }

  fail(message: string): AwsError {
    return new ValidationException(`Invalid ${this.kind}: ${message}`);
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return t;
  }

  /** DynamoDB quotes the offending token with its neighbours: `token: "-", near: "a-b"`. */
  private syntaxError(): AwsError {
    const t = this.peek();
    const prev = this.pos > 0 ? this.tokens[this.pos - 1]! : t;
    const next = this.peek(1);
    const near = this.src.slice(prev.start, t.kind === 'eof' ? t.end : next.end);
    return this.fail(`Syntax error; token: "${t.text}", near: "${near}"`);
  }

  private isOp(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'op' && t.text === text;
  }

  private isKeyword(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'name' && t.text.toUpperCase() === word;
  }

  private expectOp(text: string): void {
    if (!this.isOp(text)) throw this.syntaxError();
    this.next();
  }

  expectEnd(): void {
    if (this.peek().kind !== 'eof') throw this.syntaxError();
  }

  // ---- conditions

  condition(): Condition {
    let left = this.andCondition();
    while (this.isKeyword('OR')) {
      this.next();
      left = { kind: 'or', left, right: this.andCondition() };
    }
    return left;
  }

  private andCondition(): Condition {
    let left = this.notCondition();
    while (this.isKeyword('AND')) {
      this.next();
      left = { kind: 'and', left, right: this.notCondition() };
    }
    return left;
  }

  private notCondition(): Condition {
    if (this.isKeyword('NOT')) {
      this.next();
      return { kind: 'not', condition: this.notCondition() };
    }
    return this.primaryCondition();
  }

  private primaryCondition(): Condition {
    if (this.isOp('(')) {
      this.next();
      const inner = this.condition();
      this.expectOp(')');
      // DynamoDB refuses parentheses that directly wrap a parenthesized condition: ((a = :v)).
      if (this.parenthesized.has(inner)) throw this.fail('The expression has redundant parentheses;');
      this.parenthesized.add(inner);
      return inner;
    }
    const t = this.peek();
    if (t.kind === 'name' && this.isOp('(', 1)) {
      if (CONDITION_FUNCTIONS.has(t.text)) {
        const args = this.functionArgs();
        this.checkArity(t.text, args.length);
        if (this.peek().kind === 'op' && COMPARATORS.has(this.peek().text)) {
          throw this.fail(`The function is not allowed to be used this way in an expression; function: ${t.text}`);
        }
        for (const [i, a] of args.entries()) {
          if ((t.text === 'attribute_exists' || t.text === 'attribute_not_exists' || (t.text === 'attribute_type' && i === 0)) && a.kind !== 'path') {
            throw this.fail(`Operator or function requires a document path; operator or function: ${t.text}`);
          }
        }
        return { kind: 'function', name: t.text as ConditionFunction, args };
      }
      if (t.text !== 'size') throw this.unknownFunction(t.text);
    }
    const operand = this.operand();
    const op = this.peek();
    if (op.kind === 'op' && COMPARATORS.has(op.text)) {
      this.next();
      return { kind: 'compare', op: op.text as Comparator, left: operand, right: this.operand() };
    }
    if (this.isKeyword('BETWEEN')) {
      this.next();
      const low = this.operand();
      if (!this.isKeyword('AND')) throw this.syntaxError();
      this.next();
      return { kind: 'between', operand, low, high: this.operand() };
    }
    if (this.isKeyword('IN')) {
      this.next();
      this.expectOp('(');
      const list = [this.operand()];
      while (this.isOp(',')) {
        this.next();
        list.push(this.operand());
      }
      this.expectOp(')');
      if (list.length > MAX_IN) {
        throw this.fail(`The IN operator is provided with too many operands; number of operands: ${list.length}`);
      }
      return { kind: 'in', operand, list };
    }
    if (operand.kind === 'size') {
      throw this.fail('The function is not allowed to be used this way in an expression; function: size');
    }
    throw this.syntaxError();
  }

  private unknownFunction(name: string): AwsError {
    if (UPDATE_FUNCTIONS.has(name) && this.kind !== 'UpdateExpression') {
      return this.fail(`The function is not allowed in a condition expression; function: ${name}`);
    }
    if (CONDITION_FUNCTIONS.has(name) && this.kind === 'UpdateExpression') {
      return this.fail(`The function is not allowed in an update expression; function: ${name}`);
    }
    return this.fail(`Invalid function name; function: ${name}`);
  }

  private checkArity(name: string, n: number): void {
    if (ARITY[name] !== n) {
      throw this.fail(`Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${n}`);
    }
  }

  private functionArgs(inUpdate = false): Operand[] {
    this.next();
    this.expectOp('(');
    const args = [inUpdate ? this.setValue() : this.operand()];
    while (this.isOp(',')) {
      this.next();
      args.push(inUpdate ? this.setValue() : this.operand());
    }
    this.expectOp(')');
    return args;
  }

  /** A condition operand: path, value placeholder or size(path). */
  private operand(): Operand {
    const t = this.peek();
    if (t.kind === 'colon') {
      this.next();
      return { kind: 'value', value: this.value(t.text) };
    }
    if (t.kind === 'name' && this.isOp('(', 1)) {
      if (t.text !== 'size') throw this.unknownFunction(t.text);
      const args = this.functionArgs();
      this.checkArity('size', args.length);
      if (args[0]!.kind !== 'path') throw this.fail('Operator or function requires a document path; operator or function: size');
      return { kind: 'size', path: (args[0] as { path: Path }).path };
    }
    if (t.kind === 'name' || t.kind === 'hash') return { kind: 'path', path: this.path() };
    throw this.syntaxError();
  }

  value(placeholder: string): AttributeValue {
    const v = this.ph.values?.[placeholder];
    if (v === undefined) {
      throw this.fail(`An expression attribute value used in expression is not defined; attribute value: ${placeholder}`);
    }
    this.ph.usedValues.add(placeholder);
    return v;
  }

  private nameOf(t: Token): string {
    if (t.kind === 'name' && isReservedWord(t.text)) {
      throw this.fail(`Attribute name is a reserved keyword; reserved keyword: ${t.text}`);
    }
    if (t.kind === 'hash') {
      const name = this.ph.names?.[t.text];
      if (name === undefined) {
        throw this.fail(`An expression attribute name used in the document path is not defined; attribute name: ${t.text}`);
      }
      this.ph.usedNames.add(t.text);
      return name;
    }
    return t.text;
  }

  path(): Path {
    const first = this.peek();
    if (first.kind !== 'name' && first.kind !== 'hash') throw this.syntaxError();
    this.next();
    const path: PathElement[] = [{ name: this.nameOf(first) }];
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const t = this.peek();
        if (t.kind !== 'name' && t.kind !== 'hash') throw this.syntaxError();
        this.next();
        path.push({ name: this.nameOf(t) });
      } else if (this.isOp('[')) {
        this.next();
        const t = this.peek();
        if (t.kind !== 'number') throw this.syntaxError();
        this.next();
        const index = Number(t.text);
        if (!Number.isSafeInteger(index)) throw this.fail(`List index is not within the allowable range; index: [${t.text}]`);
        path.push({ index });
        this.expectOp(']');
      } else {
        return path;
      }
    }
  }

  // ---- updates

  update(): UpdateAction[] {
    const actions: UpdateAction[] = [];
    const seen = new Set<string>();
    do {
      const t = this.peek();
      const section = t.kind === 'name' ? t.text.toUpperCase() : '';
      if (!SECTIONS.has(section)) throw this.syntaxError();
      if (seen.has(section)) throw this.fail(`The "${section}" section can only be used once in an update expression;`);
      seen.add(section);
      this.next();
      for (;;) {
        actions.push(this.action(section));
        if (!this.isOp(',')) break;
        this.next();
      }
    } while (this.peek().kind !== 'eof');
    return actions;
  }

  private action(section: string): UpdateAction {
    const path = this.path();
    switch (section) {
      case 'SET':
        this.expectOp('=');
        return { kind: 'SET', path, value: this.setValue() };
      case 'REMOVE':
        return { kind: 'REMOVE', path };
      default: {
        const t = this.peek();
        if (t.kind !== 'colon') throw this.syntaxError();
        this.next();
        return { kind: section as 'ADD' | 'DELETE', path, value: this.value(t.text) };
      }
    }
  }

  private setValue(): Operand {
    const left = this.setOperand();
    if (this.isOp('+') || this.isOp('-')) {
      const op = this.next().text as '+' | '-';
      return { kind: 'arithmetic', op, left, right: this.setOperand() };
    }
    return left;
  }

  private setOperand(): Operand {
    const t = this.peek();
    if (t.kind === 'colon') {
      this.next();
      return { kind: 'value', value: this.value(t.text) };
    }
    if (t.kind === 'name' && this.isOp('(', 1)) {
      if (!UPDATE_FUNCTIONS.has(t.text)) throw this.unknownFunction(t.text);
      const args = this.functionArgs(true);
      this.checkArity(t.text, args.length);
      if (t.text === 'if_not_exists') {
        if (args[0]!.kind !== 'path') throw this.fail('Operator or function requires a document path; operator or function: if_not_exists');
        return { kind: 'if_not_exists', path: (args[0] as { path: Path }).path, fallback: args[1]! };
      }
      return { kind: 'list_append', first: args[0]!, second: args[1]! };
    }
    if (t.kind === 'name' || t.kind === 'hash') return { kind: 'path', path: this.path() };
    throw this.syntaxError();
  }

  // ---- projections

  projection(): Path[] {
    const paths = [this.path()];
    while (this.isOp(',')) {
      this.next();
      paths.push(this.path());
    }
    return paths;
  }
}

export function parseCondition(src: string, kind: ExpressionKind, ph: Placeholders): Condition {
  const p = new Parser(src, kind, ph);
  const c = p.condition();
  p.expectEnd();
  return c;
}

export function parseUpdate(src: string, ph: Placeholders): UpdateAction[] {
  const p = new Parser(src, 'UpdateExpression', ph);
  const actions = p.update();
  p.expectEnd();
  return actions;
}

export function parseProjection(src: string, ph: Placeholders): Path[] {
  const p = new Parser(src, 'ProjectionExpression', ph);
  const paths = p.projection();
  p.expectEnd();
  return paths;
}

/**
 * Rejects placeholders that no expression used, and placeholders given with no expression at all,
 * as DynamoDB does once every expression of the request is parsed.
 */
export function checkPlaceholdersUsed(ph: Placeholders): void {
  if (ph.names) {
    const unused = Object.keys(ph.names).filter((k) => !ph.usedNames.has(k));
    if (unused.length > 0) {
      throw new ValidationException(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unused.join(', ')}}`);
    }
  }
  if (ph.values) {
    const unused = Object.keys(ph.values).filter((k) => !ph.usedValues.has(k));
    if (unused.length > 0) {
      throw new ValidationException(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unused.join(', ')}}`);
    }
  }
}
