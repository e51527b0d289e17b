import { describe, expect, it } from '@jest/globals';
import type { Service, Task } from '@aws-sdk/client-ecs';
import type { OneOffTaskConfig } from '../../../src/task/config.js';
import {
  checkOneOffTask,
  runTaskInput,
  taskClientToken,
  taskContainer,
  taskVerdict,
} from '../../../src/task/run.js';
import { withTaskCalls } from '../../../src/task/plan.js';
import { revisionsToDeregister } from '../../../src/task/revisions.js';
import { awslogsStream, taskIdOf } from '../../../src/logs.js';

const TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:7';
const task = (extra: Partial<OneOffTaskConfig> = {}): OneOffTaskConfig => ({
  when: 'before',
  environment: [],
  subnets: [],
  securityGroups: [],
  startedBy: 'ecs-deploy-pipeline',
  tags: [],
  timeoutMinutes: 30,
  runId: '99',
  runAttempt: '1',
  ...extra,
});
const SERVICE: Service = {
  launchType: 'FARGATE',
  platformVersion: '1.4.0',
  networkConfiguration: {
    awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' },
  },
};

describe('runTaskInput', () => {
  it("defaults to the service's network, launch type and platform; tags propagate; the token is given", () => {
    expect(
      runTaskInput(
        task(),
        { cluster: 'demo', taskDefinitionArn: TD, container: 'web', service: SERVICE },
        'tok',
      ),
    ).toEqual({
      cluster: 'demo',
      taskDefinition: TD,
      count: 1,
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' },
      },
      startedBy: 'ecs-deploy-pipeline',
      enableECSManagedTags: true,
      propagateTags: 'TASK_DEFINITION',
      clientToken: 'tok',
    });
  });

  it('takes the inputs over the service: network, launch type, command, environment, tags', () => {
    const input = runTaskInput(
      task({
        subnets: ['subnet-9'],
        securityGroups: ['sg-9'],
        assignPublicIp: 'ENABLED',
        launchType: 'EC2',
        command: ['node', 'migrate.js', 'a b'],
        environment: [{ name: 'A', value: '1' }],
        tags: [{ key: 'purpose', value: 'migration' }],
      }),
      { cluster: 'demo', taskDefinitionArn: TD, container: 'web', service: SERVICE },
      'tok',
    );
    expect(input).toMatchObject({
      launchType: 'EC2',
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ['subnet-9'], securityGroups: ['sg-9'], assignPublicIp: 'ENABLED' },
      },
      overrides: {
        containerOverrides: [
          { name: 'web', command: ['node', 'migrate.js', 'a b'], environment: [{ name: 'A', value: '1' }] },
        ],
      },
      tags: [{ key: 'purpose', value: 'migration' }],
    });
    expect(input.platformVersion).toBeUndefined();
  });

  it("uses the service's capacity provider strategy, never with a launch type", () => {
    const strategy = [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }];
    const input = runTaskInput(
      task(),
      { cluster: 'c', taskDefinitionArn: TD, service: { ...SERVICE, capacityProviderStrategy: strategy } },
      't',
    );
    expect(input.capacityProviderStrategy).toEqual(strategy);
    expect(input.launchType).toBeUndefined();
  });

  it('sends no network configuration when neither the inputs nor the service have one', () => {
    expect(
      runTaskInput(task(), { cluster: 'c', taskDefinitionArn: TD }, 't').networkConfiguration,
    ).toBeUndefined();
  });
});

describe('taskClientToken', () => {
  const token = (extra: Partial<OneOffTaskConfig> = {}, td = TD) =>
    taskClientToken({ ...task(extra), container: 'web' }, td);
  it('is stable for the same run attempt, revision and command, and at most 64 characters', () => {
    expect(token()).toBe(token());
    expect(token()).toMatch(/^ecs-deploy-[0-9a-f]{40}$/);
    expect(token().length).toBeLessThanOrEqual(64);
  });
  it.each<[string, Partial<OneOffTaskConfig>, string]>([
    ['another attempt', { runAttempt: '2' }, TD],
    ['another run', { runId: '100' }, TD],
    ['another step', { step: 'deploy/migrate' }, TD],
    ['after instead of before', { when: 'after' }, TD],
    ['another command', { command: ['x'] }, TD],
    ['another revision', {}, `${TD.slice(0, -1)}8`],
  ])('changes with %s', (_name, extra, td) => {
    expect(token(extra, td)).not.toBe(token());
  });
});

describe('taskContainer', () => {
  const defs = [{ name: 'sidecar', essential: false }, { name: 'web' }];
  it.each<[string | undefined, string[], string | undefined]>([
    ['given', ['web'], 'given'],
    [undefined, ['web'], 'web'],
    [undefined, [], 'web'],
  ])('input %s, deployed %j: %s', (input, deployed, expected) => {
    expect(taskContainer({ container: input }, defs, deployed)).toBe(expected);
  });
});

