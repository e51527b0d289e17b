/**
 * ECS-native BLUE_GREEN, LINEAR and CANARY deployments through the real ECS and ELBv2 SDK
 * clients, on a manually advanced clock: stages, traffic weights step by step (in the service
 * deployment and in the listener rules), hooks, circuit breaker, rollbacks and the service
 * deployment operations.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  ConflictException,
  ContinueServiceDeploymentCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  InvalidParameterException,
  ListServiceDeploymentsCommand,
  ServiceDeploymentNotFoundException,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type DeploymentConfiguration,
  type ECSClient,
  type LoadBalancer,
  type Service,
} from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator, type Seed } from '../../emulator/index.js';
import { awsvpc, clients } from './clients.js';
import { describe1, distinct, elbClient, nativeWorld, ruleWeights, trace } from './native-support.js';

const LAMBDA = 'arn:aws:lambda:us-east-1:000000000000:function:smoke-test';
const HOOK_ROLE = 'arn:aws:iam::000000000000:role/ecsLambdaHookRole';
const BREAKER = { enable: true, rollback: true };

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

async function start(seed: Seed): Promise<{ emulator: Emulator; ecs: ECSClient }> {
  emulator = await startEmulator({ manualClock: true, seed });
  return { emulator, ecs: clients(emulator).ecs };
}

async function service(ecs: ECSClient): Promise<Service> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster: 'demo', services: ['web'] }));
  return out.services?.[0] as Service;
}

/** UpdateService to app:2; the response names the service deployment it started. */
async function deploy(ecs: ECSClient): Promise<string> {
  const out = await ecs.send(
    new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:2' }),
  );
  const arn = out.service?.currentServiceDeployment;
  expect(arn).toMatch(/^arn:aws:ecs:us-east-1:000000000000:service-deployment\/demo\/web\/[\w-]{22}$/);
  return arn as string;
}

/** Seconds between the 30 % step and the 60 % step. */
function at30to60(seen: { at: number; production?: number }[]): number {
  const at = (w: number) => seen.find((s) => s.production === w)?.at as number;
  return at(60) - at(30);
}

