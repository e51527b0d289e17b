import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { INPUTS } from '../../src/inputs.js';

interface ActionYaml {
  inputs: Record<string, { description: string; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}
const action = parse(readFileSync('action.yml', 'utf8')) as ActionYaml;
const readme = readFileSync('README.md', 'utf8');

/** Rows of the first table after a `## heading`: first cell (without backticks) → cells. */
function table(heading: string): Map<string, string[]> {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start).toBeGreaterThan(-1);
  const rows = new Map<string, string[]>();
  const lines = readme.slice(start).split('\n').slice(2);
  let seen = false;
  for (const line of lines) {
    if (!line.startsWith('|')) {
      if (seen) break;
      continue;
    }
    seen = true;
    const cells = line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim());
    const name = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (name) rows.set(name, cells);
  }
  return rows;
}

describe('README and action.yml agree', () => {
  it('lists every input, and no other, with its default', () => {
    const rows = table('Inputs');
    expect([...rows.keys()].sort()).toEqual(Object.keys(action.inputs).sort());
    for (const [name, spec] of Object.entries(action.inputs)) {
      const shown = rows.get(name)?.[1] ?? '';
      expect([name, shown]).toEqual([name, spec.default === undefined ? '' : `\`${spec.default}\``]);
    }
  });

  it('declares each input once in src/inputs.ts, as action.yml does: same names, order and defaults', () => {
    expect(INPUTS.map((i) => i.name)).toEqual(Object.keys(action.inputs));
    expect(INPUTS.map((i) => [i.name, i.default])).toEqual(
      Object.entries(action.inputs).map(([name, spec]) => [name, spec.default]),
    );
  });

  it('the README table lists exactly the declared inputs, with their defaults', () => {
    const rows = table('Inputs');
    expect([...rows.keys()].sort()).toEqual(INPUTS.map((i) => i.name).sort());
    for (const i of INPUTS) {
      expect([i.name, rows.get(i.name)?.[1]]).toEqual([
        i.name,
        i.default === undefined ? '' : `\`${i.default}\``,
      ]);
    }
  });

  it('lists every output, and no other', () => {
    expect([...table('Outputs').keys()].sort()).toEqual(Object.keys(action.outputs).sort());
  });

  it('documents every input and output in action.yml', () => {
    for (const [name, spec] of [...Object.entries(action.inputs), ...Object.entries(action.outputs)]) {
      expect([name, spec.description.trim().length > 10]).toEqual([name, true]);
    }
  });

  it('runs on node24 from dist/', () => {
    expect(action.runs).toMatchObject({ using: 'node24', main: 'dist/index.js' });
  });
});
