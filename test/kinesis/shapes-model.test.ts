import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as sdk from '@aws-sdk/client-kinesis';
import { kinesisShapes } from '../../src/kinesis/shapes.js';
import type { Shape, StructureShape } from '../../src/protocol/shape.js';

/**
 * The Kinesis shape table against the current AWS SDK's model (the schema @aws-sdk/client-kinesis
 * serializes with): every operation the SDK knows, each member of each input by name, its kind,
 * and whether it is required, at any depth. (The SDK's schema carries no lengths, patterns or
 * enums; those follow the published API reference, and the validation tests pin their messages.)
 */

/** A schema as the SDK writes it: a simple type code, a list/map/structure tuple, or a thunk of either. */
type Schema = number | (() => Schema) | readonly unknown[];

const STRUCTURE = 3;
const LIST = 1;
const MAP = 2;
const OPERATION = 9;
const LIST_OF = 64;
const MAP_OF = 128;

function resolve(s: Schema): number | readonly unknown[] {
  return typeof s === 'function' ? resolve(s()) : s;
}

/** The kind of a shape of ours that an SDK schema corresponds to. */
function kindOf(s: Schema): string {
  const r = resolve(s);
  if (typeof r === 'number') {
    if (r & MAP_OF) return 'map';
    if (r & LIST_OF) return 'list';
    if (r === 0) return 'string';
    if (r === 1) return 'number';
    if (r === 2) return 'boolean';
    if (r === 21) return 'blob';
    if (r >= 4 && r <= 7) return 'timestamp';
    return `code ${r}`;
  }
  if (r[0] === STRUCTURE) return 'structure';
  if (r[0] === LIST) return 'list';
  if (r[0] === MAP) return 'map';
  // A member schema with traits: [schema, traits].
  return kindOf(r[0] as Schema);
}

function ourKind(s: Shape): string {
  return s.kind === 'integer' || s.kind === 'long' || s.kind === 'double' ? 'number' : s.kind;
}

/** The element schema of a list, or the value schema of a map. */
function elementOf(s: Schema): Schema | undefined {
  const r = resolve(s);
  if (typeof r === 'number') return r & MAP_OF ? r & ~MAP_OF : r & LIST_OF ? r & ~LIST_OF : undefined;
  if (r[0] === LIST) return r[4] as Schema;
  if (r[0] === MAP) return r[5] as Schema;
  if (r[0] !== STRUCTURE) return elementOf(r[0] as Schema);
  return undefined;
}

function compare(ours: Shape, theirs: Schema, at: string, out: string[], depth: number): void {
  const kind = kindOf(theirs);
  if (ourKind(ours) !== kind) {
    out.push(`${at}: ours ${ours.kind} / SDK ${kind}`);
    return;
  }
  if (depth > 8) return;
  if (ours.kind === 'list') compare(ours.member, elementOf(theirs)!, `${at}.member`, out, depth + 1);
  else if (ours.kind === 'map') compare(ours.value, elementOf(theirs)!, `${at}.value`, out, depth + 1);
  else if (ours.kind === 'structure') compareStructure(ours, theirs, at, out, depth + 1);
}

/** How many members were compared, so that the test shows it looked. */
const compared = { count: 0 };

function compareStructure(ours: StructureShape, theirs: Schema, at: string, out: string[], depth: number): void {
  let r = resolve(theirs) as readonly unknown[];
  if (r[0] !== STRUCTURE) r = resolve(r[0] as Schema) as readonly unknown[];
  const names = r[4] as readonly string[];
  const schemas = r[5] as readonly Schema[];
  // The SDK lists the required members first and counts them last.
  const requiredCount = typeof r[6] === 'number' ? r[6] : 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const mine = ours.byName.get(name);
    compared.count++;
    if (!mine) {
      out.push(`${at}.${name}: missing from ours`);
      continue;
    }
    if (mine.required !== i < requiredCount) out.push(`${at}.${name}: required ours ${mine.required} / SDK ${i < requiredCount}`);
    compare(mine.shape, schemas[i]!, `${at}.${name}`, out, depth);
  }
  for (const m of ours.members) if (!names.includes(m.name)) out.push(`${at}.${m.name}: not in the SDK's model`);
}

const operations = Object.entries(sdk as unknown as Record<string, unknown>)
  .filter(([name, v]) => name.endsWith('$') && Array.isArray(v) && v[0] === OPERATION)
  .map(([name, v]) => [name.slice(0, -1), v as readonly unknown[]] as const);

test("every Kinesis operation's input shape has the SDK model's members, kinds and required members", () => {
  assert.ok(operations.length >= 40, `the SDK lists ${operations.length} operations`);
  const out: string[] = [];
  for (const [op, schema] of operations) {
    const ours = kinesisShapes.get(op);
    if (!ours) {
      out.push(`${op}: no shape of ours`);
      continue;
    }
    compareStructure(ours, schema[4] as Schema, op, out, 0);
  }
  const known = new Set(operations.map(([op]) => op));
  for (const op of kinesisShapes.keys()) if (!known.has(op)) out.push(`${op}: not in the SDK's model`);
  assert.deepEqual(out, []);
  assert.ok(compared.count >= 200, `${compared.count} members compared`);
});
