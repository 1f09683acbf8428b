/**
 * The imports of src/ follow the stage order written in docs/architecture.md: a stage imports only from itself
 * and from stages before it. The order is read from the doc, so the doc and this test cannot drift apart.
 * Imports are read with TypeScript's own parser (static, `export … from`, `import type` and dynamic `import()`).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

/**
 * Arrows against the flow allowed for now, each with the issue item that removes it; none are left (issue 15
 * removed the last). An entry must still exist (a stale one fails), so the list can only shrink.
 */
const KNOWN_BACKWARD_IMPORTS: readonly { from: string; to: string; removedBy: string }[] = [];

export interface Import {
  /** Both relative to src/, with `/`. */
  from: string;
  to: string;
}

/** The folders of the `## Stage order` section, in order: its `1. \`folder\`` lines. */
export function stageOrder(markdown: string): string[] {
  const section = /^## Stage order\n([\s\S]*?)(?=^## |$(?![\s\S]))/m.exec(markdown);
  if (!section) throw new Error('docs/architecture.md has no "## Stage order" section');
  return [...section[1]!.matchAll(/^\d+\. `([a-z0-9-]+)`/gm)].map((m) => m[1]!);
}

/** Every relative module specifier of one TypeScript file, resolved to a path under `root`. */
export function importsOf(file: string, text: string, root: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) specifiers.push(arg.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      specifiers.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  const toPosix = (p: string): string => p.split(sep).join('/');
  return specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => ({ from: toPosix(relative(root, file)), to: toPosix(relative(root, resolve(dirname(file), s))).replace(/\.js$/, '.ts') }));
}

const stageOf = (path: string): string => path.split('/')[0]!;

/** Imports that point from a stage to a later one in `order`. */
export function backwardImports(imports: readonly Import[], order: readonly string[]): Import[] {
  return imports.filter((i) => order.indexOf(stageOf(i.to)) > order.indexOf(stageOf(i.from)));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

const key = (i: Import): string => `${i.from} → ${i.to}`;

describe('the import graph of src/', () => {
  const order = stageOrder(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));
  const imports = sourceFiles(SRC).flatMap((f) => importsOf(f, readFileSync(f, 'utf8'), SRC));

  it('places every folder of src/ in the stage order of docs/architecture.md, and only those', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    assert.deepEqual([...order].sort(), folders);
  });

  it('has no import from a stage to a later stage, beyond the named ones an issue item removes', () => {
    const known = new Set(KNOWN_BACKWARD_IMPORTS.map(key));
    const found = backwardImports(imports, order).map(key);
    assert.deepEqual([...new Set(found.filter((k) => !known.has(k)))].sort(), [], 'imports against the stage order of docs/architecture.md');
    assert.deepEqual([...known].filter((k) => !found.includes(k)).sort(), [], 'known backward imports that are gone: remove them from the list');
  });

  it('resolves every relative import to a file of src/', () => {
    const files = new Set(sourceFiles(SRC).map((f) => relative(SRC, f).split(sep).join('/')));
    assert.deepEqual(imports.filter((i) => !files.has(i.to)).map(key), []);
  });
});

describe('the import graph check', () => {
  it('reads the stage order from the numbered folder lines of its section only', () => {
    const doc = '# A\n1. `not-this`\n## Stage order\ntext\n1. `contracts` — shapes\n2. `decode` — formats\n10. `cli` — commands\n## Known\n1. `nor-this`\n';
    assert.deepEqual(stageOrder(doc), ['contracts', 'decode', 'cli']);
  });

  it('finds static, re-exported, type-only and dynamic imports, and flags only those pointing to a later stage', () => {
    const root = '/r/src';
    const text = [
      "import { a } from '../contracts/a.js';",
      "export { b } from './b.js';",
      "import type { C } from '../parse/c.js';",
      "type D = import('../store/d.js').D;",
      "const e = await import('../../src/cli/e.js');",
      "import { z } from 'zod';",
    ].join('\n');
    const found = importsOf('/r/src/decode/x.ts', text, root);
    assert.deepEqual(found.map((i) => i.to), ['contracts/a.ts', 'decode/b.ts', 'parse/c.ts', 'store/d.ts', 'cli/e.ts']);
    assert.deepEqual(backwardImports(found, ['contracts', 'decode', 'parse', 'store', 'cli']).map((i) => i.to), ['parse/c.ts', 'store/d.ts', 'cli/e.ts']);
  });
});
