import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  ApplicationDoesNotExistException,
  ContinueDeploymentCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  DeploymentAlreadyCompletedException,
  DeploymentConfigDoesNotExistException,
  DeploymentGroupDoesNotExistException,
  DeploymentIsNotInReadyStateException,
  DeploymentLimitExceededException,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  GetDeploymentTargetCommand,
  InvalidDeploymentConfigNameException,
  InvalidECSServiceException,
  InvalidLoadBalancerInfoException,
  InvalidRevisionException,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
  StopDeploymentCommand,
  waitUntilDeploymentSuccessful,
  type CodeDeployClient,
  type DeploymentInfo,
  type ECSTarget,
} from '@aws-sdk/client-codedeploy';
import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  type ECSClient,
  type Service,
} from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator, type Seed, type SeedDeploymentGroup } from '../../emulator/index.js';
import { clients, fargateTaskDefinition } from './clients.js';

const ARN = 'arn:aws:ecs:us-east-1:000000000000';
const APP = 'AppECS-demo-web';
const GROUP = 'DgpECS-demo-web';
const TARGET = 'demo:web';
const V1 = `${ARN}:task-definition/app:1`;
const V2 = `${ARN}:task-definition/app:2`;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

function world(group: Partial<SeedDeploymentGroup> = {}): Seed {
  return {
    clusters: ['demo'],
    taskDefinitions: [fargateTaskDefinition('app', 'app:v1'), fargateTaskDefinition('app', 'app:v2')],
    services: [
      {
        cluster: 'demo',
        serviceName: 'web',
        taskDefinition: 'app:1',
        desiredCount: 2,
        deploymentController: 'CODE_DEPLOY',
        launchType: 'FARGATE',
        loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
      },
    ],
    codedeploy: {
      applications: [APP],
      deploymentGroups: [
        {
          application: APP,
          name: GROUP,
          cluster: 'demo',
          service: 'web',
          autoRollback: true,
          terminationWaitMinutes: 1,
          ...group,
        },
      ],
    },
  };
}

interface World {
  emulator: Emulator;
  codedeploy: CodeDeployClient;
  ecs: ECSClient;
}

async function start(group: Partial<SeedDeploymentGroup> = {}, speed?: number): Promise<World> {
  emulator = await startEmulator({ manualClock: speed === undefined, speed, seed: world(group) });
  return { emulator, ...clients(emulator) };
}

function appSpec(
  opts: { taskDefinition?: string; container?: string; port?: number | string; hooks?: string } = {},
): string {
  return [
    'version: 0.0',
    'Resources:',
    '  - TargetService:',
    '      Type: AWS::ECS::Service',
    '      Properties:',
    `        TaskDefinition: "${opts.taskDefinition ?? V2}"`,
    '        LoadBalancerInfo:',
    `          ContainerName: "${opts.container ?? 'web'}"`,
    `          ContainerPort: ${opts.port ?? 8080}`,
    ...(opts.hooks ? [opts.hooks] : []),
    '',
  ].join('\n');
}

function deploy(
  codedeploy: CodeDeployClient,
  content = appSpec(),
  extra: { sha256?: string; deploymentConfigName?: string } = {},
) {
  return codedeploy.send(
    new CreateDeploymentCommand({
      applicationName: APP,
      deploymentGroupName: GROUP,
      deploymentConfigName: extra.deploymentConfigName,
      revision: {
        revisionType: 'AppSpecContent',
        appSpecContent: {
          content,
          sha256: extra.sha256 ?? createHash('sha256').update(content).digest('hex'),
        },
      },
    }),
  );
}