describe('ECS-native deployments to success', () => {
  it('BLUE_GREEN: scales green up, shifts test then all production traffic, bakes, cleans up', async () => {
    const { emulator, ecs } = await start(
      nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5, deploymentCircuitBreaker: BREAKER }),
    );
    const elb = elbClient(emulator);
    const before = await service(ecs);
    const lb = before.loadBalancers?.[0];
    const advanced = lb?.advancedConfiguration;
    expect(before.deploymentConfiguration).toMatchObject({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5 });
    expect(advanced).toEqual({
      alternateTargetGroupArn: expect.stringMatching(/:targetgroup\/web-green\//),
      productionListenerRule: expect.stringMatching(/:listener-rule\/app\/web\//),
      testListenerRule: expect.stringMatching(/:listener-rule\/app\/web\//),
      roleArn: 'arn:aws:iam::000000000000:role/ecsInfrastructureRoleForLoadBalancers',
    });
    const blueTg = lb?.targetGroupArn as string;
    const greenTg = advanced?.alternateTargetGroupArn as string;

    const arn = await deploy(ecs);
    const first = await describe1(ecs, arn);
    expect(first).toMatchObject({ status: 'PENDING', serviceArn: before.serviceArn });

    // During the bake both revisions run: green PRIMARY, blue ACTIVE, 4 tasks.
    const { seen: toBake } = await trace(emulator, ecs, arn, {
      until: (d) => d.lifecycleStage === 'BAKE_TIME',
    });
    const baking = await service(ecs);
    expect(baking.deployments?.map((d) => [d.status, d.taskDefinition?.split('/')[1]])).toEqual([
      ['PRIMARY', 'app:2'],
      ['ACTIVE', 'app:1'],
    ]);
    expect(baking.runningCount).toBe(4);
    expect(baking.currentServiceDeployment).toBe(arn);
    expect(baking.currentServiceRevisions?.map((r) => [r.requestedTaskCount, r.runningTaskCount])).toEqual([
      [2, 2],
      [2, 2],
    ]);
    expect(await ruleWeights(elb, advanced?.productionListenerRule as string)).toEqual({
      [blueTg]: 0,
      [greenTg]: 100,
    });
    expect(await ruleWeights(elb, advanced?.testListenerRule as string)).toEqual({
      [blueTg]: 0,
      [greenTg]: 100,
    });

    const { seen, last } = await trace(emulator, ecs, arn);
    const all = [...toBake, ...seen];
    expect(distinct(all.map((s) => s.stage))).toEqual([
      undefined,
      'SCALE_UP',
      'TEST_TRAFFIC_SHIFT',
      'PRODUCTION_TRAFFIC_SHIFT',
      'BAKE_TIME',
      'CLEAN_UP',
    ]);
    expect(distinct(all.map((s) => s.production))).toEqual([0, 100]);
    expect(distinct(all.map((s) => s.test))).toEqual([0, 100]);
    // The bake lasts bakeTimeInMinutes: the second trace began when BAKE_TIME was first seen (≤ 1 s in).
    const cleanUp = seen.find((s) => s.stage === 'CLEAN_UP')?.at as number;
    expect(cleanUp).toBeGreaterThanOrEqual(299);
    expect(cleanUp).toBeLessThanOrEqual(300);
    expect(last).toMatchObject({
      status: 'SUCCESSFUL',
      lifecycleStage: 'CLEAN_UP',
      deploymentCircuitBreaker: { status: 'MONITORING_COMPLETE', failureCount: 0, threshold: 3 },
      alarms: { status: 'DISABLED' },
      targetServiceRevision: {
        requestedTaskCount: 2,
        runningTaskCount: 2,
        requestedProductionTrafficWeight: 100,
      },
      sourceServiceRevisions: [
        { requestedTaskCount: 0, runningTaskCount: 0, requestedProductionTrafficWeight: 0 },
      ],
    });
    expect(last.finishedAt).toBeInstanceOf(Date);
    expect(last.rollback).toBeUndefined();

    const after = await service(ecs);
    expect(after.deployments).toHaveLength(1);
    expect(after.deployments?.[0]).toMatchObject({
      status: 'PRIMARY',
      rolloutState: 'COMPLETED',
      taskDefinition: expect.stringMatching(/app:2$/),
    });
    expect(after.runningCount).toBe(2);
    expect(after.currentServiceDeployment).toBe(arn);

    // Revisions: the source served from the blue target group, the target from the green one.
    const revisions = await ecs.send(
      new DescribeServiceRevisionsCommand({
        serviceRevisionArns: [
          last.sourceServiceRevisions?.[0]?.arn as string,
          last.targetServiceRevision?.arn as string,
        ],
      }),
    );
    expect(
      revisions.serviceRevisions?.map((r) => [
        r.taskDefinition?.split('/')[1],
        r.resolvedConfiguration?.loadBalancers?.[0]?.targetGroupArn,
      ]),
    ).toEqual([
      ['app:1', blueTg],
      ['app:2', greenTg],
    ]);
    expect(revisions.serviceRevisions?.[1]?.containerImages).toEqual([
      { containerName: 'web', image: 'app:v2' },
    ]);
  });

  it('BLUE_GREEN: the next deployment goes back from the green target group to the blue one', async () => {
    const { emulator, ecs } = await start(nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 }));
    const elb = elbClient(emulator);
    const svc = await service(ecs);
    const rule = svc.loadBalancers?.[0]?.advancedConfiguration?.productionListenerRule as string;
    const blueTg = svc.loadBalancers?.[0]?.targetGroupArn as string;
    expect((await trace(emulator, ecs, await deploy(ecs))).last.status).toBe('SUCCESSFUL');
    await ecs.send(new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:1' }));
    const again = (await service(ecs)).currentServiceDeployment as string;
    expect((await trace(emulator, ecs, again)).last.status).toBe('SUCCESSFUL');
    expect((await ruleWeights(elb, rule))[blueTg]).toBe(100);
  });

  it('LINEAR: production traffic moves stepPercent at a time, each step followed by its bake', async () => {
    const { emulator, ecs } = await start(
      nativeWorld({ strategy: 'LINEAR', linearConfiguration: { stepPercent: 30, stepBakeTimeInMinutes: 1 } }),
    );
    const elb = elbClient(emulator);
    const svc = await service(ecs);
    const rule = svc.loadBalancers?.[0]?.advancedConfiguration?.productionListenerRule as string;
    const greenTg = svc.loadBalancers?.[0]?.advancedConfiguration?.alternateTargetGroupArn as string;
    const arn = await deploy(ecs);
    // Mid-way through the shift the listener rule carries the same weights.
    const { seen: early } = await trace(emulator, ecs, arn, {
      until: (d) => d.targetServiceRevision?.requestedProductionTrafficWeight === 60,
    });
    expect((await ruleWeights(elb, rule))[greenTg]).toBe(60);
    const { seen, last } = await trace(emulator, ecs, arn);
    const shifts = seen.filter((s) => s.stage === 'PRODUCTION_TRAFFIC_SHIFT');
    expect(distinct([...early, ...seen].map((s) => s.production))).toEqual([0, 30, 60, 90, 100]);
    expect(at30to60(early)).toBe(62);
    // One minute between steps (the shift itself takes timings.trafficShift).
    const at = (w: number) => seen.find((s) => s.production === w)?.at as number;
    expect(at(100) - at(90)).toBe(62);
    expect(shifts.length).toBeGreaterThan(0);
    expect(last.deploymentConfiguration).toMatchObject({
      strategy: 'LINEAR',
      linearConfiguration: { stepPercent: 30, stepBakeTimeInMinutes: 1 },
    });
    expect((await ruleWeights(elb, rule))[greenTg]).toBe(100);
  });

  it('CANARY: canaryPercent first, the rest after canaryBakeTimeInMinutes, then bakeTimeInMinutes', async () => {
    const { emulator, ecs } = await start(
      nativeWorld({
        strategy: 'CANARY',
        bakeTimeInMinutes: 2,
        canaryConfiguration: { canaryPercent: 12.5, canaryBakeTimeInMinutes: 3 },
      }),
    );
    const elb = elbClient(emulator);
    const svc = await service(ecs);
    const advanced = svc.loadBalancers?.[0]?.advancedConfiguration;
    const arn = await deploy(ecs);
    const { seen: toCanary } = await trace(emulator, ecs, arn, {
      until: (d) => d.targetServiceRevision?.requestedProductionTrafficWeight === 12.5,
    });
    // A fractional weight is written to the rule in tenths: 875 / 125 is 12.5 %.
    expect(await ruleWeights(elb, advanced?.productionListenerRule as string)).toEqual({
      [svc.loadBalancers?.[0]?.targetGroupArn as string]: 875,
      [advanced?.alternateTargetGroupArn as string]: 125,
    });
    const { seen, last } = await trace(emulator, ecs, arn);
    expect(distinct([...toCanary, ...seen].map((s) => s.production))).toEqual([0, 12.5, 100]);
    const at = (pred: (s: (typeof seen)[number]) => boolean) => seen.find(pred)?.at as number;
    expect(at((s) => s.production === 100)).toBe(3 * 60 + 2);
    expect(at((s) => s.stage === 'CLEAN_UP') - at((s) => s.stage === 'BAKE_TIME')).toBe(2 * 60);
    expect(last.status).toBe('SUCCESSFUL');
    expect(last.sourceServiceRevisions?.[0]?.requestedProductionTrafficWeight).toBe(0);
  });

  it('runs a Lambda hook that succeeds and shows it in lifecycleHookDetails', async () => {
    const hook = {
      targetType: 'AWS_LAMBDA' as const,
      hookTargetArn: LAMBDA,
      roleArn: HOOK_ROLE,
      lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT' as const],
    };
    const { emulator, ecs } = await start(
      nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1, lifecycleHooks: [hook] }),
    );
    const arn = await deploy(ecs);
    const { seen: running, last: invoking } = await trace(emulator, ecs, arn, {
      until: (d) => d.lifecycleHookDetails?.[0]?.status === 'IN_PROGRESS',
    });
    expect(running.at(-1)).toMatchObject({
      stage: 'POST_TEST_TRAFFIC_SHIFT',
      hook: 'AWS_LAMBDA:IN_PROGRESS',
    });
    // Only a PAUSE hook awaiting action can be continued.
    const hookId = invoking.lifecycleHookDetails?.[0]?.hookId;
    await expect(
      ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId })),
    ).rejects.toThrow(/status is IN_PROGRESS/);
    const { last } = await trace(emulator, ecs, arn);
    expect(last.status).toBe('SUCCESSFUL');
    expect(last.lifecycleHookDetails).toEqual([
      {
        hookId: expect.stringMatching(/^ecs-lambda-\w{43}$/),
        targetType: 'AWS_LAMBDA',
        targetArn: LAMBDA,
        status: 'SUCCEEDED',
        expiresAt: expect.any(Date),
        timeoutAction: 'ROLLBACK',
      },
    ]);
  });
});

