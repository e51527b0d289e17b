/**
 * A failed deployment, read as its user reads it: the built action (dist/index.js) against
 * the local endpoint, for CodeDeploy blue/green and an ECS rolling update. Each failure must
 * give ONE `::error` whose first words are the cause, followed by where production is and how
 * the rollback ended; the summary's headline says the state production is in, the Watch
 * stage is ❌ with that cause, and a crashed container's own lines appear in the log and the
 * summary. No Docker needed: the image is given, and the endpoint scripts what containers print.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { cp, mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CallRecord, Emulator } from '../../emulator/index.js';
import { runAction, type ActionRun } from './support/action.js';
import { awsEnv, CLUSTER, serviceState, startWorld } from './support/world.js';

const SPEED = 60;
let emulator: Emulator;
let workspace: string;

const IMAGE = '127.0.0.1:5000/example-app:v0';

const blueGreen = (extra: Record<string, string> = {}) => ({
  'task-definition': 'example-app/task-definition.json',
  'codedeploy-appspec': 'example-app/appspec.yaml',
  cluster: CLUSTER,
  service: 'web',
  image: IMAGE,
  'poll-interval-seconds': '1',
  ...extra,
});

const rolling = (extra: Record<string, string> = {}) =>
  blueGreen({
    'codedeploy-appspec': '',
    'task-definition-family': 'example-rolling',
    service: 'rolling',
    ...extra,
  });

beforeAll(async () => {
  workspace = await realpath(await mkdtemp(path.join(os.tmpdir(), 'ecs-deploy-failures-')));
  await cp(path.resolve('example-app'), path.join(workspace, 'example-app'), {
    recursive: true,
    filter: (src) => !/\/example-app\/(node_modules|infra)(\/|$)/.test(src),
  });
  emulator = await startWorld(undefined, SPEED);
}, 60_000);

afterAll(async () => {
  await emulator?.stop();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

beforeEach(() => {
  emulator.faults.clear();
  emulator.clock.speed = SPEED;
  // What an earlier test left to AWS (a rollback, draining tasks) ends, as an hour would.
  emulator.clock.advance(60 * 60_000);
});

async function run(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({ inputs, workspace, env: awsEnv(emulator), timeoutMs: 120_000 });
}

const short = (arn: string | undefined) => (arn ?? '').replace(/^.*:task-definition\//, '');
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The `::error` lines: one, the cause first. */
function onlyError(r: ActionRun): string {
  expect({ errors: r.errors.length, log: r.errors.length === 1 ? '' : r.stdout.slice(-3000) }).toEqual({
    errors: 1,
    log: '',
  });
  return r.errors[0] as string;
}

/** The summary's stage table as [stage, mark] pairs. */
function stageMarks(summary: string): [string, string][] {
  return summary
    .split('\n')
    .filter((l) => /^\| [A-Z][^|]* \| (✅|❌|⏭️)/.test(l))
    .map((l) => {
      const cells = l.split('|').map((c) => c.trim());
      return [cells[1] as string, (cells[2] as string).split(' ')[0] as string];
    });
}

/** No line of the run's output appears twice (group markers and blank lines aside). */
function repeatedLines(stdout: string): string[] {
  const seen = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '' || line.startsWith('::endgroup::') || line.startsWith('::add-mask::')) continue;
    seen.set(line, (seen.get(line) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([l]) => l);
}