async function deployment(codedeploy: CodeDeployClient, deploymentId: string): Promise<DeploymentInfo> {
  return (await codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo as DeploymentInfo;
}

async function target(codedeploy: CodeDeployClient, deploymentId: string): Promise<ECSTarget> {
  const out = await codedeploy.send(new GetDeploymentTargetCommand({ deploymentId, targetId: TARGET }));
  return out.deploymentTarget?.ecsTarget as ECSTarget;
}

const events = (t: ECSTarget) => (t.lifecycleEvents ?? []).map((e) => `${e.lifecycleEventName}:${e.status}`);
const weights = (t: ECSTarget) =>
  (t.taskSetsInfo ?? []).map((ts) => `${ts.taskSetLabel}:${ts.status}:${ts.trafficWeight}`);

async function service(ecs: ECSClient): Promise<Service> {
  return (await ecs.send(new DescribeServicesCommand({ cluster: 'demo', services: ['web'] })))
    .services?.[0] as Service;
}

describe('CodeDeploy blue/green for ECS', () => {
  it('deploys to Succeeded, as the SDK waiter sees it (speed factor)', async () => {
    const { codedeploy, ecs } = await start({}, 2000);
    const { deploymentId } = await deploy(codedeploy);
    expect(deploymentId).toMatch(/^d-[A-Z0-9]{9}$/);
    const result = await waitUntilDeploymentSuccessful(
      { client: codedeploy, minDelay: 0.02, maxDelay: 0.05, maxWaitTime: 20 },
      { deploymentId },
    );
    expect(result.state).toBe('SUCCESS');
    const info = await deployment(codedeploy, deploymentId as string);
    expect(info).toMatchObject({
      status: 'Succeeded',
      computePlatform: 'ECS',
      creator: 'user',
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      deploymentOverview: { Pending: 0, InProgress: 0, Succeeded: 1, Failed: 0, Skipped: 0, Ready: 0 },
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      instanceTerminationWaitTimeStarted: true,
    });
    expect(info.completeTime?.getTime()).toBeGreaterThanOrEqual((info.createTime?.getTime() ?? 0) + MINUTE);
    const t = await target(codedeploy, deploymentId as string);
    expect(events(t)).toEqual([
      'BeforeInstall:Succeeded',
      'Install:Succeeded',
      'AfterInstall:Succeeded',
      'AllowTestTraffic:Succeeded',
      'AfterAllowTestTraffic:Succeeded',
      'BeforeAllowTraffic:Succeeded',
      'AllowTraffic:Succeeded',
      'AfterAllowTraffic:Succeeded',
    ]);
    const svc = await service(ecs);
    expect(svc.taskDefinition).toBe(V2);
    expect(svc.taskSets?.find((ts) => ts.status === 'PRIMARY')?.taskDefinition).toBe(V2);
    const group = await codedeploy.send(
      new GetDeploymentGroupCommand({ applicationName: APP, deploymentGroupName: GROUP }),
    );
    expect(group.deploymentGroupInfo?.lastSuccessfulDeployment).toMatchObject({
      deploymentId,
      status: 'Succeeded',
    });
  });

  it('walks the lifecycle on the emulated clock: Install, test traffic, canary shift, termination wait', async () => {
    const { emulator, codedeploy, ecs } = await start({
      deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
      terminationWaitMinutes: 5,
    });
    const { deploymentId = '' } = await deploy(codedeploy);
    expect((await deployment(codedeploy, deploymentId)).status).toBe('Created');

    emulator.clock.advance(1 * SECOND);
    let t = await target(codedeploy, deploymentId);
    expect((await deployment(codedeploy, deploymentId)).status).toBe('InProgress');
    expect(events(t).slice(0, 3)).toEqual([
      'BeforeInstall:Succeeded',
      'Install:InProgress',
      'AfterInstall:Pending',
    ]);
    expect(weights(t)).toEqual(['Blue:PRIMARY:100', 'Green:ACTIVE:0']);
    expect(t.taskSetsInfo?.map((ts) => [ts.desiredCount, ts.runningCount])).toEqual([
      [2, 2],
      [2, 0],
    ]);
    expect(t.taskSetsInfo?.map((ts) => ts.targetGroup?.name)).toEqual(['demo-web-tg1', 'demo-web-tg2']);

    emulator.clock.advance(10 * SECOND);
    t = await target(codedeploy, deploymentId);
    expect(events(t).slice(1, 4)).toEqual([
      'Install:Succeeded',
      'AfterInstall:Succeeded',
      'AllowTestTraffic:InProgress',
    ]);

    emulator.clock.advance(4 * SECOND);
    t = await target(codedeploy, deploymentId);
    expect(events(t).slice(6)).toEqual(['AllowTraffic:InProgress', 'AfterAllowTraffic:Pending']);
    expect(weights(t)).toEqual(['Blue:PRIMARY:90', 'Green:ACTIVE:10']);
    expect((await service(ecs)).taskDefinition).toBe(V1);

    emulator.clock.advance(5 * MINUTE);
    t = await target(codedeploy, deploymentId);
    expect(weights(t)).toEqual(['Blue:ACTIVE:0', 'Green:PRIMARY:100']);
    const shifted = await service(ecs);
    expect(shifted.taskDefinition).toBe(V2);
    // The replacement registered in the pair's other target group, which now serves the service.
    expect(shifted.loadBalancers).toEqual([
      {
        targetGroupArn: expect.stringMatching(/:targetgroup\/demo-web-tg2\/[0-9a-f]{16}$/),
        containerName: 'web',
        containerPort: 8080,
      },
    ]);
    expect((shifted.events ?? []).map((e) => e.message)).toContain(
      `(service web) registered 2 targets in (target-group ${shifted.loadBalancers?.[0]?.targetGroupArn})`,
    );
    const waiting = await deployment(codedeploy, deploymentId);
    expect(waiting).toMatchObject({ status: 'InProgress', instanceTerminationWaitTimeStarted: true });

    const early = await codedeploy
      .send(new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: 'READY_WAIT' }))
      .catch((e: unknown) => e);
    expect(early).toBeInstanceOf(DeploymentIsNotInReadyStateException);
    await codedeploy.send(
      new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: 'TERMINATION_WAIT' }),
    );
    expect((await deployment(codedeploy, deploymentId)).status).toBe('Succeeded');
    expect((await service(ecs)).taskSets?.map((ts) => [ts.status, ts.taskDefinition])).toEqual(
      expect.arrayContaining([['PRIMARY', V2]]),
    );
    emulator.clock.advance(10 * SECOND);
    expect((await service(ecs)).taskSets?.map((ts) => [ts.status, ts.taskDefinition])).toEqual([
      ['PRIMARY', V2],
    ]);
  });

  it('linear configuration shifts production traffic in steps', async () => {
    const { emulator, codedeploy } = await start({
      deploymentConfigName: 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
    });
    const { deploymentId = '' } = await deploy(codedeploy);
    emulator.clock.advance(15 * SECOND);
    expect(weights(await target(codedeploy, deploymentId))).toEqual(['Blue:PRIMARY:90', 'Green:ACTIVE:10']);
    emulator.clock.advance(3 * MINUTE);
    expect(weights(await target(codedeploy, deploymentId))).toEqual(['Blue:PRIMARY:60', 'Green:ACTIVE:40']);
    emulator.clock.advance(6 * MINUTE);
    expect(weights(await target(codedeploy, deploymentId))).toEqual(['Blue:ACTIVE:0', 'Green:PRIMARY:100']);
  });

  it('waits in Ready until ContinueDeployment, with readyAction STOP_DEPLOYMENT', async () => {
    const { emulator, codedeploy } = await start({
      readyAction: 'STOP_DEPLOYMENT',
      readyWaitMinutes: 30,
      terminationWaitMinutes: 0,
    });
    const { deploymentId = '' } = await deploy(codedeploy);
    const tooEarly = await codedeploy
      .send(new ContinueDeploymentCommand({ deploymentId }))
      .catch((e: unknown) => e);
    expect(tooEarly).toBeInstanceOf(DeploymentIsNotInReadyStateException);

    emulator.clock.advance(20 * SECOND);
    const ready = await deployment(codedeploy, deploymentId);
    expect(ready.status).toBe('Ready');
    expect(ready.deploymentOverview).toMatchObject({ Ready: 1, InProgress: 0 });
    expect(events(await target(codedeploy, deploymentId)).slice(4, 6)).toEqual([
      'AfterAllowTestTraffic:Succeeded',
      'BeforeAllowTraffic:Pending',
    ]);
    emulator.clock.advance(20 * MINUTE);
    expect((await deployment(codedeploy, deploymentId)).status).toBe('Ready');

    await codedeploy.send(new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: 'READY_WAIT' }));
    expect((await deployment(codedeploy, deploymentId)).status).toBe('InProgress');
    emulator.clock.advance(5 * SECOND);
    expect((await deployment(codedeploy, deploymentId)).status).toBe('Succeeded');
  });

  it('stops the deployment when the ready wait runs out', async () => {
    const { emulator, codedeploy, ecs } = await start({
      readyAction: 'STOP_DEPLOYMENT',
      readyWaitMinutes: 30,
    });
    const { deploymentId = '' } = await deploy(codedeploy);
    emulator.clock.advance(31 * MINUTE);
    const info = await deployment(codedeploy, deploymentId);
    expect(info.status).toBe('Stopped');
    expect(info.errorInformation?.code).toBe('TIMEOUT');
    emulator.clock.advance(10 * SECOND);
    expect((await service(ecs)).taskSets?.map((ts) => ts.taskDefinition)).toEqual([V1]);
  });

  it('fails at a lifecycle hook that reports Failed, and auto-rollback restores the original task set', async () => {
    const { emulator, codedeploy, ecs } = await start();
    emulator.faults.failLifecycleEvent('AfterAllowTestTraffic', 'smoke test: GET /health answered 500');
    const hooks = [
      'Hooks:',
      '  - AfterAllowTestTraffic: "arn:aws:lambda:us-east-1:000000000000:function:SmokeTest"',
    ].join('\n');
    const { deploymentId = '' } = await deploy(codedeploy, appSpec({ hooks }));

    emulator.clock.advance(18 * SECOND);
    const failed = await deployment(codedeploy, deploymentId);
    expect(failed.status).toBe('Failed');
    expect(failed.errorInformation?.code).toBe('HEALTH_CONSTRAINTS');
    expect(failed.errorInformation?.message).toContain('smoke test: GET /health answered 500');
    const t = await target(codedeploy, deploymentId);
    expect(t.status).toBe('Failed');
    expect(events(t)).toEqual([
      'BeforeInstall:Succeeded',
      'Install:Succeeded',
      'AfterInstall:Succeeded',
      'AllowTestTraffic:Succeeded',
      'AfterAllowTestTraffic:Failed',
      'BeforeAllowTraffic:Skipped',
      'AllowTraffic:Skipped',
      'AfterAllowTraffic:Skipped',
    ]);
    expect(t.lifecycleEvents?.[4]?.diagnostics).toMatchObject({
      errorCode: 'UnknownError',
      message: expect.stringContaining(
        'The deployment failed because a specified lifecycle event hook failed',
      ),
    });

    const rollbackId = failed.rollbackInfo?.rollbackDeploymentId as string;
    expect(rollbackId).toMatch(/^d-[A-Z0-9]{9}$/);
    emulator.clock.advance(10 * SECOND);
    const rollback = await deployment(codedeploy, rollbackId);
    expect(rollback).toMatchObject({
      status: 'Succeeded',
      creator: 'codeDeployRollback',
      rollbackInfo: { rollbackTriggeringDeploymentId: deploymentId },
    });
    emulator.clock.advance(10 * SECOND);
    const svc = await service(ecs);
    expect(svc.taskDefinition).toBe(V1);
    expect(svc.taskSets?.map((ts) => [ts.status, ts.taskDefinition])).toEqual([['PRIMARY', V1]]);

    const waited = await waitUntilDeploymentSuccessful(
      { client: codedeploy, minDelay: 0.01, maxDelay: 0.02, maxWaitTime: 1 },
      { deploymentId },
    ).then(
      () => 'succeeded',
      () => 'failed',
    );
    expect(waited).toBe('failed');
  });

  it('fails Install with ECS_UPDATE_ERROR when the replacement tasks crash', async () => {
    const { emulator, codedeploy, ecs } = await start();
    emulator.faults.crashTasks('app:2');
    const { deploymentId = '' } = await deploy(codedeploy);
    emulator.clock.advance(21 * SECOND);
    const info = await deployment(codedeploy, deploymentId);
    expect(info.status).toBe('Failed');
    expect(info.errorInformation?.code).toBe('ECS_UPDATE_ERROR');
    expect(info.errorInformation?.message).toMatch(
      /^The ECS replacement task set ecs-svc\/\d{19} failed to reach a steady state: 4 tasks stopped \(Essential container in task exited\): \(task [0-9a-f]{32}\)/,
    );
    expect(events(await target(codedeploy, deploymentId)).slice(0, 3)).toEqual([
      'BeforeInstall:Succeeded',
      'Install:Failed',
      'AfterInstall:Skipped',
    ]);
    emulator.clock.advance(30 * SECOND);
    expect((await service(ecs)).taskSets?.map((ts) => ts.taskDefinition)).toEqual([V1]);
    emulator.faults.clear();
  });

  it('StopDeployment with auto-rollback: Stopped, and a rollback deployment restores the original', async () => {
    const { emulator, codedeploy, ecs } = await start({ terminationWaitMinutes: 30 });
    const { deploymentId = '' } = await deploy(codedeploy);
    emulator.clock.advance(5 * MINUTE);
    expect((await service(ecs)).taskDefinition).toBe(V2);

    const stopped = await codedeploy.send(
      new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }),
    );
    expect(stopped.status).toBe('Pending');
    const info = await deployment(codedeploy, deploymentId);
    expect(info.status).toBe('Stopped');
    expect(info.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);
    emulator.clock.advance(10 * SECOND);
    expect((await deployment(codedeploy, info.rollbackInfo?.rollbackDeploymentId as string)).status).toBe(
      'Succeeded',
    );
    emulator.clock.advance(10 * SECOND);
    const svc = await service(ecs);
    expect(svc.taskDefinition).toBe(V1);
    expect(svc.taskSets?.map((ts) => ts.taskDefinition)).toEqual([V1]);

    const again = await codedeploy.send(new StopDeploymentCommand({ deploymentId })).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(DeploymentAlreadyCompletedException);
  });

  it('StopDeployment without rollback removes a replacement that never took traffic', async () => {
    const { emulator, codedeploy, ecs } = await start();
    const { deploymentId = '' } = await deploy(codedeploy);
    emulator.clock.advance(5 * SECOND);
    const stopped = await codedeploy.send(
      new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: false }),
    );
    expect(stopped).toMatchObject({ status: 'Succeeded' });
    expect((await deployment(codedeploy, deploymentId)).rollbackInfo).toBeUndefined();
    emulator.clock.advance(10 * SECOND);
    expect((await service(ecs)).taskSets?.map((ts) => ts.taskDefinition)).toEqual([V1]);
  });

  it('allows one active deployment per group: DeploymentLimitExceededException', async () => {
    const { emulator, codedeploy } = await start({ terminationWaitMinutes: 0 });
    const { deploymentId = '' } = await deploy(codedeploy);
    const second = await deploy(codedeploy).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(DeploymentLimitExceededException);
    expect((second as Error).message).toBe(
      `The Deployment Group '${GROUP}' already has an active Deployment '${deploymentId}'`,
    );
    emulator.clock.advance(1 * MINUTE);
    expect((await deployment(codedeploy, deploymentId)).status).toBe('Succeeded');
    await expect(deploy(codedeploy, appSpec({ taskDefinition: V1 }))).resolves.toMatchObject({
      deploymentId: expect.any(String),
    });
    const listed = await codedeploy.send(
      new ListDeploymentsCommand({ applicationName: APP, deploymentGroupName: GROUP }),
    );
    expect(listed.deployments).toHaveLength(2);
    expect(listed.deployments?.[1]).toBe(deploymentId);
    expect((await codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId }))).targetIds).toEqual([
      TARGET,
    ]);
  });

  it('validates CreateDeployment and its AppSpec like CodeDeploy', async () => {
    const { codedeploy, ecs } = await start();
    const outcome = async (promise: Promise<unknown>) => {
      const e = await promise.then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      return e ? e : new Error('accepted');
    };
    const content = appSpec();
    expect(await outcome(deploy(codedeploy, content, { sha256: 'ab'.repeat(32) }))).toBeInstanceOf(
      InvalidRevisionException,
    );
    expect(await outcome(deploy(codedeploy, appSpec({ taskDefinition: 'app:2' })))).toBeInstanceOf(
      InvalidRevisionException,
    );
    expect(
      await outcome(deploy(codedeploy, appSpec({ taskDefinition: `${ARN}:task-definition/app:9` }))),
    ).toBeInstanceOf(InvalidRevisionException);
    expect(await outcome(deploy(codedeploy, appSpec({ container: 'api' })))).toBeInstanceOf(
      InvalidLoadBalancerInfoException,
    );
    expect(await outcome(deploy(codedeploy, appSpec({ port: 9090 })))).toBeInstanceOf(
      InvalidLoadBalancerInfoException,
    );
    expect(await outcome(deploy(codedeploy, appSpec({ port: '"8080"' })))).toBeInstanceOf(
      InvalidLoadBalancerInfoException,
    );
    const ec2Hooks = [
      'Hooks:',
      '  ApplicationStart:',
      '    - location: scripts/start.sh',
      '      timeout: 300',
    ].join('\n');
    const ec2 = await outcome(deploy(codedeploy, appSpec({ hooks: ec2Hooks })));
    expect(ec2).toBeInstanceOf(InvalidRevisionException);
    expect(ec2.message).toMatch(/^The hooks must be one of the ECS supported hooks/);
    const twoTargets = appSpec().replace(
      'Resources:',
      'Resources:\n  - TargetService:\n      Type: AWS::ECS::Service',
    );
    expect(await outcome(deploy(codedeploy, twoTargets))).toBeInstanceOf(InvalidRevisionException);
    expect(
      await outcome(deploy(codedeploy, appSpec().replace('version: 0.0', 'version: 1.0'))),
    ).toBeInstanceOf(InvalidRevisionException);
    expect(await outcome(deploy(codedeploy, 'Resources: [unclosed'))).toBeInstanceOf(
      InvalidRevisionException,
    );
    expect(
      await outcome(deploy(codedeploy, content, { deploymentConfigName: 'CodeDeployDefault.ECSNope' })),
    ).toBeInstanceOf(DeploymentConfigDoesNotExistException);
    expect(
      await outcome(deploy(codedeploy, content, { deploymentConfigName: 'CodeDeployDefault.OneAtATime' })),
    ).toBeInstanceOf(InvalidDeploymentConfigNameException);
    const noApp = codedeploy.send(
      new CreateDeploymentCommand({ applicationName: 'nope', deploymentGroupName: GROUP }),
    );
    expect(await outcome(noApp)).toBeInstanceOf(ApplicationDoesNotExistException);
    const noGroup = codedeploy.send(
      new CreateDeploymentCommand({ applicationName: APP, deploymentGroupName: 'nope' }),
    );
    expect(await outcome(noGroup)).toBeInstanceOf(DeploymentGroupDoesNotExistException);

    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'app:2' }));
    const inactive = await outcome(deploy(codedeploy, content));
    expect(inactive).toBeInstanceOf(InvalidRevisionException);
    expect(inactive.message).toContain('INACTIVE');
    // Nothing was refused late: none of the above left a deployment behind.
    const listed = await codedeploy.send(new ListDeploymentsCommand({}));
    expect(listed.deployments).toEqual([]);
  });

  it('serves the built-in ECS deployment configurations and the seeded group', async () => {
    const { codedeploy } = await start({ readyAction: 'STOP_DEPLOYMENT', readyWaitMinutes: 60 });
    const canary = await codedeploy.send(
      new GetDeploymentConfigCommand({
        deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes',
      }),
    );
    expect(canary.deploymentConfigInfo).toMatchObject({
      computePlatform: 'ECS',
      trafficRoutingConfig: {
        type: 'TimeBasedCanary',
        timeBasedCanary: { canaryPercentage: 10, canaryInterval: 15 },
      },
    });
    const missing = await codedeploy
      .send(new GetDeploymentConfigCommand({ deploymentConfigName: 'Custom.Nope' }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(DeploymentConfigDoesNotExistException);
    const group = await codedeploy.send(
      new GetDeploymentGroupCommand({ applicationName: APP, deploymentGroupName: GROUP }),
    );
    expect(group.deploymentGroupInfo).toMatchObject({
      computePlatform: 'ECS',
      ecsServices: [{ clusterName: 'demo', serviceName: 'web' }],
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 },
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 1 },
      },
      autoRollbackConfiguration: {
        enabled: true,
        events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'],
      },
    });
    expect(group.deploymentGroupInfo?.loadBalancerInfo?.targetGroupPairInfoList?.[0]?.targetGroups).toEqual([
      { name: 'demo-web-tg1' },
      { name: 'demo-web-tg2' },
    ]);
  });

  it('refuses a deployment group for a service that CodeDeploy does not control', async () => {
    const { emulator, codedeploy } = await start();
    emulator.seed({
      services: [{ cluster: 'demo', serviceName: 'rolling', taskDefinition: 'app:1', launchType: 'FARGATE' }],
    });
    const refused = await codedeploy
      .send(
        new CreateDeploymentGroupCommand({
          applicationName: APP,
          deploymentGroupName: 'other',
          serviceRoleArn: 'arn:aws:iam::000000000000:role/cd',
          ecsServices: [{ clusterName: 'demo', serviceName: 'rolling' }],
          deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
          loadBalancerInfo: {
            targetGroupPairInfoList: [
              {
                targetGroups: [{ name: 'a' }, { name: 'b' }],
                prodTrafficRoute: { listenerArns: ['arn:listener'] },
              },
            ],
          },
        }),
      )
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidECSServiceException);
    expect((refused as Error).message).toBe(
      "Deployment group's ECS service must be configured for a CODE_DEPLOY deployment controller.",
    );
  });
});