describe('ECS-native rollbacks', () => {
  it('a failing Lambda hook rolls back: traffic and tasks return to the source revision', async () => {
    const hook = {
      hookTargetArn: LAMBDA,
      roleArn: HOOK_ROLE,
      lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT' as const],
    };
    const { emulator, ecs } = await start(
      nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5, lifecycleHooks: [hook] }),
    );
    emulator.faults.failLifecycleEvent('POST_TEST_TRAFFIC_SHIFT', 'the smoke test got HTTP 500 from /health');
    const elb = elbClient(emulator);
    const svc = await service(ecs);
    const arn = await deploy(ecs);
    const { seen, last } = await trace(emulator, ecs, arn);
    expect(distinct(seen.map((s) => s.status))).toEqual([
      'PENDING',
      'IN_PROGRESS',
      'ROLLBACK_IN_PROGRESS',
      'ROLLBACK_SUCCESSFUL',
    ]);
    expect(distinct(seen.map((s) => s.test))).toEqual([0, 100, 0]);
    expect(distinct(seen.map((s) => s.production))).toEqual([0]);
    expect(last.statusReason).toContain(LAMBDA);
    expect(last.statusReason).toContain('the smoke test got HTTP 500 from /health');
    expect(last.rollback).toEqual({
      reason: last.statusReason,
      startedAt: expect.any(Date),
      serviceRevisionArn: last.sourceServiceRevisions?.[0]?.arn,
    });
    expect(last.lifecycleHookDetails?.[0]).toMatchObject({ status: 'FAILED', targetArn: LAMBDA });
    const after = await service(ecs);
    expect(
      after.deployments?.map((d) => [d.status, d.rolloutState, d.taskDefinition?.split('/')[1]]),
    ).toEqual([['PRIMARY', 'COMPLETED', 'app:1']]);
    expect(after.runningCount).toBe(2);
    const advanced = svc.loadBalancers?.[0]?.advancedConfiguration;
    expect(
      (await ruleWeights(elb, advanced?.testListenerRule as string))[
        svc.loadBalancers?.[0]?.targetGroupArn as string
      ],
    ).toBe(100);
  });

  it('the circuit breaker rolls back when green tasks keep failing (threshold: half the desired count, at least 3)', async () => {
    const { emulator, ecs } = await start(
      nativeWorld({ strategy: 'LINEAR', bakeTimeInMinutes: 1, deploymentCircuitBreaker: BREAKER }, {}, 8),
    );
    emulator.faults.crashTasks('app', 'CannotPullContainerError: app:v2 not found');
    const arn = await deploy(ecs);
    const { last } = await trace(emulator, ecs, arn);
    expect(last).toMatchObject({
      status: 'ROLLBACK_SUCCESSFUL',
      deploymentCircuitBreaker: { status: 'TRIGGERED', failureCount: 4, threshold: 4 },
      targetServiceRevision: {
        requestedTaskCount: 0,
        runningTaskCount: 0,
        requestedProductionTrafficWeight: 0,
      },
    });
    expect(last.statusReason).toMatch(/circuit breaker/);
    const after = await service(ecs);
    expect(after.deployments?.map((d) => d.taskDefinition?.split('/')[1])).toEqual(['app:1']);
    expect(after.runningCount).toBe(8);
  });

  it('rolls back when the target groups are not both behind the listener rules, with AWS message', async () => {
    const { emulator, ecs } = await start(
      nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5 }, { attachAlternate: false }),
    );
    const { last } = await trace(emulator, ecs, await deploy(ecs));
    expect(last.status).toBe('ROLLBACK_SUCCESSFUL');
    expect(last.statusReason).toBe(
      'Both targetGroup and alternateTargetGroup must be associated with the productionListenerRule or testListenerRule',
    );
    expect((await service(ecs)).runningCount).toBe(2);
  });

  it('StopServiceDeployment rolls back an ongoing deployment, and is refused once it is over', async () => {
    const { emulator, ecs } = await start(nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 30 }));
    const arn = await deploy(ecs);
    await trace(emulator, ecs, arn, { until: (d) => d.lifecycleStage === 'BAKE_TIME' });
    const stopped = await ecs.send(
      new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' }),
    );
    expect(stopped.serviceDeploymentArn).toBe(arn);
    const { seen, last } = await trace(emulator, ecs, arn);
    expect(distinct(seen.map((s) => s.status))).toEqual([
      'ROLLBACK_REQUESTED',
      'ROLLBACK_IN_PROGRESS',
      'ROLLBACK_SUCCESSFUL',
    ]);
    expect(distinct(seen.map((s) => s.production))).toEqual([100, 0]);
    expect(last.rollback?.reason).toMatch(/StopServiceDeployment/);
    await expect(
      ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' })),
    ).rejects.toBeInstanceOf(ConflictException);
    const missing = arn.replace(/[^/]+$/, 'AAAAAAAAAAAAAAAAAAAAAA');
    await expect(
      ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: missing })),
    ).rejects.toBeInstanceOf(ServiceDeploymentNotFoundException);
    const described = await ecs.send(
      new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn, missing] }),
    );
    expect(described.failures).toEqual([{ arn: missing, reason: 'MISSING' }]);
    expect((await service(ecs)).deployments?.map((d) => d.taskDefinition?.split('/')[1])).toEqual(['app:1']);
  });
});