describe('taskVerdict', () => {
  const stopped = (containers: Task['containers'], extra: Partial<Task> = {}): Task => ({
    lastStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    containers,
    ...extra,
  });
  it.each<[string, Task, string[], { ok: boolean; exitCode?: number }, string]>([
    [
      'every essential container exited 0',
      stopped([
        { name: 'web', exitCode: 0 },
        { name: 'log', exitCode: 1 },
      ]),
      ['web'],
      { ok: true, exitCode: 0 },
      'Every essential container exited 0',
    ],
    [
      'the migration exited 3',
      stopped([{ name: 'web', exitCode: 3 }]),
      ['web'],
      { ok: false, exitCode: 3 },
      'web exited with code 3; stopped: EssentialContainerExited: Essential container in task exited.',
    ],
    [
      'one of two essential failed',
      stopped([
        { name: 'web', exitCode: 0 },
        { name: 'db', exitCode: 2 },
      ]),
      ['web', 'db'],
      { ok: false, exitCode: 2 },
      'db exited with code 2',
    ],
    [
      'a container without exit code',
      stopped([{ name: 'web', reason: 'CannotPullContainerError' }]),
      ['web'],
      { ok: false },
      'web has no exit code (CannotPullContainerError)',
    ],
    [
      'stopped by a user',
      stopped([{ name: 'web', exitCode: 143 }], {
        stopCode: 'UserInitiated',
        stoppedReason: 'Task stopped by user',
      }),
      ['web'],
      { ok: false, exitCode: 143 },
      'UserInitiated: Task stopped by user',
    ],
    [
      'no container ran',
      stopped([], { stopCode: 'TaskFailedToStart', stoppedReason: 'ResourceInitializationError' }),
      ['web'],
      { ok: false },
      'stopped before its containers ran (TaskFailedToStart: ResourceInitializationError)',
    ],
  ])('%s', (_name, t, essential, verdict, summary) => {
    const v = taskVerdict(t, essential, 'web');
    expect({ ok: v.ok, exitCode: v.exitCode }).toEqual({ exitCode: undefined, ...verdict });
    expect(v.summary).toContain(summary);
  });
});

describe('revisionsToDeregister', () => {
  const arns = [9, 8, 7, 6, 5].map((n) => `${TD.slice(0, -1)}${n}`);
  it.each<[number, number[], number[]]>([
    [2, [], [7, 6, 5]],
    [2, [6], [7, 5]],
    [5, [], []],
    [10, [], []],
    [1, [9, 8], [7, 6, 5]],
  ])('keep %i, in use %j: %j', (keep, used, doomed) => {
    const inUse = new Set(used.map((n) => `${TD.slice(0, -1)}${n}`));
    expect(revisionsToDeregister(arns, keep, inUse)).toEqual(doomed.map((n) => `${TD.slice(0, -1)}${n}`));
  });
});

describe('awslogsStream', () => {
  const arn = 'arn:aws:ecs:us-east-1:1:task/demo/abc123';
  it.each<[unknown, unknown]>([
    [
      { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/app', 'awslogs-stream-prefix': 'ecs' } },
      { group: '/ecs/app', stream: 'ecs/web/abc123' },
    ],
    [
      { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/app' } },
      { group: '/ecs/app', stream: 'abc123' },
    ],
    [{ logDriver: 'json-file' }, undefined],
    [undefined, undefined],
  ])('%j', (logConfiguration, expected) => {
    const ref = awslogsStream({ name: 'web', logConfiguration: logConfiguration as never }, arn);
    expect(ref === undefined ? undefined : { group: ref.group, stream: ref.stream }).toEqual(expected);
  });
  it('takes the id from an ARN', () => expect(taskIdOf(arn)).toBe('abc123'));
});

describe('withTaskCalls (dry run)', () => {
  const calls = ['ecr:PutImage x', 'ecs:RegisterTaskDefinition family=app', 'ecs:UpdateService s'];
  const revisions = { register: true, deleteDeregistered: false, taskDefinitionTags: [] };
  it('puts RunTask between the registration and the deployment, and the pruning last', () => {
    const out = withTaskCalls(calls, {
      cluster: 'demo',
      task: task({ command: ['node', 'migrate.js'] }),
      revisions: { ...revisions, keepRevisions: 3 },
    });
    expect(out[2]).toMatch(/^ecs:RunTask cluster=demo .*command=\["node","migrate.js"\]/);
    expect(out[3]).toBe('ecs:UpdateService s');
    expect(out[4]).toMatch(/newest 3/);
  });
  it('names the revision deployed as it is instead of RegisterTaskDefinition', () => {
    const out = withTaskCalls(calls, { cluster: 'demo', revisions }, TD);
    expect(out[1]).toBe(`(register: false) no RegisterTaskDefinition: ${TD} is deployed as it is`);
  });
});

describe('checkOneOffTask (before any change)', () => {
  const revision = { networkMode: 'awsvpc', containerDefinitions: [{ name: 'web' }] };
  it.each<[string, Partial<OneOffTaskConfig>, Service | undefined, string[]]>([
    ["the service's subnets", {}, SERVICE, []],
    ['subnets from the inputs', { subnets: ['subnet-1'] }, undefined, []],
    ['no subnets anywhere', {}, undefined, ['run-task-subnets']],
    ['an unknown container', { container: 'db', subnets: ['subnet-1'] }, undefined, ['run-task-container']],
  ])('%s', (_name, extra, service, where) => {
    expect(checkOneOffTask(task(extra), revision, service).map((p) => p.where)).toEqual(where);
  });
});
