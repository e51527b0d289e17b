import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  CodeDeployClient,
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  ListDeploymentTargetsCommand,
  StopDeploymentCommand,
  type DeploymentInfo,
  type ECSTarget,
  type ECSTaskSet,
  type LifecycleEvent,
} from '@aws-sdk/client-codedeploy';
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { MemoryLog } from '../../../src/log.js';
import {
  codeDeployDue,
  nextRead,
  targetSettled,
  watchCodeDeployDeployment,
} from '../../../src/deploy/codedeploy-watch.js';
import { STORM_POLLS, type WatchOptions } from '../../../src/deploy/watch.js';
import { allSleeps, ScriptedClock, sdkError } from './fakes.js';

const cdMock = mockClient(CodeDeployClient);
const ecsMock = mockClient(ECSClient);
const cd = new CodeDeployClient({ region: 'us-east-1' });
const ecs = new ECSClient({ region: 'us-east-1' });

const ID = 'd-TEST12345';
const TARGET = 'prod:web';
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
const CREATED = new Date(T0 - 5_000);
const OLD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:6';
const NEW = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7';

const HOOKS = [
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'AllowTestTraffic',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic',
];

/** Lifecycle events up to `current`: earlier ones Succeeded, `current` as given, the rest Pending. */
function lifecycle(
  current: string,
  status: LifecycleEvent['status'],
  extra: Partial<LifecycleEvent> = {},
): LifecycleEvent[] {
  const at = HOOKS.indexOf(current);
  return HOOKS.map((name, i) => ({
    lifecycleEventName: name,
    status: i < at ? 'Succeeded' : i === at ? status : 'Pending',
    ...(i === at ? extra : {}),
  }));
}

function taskSets(green: number, blue: number, running = 2): ECSTaskSet[] {
  return [
    {
      identifer: 'ecs-svc/green',
      taskSetLabel: 'Green',
      trafficWeight: green,
      runningCount: running,
      desiredCount: 2,
    },
    {
      identifer: 'ecs-svc/blue',
      taskSetLabel: 'Blue',
      trafficWeight: blue,
      runningCount: 2,
      desiredCount: 2,
    },
  ];
}

interface Step {
  status?: DeploymentInfo['status'];
  info?: Partial<DeploymentInfo>;
  events?: LifecycleEvent[];
  sets?: ECSTaskSet[];
  error?: Error;
}

const TARGET_STATUS: Record<string, string> = {
  Created: 'Pending',
  Queued: 'Pending',
  Ready: 'Ready',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Stopped: 'Failed',
};

/** One Step per poll (a poll may read the deployment, the target or both); the last one repeats. */
function script(steps: Step[]): void {
  const base = allSleeps.count;
  const step = () => steps[Math.min(allSleeps.count - base, steps.length - 1)] as Step;
  cdMock.on(GetDeploymentCommand).callsFake(() => {
    const s = step();
    if (s.error) throw s.error;
    return { deploymentInfo: { deploymentId: ID, status: s.status, createTime: CREATED, ...s.info } };
  });
  cdMock.on(ListDeploymentTargetsCommand).callsFake(() => ({ targetIds: step().events ? [TARGET] : [] }));
  cdMock.on(GetDeploymentTargetCommand).callsFake(() => {
    if (step().error) throw step().error;
    return {
      deploymentTarget: {
        deploymentTargetType: 'ECSTarget',
        ecsTarget: {
          deploymentId: ID,
          targetId: TARGET,
          // The target's own status follows the deployment's, as CodeDeploy reports it.
          status: TARGET_STATUS[step().status ?? ''] ?? 'InProgress',
          lifecycleEvents: step().events,
          taskSetsInfo: step().sets,
        },
      },
    };
  });
}

function options(clock: ScriptedClock, log: MemoryLog, o: Partial<WatchOptions> = {}) {
  return {
    deploymentId: ID,
    cluster: 'prod',
    service: 'web',
    timeoutMs: 30 * 60_000,
    pollIntervalMs: 5_000,
    rollbackOnTimeout: true,
    clock,
    log,
    ...o,
  };
}