describe('PAUSE lifecycle hooks', () => {
  const pause = (extra: Partial<NonNullable<DeploymentConfiguration['lifecycleHooks']>[number]> = {}) =>
    nativeWorld({
      strategy: 'CANARY',
      bakeTimeInMinutes: 1,
      lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['PRE_PRODUCTION_TRAFFIC_SHIFT'], ...extra }],
    });
  const awaiting = (d: { lifecycleHookDetails?: { status?: string }[] }) =>
    d.lifecycleHookDetails?.some((h) => h.status === 'AWAITING_ACTION') ?? false;

  it('waits in AWAITING_ACTION until ContinueServiceDeployment(CONTINUE)', async () => {
    const { emulator, ecs } = await start(
      pause({ timeoutConfiguration: { timeoutInMinutes: 60, action: 'ROLLBACK' } }),
    );
    const arn = await deploy(ecs);
    const { last: paused } = await trace(emulator, ecs, arn, { until: awaiting });
    const hook = paused.lifecycleHookDetails?.[0];
    expect(hook).toEqual({
      hookId: expect.stringMatching(/^ecs-pause-\w{43}$/),
      targetType: 'PAUSE',
      status: 'AWAITING_ACTION',
      expiresAt: new Date((paused.updatedAt as Date).getTime() + 60 * 60_000),
      timeoutAction: 'ROLLBACK',
    });
    expect(paused).toMatchObject({ status: 'IN_PROGRESS', lifecycleStage: 'PRODUCTION_TRAFFIC_SHIFT' });
    expect(paused.targetServiceRevision?.requestedProductionTrafficWeight).toBe(0);
    // Nothing moves while it waits.
    emulator.clock.advance(30 * 60_000);
    expect((await describe1(ecs, arn)).targetServiceRevision?.requestedProductionTrafficWeight).toBe(0);

    await expect(
      ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: 'ecs-pause-nope' })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await ecs.send(
      new ContinueServiceDeploymentCommand({
        serviceDeploymentArn: arn,
        hookId: hook?.hookId,
        action: 'CONTINUE',
      }),
    );
    const { seen, last } = await trace(emulator, ecs, arn);
    expect(distinct(seen.map((s) => s.production))).toEqual([0, 5, 100]);
    expect(last.status).toBe('SUCCESSFUL');
    expect(last.lifecycleHookDetails?.[0]?.status).toBe('SUCCEEDED');
    await expect(
      ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: hook?.hookId })),
    ).rejects.toThrow(/AWAITING_ACTION/);
  });

  it('rolls back on ContinueServiceDeployment(ROLLBACK)', async () => {
    const { emulator, ecs } = await start(pause());
    const arn = await deploy(ecs);
    const { last: paused } = await trace(emulator, ecs, arn, { until: awaiting });
    const hookId = paused.lifecycleHookDetails?.[0]?.hookId;
    await ecs.send(
      new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId, action: 'ROLLBACK' }),
    );
    const { last } = await trace(emulator, ecs, arn);
    expect(last.status).toBe('ROLLBACK_SUCCESSFUL');
    expect(last.rollback?.reason).toContain(hookId);
    expect(last.lifecycleHookDetails?.[0]?.status).toBe('FAILED');
  });

  it.each([
    ['CONTINUE', 'SUCCESSFUL'],
    ['ROLLBACK', 'ROLLBACK_SUCCESSFUL'],
  ] as const)('on timeout with action %s ends %s', async (action, status) => {
    const { emulator, ecs } = await start(pause({ timeoutConfiguration: { timeoutInMinutes: 3, action } }));
    const arn = await deploy(ecs);
    const { seen, last } = await trace(emulator, ecs, arn);
    const waited = seen.filter((s) => s.hook === 'PAUSE:AWAITING_ACTION');
    const timedOut = seen.find((s) => s.hook === 'PAUSE:TIMED_OUT');
    expect(timedOut && waited[0] && timedOut.at - waited[0].at).toBe(180);
    expect(last.status).toBe(status);
    expect(last.lifecycleHookDetails?.[0]?.status).toBe('TIMED_OUT');
  });
});

