/**
 * Runs the built action exactly as the GitHub runner does: `node dist/index.js` with the
 * inputs as INPUT_* variables and the runner's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
 * GITHUB_STATE) in a fresh RUNNER_TEMP. Returns what a workflow would see.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface ActionRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  runnerTemp: string;
  /** `::error …::message` lines, message part only. */
  errors: string[];
}

export interface RunOptions {
  inputs: Record<string, string>;
  env?: Record<string, string | undefined>;
  workspace: string;
  sha?: string;
  entry?: string;
  /** For the post step: the state main saved. */
  state?: Record<string, string>;
  /** Called once the process has started, e.g. to send it a signal later. */
  onStart?(child: import('node:child_process').ChildProcess): void;
  timeoutMs?: number;
}

let root: string | undefined;
/**
 * Every run's RUNNER_TEMP lives under one folder per test process, removed when the process
 * exits, so tests can read a run's files until the end and nothing piles up in /tmp.
 */
function runsRoot(): string {
  if (root === undefined) {
    const made = mkdtempSync(path.join(os.tmpdir(), 'ecs-deploy-e2e-'));
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    root = made;
  }
  return root;
}

/** Parses the runner's `name<<DELIM\nvalue\nDELIM` file format. */
export function parseRunnerFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc as unknown as [string, string, string];
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i] as string);
      out[name] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

export async function runAction(opts: RunOptions): Promise<ActionRun> {
  const runnerTemp = await mkdtemp(path.join(runsRoot(), 'run-'));
  const files = {
    GITHUB_OUTPUT: path.join(runnerTemp, 'output'),
    GITHUB_STEP_SUMMARY: path.join(runnerTemp, 'summary.md'),
    GITHUB_STATE: path.join(runnerTemp, 'state'),
    GITHUB_ENV: path.join(runnerTemp, 'env'),
  };
  await Promise.all(Object.values(files).map((f) => writeFile(f, '')));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? runnerTemp,
    DOCKER_CONFIG: path.join(runnerTemp, 'docker-config'),
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_SHA: opts.sha ?? '1234567890abcdef1234567890abcdef12345678',
    GITHUB_REPOSITORY: 'octo/app',
    GITHUB_RUN_ID: '1',
    GITHUB_SERVER_URL: 'http://127.0.0.1:9',
    RUNNER_TEMP: runnerTemp,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...files,
  };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  for (const [name, value] of Object.entries(opts.inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  // The runner hands what main saved (GITHUB_STATE) to the post step as STATE_<name>.
  for (const [name, value] of Object.entries(opts.state ?? {})) env[`STATE_${name}`] = value;
  const entry = opts.entry ?? path.resolve('dist/index.js');
  const child = spawn(process.execPath, [entry], {
    cwd: opts.workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  opts.onStart?.(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  const read = (f: string) => readFile(f, 'utf8').catch(() => '');
  const errors = stdout
    .split('\n')
    .filter((l) => l.startsWith('::error'))
    .map((l) => l.slice(l.indexOf('::', 2) + 2));
  return {
    code,
    signal,
    stdout,
    stderr,
    outputs: parseRunnerFile(await read(files.GITHUB_OUTPUT)),
    state: parseRunnerFile(await read(files.GITHUB_STATE)),
    summary: await read(files.GITHUB_STEP_SUMMARY),
    runnerTemp,
    errors,
  };
}

/** Runs the post step (dist/post/index.js) with what a main run saved, as the runner does. */
export function runPost(
  main: ActionRun,
  opts: Omit<RunOptions, 'entry' | 'state' | 'inputs'>,
): Promise<ActionRun> {
  return runAction({ ...opts, inputs: {}, state: main.state, entry: path.resolve('dist/post/index.js') });
}
