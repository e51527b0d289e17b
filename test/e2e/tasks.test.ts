/**
 * One-off tasks (run-task), deploying a revision as-is (register: false), revision hygiene
 * (keep-revisions) and tags: the built action against the local endpoint, whose one-off tasks
 * print and exit as the container scripts say. Nothing is built, so no Docker is needed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  DeregisterTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import path from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import { runAction, runPost, type ActionRun } from './support/action.js';
import { awsEnv, CLUSTER, sdk, serviceState, startWorld } from './support/world.js';

const workspace = path.resolve('.');
const SHA = 'e2e0000000000000000000000000000000000017';
const SPEED = 60;
const IMAGE = '127.0.0.1:5000/example-app:v0';
const MIGRATE = ['node', 'migrate.js'];

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startWorld(undefined, SPEED);
}, 120_000);

afterAll(async () => {
  await emulator?.stop();
});

beforeEach(() => {
  emulator.faults.clear();
  emulator.clock.speed = SPEED;
  emulator.clock.advance(60 * 60_000);
});

/** The rolling service, its revision registered from the example file, a migration before it. */
const rolling = (extra: Record<string, string> = {}) => ({
  'task-definition': 'example-app/task-definition.json',
  'task-definition-family': 'example-rolling',
  image: IMAGE,
  cluster: CLUSTER,
  service: 'rolling',
  'poll-interval-seconds': '1',
  'run-task': 'before',
  'run-task-command': JSON.stringify(MIGRATE),
  // The seeded service has no network configuration of its own to copy.
  'run-task-subnets': 'subnet-0a1b2c3d',
  'run-task-security-groups': 'sg-0a1b2c3d',
  ...extra,
});

function run(inputs: Record<string, string>, onStart?: Parameters<typeof runAction>[0]['onStart']) {
  return runAction({ inputs, workspace, sha: SHA, env: awsEnv(emulator), onStart });
}

function outcome(r: ActionRun) {
  return { code: r.code, errors: r.errors, log: r.code === 0 ? '' : r.stdout.slice(-4000) };
}

const callsSince = (since: number, ...ops: string[]) =>
  emulator.calls.filter((c) => c.at >= since && ops.includes(c.operation));