describe('the service deployment operations', () => {
  it('ListServiceDeployments filters by status and createdAt, newest first', async () => {
    const { emulator, ecs } = await start(nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 }));
    const first = await deploy(ecs);
    await trace(emulator, ecs, first);
    const t = new Date(emulator.clock.now());
    emulator.clock.advance(5000);
    await ecs.send(new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:1' }));
    const second = (await service(ecs)).currentServiceDeployment as string;
    const list = async (input: Partial<ConstructorParameters<typeof ListServiceDeploymentsCommand>[0]>) =>
      (
        await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'demo', service: 'web', ...input }))
      ).serviceDeployments?.map((d) => d.serviceDeploymentArn);
    expect(await list({})).toEqual([second, first]);
    expect(await list({ status: ['SUCCESSFUL'] })).toEqual([first]);
    expect(await list({ createdAt: { after: t } })).toEqual([second]);
    expect(await list({ createdAt: { before: t } })).toEqual([first]);
    const page1 = await ecs.send(
      new ListServiceDeploymentsCommand({ cluster: 'demo', service: 'web', maxResults: 1 }),
    );
    expect(page1.serviceDeployments?.map((d) => d.serviceDeploymentArn)).toEqual([second]);
    const page2 = await ecs.send(
      new ListServiceDeploymentsCommand({
        cluster: 'demo',
        service: 'web',
        maxResults: 1,
        nextToken: page1.nextToken,
      }),
    );
    expect([page2.serviceDeployments?.map((d) => d.serviceDeploymentArn), page2.nextToken]).toEqual([
      [first],
      undefined,
    ]);
    const brief = (
      await ecs.send(
        new ListServiceDeploymentsCommand({ cluster: 'demo', service: 'web', status: ['PENDING'] }),
      )
    ).serviceDeployments?.[0];
    expect(brief).toEqual({
      serviceDeploymentArn: second,
      serviceArn: 'arn:aws:ecs:us-east-1:000000000000:service/demo/web',
      clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/demo',
      createdAt: expect.any(Date),
      targetServiceRevisionArn: expect.stringMatching(
        /^arn:aws:ecs:us-east-1:000000000000:service-revision\/demo\/web\/\d{19}$/,
      ),
      status: 'PENDING',
    });
  });

  it('a newer UpdateService stops the running deployment (STOPPED) and starts from the serving revision', async () => {
    const { emulator, ecs } = await start(nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 }));
    const first = await deploy(ecs);
    await trace(emulator, ecs, first, { until: (d) => d.lifecycleStage === 'SCALE_UP' });
    await ecs.send(
      new UpdateServiceCommand({
        cluster: 'demo',
        service: 'web',
        taskDefinition: 'app:1',
        forceNewDeployment: true,
      }),
    );
    const second = (await service(ecs)).currentServiceDeployment as string;
    expect((await describe1(ecs, first)).status).toBe('STOPPED');
    expect((await trace(emulator, ecs, second)).last.status).toBe('SUCCESSFUL');
    const svc = await service(ecs);
    expect(svc.deployments).toHaveLength(1);
    expect(svc.runningCount).toBe(2);
  });
});