beforeEach(() => {
  cdMock.reset();
  ecsMock.reset();
});

describe('watchCodeDeployDeployment', () => {
  it('follows lifecycle events and traffic shifting to Succeeded, printing only changes', async () => {
    script([
      { status: 'Created' },
      // The poll that sees InProgress read the deployment; the next one reads the target.
      { status: 'InProgress', events: lifecycle('Install', 'InProgress'), sets: taskSets(0, 100, 0) },
      { status: 'InProgress', events: lifecycle('Install', 'InProgress'), sets: taskSets(0, 100, 0) },
      { status: 'InProgress', events: lifecycle('AllowTraffic', 'InProgress'), sets: taskSets(10, 90) },
      { status: 'InProgress', events: lifecycle('AllowTraffic', 'InProgress'), sets: taskSets(10, 90) },
      { status: 'InProgress', events: lifecycle('AfterAllowTraffic', 'Succeeded'), sets: taskSets(100, 0) },
      {
        status: 'Succeeded',
        info: { deploymentOverview: { Succeeded: 1 } },
        events: lifecycle('AfterAllowTraffic', 'Succeeded'),
        sets: taskSets(100, 0),
      },
    ]);
    const clock = new ScriptedClock(T0);
    const log = new MemoryLog();
    const result = await watchCodeDeployDeployment(cd, ecs, options(clock, log));

    expect(result).toEqual({
      outcome: 'succeeded',
      status: 'Succeeded',
      message: `CodeDeploy deployment ${ID} succeeded.`,
      diagnostics: [],
      rollbackRequested: false,
      elapsedMs: clock.t - T0,
      polls: 7,
    });
    expect(log.lines).toEqual([
      `CodeDeploy deployment ${ID}: Created`,
      `CodeDeploy deployment ${ID}: InProgress`,
      '  BeforeInstall: Succeeded',
      '  Install: InProgress',
      '  traffic: green 0% / blue 100%',
      '  green tasks: 0/2 running',
      '  Install: Succeeded',
      '  AfterInstall: Succeeded',
      '  AllowTestTraffic: Succeeded',
      '  AfterAllowTestTraffic: Succeeded',
      '  BeforeAllowTraffic: Succeeded',
      '  AllowTraffic: InProgress',
      '  traffic: green 10% / blue 90%',
      '  green tasks: 2/2 running',
      '  AllowTraffic: Succeeded',
      '  AfterAllowTraffic: Succeeded',
      '  traffic: green 100% / blue 0%',
      `CodeDeploy deployment ${ID}: Succeeded (targets: Succeeded 1)`,
    ]);
    expect(cdMock).toHaveReceivedCommandWith(GetDeploymentCommand, { deploymentId: ID });
    // An ECS deployment's one target is `cluster:service`: read without listing.
    expect(cdMock).not.toHaveReceivedCommand(ListDeploymentTargetsCommand);
    expect(cdMock).toHaveReceivedCommandWith(GetDeploymentTargetCommand, {
      deploymentId: ID,
      targetId: 'prod:web',
    });
    expect(cdMock).not.toHaveReceivedCommand(StopDeploymentCommand);
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it('says clearly that a Ready deployment waits for ContinueDeployment, then reaches Succeeded', async () => {
    const info = {
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT' as const, waitTimeInMinutes: 60 },
      },
    };
    script([
      { status: 'InProgress', info },
      { status: 'Ready', info },
      { status: 'Ready', info },
      { status: 'Succeeded', info },
    ]);
    const log = new MemoryLog();
    const result = await watchCodeDeployDeployment(cd, ecs, options(new ScriptedClock(T0), log));
    expect(result.outcome).toBe('succeeded');
    const ready = log.lines.filter((l) => l.startsWith('Ready:'));
    expect(ready).toEqual([
      `Ready: the green tasks are up; waiting for ContinueDeployment (aws deploy continue-deployment --deployment-id ${ID} --deployment-wait-type READY_WAIT). Remaining ready wait: 60 min, after which CodeDeploy stops the deployment.`,
    ]);
  });

  it('surfaces the failed hook, the rollback and what ECS saw when the deployment fails', async () => {
    const hookMessage = 'smoke test: GET /health on the test listener returned 500';
    script([
      {
        status: 'InProgress',
        events: lifecycle('AfterAllowTestTraffic', 'InProgress'),
        sets: taskSets(0, 100),
      },
      {
        status: 'Failed',
        info: {
          errorInformation: {
            code: 'HOOK_EXECUTION_FAILURE',
            message: 'One or more lifecycle events did not succeed.',
          },
          rollbackInfo: {
            rollbackDeploymentId: 'd-ROLLBACK1',
            rollbackMessage: 'Automatic rollback triggered.',
          },
        },
        events: lifecycle('AfterAllowTestTraffic', 'Failed', {
          diagnostics: {
            errorCode: 'ScriptFailed',
            message: hookMessage,
            logTail: 'expected 200, got 500\n',
          },
        }),
        sets: taskSets(0, 100),
      },
    ]);
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [
        {
          serviceName: 'web',
          status: 'ACTIVE',
          events: [
            {
              id: 'e3',
              createdAt: new Date(T0 + 20_000),
              message: '(service web) has stopped 2 running tasks.',
            },
            {
              id: 'e2',
              createdAt: new Date(T0),
              message: '(service web) registered 2 targets in (target-group green)',
            },
            {
              id: 'e1',
              createdAt: new Date(T0 - 3_600_000),
              message: '(service web) has reached a steady state.',
            },
          ],
          taskSets: [
            { id: 'ecs-svc/green', taskDefinition: NEW },
            { id: 'ecs-svc/blue', taskDefinition: OLD, status: 'PRIMARY' },
          ],
        },
      ],
    });
    // CodeDeploy's rollback deployment, followed to its end: it redeployed the old revision.
    cdMock.on(GetDeploymentCommand, { deploymentId: 'd-ROLLBACK1' }).resolves({
      deploymentInfo: {
        deploymentId: 'd-ROLLBACK1',
        status: 'Succeeded',
        revision: {
          revisionType: 'AppSpecContent',
          appSpecContent: {
            content: `Resources:\n  - TargetService:\n      Properties:\n        TaskDefinition: ${OLD}\n`,
          },
        },
      },
    });
    ecsMock.on(ListTasksCommand).resolves({ taskArns: ['t1', 't2', 't3'] });
    const pullSecrets =
      'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed';
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: 't1',
          taskDefinitionArn: NEW,
          stopCode: 'TaskFailedToStart',
          stoppedReason: pullSecrets,
          stoppedAt: new Date(T0 + 1_000),
        },
        {
          taskArn: 't2',
          taskDefinitionArn: NEW,
          stopCode: 'TaskFailedToStart',
          stoppedReason: pullSecrets,
          stoppedAt: new Date(T0 + 2_000),
        },
        {
          taskArn: 't3',
          taskDefinitionArn: OLD,
          stopCode: 'ServiceSchedulerInitiated',
          stoppedReason: 'Scaling activity',
          stoppedAt: new Date(T0 + 3_000),
        },
      ],
    });

    const log = new MemoryLog();
    const result = await watchCodeDeployDeployment(cd, ecs, options(new ScriptedClock(T0), log));

    expect(result.outcome).toBe('failed');
    expect(result.status).toBe('Failed');
    expect(result.rollbackRequested).toBe(false);
    expect(result.message).toBe(
      `CodeDeploy deployment ${ID} failed: AfterAllowTestTraffic failed: ScriptFailed: ${hookMessage}`,
    );
    expect(result.diagnostics).toEqual([
      'errorInformation: HOOK_EXECUTION_FAILURE: One or more lifecycle events did not succeed.',
      'rollback: Automatic rollback triggered. (rollback deployment d-ROLLBACK1)',
      `lifecycle event AfterAllowTestTraffic failed: ScriptFailed: ${hookMessage}`,
      'lifecycle event AfterAllowTestTraffic log tail: expected 200, got 500',
      // The routine events (registered 2 targets, has stopped 2 running tasks) are left out.
      `2 stopped tasks: TaskFailedToStart: ${pullSecrets}`,
      expect.stringMatching(
        /^hint: the task execution role .*ssm:GetParameters.*secretsmanager:GetSecretValue.*kms:Decrypt/,
      ),
    ]);
    expect(result.failure).toEqual({
      kind: 'hook',
      cause: `The AfterAllowTestTraffic hook failed: ${hookMessage}`,
      deployed: NEW,
      previous: OLD,
      production: OLD,
      rollback: {
        by: 'the rollback deployment d-ROLLBACK1',
        id: 'd-ROLLBACK1',
        status: 'succeeded',
        taskDefinitionArn: OLD,
      },
      tasks: [
        { taskArn: 't1', taskDefinitionArn: NEW, containers: [] },
        { taskArn: 't2', taskDefinitionArn: NEW, containers: [] },
      ],
    });
    expect(log.lines).toContain(`  AfterAllowTestTraffic: Failed - ScriptFailed: ${hookMessage}`);
    expect(ecsMock).toHaveReceivedCommandWith(DescribeServicesCommand, {
      cluster: 'prod',
      services: ['web'],
    });
    // The service is read once, for its events: production is where the rollback that
    // succeeded routed it (its revision's task definition), not read again.
    expect(ecsMock).toHaveReceivedCommandTimes(DescribeServicesCommand, 1);
    expect(ecsMock).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: 'prod',
      serviceName: 'web',
      desiredStatus: 'STOPPED',
    });
    expect(ecsMock).toHaveReceivedCommandWith(DescribeTasksCommand, {
      cluster: 'prod',
      tasks: ['t1', 't2', 't3'],
    });
    expect(cdMock).not.toHaveReceivedCommand(StopDeploymentCommand);
  });

  it('falls back to tasks stopped since the deployment began once the green task set is gone', async () => {
    script([{ status: 'Failed', events: lifecycle('Install', 'Failed'), sets: taskSets(0, 100) }]);
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [{ status: 'ACTIVE', taskSets: [{ id: 'ecs-svc/blue', taskDefinition: OLD }] }],
    });
    ecsMock.on(ListTasksCommand).resolves({ taskArns: ['t1', 't2'] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskDefinitionArn: OLD, stoppedReason: 'Task stopped by user', stoppedAt: new Date(T0 - 600_000) },
        {
          taskDefinitionArn: NEW,
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
          containers: [{ name: 'web', exitCode: 1 }],
          stoppedAt: new Date(T0 + 1_000),
        },
      ],
    });
    const result = await watchCodeDeployDeployment(cd, ecs, options(new ScriptedClock(T0), new MemoryLog()));
    expect(result.message).toBe(`CodeDeploy deployment ${ID} failed: Install failed: no message`);
    expect(result.diagnostics).toEqual([
      'lifecycle event Install failed: no message',
      'stopped task: EssentialContainerExited: Essential container in task exited; container web: exit code 1',
      expect.stringMatching(/^hint: the application exited: read the container's logs/),
    ]);
  });

  it('reports a Stopped deployment as stopped, with CodeDeploy reason', async () => {
    script([
      { status: 'InProgress' },
      {
        status: 'Stopped',
        info: {
          errorInformation: { code: 'MANUAL_STOP', message: 'The deployment was stopped by a user.' },
        },
      },
    ]);
    ecsMock.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', events: [] }] });
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    const result = await watchCodeDeployDeployment(cd, ecs, options(new ScriptedClock(T0), new MemoryLog()));
    expect(result).toMatchObject({
      outcome: 'stopped',
      status: 'Stopped',
      message: `CodeDeploy deployment ${ID} was stopped: The deployment was stopped by a user.`,
      diagnostics: ['errorInformation: MANUAL_STOP: The deployment was stopped by a user.'],
      rollbackRequested: false,
    });
    expect(ecsMock).not.toHaveReceivedCommand(DescribeTasksCommand);
  });

  describe('on timeout', () => {
    beforeEach(() => {
      script([
        { status: 'InProgress', events: lifecycle('AllowTraffic', 'InProgress'), sets: taskSets(10, 90) },
      ]);
      ecsMock.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE' }] });
      ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    });

    it('stops the deployment with rollback when asked to, never sleeping past the deadline', async () => {
      cdMock.on(StopDeploymentCommand).resolves({ status: 'Pending', statusMessage: 'Stop request pending' });
      const clock = new ScriptedClock(T0);
      const log = new MemoryLog();
      const result = await watchCodeDeployDeployment(cd, ecs, options(clock, log, { timeoutMs: 60_000 }));
      expect(cdMock).toHaveReceivedCommandTimes(StopDeploymentCommand, 1);
      expect(cdMock).toHaveReceivedCommandWith(StopDeploymentCommand, {
        deploymentId: ID,
        autoRollbackEnabled: true,
      });
      expect(result.outcome).toBe('timed-out');
      expect(result.rollbackRequested).toBe(true);
      expect(result.status).toBe('InProgress');
      expect(result.elapsedMs).toBe(60_000);
      expect(clock.t).toBe(T0 + 60_000);
      expect(result.message).toBe(
        `CodeDeploy deployment ${ID} did not finish within 1 min (last status InProgress). Stopped it with rollback (StopDeployment: Pending, Stop request pending).`,
      );
      // Said once, as the failure's cause (main annotates it), not also as a warning.
      expect(log.lines).not.toContain(`warning: ${result.message}`);
      expect(result.failure?.kind).toBe('timeout');
      expect(result.failure?.cause).toBe(result.message);
    });

    it('leaves the deployment running when rollback on timeout is off', async () => {
      const result = await watchCodeDeployDeployment(
        cd,
        ecs,
        options(new ScriptedClock(T0), new MemoryLog(), { timeoutMs: 60_000, rollbackOnTimeout: false }),
      );
      expect(cdMock).not.toHaveReceivedCommand(StopDeploymentCommand);
      expect(result.outcome).toBe('timed-out');
      expect(result.rollbackRequested).toBe(false);
      expect(result.message).toMatch(/keeps running in CodeDeploy: rollback on timeout is off\.$/);
    });

    it('says so when StopDeployment itself fails', async () => {
      cdMock
        .on(StopDeploymentCommand)
        .rejects(
          sdkError('AccessDeniedException', 'not authorized to perform: codedeploy:StopDeployment', 400),
        );
      const result = await watchCodeDeployDeployment(
        cd,
        ecs,
        options(new ScriptedClock(T0), new MemoryLog(), { timeoutMs: 60_000 }),
      );
      expect(result.outcome).toBe('timed-out');
      expect(result.rollbackRequested).toBe(false);
      expect(result.message).toMatch(
        /StopDeployment with rollback failed \(AccessDeniedException: not authorized/,
      );
    });
  });

  it('keeps polling through throttling and 5xx errors', async () => {
    script([
      { status: 'InProgress' },
      { error: sdkError('ThrottlingException', 'Rate exceeded', 400) },
      { error: sdkError('InternalFailure', 'Service unavailable', 503) },
      { status: 'Succeeded' },
    ]);
    const log = new MemoryLog();
    const result = await watchCodeDeployDeployment(cd, ecs, options(new ScriptedClock(T0), log));
    expect(result.outcome).toBe('succeeded');
    expect(result.polls).toBe(4);
    expect(log.lines.filter((l) => l.startsWith('warning:'))).toEqual([
      'warning: Polling failed for now, trying again: ThrottlingException: Rate exceeded',
      'warning: Polling failed for now, trying again: AWS answered HTTP 503 (InternalFailure)',
    ]);
  });

  it('a 5xx storm of STORM_POLLS polls in a row: outcome unknown, still running, no stop, how to follow it', async () => {
    script([
      { status: 'InProgress' },
      ...Array.from({ length: STORM_POLLS }, () => ({
        error: sdkError('InternalFailure', 'raw SDK words', 503),
      })),
    ]);
    const log = new MemoryLog();
    const result = await watchCodeDeployDeployment(cd, ecs, options(new ScriptedClock(T0), log));
    expect(result.outcome).toBe('unknown');
    expect(result.rollbackRequested).toBe(false);
    expect(result.message).toMatch(
      /^Lost sight of CodeDeploy deployment d-\w+: 3 polls in a row failed \(AWS answered HTTP 503 \(InternalFailure\)\)\. It is still running in AWS \(last seen InProgress\)/,
    );
    expect(result.message).toContain('aws deploy get-deployment --deployment-id');
    expect(result.message).toContain('The post step stops it with rollback (on-cancel: rollback)');
    expect(`${result.message}\n${log.text()}`).not.toContain('raw SDK words');
    expect(cdMock).not.toHaveReceivedCommand(StopDeploymentCommand);
  });

  it('a 5xx storm broken by one answer starts counting again', async () => {
    const err = { error: sdkError('InternalFailure', 'x', 503) };
    script([{ status: 'InProgress' }, err, err, { status: 'InProgress' }, err, err, { status: 'Succeeded' }]);
    const result = await watchCodeDeployDeployment(cd, ecs, options(new ScriptedClock(T0), new MemoryLog()));
    expect(result.outcome).toBe('succeeded');
  });

  it('throttling never counts toward the storm', async () => {
    const err = { error: sdkError('ThrottlingException', 'Rate exceeded', 400) };
    script([{ status: 'InProgress' }, err, err, err, err, err, { status: 'Succeeded' }]);
    const result = await watchCodeDeployDeployment(cd, ecs, options(new ScriptedClock(T0), new MemoryLog()));
    expect(result.outcome).toBe('succeeded');
  });

  it('lets other errors through', async () => {
    script([{ status: 'InProgress' }, { error: sdkError('AccessDeniedException', 'not authorized', 400) }]);
    await expect(
      watchCodeDeployDeployment(cd, ecs, options(new ScriptedClock(T0), new MemoryLog())),
    ).rejects.toThrow('not authorized');
  });

  describe('backoff', () => {
    it('grows ×1.5 while nothing changes, up to 15 s, and ends exactly at the deadline', async () => {
      script([{ status: 'InProgress' }]);
      ecsMock.on(DescribeServicesCommand).resolves({ services: [] });
      ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
      const clock = new ScriptedClock(T0);
      const result = await watchCodeDeployDeployment(
        cd,
        ecs,
        options(clock, new MemoryLog(), {
          pollIntervalMs: 1_000,
          timeoutMs: 60_000,
          rollbackOnTimeout: false,
        }),
      );
      expect(clock.sleeps).toEqual([1000, 1500, 2250, 3375, 5062.5, 7593.75, 11390.625, 15000, 12828.125]);
      expect(result.polls).toBe(10);
      // The deployment at the start, once more when a minute passed without reading it (the
      // target's events never moved), and after the deadline for the rollback deployment it
      // may have; the target in every other poll.
      expect(cdMock).toHaveReceivedCommandTimes(GetDeploymentCommand, 3);
      expect(cdMock).toHaveReceivedCommandTimes(GetDeploymentTargetCommand, 10);
      expect(result.elapsedMs).toBe(60_000);
    });

    it('goes back to the base interval as soon as something changes', async () => {
      const install = lifecycle('Install', 'InProgress');
      const testTraffic = lifecycle('AllowTestTraffic', 'InProgress');
      script([
        { status: 'InProgress' },
        { status: 'InProgress', events: install },
        { status: 'InProgress', events: install },
        { status: 'InProgress', events: install },
        { status: 'InProgress', events: testTraffic },
        { status: 'InProgress', events: testTraffic },
        { status: 'Succeeded' },
      ]);
      const clock = new ScriptedClock(T0);
      const result = await watchCodeDeployDeployment(
        cd,
        ecs,
        options(clock, new MemoryLog(), { pollIntervalMs: 1_000 }),
      );
      // Changes: the status (poll 1), Install under way (2), AllowTestTraffic (5).
      expect(clock.sleeps).toEqual([1000, 1000, 1500, 2250, 1000, 1500]);
      expect(result.polls).toBe(7);
    });

    it('caps at four intervals when that is more than 15 s', async () => {
      script([
        { status: 'InProgress' },
        { status: 'InProgress' },
        { status: 'InProgress' },
        { status: 'InProgress' },
        { status: 'InProgress' },
        { status: 'InProgress' },
        { status: 'Succeeded' },
      ]);
      const clock = new ScriptedClock(T0);
      await watchCodeDeployDeployment(cd, ecs, options(clock, new MemoryLog(), { pollIntervalMs: 10_000 }));
      expect(clock.sleeps).toEqual([10_000, 15_000, 22_500, 33_750, 40_000, 40_000]);
    });
  });

  it('one call per poll: the target while a hook runs, the deployment through the termination wait, timed from the last event’s end', async () => {
    const info = {
      blueGreenDeploymentConfiguration: {
        terminateBlueInstancesOnDeploymentSuccess: {
          action: 'TERMINATE' as const,
          terminationWaitTimeInMinutes: 1,
        },
      },
    };
    const waiting = { ...info, instanceTerminationWaitTimeStarted: true };
    // AfterAllowTraffic ended at 2 s (AWS's clock), between the polls at 1 s and 2.5 s.
    const done = lifecycle('AfterAllowTraffic', 'Succeeded', { endTime: new Date(T0 + 2_000) });
    script([
      { status: 'InProgress', info, events: lifecycle('AfterAllowTestTraffic', 'InProgress') },
      { status: 'InProgress', info, events: lifecycle('AfterAllowTestTraffic', 'InProgress') },
      { status: 'InProgress', info: waiting, events: done },
      { status: 'InProgress', info: waiting, events: done },
      { status: 'InProgress', info: waiting, events: done },
      { status: 'Succeeded', info: waiting, events: done },
    ]);
    const clock = new ScriptedClock(T0);
    const result = await watchCodeDeployDeployment(
      cd,
      ecs,
      options(clock, new MemoryLog(), { pollIntervalMs: 1_000 }),
    );
    // Succeeded is due at 62 s: one sleep to a base interval before it, then dense polls.
    expect(clock.sleeps).toEqual([1000, 1500, 30_000, 28_500, 1000]);
    expect(result.outcome).toBe('succeeded');
    expect(cdMock).toHaveReceivedCommandTimes(GetDeploymentCommand, 5);
    expect(cdMock).toHaveReceivedCommandTimes(GetDeploymentTargetCommand, 3);
  });

  it('stops watching when cancelled and leaves the decision to the caller', async () => {
    script([{ status: 'InProgress' }]);
    const controller = new AbortController();
    const clock = new ScriptedClock(T0, (n) => {
      if (n === 2) controller.abort();
    });
    const result = await watchCodeDeployDeployment(
      cd,
      ecs,
      options(clock, new MemoryLog(), { signal: controller.signal }),
    );
    expect(result).toMatchObject({
      outcome: 'stopped',
      status: 'InProgress',
      rollbackRequested: false,
      polls: 2,
      diagnostics: [],
      message: `Watch cancelled; CodeDeploy deployment ${ID} was left InProgress.`,
    });
    expect(cdMock).not.toHaveReceivedCommand(StopDeploymentCommand);
  });

  it('does not poll at all when already cancelled', async () => {
    script([{ status: 'InProgress' }]);
    const controller = new AbortController();
    controller.abort();
    const result = await watchCodeDeployDeployment(
      cd,
      ecs,
      options(new ScriptedClock(T0), new MemoryLog(), { signal: controller.signal }),
    );
    expect(result.outcome).toBe('stopped');
    expect(result.polls).toBe(0);
    expect(cdMock.calls()).toHaveLength(0);
  });
});

