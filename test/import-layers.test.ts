/**
 * The layers of docs/architecture.md, checked over the import graph of src/: every relative import (static, type-only,
 * re-export or dynamic) between two top-level parts of src/ must go down the figure, and the parts must not import
 * each other in a cycle. A new top-level folder fails until it has a place in LAYERS; an exception must be listed in
 * EXCEPTIONS with its reason, and one that no longer occurs fails too (so the list shrinks as they are fixed).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');

/** Each part of src/ and the parts it may import directly (beyond itself). '*' = any part. */
const SHARED = ['lib', 'config', 'errors'];
const LAYERS: Record<string, readonly string[] | '*'> = {
  // Entry points: the memer command, the HTTP server, the benchmarks.
  cli: '*',
  server: '*',
  bench: '*',
  // GraphQL turns requests into service calls: the services, never the database or the ML core directly.
  graphql: ['domain', ...SHARED],
  domain: ['data', 'ml', 'media', 'datasets', 'generated', ...SHARED],
  data: ['generated', ...SHARED],
  ml: ['datasets', 'media', 'lib', 'errors'],
  // Raw media decoded to tensors (sharp, ffmpeg): no ML, no storage.
  media: ['lib', 'errors'],
  datasets: ['lib', 'errors'],
  // Shared by all; config reads the vocabulary and log levels from lib.
  config: ['lib', 'errors'],
  errors: [],
  lib: [],
  generated: [],
};

/** Known imports against the flow, by file (src-relative), each with why it is still there. */
const EXCEPTIONS: readonly { from: string; to: string; reason: string }[] = [
  {
    from: 'graphql/context.ts',
    to: 'server/metrics.ts',
    reason: 'type-only: the request context carries the server\'s per-request metrics (RequestInfo); the type belongs in src/graphql or src/lib, a move for whoever next edits src/server',
  },
];

interface Edge {
  from: string;
  to: string;
  spec: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : sourceFiles(path);
    return /\.(ts|mts|mjs|js)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORTS = [
  /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** The src-relative file an import names (`.js` written for a `.ts` file, as tsx resolves it). */
function target(file: string, spec: string): string {
  let path = resolve(dirname(file), spec);
  if (!existsSync(path) && path.endsWith('.js') && existsSync(path.replace(/\.js$/, '.ts'))) path = path.replace(/\.js$/, '.ts');
  return relative(src, path);
}

function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of IMPORTS) {
      for (const m of text.matchAll(pattern)) {
        if (!m[1].startsWith('.')) continue;
        const to = target(file, m[1]);
        if (to.startsWith('..')) continue;
        edges.push({ from: relative(src, file), to, spec: m[1] });
      }
    }
  }
  return edges;
}

/** The part of src/ a file belongs to: its top-level folder, or the file's name for a file at the top (errors.ts). */
const part = (path: string) => path.split('/')[0].replace(/\.[mc]?[jt]s$/, '');

const edges = importEdges();
const excepted = (e: Edge) => EXCEPTIONS.some((x) => x.from === e.from && x.to === e.to);

test('the import graph was read (the check is not vacuous)', () => {
  assert.ok(edges.length > 500, `only ${edges.length} imports found`);
  assert.ok(edges.some((e) => part(e.from) === 'ml' && part(e.to) === 'datasets'));
});

test('every part of src/ has a place in the layers', () => {
  const parts = new Set(readdirSync(src).filter((n) => n !== 'generated').map(part));
  for (const p of parts) assert.ok(p in LAYERS, `src/${p} is in no layer: add it to LAYERS in this file and to docs/architecture.md`);
});

test('imports point down the layers (docs/architecture.md), apart from the listed exceptions', () => {
  const wrong = edges.filter((e) => {
    const [a, b] = [part(e.from), part(e.to)];
    const allowed = LAYERS[a];
    return a !== b && allowed !== undefined && allowed !== '*' && !allowed.includes(b) && !excepted(e);
  });
  assert.deepEqual(
    wrong.map((e) => `src/${e.from} imports ${e.spec} (src/${part(e.from)} may import ${(LAYERS[part(e.from)] as string[]).join(', ') || 'nothing of ours'})`),
    [],
  );
});

test('no two parts of src/ import each other, directly or through others', () => {
  const graph = new Map<string, Set<string>>();
  for (const e of edges) {
    const [a, b] = [part(e.from), part(e.to)];
    if (a === b || excepted(e)) continue;
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(b);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (node: string, path: string[]) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      cycles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
      return;
    }
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node, []);
  const witnesses = cycles.map((c) => {
    const [a, b] = c.split(' -> ');
    const e = edges.find((x) => part(x.from) === a && part(x.to) === b);
    return `${c} (e.g. src/${e?.from} imports ${e?.spec})`;
  });
  assert.deepEqual(witnesses, []);
});

test('every listed exception still occurs', () => {
  for (const x of EXCEPTIONS) assert.ok(edges.some((e) => e.from === x.from && e.to === x.to), `src/${x.from} no longer imports src/${x.to}: remove the exception`);
});
