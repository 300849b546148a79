/**
 * The import graph of a TypeScript source tree, type-only imports included, and the circles in it:
 * between files, and between the top-level folders of the tree. Pure functions over file texts,
 * so that the rules can be checked on the real tree and on small made-up ones alike.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Each file (relative to the root, with '/') and the files it imports, in the same tree. */
export type ImportGraph = Map<string, Set<string>>;

/** Every `.ts` file below `root`, relative to it, sorted. */
export function listSources(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(root);
  return out;
}

/**
 * The relative module specifiers a file's text names: imports and re-exports, `import type`,
 * `import('…')` types and dynamic imports alike.
 */
export function specifiersOf(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  const found = info.importedFiles.map((f) => f.fileName);
  // preProcessFile misses `import('…')` used as a type inside a declaration; scan for it too.
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return [...new Set(found)].filter((s) => s.startsWith('.'));
}

/** Builds the graph from file texts keyed by their relative path. Specifiers name `.js` files. */
export function buildGraph(files: ReadonlyMap<string, string>): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const [file, text] of files) {
    const deps = new Set<string>();
    for (const spec of specifiersOf(text)) {
      const joined = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      const candidates = [joined.replace(/\.js$/, '.ts'), `${joined}.ts`, `${joined}/index.ts`];
      const target = candidates.find((c) => files.has(c));
      if (target && target !== file) deps.add(target);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** Reads a tree from disk into the graph. */
export function graphOfTree(root: string): ImportGraph {
  const files = new Map<string, string>();
  for (const f of listSources(root)) files.set(f, readFileSync(path.join(root, f), 'utf8'));
  return buildGraph(files);
}

/** The strongly connected components with more than one member (Tarjan), each sorted. */
export function circles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  // Iterative, so that a long chain of imports cannot overflow the call stack.
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { node: string; edges: string[]; next: number }[] = [];
    const enter = (node: string) => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, edges: [...(graph.get(node) ?? [])], next: 0 });
    };
    enter(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.next < frame.edges.length) {
        const to = frame.edges[frame.next++]!;
        if (!index.has(to)) enter(to);
        else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = graph.get(frame.node)?.has(frame.node) ?? false;
        if (component.length > 1 || selfLoop) out.push(component.sort());
      }
    }
  }
  return out.sort((a, b) => b.length - a.length || (a[0]! < b[0]! ? -1 : 1));
}

/** The top-level folder of a file (`kinesis/operations/x.ts` → `kinesis`); a file at the root is its own. */
export function folderOf(file: string): string {
  const slash = file.indexOf('/');
  return slash < 0 ? file.replace(/\.ts$/, '') : file.slice(0, slash);
}

/** The graph between top-level folders, with, for each edge, one file import that makes it. */
export function folderGraph(graph: ImportGraph): { graph: Map<string, Set<string>>; witness: Map<string, string> } {
  const folders = new Map<string, Set<string>>();
  const witness = new Map<string, string>();
  for (const [file, deps] of graph) {
    const from = folderOf(file);
    if (!folders.has(from)) folders.set(from, new Set());
    for (const dep of deps) {
      const to = folderOf(dep);
      if (to === from) continue;
      folders.get(from)!.add(to);
      if (!witness.has(`${from} -> ${to}`)) witness.set(`${from} -> ${to}`, `${file} -> ${dep}`);
    }
  }
  return { graph: folders, witness };
}

/**
 * Module-level state: a top-level `new WeakMap/WeakSet` anywhere, or a top-level `new Map/Set`
 * that is not a fixed table (declared `ReadonlyMap`/`ReadonlySet` and built from its entries).
 * Returns `file:line: text` for each.
 */
export function moduleLevelState(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const decl of statement.declarationList.declarations) {
      const init = decl.initializer;
      if (!init || !ts.isNewExpression(init) || !ts.isIdentifier(init.expression)) continue;
      const kind = init.expression.text;
      if (!['Map', 'Set', 'WeakMap', 'WeakSet'].includes(kind)) continue;
      const typed = decl.type?.getText(source) ?? '';
      const fixedTable =
        (kind === 'Map' || kind === 'Set') && (init.arguments?.length ?? 0) > 0 && /^Readonly(Map|Set)\b/.test(typed);
      if (fixedTable) continue;
      const line = source.getLineAndCharacterOfPosition(decl.getStart(source)).line + 1;
      found.push(`${file}:${line}: ${decl.getText(source).split('\n')[0]}`);
    }
  }
  return found;
}
