/**
 * A failed deployment, read as its user reads it: the built action (dist/index.js) against
 * the local endpoint, for CodeDeploy blue/green, an ECS rolling update and ECS-native
 * blue/green. Each failure must
 * give ONE `::error` whose first words are the cause, followed by where production is and how
 * the rollback ended; the summary's headline says the state production is in, the Watch
 * stage is ❌ with that cause, and a crashed container's own lines appear in the log and the
 * summary. No Docker needed: the image is given, and the endpoint scripts what containers print.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { cp, mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DeploymentConfiguration } from '@aws-sdk/client-ecs';
import { DescribeServiceDeploymentsCommand } from '@aws-sdk/client-ecs';
import type { CallRecord, Emulator } from '../../emulator/index.js';
import { runAction, type ActionRun } from './support/action.js';
import {
  awsEnv,
  CLUSTER,
  hookedBlueGreen,
  sdk,
  seed,
  serviceState,
  startWorld,
  withNativeServices,
} from './support/world.js';

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

/** ECS-native blue/green services, one per failure. */
const NATIVE: [string, DeploymentConfiguration][] = [
  ['nhooked', hookedBlueGreen()],
  [
    'ncrash',
    {
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 1,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    },
  ],
  [
    'nbreaker',
    {
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 1,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    },
  ],
  ['nslow', { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 40 }],
];

const native = (service: string, extra: Record<string, string> = {}) =>
  blueGreen({ 'codedeploy-appspec': '', 'task-definition-family': service, service, ...extra });

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
  emulator = await startWorld(undefined, SPEED, withNativeServices(seed(IMAGE), NATIVE, IMAGE));
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

async function serviceDeployment(arn: string | undefined) {
  const out = await sdk(emulator).ecs.send(
    new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn ?? ''] }),
  );
  return out.serviceDeployments?.[0];
}

/** SHOW_LOG=1 prints what a user reads: the run's log and its summary. */
function show(r: ActionRun): void {
  if (process.env.SHOW_LOG) console.log(`${r.stdout}\n----- summary -----\n${r.summary}`);
}