describe('what CreateService and UpdateService refuse, as ECS does', () => {
  const LAMBDA_HOOK = {
    hookTargetArn: LAMBDA,
    roleArn: HOOK_ROLE,
    lifecycleStages: ['POST_SCALE_UP' as const],
  };
  const cases: [string, DeploymentConfiguration, RegExp][] = [
    [
      'BLUE_GREEN without bakeTimeInMinutes',
      { strategy: 'BLUE_GREEN' },
      /bakeTimeInMinutes is required when the deployment strategy is BLUE_GREEN/,
    ],
    [
      'an unknown strategy',
      { strategy: 'RED_BLACK' as 'ROLLING' },
      /Value 'RED_BLACK' at 'deploymentConfiguration.strategy' failed to satisfy constraint: Member must satisfy enum value set/,
    ],
    [
      'a bake time over 1440',
      { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1441 },
      /bakeTimeInMinutes must be an integer between 0 and 1440/,
    ],
    ['a negative bake time', { strategy: 'BLUE_GREEN', bakeTimeInMinutes: -1 }, /between 0 and 1440/],
    [
      'stepPercent under 3',
      { strategy: 'LINEAR', linearConfiguration: { stepPercent: 2.9 } },
      /stepPercent must be between 3.0 and 100.0 in increments of 0.1/,
    ],
    [
      'stepPercent over 100',
      { strategy: 'LINEAR', linearConfiguration: { stepPercent: 100.1 } },
      /stepPercent/,
    ],
    [
      'stepPercent not in tenths',
      { strategy: 'LINEAR', linearConfiguration: { stepPercent: 10.05 } },
      /in increments of 0.1/,
    ],
    [
      'stepBakeTimeInMinutes over 1440',
      { strategy: 'LINEAR', linearConfiguration: { stepBakeTimeInMinutes: 2000 } },
      /stepBakeTimeInMinutes must be an integer between 0 and 1440/,
    ],
    [
      'canaryPercent under 0.1',
      { strategy: 'CANARY', canaryConfiguration: { canaryPercent: 0.05 } },
      /canaryPercent must be between 0.1 and 100.0/,
    ],
    [
      'canaryPercent over 100',
      { strategy: 'CANARY', canaryConfiguration: { canaryPercent: 101 } },
      /canaryPercent/,
    ],
    [
      'canaryBakeTimeInMinutes over 1440',
      { strategy: 'CANARY', canaryConfiguration: { canaryBakeTimeInMinutes: 1441 } },
      /canaryBakeTimeInMinutes must be an integer between 0 and 1440/,
    ],
    [
      'a hook timeout of 0',
      {
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 1,
        lifecycleHooks: [{ ...LAMBDA_HOOK, timeoutConfiguration: { timeoutInMinutes: 0 } }],
      },
      /timeoutInMinutes must be an integer between 1 and 20160/,
    ],
    [
      'a hook timeout over 20160',
      {
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 1,
        lifecycleHooks: [{ ...LAMBDA_HOOK, timeoutConfiguration: { timeoutInMinutes: 20161 } }],
      },
      /between 1 and 20160/,
    ],
    [
      'PAUSE at TEST_TRAFFIC_SHIFT',
      {
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 1,
        lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['TEST_TRAFFIC_SHIFT'] }],
      },
      /PAUSE lifecycle hook is not supported at the TEST_TRAFFIC_SHIFT lifecycle stage/,
    ],
    [
      'PAUSE at PRODUCTION_TRAFFIC_SHIFT',
      {
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 1,
        lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['PRODUCTION_TRAFFIC_SHIFT'] }],
      },
      /not supported at the PRODUCTION_TRAFFIC_SHIFT/,
    ],
    [
      'a Lambda hook without hookTargetArn',
      {
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 1,
        lifecycleHooks: [{ roleArn: HOOK_ROLE, lifecycleStages: ['POST_SCALE_UP'] }],
      },
      /hookTargetArn is required/,
    ],
    [
      'a hook at SCALE_UP',
      {
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 1,
        lifecycleHooks: [{ ...LAMBDA_HOOK, lifecycleStages: ['SCALE_UP' as 'POST_SCALE_UP'] }],
      },
      /Value 'SCALE_UP' at 'deploymentConfiguration.lifecycleHooks\[0\].lifecycleStages\[0\]' failed to satisfy constraint/,
    ],
  ];

  it.each(cases)('UpdateService refuses %s', async (_name, deploymentConfiguration, message) => {
    const { ecs } = await start(nativeWorld({ strategy: 'LINEAR' }));
    const call = ecs.send(
      new UpdateServiceCommand({ cluster: 'demo', service: 'web', deploymentConfiguration }),
    );
    await expect(call).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(call).rejects.toThrow(message);
  });

  it.each(cases.slice(0, 3))('CreateService refuses %s', async (_name, deploymentConfiguration, message) => {
    const { ecs } = await start(nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1 }));
    const lb = (await service(ecs)).loadBalancers;
    const call = ecs.send(
      new CreateServiceCommand({
        cluster: 'demo',
        serviceName: 'web2',
        taskDefinition: 'app:1',
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: awsvpc,
        loadBalancers: lb,
        deploymentConfiguration,
      }),
    );
    await expect(call).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(call).rejects.toThrow(message);
  });

  it('refuses a native strategy without a load balancer advancedConfiguration, and advancedConfiguration without one', async () => {
    const { ecs } = await start(nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1 }));
    const lb = (await service(ecs)).loadBalancers?.[0];
    const create = (loadBalancers: LoadBalancer[], deploymentConfiguration: DeploymentConfiguration) =>
      ecs.send(
        new CreateServiceCommand({
          cluster: 'demo',
          serviceName: 'web2',
          taskDefinition: 'app:1',
          desiredCount: 1,
          launchType: 'FARGATE',
          networkConfiguration: awsvpc,
          loadBalancers,
          deploymentConfiguration,
        }),
      );
    const plain = { targetGroupArn: lb?.targetGroupArn, containerName: 'web', containerPort: 8080 };
    await expect(create([plain], { strategy: 'CANARY' })).rejects.toThrow(
      /The CANARY deployment strategy requires a load balancer with a targetGroupArn and an advancedConfiguration/,
    );
    await expect(create([], { strategy: 'LINEAR' })).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      create([{ ...plain, advancedConfiguration: { ...lb?.advancedConfiguration, roleArn: undefined } }], {
        strategy: 'CANARY',
      }),
    ).rejects.toThrow(/advancedConfiguration.roleArn is required/);
    await expect(create([lb as LoadBalancer], { strategy: 'ROLLING' })).rejects.toThrow(
      /advancedConfiguration is only supported with the BLUE_GREEN, LINEAR or CANARY deployment strategy/,
    );
    // And the same service may switch to ROLLING only together with plain load balancers.
    await expect(
      ecs.send(
        new UpdateServiceCommand({
          cluster: 'demo',
          service: 'web',
          deploymentConfiguration: { strategy: 'ROLLING' },
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    const ok = await create([lb as LoadBalancer], { strategy: 'CANARY' });
    expect(ok.service?.deploymentConfiguration).toMatchObject({
      strategy: 'CANARY',
      canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 10 },
    });
  });

  it('stores and returns every native member as given', async () => {
    const { ecs } = await start(nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1 }));
    const deploymentConfiguration: DeploymentConfiguration = {
      strategy: 'LINEAR',
      bakeTimeInMinutes: 15,
      linearConfiguration: { stepPercent: 12.5, stepBakeTimeInMinutes: 2 },
      lifecycleHooks: [
        {
          targetType: 'AWS_LAMBDA',
          hookTargetArn: LAMBDA,
          roleArn: HOOK_ROLE,
          lifecycleStages: ['POST_SCALE_UP', 'POST_TEST_TRAFFIC_SHIFT'],
          hookDetails: { path: '/health', expect: [200] },
          timeoutConfiguration: { timeoutInMinutes: 30, action: 'CONTINUE' },
        },
        { targetType: 'PAUSE', lifecycleStages: ['PRE_PRODUCTION_TRAFFIC_SHIFT'] },
      ],
    };
    const out = await ecs.send(
      new UpdateServiceCommand({ cluster: 'demo', service: 'web', deploymentConfiguration }),
    );
    expect(out.service?.deploymentConfiguration).toMatchObject(deploymentConfiguration);
    expect((await service(ecs)).deploymentConfiguration).toMatchObject(deploymentConfiguration);
  });
});