describe('a one-off task before the deployment', () => {
  it('runs the migration from the new revision, streams its lines, then deploys', async () => {
    emulator.scriptContainers({
      command: MIGRATE,
      lines: ['migrating 001_users', 'migrations done'],
      exitCode: 0,
      durationSeconds: 30,
    });
    const since = Date.now();
    const r = await run(rolling({ 'run-task-tags': 'purpose=migration' }));
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.stdout).toContain('| migrating 001_users');
    expect(r.stdout).toContain('| migrations done');
    expect(r.outputs['task-exit-code']).toBe('0');
    const taskArn = r.outputs['task-arn'] as string;
    const revision = r.outputs['task-definition-arn'] as string;

    const ops = callsSince(since, 'RegisterTaskDefinition', 'RunTask', 'UpdateService').map(
      (c) => c.operation,
    );
    expect(ops).toEqual(['RegisterTaskDefinition', 'RunTask', 'UpdateService']);
    const runTask = callsSince(since, 'RunTask')[0]?.input as Record<string, unknown>;
    expect(runTask).toMatchObject({
      taskDefinition: revision,
      overrides: { containerOverrides: [{ name: 'web', command: MIGRATE }] },
      enableECSManagedTags: true,
      propagateTags: 'TASK_DEFINITION',
      clientToken: expect.stringMatching(/^ecs-deploy-[0-9a-f]{40}$/),
    });
    const { ecs } = sdk(emulator);
    const task = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] })))
      .tasks?.[0];
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      taskDefinitionArn: revision,
      containers: [{ exitCode: 0 }],
    });
    expect((await serviceState(emulator, 'rolling'))?.taskDefinition).toBe(revision);

    // Tags: the revision's (commit, run URL), and the task's own, propagated and managed ones.
    const revisionTags = (await ecs.send(new ListTagsForResourceCommand({ resourceArn: revision }))).tags;
    expect(revisionTags).toEqual(
      expect.arrayContaining([
        { key: 'ecs-deploy:commit', value: SHA },
        { key: 'ecs-deploy:run', value: 'http://127.0.0.1:9/octo/app/actions/runs/1' },
      ]),
    );
    const taskTags = (await ecs.send(new ListTagsForResourceCommand({ resourceArn: taskArn }))).tags;
    expect(taskTags).toEqual(
      expect.arrayContaining([
        { key: 'purpose', value: 'migration' },
        { key: 'ecs-deploy:commit', value: SHA },
        { key: 'aws:ecs:clusterName', value: CLUSTER },
      ]),
    );
  }, 120_000);

  it('a failing migration stops the run with its exit code and last lines, and deploys nothing', async () => {
    emulator.scriptContainers({
      command: [...MIGRATE, '--fail'],
      lines: ['migrating 002_orders', 'error: relation "orders" already exists'],
      exitCode: 3,
      durationSeconds: 20,
    });
    const before = await serviceState(emulator, 'rolling');
    const since = Date.now();
    const r = await run(rolling({ 'run-task-command': JSON.stringify([...MIGRATE, '--fail']) }));
    expect(r.code).toBe(1);
    expect(r.outputs['task-exit-code']).toBe('3');
    const said = [...r.errors, r.stdout].join('\n');
    expect(said).toContain('web exited with code 3');
    expect(said).toContain('Essential container in task exited');
    expect(said).toContain('nothing was deployed');
    // One annotation says why; the task's own last lines are in the log, streamed as it ran.
    expect(r.stdout).toContain('error: relation "orders" already exists');
    expect(callsSince(since, 'UpdateService', 'CreateDeployment', 'CreateService')).toEqual([]);
    const after = await serviceState(emulator, 'rolling');
    expect(after?.taskDefinition).toBe(before?.taskDefinition);
    expect(after?.deployments?.length).toBe(before?.deployments?.length);
  }, 120_000);

  it('a run cancelled during the task stops it, and the post step has nothing left to stop', async () => {
    emulator.scriptContainers({
      command: [...MIGRATE, '--slow'],
      lines: ['waiting for a lock'],
      durationSeconds: 3600,
    });
    const since = Date.now();
    const r = await run(rolling({ 'run-task-command': JSON.stringify([...MIGRATE, '--slow']) }), (child) => {
      const poll = setInterval(() => {
        if (callsSince(since, 'RunTask').length > 0) {
          clearInterval(poll);
          setTimeout(() => child.kill('SIGINT'), 1500);
        }
      }, 50);
      child.on('close', () => clearInterval(poll));
    });
    expect(r.code).toBe(1);
    const taskArn = r.outputs['task-arn'] as string;
    expect(taskArn).toMatch(/:task\/demo\//);
    expect(callsSince(since, 'StopTask').map((c) => (c.input as { task: string }).task)).toEqual([taskArn]);
    expect(callsSince(since, 'UpdateService')).toEqual([]);
    expect(r.state['task-settled']).toBe('true');

    const post = await runPost(r, { workspace, env: awsEnv(emulator) });
    expect(post.code).toBe(0);
    expect(callsSince(since, 'StopTask')).toHaveLength(1);
    emulator.clock.advance(60_000);
    const task = (
      await sdk(emulator).ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }))
    ).tasks?.[0];
    expect(task).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'UserInitiated' });
  }, 120_000);

  it('the post step stops a task the main step left running (killed outright)', async () => {
    emulator.scriptContainers({ command: [...MIGRATE, '--hang'], durationSeconds: 3600 });
    const since = Date.now();
    const r = await run(rolling({ 'run-task-command': JSON.stringify([...MIGRATE, '--hang']) }), (child) => {
      const poll = setInterval(() => {
        if (callsSince(since, 'DescribeTasks').length > 0) {
          clearInterval(poll);
          child.kill('SIGKILL');
        }
      }, 20);
      child.on('close', () => clearInterval(poll));
    });
    expect(r.signal).toBe('SIGKILL');
    expect(callsSince(since, 'StopTask')).toEqual([]);
    const post = await runPost(r, { workspace, env: awsEnv(emulator) });
    expect(post.code).toBe(0);
    expect(post.stdout).toContain('Stopped the one-off task');
    expect(callsSince(since, 'StopTask')).toHaveLength(1);
  }, 120_000);
});