/** The `::error` lines: one, the cause first. */
function onlyError(r: ActionRun): string {
  show(r);
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

describe('ECS-native blue/green', () => {
  it('a failing Lambda hook: the stage, the function and its message first; production still on the old revision; the rollback succeeded', async () => {
    const before = (await serviceState(emulator, 'nhooked'))?.taskDefinition;
    emulator.faults.failLifecycleEvent('POST_TEST_TRAFFIC_SHIFT', 'smoke test: GET /health returned 500');
    const r = await run(native('nhooked'));
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('failed');
    const error = onlyError(r);
    expect(error).toBe(
      `The POST_TEST_TRAFFIC_SHIFT hook smoke-test failed: smoke test: GET /health returned 500; production still serves ${short(before)}; the rollback to ${short(before)} succeeded.`,
    );
    expect(r.summary).toContain(`**Production still serves ${short(before)} (rolled back).**`);
    expect(r.summary).toMatch(
      /\| Watch \| ❌ failed \| [^|]+ \| The POST\\_TEST\\_TRAFFIC\\_SHIFT hook smoke-test failed: smoke test: GET \/health returned 500 \|$/m,
    );
    expect(r.summary).toContain('### What went wrong');
    expect(r.stdout).toContain('::group::What went wrong');
    expect(r.stdout).toMatch(
      /Lambda hook arn:aws:lambda:\S+:function:smoke-test \S+ at POST_TEST_TRAFFIC_SHIFT: FAILED/,
    );
    expect((await serviceDeployment(r.outputs['service-deployment-arn']))?.status).toBe(
      'ROLLBACK_SUCCESSFUL',
    );
    expect((await serviceState(emulator, 'nhooked'))?.taskDefinition).toBe(before);
    expect(repeatedLines(r.stdout)).toEqual([]);
  }, 90_000);

  it("a crashing container: the breaker rolls back; the container's own last lines in the log and the summary", async () => {
    const before = (await serviceState(emulator, 'ncrash'))?.taskDefinition;
    emulator.scriptContainers({
      family: 'ncrash',
      container: 'web',
      lines: ['starting ncrash', 'Error: connect ECONNREFUSED 10.0.0.5:5432', '::error::not a command'],
    });
    emulator.faults.crashTasks('ncrash', 'Essential container in task exited');
    const r = await run(native('ncrash'));
    expect(r.code).toBe(1);
    const error = onlyError(r);
    expect(error).toMatch(/^\d+ new tasks? of ncrash:\d+ stopped: .*Essential container in task exited/);
    expect(error).toContain(`production still serves ${short(before)}`);
    expect(error).toMatch(
      new RegExp(`the circuit breaker's rollback to ${esc(short(before))} succeeded\\.$`),
    );
    expect(r.stdout).toContain('::group::Container logs');
    expect(r.stdout).toMatch(/--- container web of task \w+ \(\/ecs\/example-app web\/web\/\w+\)/);
    expect(r.stdout).toContain('Error: connect ECONNREFUSED 10.0.0.5:5432');
    expect(r.stdout).not.toMatch(/^::error::not a command/m);
    expect(r.summary).toContain('Error: connect ECONNREFUSED 10.0.0.5:5432');
    expect(r.summary).toContain(`**Production still serves ${short(before)} (rolled back).**`);
    expect(stageMarks(r.summary)).toContainEqual(['Watch', '❌']);
    expect(repeatedLines(r.stdout)).toEqual([]);
  }, 90_000);

  it("the circuit breaker: tasks that never start are named with a hint; the breaker's rollback followed to its end", async () => {
    const before = (await serviceState(emulator, 'nbreaker'))?.taskDefinition;
    emulator.faults.crashTasks('nbreaker', 'CannotPullContainerError: pull access denied');
    const r = await run(native('nbreaker'));
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('failed');
    const error = onlyError(r);
    expect(error).toMatch(
      /^\d+ new tasks? of nbreaker:\d+ stopped: .*CannotPullContainerError: pull access denied/,
    );
    expect(error).toMatch(
      new RegExp(
        `; production still serves ${esc(short(before))}; the circuit breaker's rollback to ${esc(short(before))} succeeded\\.$`,
      ),
    );
    expect(r.stdout).toMatch(/circuit breaker: \d+\/\d+ failed tasks \(TRIGGERED\)/);
    expect(r.stdout).toContain('hint: the image could not be pulled');
    expect(r.summary).toContain(`**Production still serves ${short(before)} (rolled back).**`);
    expect(stageMarks(r.summary)).toContainEqual(['Watch', '❌']);
    expect((await serviceDeployment(r.outputs['service-deployment-arn']))?.status).toBe(
      'ROLLBACK_SUCCESSFUL',
    );
  }, 90_000);

  it('a timeout: stopped with rollback (StopServiceDeployment), the rollback followed to its end', async () => {
    const before = (await serviceState(emulator, 'nslow'))?.taskDefinition;
    const from = emulator.calls.length;
    const r = await run(native('nslow', { 'wait-for-minutes': '0.1' }));
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('timed-out');
    const arn = r.outputs['service-deployment-arn'];
    expect(emulator.calls.slice(from).filter((c) => c.operation === 'StopServiceDeployment')).toHaveLength(1);
    const error = onlyError(r);
    expect(error).toMatch(
      /^ECS service deployment \S+ did not finish within 6 s \(last IN_PROGRESS at \w+\)\. Stopped it with rollback/,
    );
    expect(error).toContain(`production still serves ${short(before)}`);
    expect(error).toMatch(new RegExp(`the rollback to ${esc(short(before))} succeeded\\.$`));
    expect(stageMarks(r.summary)).toContainEqual(['Watch', '❌']);
    expect(r.summary).toContain(`**Production still serves ${short(before)} (rolled back).**`);
    expect((await serviceDeployment(arn))?.status).toBe('ROLLBACK_SUCCESSFUL');
  }, 90_000);
});