describe('the rolling circuit breaker', () => {
  it.each([
    [2, 3],
    [8, 4],
    [12, 6],
  ])('with desiredCount %i trips after %i failed tasks', async (desiredCount, threshold) => {
    const { emulator, ecs } = await start({
      ...nativeWorld({ deploymentCircuitBreaker: BREAKER }, {}, desiredCount),
      services: [
        {
          cluster: 'demo',
          serviceName: 'web',
          taskDefinition: 'app:1',
          desiredCount,
          launchType: 'FARGATE',
          deploymentConfiguration: {
            deploymentCircuitBreaker: BREAKER,
            maximumPercent: 100 + Math.ceil(100 / desiredCount),
            minimumHealthyPercent: 100,
          },
        },
      ],
    });
    emulator.faults.crashTasks('app');
    await ecs.send(new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:2' }));
    // One new task at a time (maximumPercent allows one extra): each failure is counted alone.
    const failed = async () => {
      const d = (await service(ecs)).deployments?.find((x) => x.taskDefinition?.endsWith('app:2'));
      return [d?.failedTasks, d?.rolloutState];
    };
    for (let i = 0; i < 200 && (await failed())[0] !== threshold - 1; i++) emulator.clock.advance(1000);
    expect(await failed()).toEqual([threshold - 1, 'IN_PROGRESS']);
    for (let i = 0; i < 200 && (await failed())[1] === 'IN_PROGRESS'; i++) emulator.clock.advance(1000);
    expect(await failed()).toEqual([threshold, 'FAILED']);
  });
});

describe('IAM for ECS-native deployments', () => {
  it('authorizes the service deployment calls on their ARNs and the passed infrastructure and hook roles', async () => {
    const world = nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1 });
    emulator = await startEmulator({
      manualClock: true,
      credentials: [
        {
          accessKeyId: 'AKIDWATCHER',
          secretAccessKey: 'watcher-secret',
          principalArn: 'arn:aws:sts::000000000000:assumed-role/watcher/GitHubActions',
        },
      ],
      seed: {
        ...world,
        iam: {
          roles: [
            {
              name: 'watcher',
              policies: [
                {
                  Version: '2012-10-17',
                  Statement: [
                    {
                      Effect: 'Allow',
                      Action: [
                        'ecs:UpdateService',
                        'ecs:DescribeServices',
                        'ecs:ListServiceDeployments',
                        'ecs:DescribeServiceDeployments',
                      ],
                      Resource: '*',
                    },
                    {
                      Effect: 'Allow',
                      Action: 'ecs:StopServiceDeployment',
                      Resource: 'arn:aws:ecs:us-east-1:000000000000:service-deployment/demo/other/*',
                    },
                  ],
                },
              ],
            },
          ],
        },
      },
    });
    const ecs = clients(emulator, { accessKeyId: 'AKIDWATCHER', secretAccessKey: 'watcher-secret' }).ecs;
    const arn = await deploy(ecs);
    expect((await describe1(ecs, arn)).status).toBe('PENDING');
    await expect(ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn }))).rejects.toThrow(
      /not authorized to perform: ecs:StopServiceDeployment on resource: arn:aws:ecs:us-east-1:000000000000:service-deployment\/demo\/web\//,
    );
    const lb = (await service(ecs)).loadBalancers?.[0];
    await expect(
      ecs.send(
        new UpdateServiceCommand({
          cluster: 'demo',
          service: 'web',
          loadBalancers: [
            { ...lb, advancedConfiguration: { ...lb?.advancedConfiguration, roleArn: HOOK_ROLE } },
          ],
        }),
      ),
    ).rejects.toThrow(
      /not authorized to perform: iam:PassRole on resource: arn:aws:iam::000000000000:role\/ecsLambdaHookRole/,
    );
  });
});