describe('CodeDeploy blue/green', () => {
  it('a failing hook: the hook and its message first, production still on the old revision, the rollback succeeded', async () => {
    const before = (await serviceState(emulator, 'web'))?.taskSets?.find(
      (s) => s.status === 'PRIMARY',
    )?.taskDefinition;
    emulator.faults.failLifecycleEvent('AfterAllowTestTraffic', 'smoke test: GET /health returned 503');
    const r = await run(blueGreen());
    expect(r.code).toBe(1);
    const error = onlyError(r);
    expect(error).toMatch(
      new RegExp(
        `^The AfterAllowTestTraffic hook example-app-smoke-test failed: smoke test: GET /health returned 503; production still serves ${esc(short(before))}; the rollback deployment d-\\w+ to ${esc(short(before))} succeeded\\.$`,
      ),
    );
    expect(r.summary).toContain(`**Production still serves ${short(before)} (rolled back).**`);
    expect(stageMarks(r.summary)).toContainEqual(['Watch', '❌']);
    expect(r.summary).toMatch(
      /\| Watch \| ❌ failed \| [^|]+ \| The AfterAllowTestTraffic hook example-app-smoke-test failed: smoke test: GET \/health returned 503 \|$/m,
    );
    expect(r.summary).toContain('### What went wrong');
    expect(r.stdout).toContain('::group::What went wrong');
    expect(repeatedLines(r.stdout)).toEqual([]);
  }, 90_000);

  it('a crashing container: its own last lines in the log and the summary; the old tasks keep serving', async () => {
    const before = (await serviceState(emulator, 'web'))?.taskSets?.find(
      (s) => s.status === 'PRIMARY',
    )?.taskDefinition;
    emulator.scriptContainers({
      family: 'example-app',
      container: 'web',
      lines: ['starting example-app', "Error: Cannot find module 'express'", '::error::not a command'],
    });
    emulator.faults.crashTasks('example-app', 'Essential container in task exited');
    const r = await run(blueGreen());
    expect(r.code).toBe(1);
    const error = onlyError(r);
    expect(error).toMatch(/^\d+ new tasks? of example-app:\d+ stopped: .*Essential container in task exited/);
    expect(error).toContain(`production still serves ${short(before)}`);
    expect(error).toMatch(/the rollback deployment d-\w+ .*succeeded\.$/);
    expect(r.stdout).toContain('::group::Container logs');
    expect(r.stdout).toMatch(/--- container web of task \w+ \(\/ecs\/example-app web\/web\/\w+\)/);
    expect(r.stdout).toContain("Error: Cannot find module 'express'");
    // What a container prints can never become a workflow command.
    expect(r.stdout).not.toMatch(/^::error::not a command/m);
    expect(r.summary).toContain("Error: Cannot find module 'express'");
    expect(r.summary).toMatch(/\*\*container web of task \w+/);
    expect(stageMarks(r.summary)).toContainEqual(['Watch', '❌']);
    expect(repeatedLines(r.stdout)).toEqual([]);
  }, 90_000);

  it('container-log-lines 0: no container logs are read', async () => {
    emulator.faults.crashTasks('example-app', 'Essential container in task exited');
    const from = emulator.calls.length;
    const r = await run(blueGreen({ 'container-log-lines': '0' }));
    expect(r.code).toBe(1);
    onlyError(r);
    expect(emulator.calls.slice(from).filter((c) => c.service === 'logs')).toEqual([]);
    expect(r.stdout).not.toContain('::group::Container logs');
  }, 90_000);

  it('a timeout: stopped with rollback, the rollback followed to its end', async () => {
    emulator.clock.speed = 1;
    const before = (await serviceState(emulator, 'slow'))?.taskSets?.find(
      (s) => s.status === 'PRIMARY',
    )?.taskDefinition;
    // Once the action has stopped the deployment, let the rollback run at the usual speed.
    const from = emulator.calls.length;
    const speedUp = setInterval(() => {
      if (emulator.calls.slice(from).some((c) => c.operation === 'StopDeployment'))
        emulator.clock.speed = SPEED;
    }, 50);
    const r = await run(blueGreen({ service: 'slow', 'wait-for-minutes': '0.05' })).finally(() =>
      clearInterval(speedUp),
    );
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('timed-out');
    expect(emulator.calls.slice(from).filter((c) => c.operation === 'StopDeployment')).toHaveLength(1);
    const error = onlyError(r);
    expect(error).toMatch(
      /^CodeDeploy deployment d-\w+ did not finish within 3 s \(last status \w+\)\. Stopped it with rollback/,
    );
    expect(error).toContain(`production still serves ${short(before)}`);
    expect(error).toMatch(/the rollback deployment d-\w+ to \S+ succeeded\.$/);
    expect(stageMarks(r.summary)).toContainEqual(['Watch', '❌']);
    expect(r.summary).toContain(`**Production still serves ${short(before)} (rolled back).**`);
  }, 90_000);
});

describe('ECS rolling update', () => {
  it('crashing tasks: the circuit breaker rolls back, followed to its end; the container logs are shown', async () => {
    const before = (await serviceState(emulator, 'rolling'))?.taskDefinition;
    emulator.scriptContainers({
      family: 'example-rolling',
      container: 'web',
      lines: ['panic: missing DATABASE_URL'],
    });
    emulator.faults.crashTasks('example-rolling', 'Essential container in task exited');
    const r = await run(rolling());
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('failed');
    const error = onlyError(r);
    expect(error).toMatch(
      /^\d+ new tasks? of example-rolling:\d+ stopped: .*Essential container in task exited/,
    );
    expect(error).toContain(`production still serves ${short(before)}`);
    expect(error).toMatch(
      new RegExp(
        `the circuit breaker's rollback \\(ECS deployment ecs-svc/\\d+\\) to ${esc(short(before))} succeeded\\.$`,
      ),
    );
    expect(r.stdout).toContain('panic: missing DATABASE_URL');
    expect(r.summary).toContain('panic: missing DATABASE_URL');
    expect(r.summary).toContain(`**Production still serves ${short(before)} (rolled back).**`);
    expect(stageMarks(r.summary)).toContainEqual(['Watch', '❌']);
    expect((await serviceState(emulator, 'rolling'))?.taskDefinition).toBe(before);
    expect(repeatedLines(r.stdout)).toEqual([]);
  }, 90_000);

  it('a timeout: rolled back with UpdateService, the rollback followed to its end', async () => {
    emulator.clock.speed = 1;
    const before = (await serviceState(emulator, 'rolling'))?.taskDefinition;
    // Once the action has rolled back (UpdateService to the previous revision), run at the usual speed.
    const from = emulator.calls.length;
    const rolledBack = (c: CallRecord) =>
      c.operation === 'UpdateService' && (c.input as { taskDefinition?: string }).taskDefinition === before;
    const speedUp = setInterval(() => {
      if (emulator.calls.slice(from).some(rolledBack)) emulator.clock.speed = SPEED;
    }, 50);
    const r = await run(rolling({ 'wait-for-minutes': '0.05' })).finally(() => clearInterval(speedUp));
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('timed-out');
    const error = onlyError(r);
    expect(error).toMatch(
      /^ECS deployment ecs-svc\/\d+ did not complete within 3 s .*Rolled the service back to/,
    );
    expect(error).toContain(`production still serves ${short(before)}`);
    expect(error).toMatch(/the rollback \(ECS deployment ecs-svc\/\d+\) to \S+ succeeded\.$/);
    expect(stageMarks(r.summary)).toContainEqual(['Watch', '❌']);
  }, 90_000);

  it('a successful deploy: the Watch is ✅, the headline names what production serves, no error', async () => {
    const r = await run(rolling());
    expect({ code: r.code, errors: r.errors }).toEqual({ code: 0, errors: [] });
    expect(stageMarks(r.summary)).toContainEqual(['Watch', '✅']);
    expect(r.summary).toContain(`**Production serves ${short(r.outputs['task-definition-arn'])}.**`);
    expect(repeatedLines(r.stdout)).toEqual([]);
  }, 90_000);
});
