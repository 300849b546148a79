import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  buildGraph,
  circles,
  folderGraph,
  folderOf,
  graphOfTree,
  listSources,
  moduleLevelState,
  specifiersOf,
} from './import-graph.js';

// dist/test/architecture/ → the repository root, whose src/ holds the TypeScript sources.
const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

/** The folders of src/ that make up the server; the client library reaches none of them. */
const SERVER_SIDE = ['auth', 'cli', 'dynamodb', 'kinesis', 'metrics', 'protocol', 'server', 'settings', 'storage'];

describe('the import-graph reader', () => {
  it('reads value, type-only, re-export and dynamic imports', () => {
    const specs = specifiersOf(
      [
        "import { a } from './a.js';",
        "import type { B } from '../b.js';",
        "export { c } from './c.js';",
        "export type { D } from './d.js';",
        "const e = await import('./e.js');",
        "let f: import('./f.js').F;",
        "import x from 'node:fs';",
      ].join('\n'),
    );
    assert.deepEqual(specs.sort(), ['../b.js', './a.js', './c.js', './d.js', './e.js', './f.js']);
  });

  it('finds a circle through a type-only import, and none in a tree of layers', () => {
    const looped = buildGraph(
      new Map([
        ['k/service.ts', "import { plan } from './plan.js';"],
        ['k/plan.ts', "import type { Service } from './service.js';"],
        ['k/leaf.ts', "import { plan } from './plan.js';"],
      ]),
    );
    assert.deepEqual(circles(looped), [['k/plan.ts', 'k/service.ts']]);
    const layered = buildGraph(
      new Map([
        ['server/index.ts', "import { S } from '../k/service.js';"],
        ['k/service.ts', "import { plan } from './plan.js';\nimport { clock } from '../util/clock.js';"],
        ['k/plan.ts', "import type { Clock } from '../util/clock.js';"],
        ['util/clock.ts', ''],
      ]),
    );
    assert.deepEqual(circles(layered), []);
    assert.deepEqual(circles(folderGraph(layered).graph), []);
  });

  it('finds a circle of folders made of files that form no circle', () => {
    const graph = buildGraph(
      new Map([
        ['a/one.ts', "import { x } from '../b/two.js';"],
        ['b/two.ts', ''],
        ['b/three.ts', "import { y } from '../a/four.js';"],
        ['a/four.ts', ''],
      ]),
    );
    assert.deepEqual(circles(graph), []);
    assert.deepEqual(circles(folderGraph(graph).graph), [['a', 'b']]);
    assert.equal(folderOf('index.ts'), 'index');
    assert.equal(folderOf('kinesis/operations/put-record.ts'), 'kinesis');
  });

  it('tells module-level state from fixed tables', () => {
    const found = moduleLevelState(
      'x.ts',
      [
        'const cache = new Map<string, number>();',
        'const seen = new WeakMap<object, number>();',
        "const FIXED: ReadonlySet<string> = new Set(['a', 'b']);",
        "const untyped = new Set(['a']);",
        'function f() { const local = new Map(); return local; }',
      ].join('\n'),
    );
    assert.deepEqual(
      found.map((line) => line.split(':').slice(0, 2).join(':')),
      ['x.ts:1', 'x.ts:2', 'x.ts:4'],
    );
  });
});

describe('the layout of src/', () => {
  const graph = graphOfTree(SRC);

  it('reads the whole tree', () => {
    assert.ok(graph.size > 100, `only ${graph.size} files read from ${SRC}`);
    assert.ok(graph.get('server/index.ts')?.size, 'server/index.ts imports nothing?');
  });

  it('has no circle of files, type-only imports included', () => {
    assert.deepEqual(circles(graph), []);
  });

  it('has no circle of top-level folders', () => {
    const folders = folderGraph(graph);
    const found = circles(folders.graph).map((circle) => {
      const edges = [...folders.witness].filter(([edge]) => {
        const [from, to] = edge.split(' -> ');
        return circle.includes(from!) && circle.includes(to!);
      });
      return { circle, edges: edges.map(([edge, file]) => `${edge} (${file})`) };
    });
    assert.deepEqual(found, []);
  });

  it('keeps no state in module-level maps or sets', () => {
    const found = listSources(SRC).flatMap((file) => moduleLevelState(file, readFileSync(path.join(SRC, file), 'utf8')));
    assert.deepEqual(found, []);
  });

  it('keeps the client library free of the server', () => {
    const reached = [...graph]
      .filter(([file]) => folderOf(file) === 'client')
      .flatMap(([file, deps]) => [...deps].filter((dep) => SERVER_SIDE.includes(folderOf(dep))).map((dep) => `${file} -> ${dep}`));
    assert.deepEqual(reached, []);
  });
});

describe('the client commands of the CLI', () => {
  const graph = graphOfTree(SRC);
  /** The modules of `tributary put`, `tail`, `streams` and `shards`, which talk to any Kinesis endpoint. */
  const isClientCommand = (file: string) => file.startsWith('cli/commands/') || file === 'cli/client-options.ts' || file === 'cli/table.ts';

  it('reach only the client library and src/util/, never the server', () => {
    const commands = [...graph.keys()].filter(isClientCommand);
    assert.ok(commands.length >= 4, `only ${commands.length} client command modules found`);
    const reached = commands.flatMap((file) =>
      [...graph.get(file)!]
        .filter((dep) => !isClientCommand(dep) && folderOf(dep) !== 'client' && folderOf(dep) !== 'util')
        .map((dep) => `${file} -> ${dep}`),
    );
    assert.deepEqual(reached, []);
  });
});