describe('a service deleted during a deployment', () => {
  it('stops its service deployment', async () => {
    const { emulator, ecs } = await start(nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 10 }));
    const arn = await deploy(ecs);
    await trace(emulator, ecs, arn, { until: (d) => d.lifecycleStage === 'BAKE_TIME' });
    await ecs.send(new DeleteServiceCommand({ cluster: 'demo', service: 'web', force: true }));
    const d = await describe1(ecs, arn);
    expect(d).toMatchObject({
      status: 'STOPPED',
      statusReason: expect.stringMatching(/service was deleted/),
    });
    emulator.clock.advance(60_000);
    expect((await service(ecs)).status).toBe('INACTIVE');
    expect(emulator.state.ecs.tasks.filter((t) => t.lastStatus !== 'STOPPED')).toEqual([]);
  });
});

describe('alarms in a service deployment', () => {
  it('reports the configured alarms as monitored, then MONITORING_COMPLETE', async () => {
    const alarms = { enable: true, rollback: true, alarmNames: ['web-5xx'] };
    const { emulator, ecs } = await start(
      nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0, alarms }),
    );
    const arn = await deploy(ecs);
    expect((await describe1(ecs, arn)).alarms).toEqual({
      status: 'MONITORING',
      alarmNames: ['web-5xx'],
      triggeredAlarmNames: [],
    });
    const { last } = await trace(emulator, ecs, arn);
    expect(last.alarms?.status).toBe('MONITORING_COMPLETE');
  });
});
