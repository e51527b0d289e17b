/**
 * The layout's rules, checked on the sources: no import circle anywhere in src/ (type-only
 * imports count too), no run imports another run, and no stage or strategy imports a run.
 * Imports are read with the TypeScript compiler's own pre-processor.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const SRC = path.resolve('src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

/** Each source file's imports of other source files (relative `./x.js` → `x.ts`). */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const deps = info.importedFiles
      .map((f) => f.fileName)
      .filter((f) => f.startsWith('.'))
      .map((f) => path.resolve(path.dirname(file), f.replace(/\.js$/, '.ts')))
      .filter((f) => files.includes(f));
    graph.set(file, deps);
  }
  return graph;
}

/** Every import circle, each as the files around it. */
export function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 'open') found.push([...stack.slice(stack.indexOf(dep)), dep]);
      else if (state.get(dep) === undefined) visit(dep);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (state.get(file) === undefined) visit(file);
  return found;
}

const rel = (f: string) => path.relative(SRC, f);
const graph = importGraph(sources(SRC));

describe('src/ layout', () => {
  it('has no import circle', () => {
    expect(cycles(graph).map((c) => c.map(rel).join(' → '))).toEqual([]);
  });

  it('finds a circle when there is one (the check itself can fail)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('no run imports another run, and nothing but main imports a run', () => {
    const upward: string[] = [];
    for (const [file, deps] of graph) {
      for (const dep of deps) {
        if (rel(dep).startsWith('runs/') && rel(file) !== 'main.ts')
          upward.push(`${rel(file)} → ${rel(dep)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('stages and strategies never import main, a run or the post step', () => {
    const top = new Set(['main.ts', 'post.ts', 'cleanup.ts']);
    const bad: string[] = [];
    for (const [file, deps] of graph) {
      if (!/^(stages|deploy)\//.test(rel(file))) continue;
      for (const dep of deps)
        if (top.has(rel(dep)) || rel(dep).startsWith('runs/')) bad.push(`${rel(file)} → ${rel(dep)}`);
    }
    expect(bad).toEqual([]);
  });
});
