/**
 * A failed ECS-native service deployment in words (pure: kind, hook stage, cause, production)
 * and as the watch hands it back: the Failure, ECS's rollback followed to its end, the stopped
 * tasks of our revision.
 */
import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  StopServiceDeploymentCommand,
  type ServiceDeployment,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { failureSentence, productionHeadline } from '../../../src/deploy/failure.js';
import {
  hookStage,
  lambdaName,
  nativeCause,
  nativeFailureKind,
  nativeHookMessage,
  nativeProduction,
} from '../../../src/deploy/native-failure.js';
import { watchNativeDeployment, type NativeWatchOptions } from '../../../src/deploy/native-watch.js';
import { MemoryLog } from '../../../src/log.js';
import { ScriptedClock } from './fakes.js';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

const TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:8';
const OLD_TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:7';
const ARN = 'arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/AbCdEf';
const REV_NEW = 'arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/2';
const REV_OLD = 'arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/1';
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:smoke-test';
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
const HOOK_REASON = `Service deployment rolled back because the lifecycle hook ${LAMBDA} failed at the POST_TEST_TRAFFIC_SHIFT lifecycle stage: GET /health returned 500`;

const sd = (d: Partial<ServiceDeployment> = {}): ServiceDeployment => ({
  serviceDeploymentArn: ARN,
  status: 'IN_PROGRESS',
  lifecycleStage: 'SCALE_UP',
  createdAt: new Date(T0 - 1_000),
  targetServiceRevision: { arn: REV_NEW, requestedProductionTrafficWeight: 0, requestedTestTrafficWeight: 0 },
  sourceServiceRevisions: [{ arn: REV_OLD }],
  deploymentConfiguration: {
    strategy: 'BLUE_GREEN',
    bakeTimeInMinutes: 3,
    lifecycleHooks: [{ hookTargetArn: LAMBDA, lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'] }],
  },
  ...d,
});

const hook = (status: 'IN_PROGRESS' | 'FAILED' | 'TIMED_OUT', h = {}) => ({
  lifecycleHookDetails: [
    { hookId: 'ecs-lambda-1', targetType: 'AWS_LAMBDA' as const, targetArn: LAMBDA, status, ...h },
  ],
});

const rolledBack = (d: Partial<ServiceDeployment> = {}) =>
  sd({
    status: 'ROLLBACK_SUCCESSFUL',
    rollback: { reason: d.statusReason, serviceRevisionArn: REV_OLD },
    ...d,
  });

describe('the kind of failure, most specific first', () => {
  it.each<[string, Partial<ServiceDeployment>, 'ended' | 'timeout', string]>([
    ['the wait ran out', { status: 'IN_PROGRESS' }, 'timeout', 'timeout'],
    ['a failed Lambda hook', { status: 'ROLLBACK_SUCCESSFUL', ...hook('FAILED') }, 'ended', 'hook'],
    ['a hook that timed out', { status: 'ROLLBACK_SUCCESSFUL', ...hook('TIMED_OUT') }, 'ended', 'hook'],
    [
      'the breaker (a hook running then ends FAILED too)',
      {
        status: 'ROLLBACK_SUCCESSFUL',
        deploymentCircuitBreaker: { status: 'TRIGGERED', failureCount: 3, threshold: 3 },
        ...hook('FAILED'),
      },
      'ended',
      'circuit-breaker',
    ],
    [
      'alarms',
      { status: 'ROLLBACK_SUCCESSFUL', alarms: { status: 'TRIGGERED', triggeredAlarmNames: ['5xx'] } },
      'ended',
      'alarm',
    ],
    [
      'a stop request from elsewhere (the running hook ends FAILED)',
      {
        status: 'ROLLBACK_SUCCESSFUL',
        statusReason: 'Service deployment rolled back because of a StopServiceDeployment request.',
        ...hook('FAILED'),
      },
      'ended',
      'stopped',
    ],
    [
      'a newer deployment',
      { status: 'STOPPED', statusReason: 'stopped because a newer service deployment started.' },
      'ended',
      'replaced',
    ],
    ['stopped', { status: 'STOPPED' }, 'ended', 'stopped'],
    ['a rollback ECS does not explain', { status: 'ROLLBACK_SUCCESSFUL' }, 'ended', 'other'],
  ])('%s → %s', (_what, d, end, kind) => expect(nativeFailureKind(sd(d), end)).toBe(kind));
});

describe('the hook: its stage, its function, its own words', () => {
  const failed = {
    hookId: 'ecs-lambda-1',
    targetType: 'AWS_LAMBDA' as const,
    targetArn: LAMBDA,
    status: 'FAILED' as const,
  };
  it.each<[string, Partial<ServiceDeployment>, Map<string, string>, string]>([
    [
      'as the watch saw it',
      { lifecycleStage: 'CLEAN_UP' },
      new Map([['ecs-lambda-1', 'POST_SCALE_UP']]),
      'POST_SCALE_UP',
    ],
    [
      'the one stage its configuration names',
      { lifecycleStage: 'CLEAN_UP' },
      new Map(),
      'POST_TEST_TRAFFIC_SHIFT',
    ],
    [
      "ECS's reason, when the hook runs at several stages",
      {
        lifecycleStage: 'CLEAN_UP',
        statusReason: HOOK_REASON.replace('POST_TEST_TRAFFIC_SHIFT', 'PRE_SCALE_UP'),
        deploymentConfiguration: {
          lifecycleHooks: [{ hookTargetArn: LAMBDA, lifecycleStages: ['PRE_SCALE_UP', 'POST_SCALE_UP'] }],
        },
      },
      new Map(),
      'PRE_SCALE_UP',
    ],
    [
      'else the stage the deployment stopped at',
      { lifecycleStage: 'TEST_TRAFFIC_SHIFT', deploymentConfiguration: {} },
      new Map(),
      'TEST_TRAFFIC_SHIFT',
    ],
  ])('%s', (_what, d, seen, stage) => expect(hookStage(sd(d), failed, seen)).toBe(stage));

  it.each([
    [LAMBDA, 'smoke-test'],
    [`${LAMBDA}:live`, 'smoke-test'],
    ['my-function', 'my-function'],
  ])('lambdaName(%s) → %s', (arn, name) => expect(lambdaName(arn)).toBe(name));

  it.each([
    [HOOK_REASON, 'GET /health returned 500'],
    ['Service deployment rolled back because the hook returned FAILED.', 'the hook returned FAILED.'],
    [undefined, 'the function reported FAILED'],
    ['line one\n::error::two', 'line one ⏎ ::error::two'],
  ])('nativeHookMessage(%j) → %j', (reason, message) => expect(nativeHookMessage(reason)).toBe(message));
});

describe('the cause in one sentence', () => {
  const seen = new Map<string, string>();
  it.each<[string, Partial<ServiceDeployment>, string | undefined, RegExp]>([
    [
      'a failed Lambda hook',
      { ...hook('FAILED'), statusReason: HOOK_REASON },
      'The POST_TEST_TRAFFIC_SHIFT hook smoke-test failed: GET /health returned 500',
      /./,
    ],
    [
      'a Lambda hook that timed out',
      hook('TIMED_OUT'),
      'The POST_TEST_TRAFFIC_SHIFT hook smoke-test did not answer before its timeout, so ECS rolled the deployment back',
      /./,
    ],
    [
      'a PAUSE hook answered ROLLBACK',
      hook('FAILED', { targetType: 'PAUSE', targetArn: undefined }),
      'The PAUSE hook at SCALE_UP was answered with ROLLBACK (ContinueServiceDeployment)',
      /./,
    ],
    [
      'alarms',
      { alarms: { triggeredAlarmNames: ['5xx-high', 'latency'] } },
      'The CloudWatch alarms 5xx-high, latency went into ALARM during the deployment, so ECS rolled it back',
      /./,
    ],
    [
      'the breaker: the tasks say it better',
      { deploymentCircuitBreaker: { status: 'TRIGGERED', failureCount: 4, threshold: 3 } },
      undefined,
      /^The circuit breaker rolled the deployment back after 4 tasks failed to start \(threshold 3\)$/,
    ],
    [
      'an unexplained rollback',
      {
        status: 'ROLLBACK_SUCCESSFUL',
        statusReason: 'Both targetGroup and alternateTargetGroup must be associated',
      },
      undefined,
      /^ECS rolled service deployment AbCdEf back: Both targetGroup/,
    ],
    [
      'a failed rollback',
      { status: 'ROLLBACK_FAILED', statusReason: 'no earlier revision' },
      undefined,
      /^ECS service deployment AbCdEf failed and so did its rollback: no earlier revision$/,
    ],
  ])('%s', (_what, d, cause, fallback) => {
    const got = nativeCause(
      sd(d),
      nativeFailureKind(sd({ status: 'ROLLBACK_SUCCESSFUL', ...d }), 'ended'),
      seen,
      'the message',
    );
    expect(got.cause).toBe(cause);
    expect(got.fallback).toMatch(fallback);
  });
});

describe('what production serves, from the service deployment', () => {
  const revs = { target: TD, source: OLD_TD };
  it.each<[string, Partial<ServiceDeployment>, { taskDefinitionArn?: string } | undefined]>([
    ['rolled back', { status: 'ROLLBACK_SUCCESSFUL' }, { taskDefinitionArn: OLD_TD }],
    ['succeeded', { status: 'SUCCESSFUL' }, { taskDefinitionArn: TD }],
    ['the rollback failed: nobody knows', { status: 'ROLLBACK_FAILED' }, {}],
    ['stopped: the service tells', { status: 'STOPPED' }, undefined],
    ['going on, no traffic moved', { status: 'IN_PROGRESS' }, { taskDefinitionArn: OLD_TD }],
    [
      'going on, all traffic moved',
      { status: 'IN_PROGRESS', targetServiceRevision: { requestedProductionTrafficWeight: 100 } },
      { taskDefinitionArn: TD },
    ],
    [
      'rolling back, traffic split',
      { status: 'ROLLBACK_IN_PROGRESS', targetServiceRevision: { requestedProductionTrafficWeight: 40 } },
      {},
    ],
  ])('%s', (_what, d, production) => expect(nativeProduction(sd(d), revs)).toEqual(production));
});

// ---------------------------------------------------------------------------------------
// The watch's Failure

const crashed = (id: string, td = TD): Task => ({
  taskArn: `arn:aws:ecs:us-east-1:123456789012:task/prod/${id}`,
  taskDefinitionArn: td,
  stopCode: 'EssentialContainerExited',
  stoppedReason: 'Essential container in task exited',
  stoppedAt: new Date(T0 + 5_000),
  containers: [{ name: 'web', exitCode: 1 }],
});

const scaledDown = (id: string): Task => ({
  taskArn: `arn:aws:ecs:us-east-1:123456789012:task/prod/${id}`,
  taskDefinitionArn: TD,
  stopCode: 'ServiceSchedulerInitiated',
  stoppedReason: `Scaling activity initiated by (service deployment ${ARN})`,
  stoppedAt: new Date(T0 + 5_000),
  containers: [{ name: 'web', exitCode: 0 }],
});

/** The service after the rollback: the old revision PRIMARY (what productionNow would read). */
function world(tasks: Task[] = [], revisionsReadable = true): void {
  const revisions: Record<string, string> = { [REV_NEW]: TD, [REV_OLD]: OLD_TD };
  ecsMock.on(DescribeServiceRevisionsCommand).callsFake((input: { serviceRevisionArns: string[] }) => {
    if (!revisionsReadable) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    return {
      serviceRevisions: input.serviceRevisionArns.map((arn) => ({
        serviceRevisionArn: arn,
        taskDefinition: revisions[arn],
      })),
    };
  });
  ecsMock.on(DescribeServicesCommand).resolves({
    services: [
      {
        serviceName: 'web',
        status: 'ACTIVE',
        deployments: [
          { id: 'ecs-svc/1', status: 'PRIMARY', taskDefinition: OLD_TD, rolloutState: 'COMPLETED' },
        ],
        events: [
          {
            id: 'e2',
            createdAt: new Date(T0 + 6_000),
            message: `(service web) (deployment ecs-svc/2) deployment failed: ${HOOK_REASON}`,
          },
          {
            id: 'e1',
            createdAt: new Date(T0 + 1_000),
            message: '(service web) has started a BLUE_GREEN service deployment (deployment ecs-svc/2).',
          },
        ],
      },
    ],
  });
  ecsMock.on(ListTasksCommand).resolves({ taskArns: tasks.map((t) => t.taskArn as string) });
  ecsMock.on(DescribeTasksCommand).resolves({ tasks });
}

/** DescribeServiceDeployments answers in turn (the last repeats); after StopServiceDeployment, `afterStop` in turn. */
function deployments(before: ServiceDeployment[], afterStop: ServiceDeployment[] = []): void {
  let stopped = false;
  let [i, j] = [0, 0];
  ecsMock.on(StopServiceDeploymentCommand).callsFake(() => {
    stopped = true;
    return { serviceDeploymentArn: ARN };
  });
  ecsMock.on(DescribeServiceDeploymentsCommand).callsFake(() => {
    const d =
      stopped && afterStop.length > 0
        ? afterStop[Math.min(j++, afterStop.length - 1)]
        : before[Math.min(i++, before.length - 1)];
    return { serviceDeployments: [d] };
  });
}

function options(o: Partial<NativeWatchOptions> = {}): NativeWatchOptions & { log: MemoryLog } {
  return {
    cluster: 'prod',
    service: 'web',
    region: 'us-east-1',
    arn: ARN,
    waitUntil: 'complete',
    timeoutMs: 10 * 60_000,
    pollIntervalMs: 5_000,
    rollbackOnTimeout: true,
    clock: new ScriptedClock(T0),
    log: new MemoryLog(),
    ...o,
  } as NativeWatchOptions & { log: MemoryLog };
}

beforeEach(() => {
  ecsMock.reset();
});

describe('watchNativeDeployment fills the Failure', () => {
  it('a failed hook: the stage the watch saw it at, the function, its words; production back on the old revision', async () => {
    world([scaledDown('t1')]);
    // The hook runs at two stages and ECS's reason names none: only the watch saw where it ran.
    const twoStages = {
      deploymentConfiguration: {
        lifecycleHooks: [
          {
            hookTargetArn: LAMBDA,
            lifecycleStages: ['POST_SCALE_UP' as const, 'POST_TEST_TRAFFIC_SHIFT' as const],
          },
        ],
      },
    };
    const reason = 'Service deployment rolled back because the hook said: GET /health returned 500';
    deployments([
      sd({ lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT', ...twoStages, ...hook('IN_PROGRESS') }),
      rolledBack({ lifecycleStage: 'CLEAN_UP', statusReason: reason, ...twoStages, ...hook('FAILED') }),
    ]);
    const r = await watchNativeDeployment(ecs, options());
    expect(r.outcome).toBe('failed');
    expect(r.failure).toEqual({
      kind: 'hook',
      cause: 'The POST_TEST_TRAFFIC_SHIFT hook smoke-test failed: the hook said: GET /health returned 500',
      deployed: TD,
      previous: OLD_TD,
      production: OLD_TD,
      rollback: { by: 'the rollback', id: ARN, status: 'succeeded', taskDefinitionArn: OLD_TD },
      // The green tasks the rollback scaled down are no explanation.
      tasks: [],
    });
    expect(failureSentence(r.failure!)).toBe(
      'The POST_TEST_TRAFFIC_SHIFT hook smoke-test failed: the hook said: GET /health returned 500; production still serves app:7; the rollback to app:7 succeeded.',
    );
    expect(r.diagnostics).toContain(
      `failed hook: Lambda function ${LAMBDA} at POST_TEST_TRAFFIC_SHIFT (hook ecs-lambda-1)`,
    );
  });

  it("ECS's reason is said once (not again as a service event), and routine events are left out", async () => {
    world();
    deployments([rolledBack({ statusReason: HOOK_REASON, ...hook('FAILED') })]);
    const r = await watchNativeDeployment(ecs, options());
    expect(r.failure?.cause).toBe(
      'The POST_TEST_TRAFFIC_SHIFT hook smoke-test failed: GET /health returned 500',
    );
    expect(r.diagnostics.filter((l) => l.includes('GET /health returned 500'))).toHaveLength(1);
    expect(r.diagnostics.join('\n')).not.toContain('has started a BLUE_GREEN service deployment');
  });

  it("the circuit breaker: the crashed tasks' reason is the cause, their containers' logs are read", async () => {
    world([crashed('t1'), crashed('t2'), scaledDown('t3'), crashed('t0', OLD_TD)]);
    deployments([
      rolledBack({
        statusReason: 'the circuit breaker threshold was exceeded',
        deploymentCircuitBreaker: { status: 'TRIGGERED', failureCount: 2, threshold: 2 },
      }),
    ]);
    const r = await watchNativeDeployment(ecs, options());
    expect(r.failure).toMatchObject({
      kind: 'circuit-breaker',
      cause:
        '2 new tasks of app:8 stopped: EssentialContainerExited: Essential container in task exited; container web: exit code 1',
      production: OLD_TD,
      rollback: { by: "the circuit breaker's rollback", status: 'succeeded', taskDefinitionArn: OLD_TD },
    });
    expect(r.failure?.tasks.map((t) => t.taskArn.replace(/^.*\//, ''))).toEqual(['t1', 't2']);
    expect(r.diagnostics).toContain('circuit breaker TRIGGERED: 2 tasks failed, threshold 2');
  });

  it('the wait ends while ECS rolls back: failed (not timed out), not stopped again, the rollback followed to its end', async () => {
    world();
    const rollingBack = sd({ status: 'ROLLBACK_IN_PROGRESS', statusReason: HOOK_REASON, ...hook('FAILED') });
    const polls = Math.ceil(60_000 / 5_000) + 3;
    deployments([
      ...Array.from({ length: polls }, () => rollingBack),
      rolledBack({ statusReason: HOOK_REASON, ...hook('FAILED') }),
    ]);
    const o = options({ timeoutMs: 60_000 });
    const r = await watchNativeDeployment(ecs, o);
    expect(r.outcome).toBe('failed');
    expect(ecsMock).not.toHaveReceivedCommand(StopServiceDeploymentCommand);
    expect(r.failure).toMatchObject({ kind: 'hook', rollback: { status: 'succeeded' }, production: OLD_TD });
    expect(o.log.text()).toContain('following the rollback to its end');
  });

  it('a timeout: stopped with rollback, that rollback followed to ROLLBACK_SUCCESSFUL', async () => {
    world();
    deployments(
      [
        sd({
          lifecycleStage: 'BAKE_TIME',
          targetServiceRevision: { arn: REV_NEW, requestedProductionTrafficWeight: 100 },
        }),
      ],
      [
        sd({ status: 'ROLLBACK_IN_PROGRESS' }),
        rolledBack({ statusReason: 'because of a StopServiceDeployment request.' }),
      ],
    );
    const r = await watchNativeDeployment(ecs, options({ timeoutMs: 30_000 }));
    expect(r).toMatchObject({ outcome: 'timed-out', rollbackRequested: true });
    expect(r.failure).toMatchObject({
      kind: 'timeout',
      production: OLD_TD,
      rollback: { by: 'the rollback', status: 'succeeded', taskDefinitionArn: OLD_TD },
    });
    expect(r.failure?.cause).toMatch(
      /^ECS service deployment AbCdEf did not finish within 30 s \(last IN_PROGRESS at BAKE_TIME\)\. Stopped it with rollback/,
    );
  });

  it('a timeout whose rollback outlasts the grace: in progress, and the headline says so', async () => {
    world();
    deployments([sd({ lifecycleStage: 'BAKE_TIME' })], [sd({ status: 'ROLLBACK_IN_PROGRESS' })]);
    const r = await watchNativeDeployment(ecs, options({ timeoutMs: 30_000 }));
    expect(r.failure?.rollback).toMatchObject({ status: 'in-progress', taskDefinitionArn: OLD_TD });
    expect(productionHeadline(false, r.failure)).toBe(
      'Production is being rolled back to app:7; the rollback had not ended when the wait did.',
    );
  });

  it('a timeout with rollback on timeout off: not stopped, production read from the traffic weights', async () => {
    world();
    deployments([
      sd({
        lifecycleStage: 'BAKE_TIME',
        targetServiceRevision: { arn: REV_NEW, requestedProductionTrafficWeight: 100 },
      }),
    ]);
    const r = await watchNativeDeployment(ecs, options({ timeoutMs: 30_000, rollbackOnTimeout: false }));
    expect(ecsMock).not.toHaveReceivedCommand(StopServiceDeploymentCommand);
    expect(r.failure).toMatchObject({ kind: 'timeout', production: TD });
    expect(r.failure?.rollback).toBeUndefined();
    expect(failureSentence(r.failure!)).toMatch(
      /rollback on timeout is off; production serves app:8, the new revision\.$/,
    );
  });

  it('a failed rollback: production unknown, said so', async () => {
    world();
    deployments([sd({ status: 'ROLLBACK_FAILED', statusReason: 'no earlier revision' })]);
    const r = await watchNativeDeployment(ecs, options());
    expect(r.failure).toMatchObject({ kind: 'other', rollback: { status: 'failed' } });
    expect(r.failure?.production).toBeUndefined();
    expect(productionHeadline(false, r.failure)).toBe(
      'Production state unknown: check the service in the console.',
    );
  });

  it('revisions that cannot be read: the start’s previous task definition is named', async () => {
    world([], false);
    deployments([rolledBack({ statusReason: HOOK_REASON, ...hook('FAILED') })]);
    const r = await watchNativeDeployment(ecs, options({ previousTaskDefinitionArn: OLD_TD }));
    expect(r.failure).toMatchObject({
      kind: 'hook',
      previous: OLD_TD,
      production: OLD_TD,
      deployed: undefined,
    });
  });

  it('a rollback run (expectRollback) reports as before: no Failure', async () => {
    world();
    deployments([sd({ status: 'ROLLBACK_FAILED' })]);
    const r = await watchNativeDeployment(ecs, options({ expectRollback: true }));
    expect(r.outcome).toBe('failed');
    expect(r.failure).toBeUndefined();
  });
});