describe('which one call a CodeDeploy poll makes', () => {
  const ev = (status: LifecycleEvent['status']): LifecycleEvent[] => lifecycle('AllowTraffic', status);
  it.each([
    ['not read yet', undefined, undefined, 'deployment'],
    ['Created', { status: 'Created' }, undefined, 'deployment'],
    ['InProgress, target not read', { status: 'InProgress' }, undefined, 'target'],
    [
      'InProgress, an event running',
      { status: 'InProgress' },
      { lifecycleEvents: ev('InProgress') },
      'target',
    ],
    [
      'InProgress, every event ended',
      { status: 'InProgress' },
      { lifecycleEvents: lifecycle('AfterAllowTraffic', 'Succeeded') },
      'deployment',
    ],
    [
      'InProgress, an event failed',
      { status: 'InProgress' },
      { lifecycleEvents: ev('Failed') },
      'deployment',
    ],
    [
      'termination wait',
      { status: 'InProgress', instanceTerminationWaitTimeStarted: true },
      {},
      'deployment',
    ],
    ['Ready', { status: 'Ready' }, { status: 'Ready' }, 'deployment'],
    // Continued after Ready: the target's Ready is stale, its events move again.
    [
      'InProgress after Ready',
      { status: 'InProgress' },
      { status: 'Ready', lifecycleEvents: ev('Pending') },
      'target',
    ],
    ['Succeeded', { status: 'Succeeded' }, { status: 'Succeeded' }, 'deployment'],
  ] as const)('%s: %s', (_name, info, target, expected) => {
    expect(nextRead(info as DeploymentInfo | undefined, target as ECSTarget | undefined)).toBe(expected);
  });

  it('a target that ended or failed is settled; a Ready one is not', () => {
    expect(targetSettled({ status: 'Failed' })).toBe(true);
    expect(targetSettled({ status: 'Ready', lifecycleEvents: ev('Pending') })).toBe(false);
    expect(targetSettled({ status: 'InProgress', lifecycleEvents: [] })).toBe(false);
  });
});