describe('migrations before a blue/green deployment (CodeDeploy)', () => {
  it('runs the migration, then CreateDeployment; register: false promotes that revision as it is', async () => {
    emulator.scriptContainers({ command: MIGRATE, lines: ['migrating 003_index'], durationSeconds: 10 });
    const since = Date.now();
    const r = await run({
      'task-definition': 'example-app/task-definition.json',
      'codedeploy-appspec': 'example-app/appspec.yaml',
      image: IMAGE,
      cluster: CLUSTER,
      service: 'web',
      'poll-interval-seconds': '1',
      'run-task': 'before',
      'run-task-command': JSON.stringify(MIGRATE),
      'run-task-subnets': 'subnet-0a1b2c3d',
    });
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.stdout).toContain('| migrating 003_index');
    const ops = callsSince(since, 'RegisterTaskDefinition', 'RunTask', 'CreateDeployment').map(
      (c) => c.operation,
    );
    expect(ops).toEqual(['RegisterTaskDefinition', 'RunTask', 'CreateDeployment']);
    const revision = r.outputs['task-definition-arn'] as string;
    expect((await serviceState(emulator, 'web'))?.taskDefinition).toBe(revision);

    // The same revision, promoted again as it is through CodeDeploy: nothing registered.
    emulator.clock.advance(60 * 60_000);
    const again = Date.now();
    const promoted = await run({
      register: 'false',
      'task-definition-arn': revision,
      cluster: CLUSTER,
      service: 'web',
      'poll-interval-seconds': '1',
      'force-new-deployment': 'true',
    });
    expect(outcome(promoted)).toEqual({ code: 0, errors: [], log: '' });
    expect(callsSince(again, 'RegisterTaskDefinition')).toEqual([]);
    expect(callsSince(again, 'CreateDeployment')).toHaveLength(1);
    expect(promoted.outputs['task-definition-arn']).toBe(revision);
  }, 180_000);
});

describe('deploying an existing revision as it is', () => {
  it('deploys an ACTIVE revision with no RegisterTaskDefinition call, running the task from it', async () => {
    const { ecs } = sdk(emulator);
    const listed = await ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'example-app', status: 'ACTIVE', sort: 'DESC' }),
    );
    const arn = listed.taskDefinitionArns?.[0] as string;
    // Another command than the blue/green test's run of the same revision: the same command from
    // the same revision in the same step and run attempt is the same clientToken, the same task.
    const command = [...MIGRATE, '--as-is'];
    emulator.scriptContainers({ command, lines: ['nothing to migrate'], durationSeconds: 5 });
    const since = Date.now();
    const r = await run({
      register: 'false',
      'task-definition-arn': arn,
      cluster: CLUSTER,
      service: 'rolling',
      'poll-interval-seconds': '1',
      'run-task': 'before',
      'run-task-command': JSON.stringify(command),
      'run-task-subnets': 'subnet-0a1b2c3d',
    });
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.stdout).toContain('| nothing to migrate');
    expect(callsSince(since, 'RegisterTaskDefinition')).toEqual([]);
    expect((callsSince(since, 'RunTask')[0]?.input as { taskDefinition: string }).taskDefinition).toBe(arn);
    expect(r.outputs['task-definition-arn']).toBe(arn);
    expect((await serviceState(emulator, 'rolling'))?.taskDefinition).toBe(arn);
  }, 120_000);

  it('refuses an INACTIVE revision before any change', async () => {
    const { ecs } = sdk(emulator);
    const listed = await ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'example-slow', status: 'ACTIVE' }),
    );
    const arn = listed.taskDefinitionArns?.[0] as string;
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    const since = Date.now();
    const r = await run({
      register: 'false',
      'task-definition-arn': arn,
      cluster: CLUSTER,
      service: 'rolling',
    });
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toContain(`${arn} is INACTIVE`);
    expect(emulator.mutatingCalls().filter((c) => c.at >= since)).toEqual([]);
  }, 120_000);
});

describe('keep-revisions', () => {
  it('deregisters and deletes the family’s older revisions, keeping the newest N', async () => {
    const { ecs } = sdk(emulator);
    const active = async () =>
      (
        await ecs.send(
          new ListTaskDefinitionsCommand({ familyPrefix: 'example-rolling', status: 'ACTIVE', sort: 'DESC' }),
        )
      ).taskDefinitionArns ?? [];
    // Enough revisions to clean up: each run registers one.
    for (let i = 0; i < 2; i++) {
      const r = await run(
        rolling({
          'run-task': 'false',
          'run-task-command': '',
          'run-task-subnets': '',
          'run-task-security-groups': '',
        }),
      );
      expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    }
    expect((await active()).length).toBeGreaterThan(2);
    const since = Date.now();
    const r = await run(
      rolling({
        'run-task': 'false',
        'run-task-command': '',
        'run-task-subnets': '',
        'run-task-security-groups': '',
        'keep-revisions': '2',
        'delete-deregistered-revisions': 'true',
      }),
    );
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    const kept = await active();
    expect(kept).toHaveLength(2);
    expect(kept[0]).toBe(r.outputs['task-definition-arn']);
    expect(callsSince(since, 'DeregisterTaskDefinition').length).toBeGreaterThan(0);
    expect(callsSince(since, 'DeleteTaskDefinitions').length).toBeGreaterThan(0);
  }, 180_000);
});
