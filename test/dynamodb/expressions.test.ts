import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ValidationException } from '../../src/protocol/errors.js';
import type { Condition } from '../../src/dynamodb/expressions/ast.js';
import { evaluate, project } from '../../src/dynamodb/expressions/evaluate.js';
import { checkPlaceholdersUsed, parseCondition, parseProjection, parseUpdate, placeholders } from '../../src/dynamodb/expressions/parser.js';
import { applyUpdate, checkKeyUpdates, checkUpdateActions } from '../../src/dynamodb/expressions/update.js';
import { itemFromJson, itemToJson, type AttributeMap, type AttributeValue } from '../../src/dynamodb/values.js';

const item: AttributeMap = {
  id: { S: 'shard-1' },
  leaseCounter: { N: '7' },
  holder: { S: 'worker-a' },
  parents: { SS: ['p1', 'p2'] },
  nums: { NS: ['1', '2.5'] },
  bin: { B: Buffer.from([1, 2, 3]) },
  flag: { BOOL: true },
  nothing: { NULL: true },
  doc: { M: { a: { M: { b: { L: [{ S: 'x' }, { N: '10' }, { M: { c: { S: 'deep' } } }] } } } } },
  things: { L: [{ S: 'one' }, { N: '2' }] },
};

function cond(src: string, values: Record<string, AttributeValue> = {}, names?: Record<string, string>): Condition {
  return parseCondition(src, 'ConditionExpression', placeholders(names, values));
}

function holds(src: string, values: Record<string, AttributeValue> = {}, names?: Record<string, string>, on = item): boolean {
  return evaluate(cond(src, values, names), on);
}