describe('codeDeployDue: when the termination or ready wait ends', () => {
  const terminate = (minutes: number): DeploymentInfo => ({
    status: 'InProgress',
    instanceTerminationWaitTimeStarted: true,
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: minutes,
      },
    },
  });
  it.each([
    [
      'the last event ended inside the bounds: timed from it',
      10_000,
      20_000,
      15_000,
      { from: 75_000, to: 77_000 },
    ],
    ['no end time: between the bounds', 10_000, 20_000, undefined, { from: 70_000, to: 80_000 }],
    // A runner clock far off AWS's would put the end outside what the polls saw: the polls win.
    [
      'an end time outside the bounds: between the bounds',
      10_000,
      20_000,
      40_000,
      { from: 70_000, to: 80_000 },
    ],
  ])('%s', (_name, after, seenAt, lastEventEnd, expected) => {
    expect(codeDeployDue(terminate(1), { after, seenAt, lastEventEnd })).toEqual({
      ...expected,
      kind: 'wait',
    });
  });

  it('a ready wait that continues on its own', () => {
    const info: DeploymentInfo = {
      status: 'Ready',
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT', waitTimeInMinutes: 2 },
      },
    };
    expect(codeDeployDue(info, { after: 0, seenAt: 5_000, lastEventEnd: 3_000 })).toEqual({
      from: 123_000,
      to: 125_000,
      kind: 'wait',
    });
  });

  it('a target CodeDeploy does not know as cluster:service is listed, then read', async () => {
    script([{ status: 'InProgress' }, { status: 'Succeeded' }]);
    cdMock
      .on(GetDeploymentTargetCommand, { targetId: 'prod:web' })
      .rejects(Object.assign(new Error('no such target'), { name: 'DeploymentTargetDoesNotExistException' }));
    cdMock.on(ListDeploymentTargetsCommand).resolves({ targetIds: ['other:id'] });
    cdMock.on(GetDeploymentTargetCommand, { targetId: 'other:id' }).resolves({
      deploymentTarget: { ecsTarget: { targetId: 'other:id', status: 'Succeeded' } },
    });
    const result = await watchCodeDeployDeployment(cd, ecs, options(new ScriptedClock(T0), new MemoryLog()));
    expect(result.outcome).toBe('succeeded');
    expect(cdMock).toHaveReceivedCommandTimes(ListDeploymentTargetsCommand, 1);
    expect(cdMock).toHaveReceivedCommandWith(GetDeploymentTargetCommand, { targetId: 'other:id' });
  });
});
