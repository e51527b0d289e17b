/** The ECS-native strategy: verdicts, progress lines, an idempotent start, check, stop, find, previous. */
import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  ListTaskDefinitionsCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type Service,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import {
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { readConfig } from '../../../src/config.js';
import { nativeVerdict, progressLines, reachedStage } from '../../../src/deploy/native.js';
import { ecsNativeStrategy } from '../../../src/deploy/strategies/ecs-native.js';
import type { TargetService } from '../../../src/deploy/service.js';
import type { DeployContext } from '../../../src/deploy/strategy.js';
import { UserError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import { ScriptedClock, sdkError } from './fakes.js';

const ecsMock = mockClient(ECSClient);
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
const clients = {
  ecs: new ECSClient({ region: 'us-east-1', credentials }),
  codedeploy: new CodeDeployClient({ region: 'us-east-1', credentials }),
  elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1', credentials }),
};
const TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:8';
const OLD_TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:7';
const ARN = 'arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/AbCdEf';
const REV_NEW = 'arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/2';
const REV_OLD = 'arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/1';

beforeEach(() => {
  ecsMock.reset();
  elbMock.reset();
});

function ctx(inputs: Record<string, string> = {}): DeployContext & { log: MemoryLog; clock: ScriptedClock } {
  const config = readConfig(
    (n) =>
      ({ cluster: 'prod', service: 'web', image: 'nginx:1', 'poll-interval-seconds': '1', ...inputs })[n] ??
      '',
    { GITHUB_WORKSPACE: '/ws', GITHUB_SHA: 'a'.repeat(40), AWS_REGION: 'us-east-1' },
  );
  return { config, clock: new ScriptedClock(), log: new MemoryLog() };
}

const sd = (d: Partial<ServiceDeployment> = {}): ServiceDeployment => ({
  serviceDeploymentArn: ARN,
  status: 'IN_PROGRESS',
  lifecycleStage: 'SCALE_UP',
  targetServiceRevision: { arn: REV_NEW, requestedProductionTrafficWeight: 0, requestedTestTrafficWeight: 0 },
  sourceServiceRevisions: [{ arn: REV_OLD }],
  deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 3 },
  ...d,
});

describe('the verdict on our service deployment', () => {
  it.each([
    ['SUCCESSFUL', {}, 'complete', 'succeeded', /succeeded/],
    [
      'ROLLBACK_SUCCESSFUL',
      { statusReason: 'lifecycle hook failed: HTTP 500' },
      'complete',
      'failed',
      /rolled back: lifecycle hook failed: HTTP 500/,
    ],
    ['ROLLBACK_FAILED', {}, 'complete', 'failed', /its rollback failed too/],
    [
      'STOPPED',
      { statusReason: 'a newer service deployment started' },
      'complete',
      'stopped',
      /stopped: a newer/,
    ],
    [
      'ROLLBACK_SUCCESSFUL',
      { deploymentCircuitBreaker: { status: 'TRIGGERED', failureCount: 3, threshold: 3 } },
      'complete',
      'failed',
      /circuit breaker triggered after 3 failed tasks \(threshold 3\)/,
    ],
    [
      'ROLLBACK_SUCCESSFUL',
      { alarms: { status: 'TRIGGERED', triggeredAlarmNames: ['5xx-high'] } },
      'complete',
      'failed',
      /alarms in ALARM: 5xx-high/,
    ],
    [
      'ROLLBACK_SUCCESSFUL',
      {
        lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
        lifecycleHookDetails: [
          {
            hookId: 'ecs-lambda-1',
            targetType: 'AWS_LAMBDA',
            targetArn: 'arn:aws:lambda:us-east-1:1:function:smoke',
            status: 'FAILED',
          },
        ],
      },
      'complete',
      'failed',
      /Lambda hook arn:aws:lambda:us-east-1:1:function:smoke ecs-lambda-1 at POST_TEST_TRAFFIC_SHIFT: FAILED/,
    ],
  ] as const)('%s %j (wait-until %s) → %s', (status, extra, waitUntil, outcome, message) => {
    const v = nativeVerdict(sd({ status, ...extra } as Partial<ServiceDeployment>), waitUntil);
    expect(v?.outcome).toBe(outcome);
    expect(v?.message).toMatch(message);
  });

  it.each([
    ['IN_PROGRESS', 'SCALE_UP', 'complete', undefined],
    ['IN_PROGRESS', 'PRODUCTION_TRAFFIC_SHIFT', 'BAKE_TIME', undefined],
    ['IN_PROGRESS', 'BAKE_TIME', 'BAKE_TIME', 'succeeded'],
    ['IN_PROGRESS', 'CLEAN_UP', 'BAKE_TIME', 'succeeded'],
    // A rollback going on never counts as having reached a stage.
    ['ROLLBACK_IN_PROGRESS', 'BAKE_TIME', 'BAKE_TIME', undefined],
    ['PENDING', undefined, 'RECONCILE_SERVICE', undefined],
  ] as const)('%s at %s with wait-until %s → %s', (status, stage, waitUntil, outcome) => {
    const v = nativeVerdict(sd({ status, lifecycleStage: stage }), waitUntil);
    expect(v?.outcome).toBe(outcome);
    if (v)
      expect(v.message).toMatch(/goes on in AWS .*describe-service-deployments --service-deployment-arns/);
  });

  it('reachedStage follows the lifecycle order', () => {
    expect(reachedStage(sd({ lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' }), 'TEST_TRAFFIC_SHIFT')).toBe(true);
    expect(reachedStage(sd({ lifecycleStage: 'TEST_TRAFFIC_SHIFT' }), 'POST_TEST_TRAFFIC_SHIFT')).toBe(false);
  });
});

describe('progress lines', () => {
  it('stage, traffic both ways, hooks and the breaker', () => {
    const lines = Object.fromEntries(
      progressLines(
        sd({
          lifecycleStage: 'PRODUCTION_TRAFFIC_SHIFT',
          targetServiceRevision: {
            arn: REV_NEW,
            requestedProductionTrafficWeight: 30,
            requestedTestTrafficWeight: 100,
          },
          lifecycleHookDetails: [
            {
              hookId: 'ecs-pause-1',
              targetType: 'PAUSE',
              status: 'AWAITING_ACTION',
              expiresAt: new Date(Date.UTC(2026, 0, 1)),
              timeoutAction: 'ROLLBACK',
            },
          ],
          deploymentCircuitBreaker: { status: 'MONITORING', failureCount: 1, threshold: 3 },
        }),
      ),
    );
    expect(lines).toEqual({
      status: 'service deployment AbCdEf: IN_PROGRESS',
      stage: 'stage: PRODUCTION_TRAFFIC_SHIFT',
      production: 'traffic: green 30% / blue 70%',
      test: 'test traffic: green 100% / blue 0%',
      'hook:ecs-pause-1':
        'hook PAUSE hook ecs-pause-1 at PRODUCTION_TRAFFIC_SHIFT: AWAITING_ACTION (until 2026-01-01T00:00:00.000Z, then ROLLBACK)',
      breaker: 'circuit breaker: 1/3 failed tasks (MONITORING)',
    });
  });

  it('fractional weights keep their tenth', () => {
    const [, line] = progressLines(
      sd({ targetServiceRevision: { requestedProductionTrafficWeight: 12.5 } }),
    ).find(([k]) => k === 'production') as [string, string];
    expect(line).toBe('traffic: green 12.5% / blue 87.5%');
  });
});

describe('watch', () => {
  const started = {
    strategy: 'ecs-native' as const,
    id: ARN,
    cluster: 'prod',
    service: 'web',
    timeoutMs: 600_000,
  };

  it('prints one line per change, the bake countdown and the PAUSE guidance, to SUCCESSFUL', async () => {
    const c = ctx();
    ecsMock
      .on(DescribeServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [sd()] })
      .resolvesOnce({ serviceDeployments: [sd()] })
      .resolvesOnce({
        serviceDeployments: [
          sd({
            lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
            lifecycleHookDetails: [{ hookId: 'ecs-pause-9', targetType: 'PAUSE', status: 'AWAITING_ACTION' }],
          }),
        ],
      })
      .resolvesOnce({
        serviceDeployments: [
          sd({
            lifecycleStage: 'BAKE_TIME',
            targetServiceRevision: { requestedProductionTrafficWeight: 100 },
          }),
        ],
      })
      .resolves({ serviceDeployments: [sd({ status: 'SUCCESSFUL', lifecycleStage: 'CLEAN_UP' })] });
    const r = await ecsNativeStrategy.watch(clients, started, c, { rollbackOnTimeout: true });
    expect(r.outcome).toBe('succeeded');
    const text = c.log.text();
    expect(text.match(/stage: SCALE_UP/g)).toHaveLength(1);
    expect(text).toContain('warning: ECS service deployment ' + ARN + ' waits at a PAUSE hook (ecs-pause-9');
    expect(text).toContain('      paused-hook: continue   # or: rollback');
    expect(text).toContain('--hook-id ecs-pause-9 --action CONTINUE');
    expect(text).toContain('traffic: green 100% / blue 0%');
    expect(text).toContain('bake time: about 3 of 3 min left');
    expect(ecsMock).not.toHaveReceivedCommand(StopServiceDeploymentCommand);
  });

  it('sleeps through the bake, timed from when ECS entered BAKE_TIME, and looks again as it ends', async () => {
    const c = ctx({ 'poll-interval-seconds': '1' });
    const t0 = c.clock.t;
    // Entered BAKE_TIME at t0 + 2 s (ECS's updatedAt), seen by the poll at t0 + 2.5 s; bake 3 min.
    const baking = sd({ lifecycleStage: 'BAKE_TIME', updatedAt: new Date(t0 + 2_000) });
    ecsMock
      .on(DescribeServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [sd()] })
      .resolvesOnce({ serviceDeployments: [sd()] })
      .resolvesOnce({ serviceDeployments: [baking] })
      .resolvesOnce({ serviceDeployments: [baking] })
      .resolvesOnce({ serviceDeployments: [baking] })
      .resolvesOnce({ serviceDeployments: [baking] })
      .resolvesOnce({ serviceDeployments: [baking] })
      .resolvesOnce({ serviceDeployments: [baking] })
      .resolves({ serviceDeployments: [sd({ status: 'SUCCESSFUL', lifecycleStage: 'CLEAN_UP' })] });
    const r = await ecsNativeStrategy.watch(clients, started, c, { rollbackOnTimeout: true });
    expect(r.outcome).toBe('succeeded');
    // Polls at 0, 1 s, 2.5 s (BAKE_TIME); the bake ends at 182 s: 30 s at most per sleep
    // (a stop in between is still seen), then the poll a base interval before the end.
    expect(c.clock.sleeps).toEqual([1_000, 1_500, 30_000, 30_000, 30_000, 30_000, 30_000, 28_500]);
  });

  it.each([
    // The drain ends at 24 s (+ 0.25 s to settle): one sleep to a base interval (1 s) before
    // it, then one poll a second later sees the deployment done.
    ["the check's deregistration delay: slept through", 20_000, [5_000, 18_250, 1_000]],
    ['without the delay: polled on the quiet back-off', undefined, [5_000, 5_000, 7_500]],
  ])('CLEAN_UP, timed from when ECS entered it: %s', async (_name, drainMs, sleeps) => {
    const c = ctx({ 'poll-interval-seconds': '5' });
    const t0 = c.clock.t;
    // Entered CLEAN_UP at t0 + 4 s (updatedAt), seen by the poll at t0 + 5 s; blue drains 20 s.
    const cleaning = sd({ lifecycleStage: 'CLEAN_UP', updatedAt: new Date(t0 + 4_000) });
    ecsMock
      .on(DescribeServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [sd({ lifecycleStage: 'POST_PRODUCTION_TRAFFIC_SHIFT' })] })
      .resolvesOnce({ serviceDeployments: [cleaning] })
      .resolvesOnce({ serviceDeployments: [cleaning] })
      .resolves({ serviceDeployments: [sd({ status: 'SUCCESSFUL', lifecycleStage: 'CLEAN_UP' })] });
    const r = await ecsNativeStrategy.watch(clients, { ...started, drainMs }, c, {
      rollbackOnTimeout: true,
    });
    expect(r).toMatchObject({ outcome: 'succeeded', polls: 4 });
    expect(c.clock.sleeps).toEqual(sleeps);
  });

  it('wait-until BAKE_TIME succeeds there and says the deployment goes on', async () => {
    const c = ctx({ 'wait-until': 'BAKE_TIME' });
    ecsMock
      .on(DescribeServiceDeploymentsCommand)
      .resolves({ serviceDeployments: [sd({ lifecycleStage: 'BAKE_TIME' })] });
    const r = await ecsNativeStrategy.watch(clients, started, c, { rollbackOnTimeout: true });
    expect(r).toMatchObject({ outcome: 'succeeded', polls: 1 });
    expect(r.message).toContain('goes on in AWS (not stopped by this job)');
    expect(c.log.text()).toContain('notice: ECS service deployment');
  });

  it('on timeout stops our deployment with StopServiceDeployment(ROLLBACK)', async () => {
    const c = ctx();
    ecsMock
      .on(DescribeServiceDeploymentsCommand)
      .resolves({ serviceDeployments: [sd({ lifecycleStage: 'BAKE_TIME' })] });
    ecsMock.on(StopServiceDeploymentCommand).resolves({ serviceDeploymentArn: ARN });
    ecsMock.on(DescribeServicesCommand).resolves({ services: [] });
    const r = await ecsNativeStrategy.watch(clients, { ...started, timeoutMs: 5_000 }, c, {
      rollbackOnTimeout: true,
    });
    expect(r).toMatchObject({ outcome: 'timed-out', rollbackRequested: true });
    expect(ecsMock).toHaveReceivedCommandWith(StopServiceDeploymentCommand, {
      serviceDeploymentArn: ARN,
      stopType: 'ROLLBACK',
    });
  });

  it('a storm of server errors: unknown, still running in AWS, and never stopped on a guess', async () => {
    const c = ctx();
    const storm = Object.assign(new Error('raw words'), {
      name: 'ServiceUnavailable',
      $metadata: { httpStatusCode: 503 },
    });
    ecsMock
      .on(DescribeServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [sd({ lifecycleStage: 'SCALE_UP' })] })
      .rejects(storm);
    const r = await ecsNativeStrategy.watch(clients, started, c, { rollbackOnTimeout: true });
    expect(r).toMatchObject({ outcome: 'unknown', rollbackRequested: false });
    expect(r.message).toContain('3 polls in a row failed');
    expect(r.message).toContain(`aws ecs describe-service-deployments --service-deployment-arns ${ARN}`);
    expect(r.message).not.toContain('raw words');
    expect(ecsMock).not.toHaveReceivedCommand(StopServiceDeploymentCommand);
  });

  it('a rollback run watching a deployment it stopped succeeds at ROLLBACK_SUCCESSFUL', async () => {
    ecsMock
      .on(DescribeServiceDeploymentsCommand)
      .resolves({ serviceDeployments: [sd({ status: 'ROLLBACK_SUCCESSFUL' })] });
    const r = await ecsNativeStrategy.watch(clients, { ...started, expectRollback: true }, ctx(), {
      rollbackOnTimeout: false,
    });
    expect(r.outcome).toBe('succeeded');
  });

  it.each([
    // Traffic back at 3 s (updatedAt), the drain over at 23 s: the target took traffic, so its
    // tasks drain for the whole delay; slept through, a poll a second before the end and one after.
    ['took traffic: slept through its drain', 100, 20_000, 23_000, [5_000, 17_250, 1_000]],
    // Rolled back before any traffic moved: its tasks were never registered and stop at once
    // (here at 8 s); the predicted end only makes polls denser, the back-off still runs.
    ['took no traffic: the back-off, denser near the end', 0, 20_000, 8_000, [5_000, 7_500]],
    ['no delay known: the quiet back-off alone', 100, undefined, 23_000, [5_000, 5_000, 7_500, 11_250]],
  ])('a rollback once its traffic is back: %s', async (_name, weight, drainMs, endAt, sleeps) => {
    const c = ctx({ 'poll-interval-seconds': '5' });
    const t0 = c.clock.t;
    const rolling = (w: number, at: number) =>
      sd({
        status: 'ROLLBACK_IN_PROGRESS',
        lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
        targetServiceRevision: { arn: REV_NEW, requestedTestTrafficWeight: w },
        updatedAt: new Date(t0 + at),
      });
    // The world on the clock: traffic back at 3 s, the target's tasks stopped at endAt.
    ecsMock.on(DescribeServiceDeploymentsCommand).callsFake(() => {
      const at = c.clock.t - t0;
      const d =
        at >= endAt
          ? sd({ status: 'ROLLBACK_SUCCESSFUL' })
          : at < 3_000
            ? rolling(weight, -1_000)
            : rolling(0, weight > 0 ? 3_000 : -1_000);
      return { serviceDeployments: [d] };
    });
    const r = await ecsNativeStrategy.watch(clients, { ...started, expectRollback: true, drainMs }, c, {
      rollbackOnTimeout: false,
    });
    expect(r.outcome).toBe('succeeded');
    expect(c.clock.sleeps).toEqual(sleeps);
  });
});

describe('start is idempotent and finds OUR service deployment', () => {
  const request = { cluster: 'prod', service: 'web', taskDefinitionArn: TD, check: {}, waitForIdle: false };
  const updated = (current?: string) => ({
    service: {
      deployments: [{ id: 'ecs-svc/2', status: 'PRIMARY', taskDefinition: TD }],
      ...(current && { currentServiceDeployment: current }),
    },
  });

  it('takes the ARN UpdateService answers with', async () => {
    ecsMock.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [] });
    ecsMock.on(UpdateServiceCommand).resolves(updated(ARN));
    const s = await ecsNativeStrategy.start(clients, request, ctx());
    expect(s).toMatchObject({ strategy: 'ecs-native', id: ARN });
    expect(ecsMock).toHaveReceivedCommandWith(UpdateServiceCommand, { taskDefinition: TD });
  });

  it('without it, the newest service deployment since the call whose target revision is our task definition', async () => {
    ecsMock
      .on(ListServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [] })
      .resolves({
        serviceDeployments: [
          { serviceDeploymentArn: `${ARN}-old`, targetServiceRevisionArn: REV_OLD, createdAt: new Date(1) },
          { serviceDeploymentArn: ARN, targetServiceRevisionArn: REV_NEW, createdAt: new Date(2) },
        ],
      });
    ecsMock
      .on(DescribeServiceRevisionsCommand, { serviceRevisionArns: [REV_NEW] })
      .resolves({ serviceRevisions: [{ taskDefinition: TD }] });
    ecsMock.on(UpdateServiceCommand).resolves(updated());
    const s = await ecsNativeStrategy.start(clients, request, ctx());
    expect(s.id).toBe(ARN);
    const list = ecsMock.commandCalls(ListServiceDeploymentsCommand)[1]?.args[0].input;
    expect(list?.createdAt?.after).toBeInstanceOf(Date);
  });

  it('a retried start adopts the ongoing deployment of our task definition: no second UpdateService', async () => {
    ecsMock.on(ListServiceDeploymentsCommand).resolves({
      serviceDeployments: [
        { serviceDeploymentArn: ARN, targetServiceRevisionArn: REV_NEW, createdAt: new Date(2) },
      ],
    });
    ecsMock.on(DescribeServiceRevisionsCommand).resolves({ serviceRevisions: [{ taskDefinition: TD }] });
    const c = ctx();
    const s = await ecsNativeStrategy.start(clients, request, c);
    expect(s.id).toBe(ARN);
    expect(ecsMock).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(ecsMock).toHaveReceivedCommandWith(ListServiceDeploymentsCommand, {
      status: ['PENDING', 'IN_PROGRESS', 'STOP_REQUESTED', 'ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS'],
    });
    expect(c.log.text()).toContain('already under way');
  });
});