function rejects(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ValidationException, `expected ValidationException, got ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('condition expressions', () => {
  it('compares numbers numerically and strings by bytes', () => {
    assert.equal(holds('leaseCounter = :v', { ':v': { N: '7.000' } }), true);
    assert.equal(holds('leaseCounter < :v', { ':v': { N: '10' } }), true);
    assert.equal(holds('leaseCounter > :v', { ':v': { N: '-10' } }), true);
    assert.equal(holds('leaseCounter >= :v', { ':v': { N: '7' } }), true);
    assert.equal(holds('holder < :v', { ':v': { S: 'worker-b' } }), true);
    assert.equal(holds('holder <= :v', { ':v': { S: 'worker' } }), false);
    assert.equal(holds('leaseCounter <> :v', { ':v': { S: '7' } }), true);
    // Ordering between different types is false both ways.
    assert.equal(holds('leaseCounter < :v', { ':v': { S: '8' } }), false);
    assert.equal(holds('leaseCounter >= :v', { ':v': { S: '8' } }), false);
  });

  it('treats a missing attribute as unequal and unordered', () => {
    assert.equal(holds('absent = :v', { ':v': { N: '1' } }), false);
    assert.equal(holds('absent <> :v', { ':v': { N: '1' } }), true);
    assert.equal(holds('absent < :v', { ':v': { N: '1' } }), false);
  });

  it('supports BETWEEN, IN, AND, OR, NOT and parentheses with the usual precedence', () => {
    assert.equal(holds('leaseCounter BETWEEN :a AND :b', { ':a': { N: '1' }, ':b': { N: '7' } }), true);
    assert.equal(holds('leaseCounter between :a and :b', { ':a': { N: '8' }, ':b': { N: '9' } }), false);
    assert.equal(holds('holder IN (:a, :b)', { ':a': { S: 'x' }, ':b': { S: 'worker-a' } }), true);
    assert.equal(holds('NOT holder = :a', { ':a': { S: 'worker-a' } }), false);
    // OR binds looser than AND: false AND false OR true is true.
    assert.equal(holds('holder = :x AND holder = :x OR flag = :t', { ':x': { S: 'x' }, ':t': { BOOL: true } }), true);
    assert.equal(holds('holder = :x AND (holder = :x OR flag = :t)', { ':x': { S: 'x' }, ':t': { BOOL: true } }), false);
    assert.equal(holds('NOT (holder = :x) AND flag = :t', { ':x': { S: 'x' }, ':t': { BOOL: true } }), true);
  });

  it('supports the functions', () => {
    assert.equal(holds('attribute_exists(holder)'), true);
    assert.equal(holds('attribute_not_exists(checkpointOwner)'), true);
    assert.equal(holds('attribute_exists(doc.a.b[2].c)'), true);
    assert.equal(holds('attribute_exists(doc.a.b[3])'), false);
    assert.equal(holds('attribute_type(parents, :t)', { ':t': { S: 'SS' } }), true);
    assert.equal(holds('attribute_type(nothing, :t)', { ':t': { S: 'NULL' } }), true);
    assert.equal(holds('begins_with(holder, :p)', { ':p': { S: 'work' } }), true);
    assert.equal(holds('begins_with(bin, :p)', { ':p': { B: Buffer.from([1, 2]) } }), true);
    assert.equal(holds('contains(parents, :p)', { ':p': { S: 'p2' } }), true);
    assert.equal(holds('contains(nums, :p)', { ':p': { N: '2.50' } }), true);
    assert.equal(holds('contains(holder, :p)', { ':p': { S: 'ker-' } }), true);
    assert.equal(holds('contains(things, :p)', { ':p': { N: '2' } }), true);
    assert.equal(holds('size(parents) = :n', { ':n': { N: '2' } }), true);
    assert.equal(holds('size(holder) > :n', { ':n': { N: '7' } }), true);
    assert.equal(holds('size(doc.a.b) = :n', { ':n': { N: '3' } }), true);
  });

  it('resolves #names, including names that are keywords', () => {
    assert.equal(holds('#o = :v AND #and.#a.b[0] = :x', { ':v': { S: 'worker-a' }, ':x': { S: 'x' } }, { '#o': 'holder', '#and': 'doc', '#a': 'a' }), true);
  });

  it('reports syntax errors in DynamoDB words', () => {
    rejects(() => cond('holder = '), 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "= "');
    rejects(() => cond('holder = = :v', { ':v': { S: 'x' } }), 'Invalid ConditionExpression: Syntax error; token: "=", near: "= = :v"');
    rejects(() => cond('a-b'), 'Invalid ConditionExpression: Syntax error; token: "-", near: "a-b"');
    rejects(() => cond('attribute_exists(a) AND NOT #b', {}, { '#b': 'b' }), 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "#b"');
    rejects(() => cond(''), 'Invalid ConditionExpression: The expression can not be empty;');
    rejects(() => cond('foo(holder)'), 'Invalid ConditionExpression: Invalid function name; function: foo');
    rejects(() => cond('attribute_exists(holder, holder)'), /Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2/);
    rejects(() => cond('size(holder)'), /The function is not allowed to be used this way in an expression; function: size/);
    rejects(() => cond('#x = :v', { ':v': { S: 'x' } }), 'Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #x');
    rejects(() => cond('holder = :nope'), 'Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope');
    rejects(() => cond('holder = :v $ x', { ':v': { S: 'x' } }), 'Invalid ConditionExpression: Syntax error; token: "$", near: ":v $ x"');
  });

  it('refuses reserved words as bare attribute names, but not behind #names', () => {
    rejects(() => cond('owner = :v', { ':v': { S: 'x' } }), 'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: owner');
    rejects(() => cond('holder.Status = :v', { ':v': { S: 'x' } }), 'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Status');
    assert.equal(holds('#o = :v', { ':v': { S: 'worker-a' } }, { '#o': 'holder' }), true);
  });

  it('refuses parentheses that wrap parentheses, and accepts the rest', () => {
    rejects(() => cond('((holder = :v))', { ':v': { S: 'x' } }), 'Invalid ConditionExpression: The expression has redundant parentheses;');
    assert.equal(holds('(holder = :v)', { ':v': { S: 'worker-a' } }), true);
    assert.equal(holds('((holder = :v) AND (flag = :t))', { ':v': { S: 'worker-a' }, ':t': { BOOL: true } }), true);
  });

  it('answers any input with a result or a ValidationException, never another error (property)', () => {
    const token = fc.constantFrom('a', '#n', ':v', '(', ')', '[', ']', '0', '12', ',', '.', '=', '<>', '<', '>=', '+', '-', 'AND', 'OR', 'NOT',
      'BETWEEN', 'IN', 'SET', 'REMOVE', 'ADD', 'DELETE', 'size', 'contains', 'attribute_exists', 'if_not_exists', 'list_append', '$', ' ');
    const names = { '#n': 'holder' };
    const values: Record<string, AttributeValue> = { ':v': { N: '1' } };
    fc.assert(
      fc.property(fc.array(token, { maxLength: 14 }), (tokens) => {
        const src = tokens.join(' ');
        for (const parse of [
          () => evaluate(parseCondition(src, 'ConditionExpression', placeholders(names, values)), item),
          () => applyUpdate(item, parseUpdate(src, placeholders(names, values))),
          () => project(item, parseProjection(src, placeholders(names, values))),
        ]) {
          try {
            parse();
          } catch (err) {
            if (!(err instanceof ValidationException)) throw err;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('finds unused placeholders', () => {
    const ph = placeholders({ '#a': 'holder', '#b': 'x' }, { ':v': { S: 'x' }, ':w': { S: 'y' } });
    parseCondition('#a = :v', 'ConditionExpression', ph);
    rejects(() => checkPlaceholdersUsed(ph), 'Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}');
    ph.usedNames.add('#b');
    rejects(() => checkPlaceholdersUsed(ph), 'Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}');
  });

  it('evaluates NOT as the negation of any condition (property)', () => {
    const ops = ['=', '<>', '<', '<=', '>', '>='];
    fc.assert(
      fc.property(fc.integer({ min: -50, max: 50 }), fc.constantFrom(...ops), (n, op) => {
        const values = { ':v': { N: String(n) } };
        return holds(`NOT leaseCounter ${op} :v`, values) === !holds(`leaseCounter ${op} :v`, values);
      }),
    );
  });

  it('orders numbers as decimals, not as text (property)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (a, b) => {
        const on: AttributeMap = { n: { N: String(a) } };
        return evaluate(cond('n < :b', { ':b': { N: String(b) } }), on) === a < b;
      }),
    );
  });
});

describe('update expressions', () => {
  function update(src: string, values: Record<string, AttributeValue> = {}, on: AttributeMap = item, names?: Record<string, string>): AttributeMap {
    const actions = parseUpdate(src, placeholders(names, values));
    checkUpdateActions(actions);
    checkKeyUpdates(actions, ['id']);
    return applyUpdate(on, actions);
  }

  it('SETs with arithmetic, if_not_exists and list_append, reading the old item', () => {
    const out = update('SET leaseCounter = leaseCounter + :one, copied = leaseCounter, lst = list_append(things, :more), c = if_not_exists(c, :zero)', {
      ':one': { N: '1' },
      ':more': { L: [{ S: 'three' }] },
      ':zero': { N: '0' },
    });
    assert.deepEqual(out.leaseCounter, { N: '8' });
    assert.deepEqual(out.copied, { N: '7' });
    assert.deepEqual(out.lst, { L: [{ S: 'one' }, { N: '2' }, { S: 'three' }] });
    assert.deepEqual(out.c, { N: '0' });
    // The input item is not changed.
    assert.deepEqual(item.leaseCounter, { N: '7' });
  });

  it('adds decimals exactly', () => {
    const out = update('SET a = :x + :y, b = :x - :y', { ':x': { N: '0.1' }, ':y': { N: '0.2' } }, {});
    assert.deepEqual(out.a, { N: '0.3' });
    assert.deepEqual(out.b, { N: '-0.1' });
    const big = update('SET a = :x + :y', { ':x': { N: '99999999999999999999999999999999999998' }, ':y': { N: '1' } }, {});
    assert.deepEqual(big.a, { N: '99999999999999999999999999999999999999' });
  });

  it('REMOVEs attributes and things elements, ADDs numbers and sets, DELETEs from sets', () => {
    const out = update('REMOVE holder, things[0] ADD leaseCounter :two, parents :p, fresh :n DELETE nums :d', {
      ':two': { N: '2' },
      ':p': { SS: ['p3', 'p1'] },
      ':n': { N: '5' },
      ':d': { NS: ['2.5'] },
    });
    assert.equal(out.holder, undefined);
    assert.deepEqual(out.things, { L: [{ N: '2' }] });
    assert.deepEqual(out.leaseCounter, { N: '9' });
    assert.deepEqual(out.parents, { SS: ['p1', 'p2', 'p3'] });
    assert.deepEqual(out.fresh, { N: '5' });
    assert.deepEqual(out.nums, { NS: ['1'] });
    const both = update('REMOVE things[0], things[1]');
    assert.deepEqual(both.things, { L: [] });
    const emptied = update('DELETE parents :p', { ':p': { SS: ['p1', 'p2'] } });
    assert.equal(emptied.parents, undefined);
  });

  it('SETs nested paths and appends past the end of a things', () => {
    const out = update('SET doc.a.z = :v, things[9] = :v', { ':v': { S: 'new' } });
    assert.deepEqual(out.doc!.M!.a!.M!.z, { S: 'new' });
    assert.deepEqual(out.things!.L![2], { S: 'new' });
  });

  it('refuses what DynamoDB refuses', () => {
    rejects(() => update('SET a = :v SET b = :v', { ':v': { S: 'x' } }), 'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;');
    rejects(
      () => update('SET a = :v, a.b = :v', { ':v': { S: 'x' } }),
      'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]',
    );
    rejects(() => update('ADD a :v', { ':v': { S: 'x' } }), 'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING');
    rejects(() => update('SET id = :v', { ':v': { S: 'x' } }), 'One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key');
    rejects(() => update('SET a = absent'), 'The provided expression refers to an attribute that does not exist in the item');
    rejects(() => update('SET a = holder + :one', { ':one': { N: '1' } }), 'An operand in the update expression has an incorrect data type');
    rejects(() => update('SET nope.deeper = :v', { ':v': { S: 'x' } }), 'The document path provided in the update expression is invalid for update');
    rejects(() => update('SET a = attribute_exists(b)'), /The function is not allowed in an update expression; function: attribute_exists/);
    rejects(() => update('SET a'), 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "a"');
  });
});

describe('attribute names that are also JavaScript property names', () => {
  it('are plain attributes', () => {
    const names = { '#p': '__proto__', '#c': 'constructor', '#s': 'toString' };
    assert.equal(holds('attribute_exists(#c) OR attribute_exists(#s) OR attribute_exists(#p)', {}, names), false);
    const actions = parseUpdate('SET #p = :v, #c = :v', placeholders({ '#p': '__proto__', '#c': 'constructor' }, { ':v': { S: 'x' } }));
    const out = applyUpdate({}, actions);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.keys(out).sort(), ['__proto__', 'constructor']);
    assert.deepEqual(itemFromJson(itemToJson(out)), out);
    assert.equal(evaluate(parseCondition('#p = :v', 'ConditionExpression', placeholders({ '#p': '__proto__' }, { ':v': { S: 'x' } })), out), true);
    const projected = project(out, parseProjection('#p', placeholders({ '#p': '__proto__' })));
    assert.deepEqual(Object.keys(projected), ['__proto__']);
  });
});

describe('projection expressions', () => {
  it('keeps only the projected paths, packing things elements', () => {
    const paths = parseProjection('holder, doc.a.b[2].c, things[1], nope', placeholders());
    assert.deepEqual(project(item, paths), {
      holder: { S: 'worker-a' },
      doc: { M: { a: { M: { b: { L: [{ M: { c: { S: 'deep' } } }] } } } } },
      things: { L: [{ N: '2' }] },
    });
  });
});