const native = (s: Partial<Service> = {}): TargetService => ({
  cluster: 'prod',
  serviceName: 'web',
  serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/web',
  status: 'ACTIVE',
  controller: 'ECS',
  taskDefinitionArn: OLD_TD,
  desiredCount: 2,
  service: {
    serviceName: 'web',
    deploymentController: { type: 'ECS' },
    deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5 },
    loadBalancers: [
      {
        targetGroupArn: 'tg-blue',
        advancedConfiguration: {
          alternateTargetGroupArn: 'tg-green',
          productionListenerRule: 'rule-prod',
          testListenerRule: 'rule-test',
          roleArn: 'arn:aws:iam::123456789012:role/ecsInfra',
        },
      },
    ],
    ...s,
  },
});

const forward = (...groups: string[]) => ({
  Rules: [
    {
      Actions: [
        {
          Type: 'forward' as const,
          ForwardConfig: { TargetGroups: groups.map((g) => ({ TargetGroupArn: g })) },
        },
      ],
    },
  ],
});

describe('check: the service is set up for ECS-native', () => {
  const delay = (seconds: string) => ({
    Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: seconds }],
  });

  it('passes with both target groups on both rules, and reads how long their targets drain', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
    elbMock.on(DescribeRulesCommand).resolves(forward('tg-blue', 'tg-green'));
    elbMock.on(DescribeTargetGroupAttributesCommand, { TargetGroupArn: 'tg-blue' }).resolves(delay('30'));
    elbMock.on(DescribeTargetGroupAttributesCommand, { TargetGroupArn: 'tg-green' }).resolves(delay('45'));
    // The longest of the two: blue's tasks may be in either group by the time CLEAN_UP drains them.
    await expect(ecsNativeStrategy.check(clients, native(), ctx())).resolves.toEqual({ drainMs: 45_000 });
    expect(elbMock).toHaveReceivedCommandWith(DescribeRulesCommand, { RuleArns: ['rule-test'] });
  });

  it.each([
    [
      'denied',
      () =>
        elbMock
          .on(DescribeTargetGroupAttributesCommand)
          .rejects(sdkError('AccessDenied', 'not authorized', 403)),
    ],
    [
      'without the attribute',
      () => elbMock.on(DescribeTargetGroupAttributesCommand).resolves({ Attributes: [] }),
    ],
  ])('a delay read %s only loses the prediction', async (_name, arrange) => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
    elbMock.on(DescribeRulesCommand).resolves(forward('tg-blue', 'tg-green'));
    arrange();
    const c = ctx();
    await expect(ecsNativeStrategy.check(clients, native(), c)).resolves.toEqual({ drainMs: undefined });
  });

  it('names a rule that does not forward to the alternate target group', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
    elbMock.on(DescribeRulesCommand, { RuleArns: ['rule-prod'] }).resolves(forward('tg-blue', 'tg-green'));
    elbMock.on(DescribeRulesCommand, { RuleArns: ['rule-test'] }).resolves(forward('tg-blue'));
    const err = (await ecsNativeStrategy
      .check(clients, native(), ctx())
      .catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]?.what).toMatch(/testListenerRule rule-test does not forward to tg-green/);
  });

  it('names what the service lacks, before any ELB call', async () => {
    const svc = native({
      loadBalancers: [{ targetGroupArn: 'tg-blue' }],
      deploymentConfiguration: {
        strategy: 'LINEAR',
        lifecycleHooks: [
          {
            targetType: 'AWS_LAMBDA',
            hookTargetArn: 'arn:aws:lambda:us-east-1:1:function:f',
            lifecycleStages: ['POST_SCALE_UP'],
          },
        ],
      },
    });
    const err = (await ecsNativeStrategy.check(clients, svc, ctx()).catch((e: unknown) => e)) as UserError;
    expect(err.problems.map((p) => p.what)).toEqual([
      expect.stringMatching(
        /advancedConfiguration.alternateTargetGroupArn, advancedConfiguration.productionListenerRule, advancedConfiguration.roleArn/,
      ),
      expect.stringMatching(/lifecycleHooks\[0\]\) without roleArn/),
    ]);
    expect(elbMock.calls()).toHaveLength(0);
  });
});

describe('stop, find, abandon, previous', () => {
  it('stop: StopServiceDeployment(ROLLBACK); the rollback is watched on the same ARN', async () => {
    ecsMock.on(StopServiceDeploymentCommand).resolves({ serviceDeploymentArn: ARN });
    const s = await ecsNativeStrategy.stop(
      clients,
      { id: ARN, cluster: 'prod', service: 'web', check: {} },
      ctx(),
    );
    expect(s.rollback).toMatchObject({ id: ARN, expectRollback: true });
    expect(ecsMock).toHaveReceivedCommandWith(StopServiceDeploymentCommand, {
      serviceDeploymentArn: ARN,
      stopType: 'ROLLBACK',
    });
  });

  it('abandon stops an ongoing deployment found from the intent alone, and leaves a finished one', async () => {
    ecsMock.on(ListServiceDeploymentsCommand).resolves({
      serviceDeployments: [
        { serviceDeploymentArn: ARN, targetServiceRevisionArn: REV_NEW, createdAt: new Date(2) },
      ],
    });
    ecsMock.on(DescribeServiceRevisionsCommand).resolves({ serviceRevisions: [{ taskDefinition: TD }] });
    ecsMock.on(DescribeServiceDeploymentsCommand).resolvesOnce({ serviceDeployments: [sd()] });
    const record = {
      kind: 'ecs-native' as const,
      cluster: 'prod',
      service: 'web',
      region: 'us-east-1',
      taskDefinitionArn: TD,
    };
    const log = new MemoryLog();
    await ecsNativeStrategy.abandon(clients, record, 'rollback', log);
    expect(ecsMock).toHaveReceivedCommandWith(StopServiceDeploymentCommand, {
      serviceDeploymentArn: ARN,
      stopType: 'ROLLBACK',
    });
    expect(log.text()).toContain('stopped it with rollback');

    ecsMock.reset();
    ecsMock
      .on(DescribeServiceDeploymentsCommand)
      .resolves({ serviceDeployments: [sd({ status: 'SUCCESSFUL' })] });
    await ecsNativeStrategy.abandon(clients, { ...record, id: ARN }, 'rollback', log);
    expect(ecsMock).not.toHaveReceivedCommand(StopServiceDeploymentCommand);
    expect(log.text()).toContain('already ended (SUCCESSFUL)');
  });

  it('previous: an ongoing deployment is stopped; otherwise the earlier revision is redeployed', async () => {
    ecsMock.on(DescribeServiceDeploymentsCommand).resolves({ serviceDeployments: [sd()] });
    ecsMock
      .on(DescribeServiceRevisionsCommand, { serviceRevisionArns: [REV_NEW] })
      .resolves({ serviceRevisions: [{ taskDefinition: TD }] });
    ecsMock
      .on(DescribeServiceRevisionsCommand, { serviceRevisionArns: [REV_OLD] })
      .resolves({ serviceRevisions: [{ taskDefinition: OLD_TD }] });
    const running = await ecsNativeStrategy.previous(
      clients,
      native({ currentServiceDeployment: ARN }),
      ctx(),
    );
    expect(running).toEqual({ kind: 'stop', deploymentId: ARN, from: TD, to: OLD_TD, check: {} });

    ecsMock
      .on(DescribeServiceDeploymentsCommand)
      .resolves({ serviceDeployments: [sd({ status: 'SUCCESSFUL' })] });
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [TD, OLD_TD] });
    ecsMock
      .on(DescribeTaskDefinitionCommand)
      .resolves({ taskDefinition: { taskDefinitionArn: OLD_TD, status: 'ACTIVE' } });
    const svc = native({ currentServiceDeployment: ARN });
    svc.taskDefinitionArn = TD;
    const redeploy = await ecsNativeStrategy.previous(clients, svc, ctx());
    expect(redeploy).toMatchObject({ kind: 'redeploy', from: TD, to: OLD_TD });
  });
});
