import { afterEach, describe, expect, it } from '@jest/globals';
import {
  ClientException,
  CreateServiceCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  InvalidParameterException,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  ListServicesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  ServiceNotActiveException,
  TagResourceCommand,
  UpdateServiceCommand,
  type ECSClient,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator, type Seed } from '../../emulator/index.js';
import { awsvpc, clients, fargateTaskDefinition } from './clients.js';

const ARN = 'arn:aws:ecs:us-east-1:000000000000';
/** DescribeTaskDefinition members that RegisterTaskDefinition does not take (aws-facts.md). */
const OUTPUT_ONLY = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
] as const;

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

async function start(
  seed: Seed,
  opts: { speed?: number } = {},
): Promise<{ emulator: Emulator; ecs: ECSClient }> {
  emulator = await startEmulator({ manualClock: opts.speed === undefined, speed: opts.speed, seed });
  return { emulator, ecs: clients(emulator).ecs };
}

function rollingWorld(extra: Partial<NonNullable<Seed['services']>[number]> = {}): Seed {
  return {
    clusters: ['demo'],
    taskDefinitions: [fargateTaskDefinition('app', 'app:v1')],
    services: [
      {
        cluster: 'demo',
        serviceName: 'web',
        taskDefinition: 'app',
        desiredCount: 2,
        launchType: 'FARGATE',
        deploymentConfiguration: {
          deploymentCircuitBreaker: { enable: true, rollback: true },
          maximumPercent: 200,
          minimumHealthyPercent: 100,
        },
        ...extra,
      },
    ],
  };
}

async function describeService(ecs: ECSClient, name = 'web'): Promise<Service> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster: 'demo', services: [name] }));
  return out.services?.[0] as Service;
}

const messages = (svc: Service) => (svc.events ?? []).map((e) => e.message ?? '').reverse();

describe('ECS task definitions', () => {
  it('registers with the defaults AWS fills in, and the stripped describe output registers again unchanged', async () => {
    const { ecs } = await start({});
    const registered = await ecs.send(
      new RegisterTaskDefinitionCommand({
        ...fargateTaskDefinition('roundtrip', 'repo/app:1', {
          taskRoleArn: 'arn:aws:iam::000000000000:role/task',
        }),
        tags: [{ key: 'team', value: 'web' }],
      }),
    );
    const td = registered.taskDefinition as TaskDefinition;
    expect(td).toMatchObject({
      taskDefinitionArn: `${ARN}:task-definition/roundtrip:1`,
      family: 'roundtrip',
      revision: 1,
      status: 'ACTIVE',
      compatibilities: ['EC2', 'FARGATE'],
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      volumes: [],
      placementConstraints: [],
      registeredBy: 'arn:aws:iam::000000000000:root',
    });
    expect(td.containerDefinitions?.[0]).toEqual({
      name: 'web',
      image: 'repo/app:1',
      cpu: 0,
      essential: true,
      portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
      environment: [],
      mountPoints: [],
      volumesFrom: [],
      systemControls: [],
    });
    expect(td.requiresAttributes?.map((a) => a.name)).toEqual(
      expect.arrayContaining(['ecs.capability.task-eni', 'com.amazonaws.ecs.capability.task-iam-role']),
    );
    expect(registered.tags).toEqual([{ key: 'team', value: 'web' }]);

    const described = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'roundtrip', include: ['TAGS'] }),
    );
    expect(described.taskDefinition).toEqual(td);
    expect(described.tags).toEqual([{ key: 'team', value: 'web' }]);
    const withoutTags = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: `${ARN}:task-definition/roundtrip:1` }),
    );
    expect(withoutTags.tags).toBeUndefined();

    const input: Record<string, unknown> = { ...described.taskDefinition };
    for (const member of OUTPUT_ONLY) delete input[member];
    const again = await ecs.send(new RegisterTaskDefinitionCommand(input as never));
    expect(again.taskDefinition?.revision).toBe(2);
    const strip = (t: TaskDefinition | undefined) => {
      const copy: Record<string, unknown> = { ...t };
      for (const member of OUTPUT_ONLY) delete copy[member];
      return copy;
    };
    expect(strip(again.taskDefinition)).toEqual(strip(td));
  });

  it('refuses what AWS refuses, with ClientException messages like AWS', async () => {
    const { ecs } = await start({});
    const refusal = (input: object) =>
      ecs.send(new RegisterTaskDefinitionCommand(input as never)).then(
        () => 'accepted',
        (e: unknown) => (e instanceof ClientException ? e.message : `unexpected ${String(e)}`),
      );
    expect(await refusal({ ...fargateTaskDefinition('x'), containerDefinitions: [{ name: 'web' }] })).toBe(
      'Container.image should not be null or empty.',
    );
    expect(await refusal({ ...fargateTaskDefinition('x'), containerDefinitions: [{ image: 'a' }] })).toBe(
      'Container.name should not be null or empty.',
    );
    expect(await refusal({ ...fargateTaskDefinition('x'), networkMode: 'bridge' })).toBe(
      'Fargate only supports network mode ‘awsvpc’.',
    );
    expect(await refusal({ ...fargateTaskDefinition('x'), memory: '4096' })).toMatch(
      /^No Fargate configuration exists for given values: 256 CPU, 4096 memory/,
    );
    expect(await refusal({ ...fargateTaskDefinition('x'), cpu: undefined })).toBe(
      "Fargate requires that 'cpu' be defined at the task level.",
    );
    expect(
      await refusal({
        ...fargateTaskDefinition('x'),
        containerDefinitions: [
          { name: 'web', image: 'a', portMappings: [{ containerPort: 80, hostPort: 81 }] },
        ],
      }),
    ).toBe('When networkMode=awsvpc, the host ports and container ports in port mappings must match.');
    expect(await refusal({ family: 'ec2', containerDefinitions: [{ name: 'web', image: 'a' }] })).toBe(
      "Invalid setting for container 'web'. At least one of 'memory' or 'memoryReservation' must be specified.",
    );
    expect(await refusal({ ...fargateTaskDefinition('bad family!') })).toMatch(
      /^Family contains invalid characters/,
    );
    expect(await refusal({ family: 'x', containerDefinitions: [] })).toBe('Container list cannot be empty.');
    const missing = await ecs
      .send(new DescribeTaskDefinitionCommand({ taskDefinition: 'nope' }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ClientException);
  });

  it('lists, deregisters (INACTIVE) and deletes only INACTIVE revisions', async () => {
    const { ecs } = await start({
      taskDefinitions: [fargateTaskDefinition('a'), fargateTaskDefinition('a'), fargateTaskDefinition('b')],
    });
    const all = await ecs.send(new ListTaskDefinitionsCommand({}));
    expect(all.taskDefinitionArns).toEqual([
      `${ARN}:task-definition/a:1`,
      `${ARN}:task-definition/a:2`,
      `${ARN}:task-definition/b:1`,
    ]);
    const desc = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'a', sort: 'DESC' }));
    expect(desc.taskDefinitionArns).toEqual([`${ARN}:task-definition/a:2`, `${ARN}:task-definition/a:1`]);
    const paged = await ecs.send(new ListTaskDefinitionsCommand({ maxResults: 2 }));
    expect(paged.taskDefinitionArns).toHaveLength(2);
    const rest = await ecs.send(
      new ListTaskDefinitionsCommand({ maxResults: 2, nextToken: paged.nextToken }),
    );
    expect(rest.taskDefinitionArns).toEqual([`${ARN}:task-definition/b:1`]);

    const deregistered = await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'a:1' }));
    expect(deregistered.taskDefinition).toMatchObject({
      status: 'INACTIVE',
      deregisteredAt: expect.any(Date),
    });
    expect(
      (await ecs.send(new ListTaskDefinitionsCommand({ status: 'INACTIVE' }))).taskDefinitionArns,
    ).toEqual([`${ARN}:task-definition/a:1`]);
    expect(
      (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'a' }))).taskDefinition?.revision,
    ).toBe(2);

    const deleted = await ecs.send(
      new DeleteTaskDefinitionsCommand({ taskDefinitions: ['a:1', 'a:2', 'zz:9'] }),
    );
    expect(deleted.taskDefinitions?.map((t) => [t.taskDefinitionArn, t.status])).toEqual([
      [`${ARN}:task-definition/a:1`, 'DELETE_IN_PROGRESS'],
    ]);
    expect(deleted.failures).toEqual([
      {
        arn: `${ARN}:task-definition/a:2`,
        reason:
          'The specified task definition is still in ACTIVE status. Please deregister the target and try again.',
      },
      { arn: `${ARN}:task-definition/zz:9`, reason: 'The specified task definition does not exist.' },
    ]);
  });
});

describe('ECS services', () => {
  it('creates a service whose first deployment starts tasks and completes', async () => {
    const { emulator, ecs } = await start({
      clusters: ['demo'],
      taskDefinitions: [fargateTaskDefinition('app')],
    });
    const created = await ecs.send(
      new CreateServiceCommand({
        cluster: 'demo',
        serviceName: 'api',
        taskDefinition: 'app',
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: awsvpc,
      }),
    );
    expect(created.service).toMatchObject({
      serviceArn: `${ARN}:service/demo/api`,
      status: 'ACTIVE',
      taskDefinition: `${ARN}:task-definition/app:1`,
      deploymentController: { type: 'ECS' },
      deploymentConfiguration: {
        maximumPercent: 200,
        minimumHealthyPercent: 100,
        deploymentCircuitBreaker: { enable: false, rollback: false },
      },
      platformVersion: 'LATEST',
    });
    const deployment = created.service?.deployments?.[0];
    expect(deployment?.id).toMatch(/^ecs-svc\/\d{19}$/);
    expect(deployment).toMatchObject({
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: `ECS deployment ${deployment?.id} in progress.`,
    });

    emulator.clock.advance(3_000);
    let svc = await describeService(ecs, 'api');
    expect([svc.pendingCount, svc.runningCount]).toEqual([1, 0]);
    const [taskArn] =
      (await ecs.send(new ListTasksCommand({ cluster: 'demo', serviceName: 'api' }))).taskArns ?? [];
    const pending = (
      await ecs.send(new DescribeTasksCommand({ cluster: 'demo', tasks: [taskArn as string] }))
    ).tasks?.[0];
    expect(pending).toMatchObject({
      lastStatus: 'PENDING',
      desiredStatus: 'RUNNING',
      group: 'service:api',
      startedBy: deployment?.id,
    });

    emulator.clock.advance(7_000);
    svc = await describeService(ecs, 'api');
    expect([svc.pendingCount, svc.runningCount]).toEqual([0, 1]);
    expect(svc.deployments).toEqual([
      expect.objectContaining({
        id: deployment?.id,
        rolloutState: 'COMPLETED',
        rolloutStateReason: `ECS deployment ${deployment?.id} completed.`,
      }),
    ]);
    const taskId = (taskArn as string).split('/').pop();
    expect(messages(svc)).toEqual([
      `(service api) has started 1 tasks: (task ${taskId}).`,
      `(service api) (deployment ${deployment?.id}) deployment completed.`,
      '(service api) has reached a steady state.',
    ]);
  });

  it('validates CreateService like ECS', async () => {
    const { ecs } = await start(rollingWorld());
    const refusal = (input: object) =>
      ecs.send(new CreateServiceCommand({ cluster: 'demo', desiredCount: 1, ...input } as never)).then(
        () => 'accepted',
        (e: unknown) => `${(e as Error).name}: ${(e as Error).message}`,
      );
    expect(await refusal({ serviceName: 'web', taskDefinition: 'app', networkConfiguration: awsvpc })).toBe(
      'InvalidParameterException: Creation of service was not idempotent.',
    );
    expect(await refusal({ serviceName: 'x', taskDefinition: 'app' })).toBe(
      "InvalidParameterException: Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    );
    expect(await refusal({ serviceName: 'x', taskDefinition: 'nope:3', networkConfiguration: awsvpc })).toBe(
      'ClientException: TaskDefinition not found.',
    );
    expect(
      await refusal({
        serviceName: 'x',
        taskDefinition: 'app',
        networkConfiguration: awsvpc,
        loadBalancers: [{ targetGroupArn: 'arn:tg', containerName: 'web', containerPort: 9999 }],
      }),
    ).toBe('InvalidParameterException: The container web did not have a container port 9999 defined.');
    expect(await refusal({ cluster: 'nowhere', serviceName: 'x', taskDefinition: 'app' })).toBe(
      'ClusterNotFoundException: Cluster not found.',
    );
  });

  it('describes missing services as failures, not errors', async () => {
    const { ecs } = await start(rollingWorld());
    const out = await ecs.send(new DescribeServicesCommand({ cluster: 'demo', services: ['web', 'ghost'] }));
    expect(out.services?.map((s) => s.serviceName)).toEqual(['web']);
    expect(out.failures).toEqual([{ arn: `${ARN}:service/demo/ghost`, reason: 'MISSING' }]);
  });

  it('rolling deployment: new tasks start, old ones stop within minimum healthy / maximum percent, then COMPLETED', async () => {
    const { emulator, ecs } = await start(rollingWorld());
    await ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDefinition('app', 'app:v2')));
    const before = await describeService(ecs);
    const previous = before.deployments?.[0]?.id as string;
    const oldTasks =
      (await ecs.send(new ListTasksCommand({ cluster: 'demo', serviceName: 'web' }))).taskArns ?? [];
    expect(oldTasks).toHaveLength(2);

    const updated = await ecs.send(
      new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:2' }),
    );
    const primary = updated.service?.deployments?.[0];
    expect(
      updated.service?.deployments?.map((d) => [d.id, d.status, d.rolloutState, d.taskDefinition]),
    ).toEqual([
      [primary?.id, 'PRIMARY', 'IN_PROGRESS', `${ARN}:task-definition/app:2`],
      [previous, 'ACTIVE', 'COMPLETED', `${ARN}:task-definition/app:1`],
    ]);
    expect(updated.service?.taskDefinition).toBe(`${ARN}:task-definition/app:2`);

    // maximumPercent 200: both replacements start while the two old tasks keep serving.
    emulator.clock.advance(5_000);
    let svc = await describeService(ecs);
    expect(svc.deployments?.map((d) => [d.pendingCount, d.runningCount])).toEqual([
      [2, 0],
      [0, 2],
    ]);
    // minimumHealthyPercent 100: old tasks stop only once the new ones run.
    emulator.clock.advance(5_000);
    svc = await describeService(ecs);
    expect(svc.deployments?.map((d) => [d.status, d.runningCount])).toEqual([
      ['PRIMARY', 2],
      ['ACTIVE', 0],
    ]);
    expect(svc.deployments?.[0]?.rolloutState).toBe('IN_PROGRESS');
    emulator.clock.advance(5_000);
    svc = await describeService(ecs);
    expect(svc.deployments).toEqual([
      expect.objectContaining({
        id: primary?.id,
        status: 'PRIMARY',
        rolloutState: 'COMPLETED',
        runningCount: 2,
      }),
    ]);
    expect(messages(svc).slice(-3)).toEqual([
      expect.stringMatching(
        /^\(service web\) has stopped 2 running tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/,
      ),
      `(service web) (deployment ${primary?.id}) deployment completed.`,
      '(service web) has reached a steady state.',
    ]);
    const stopped = await ecs.send(new DescribeTasksCommand({ cluster: 'demo', tasks: oldTasks }));
    expect(stopped.tasks?.map((t) => [t.lastStatus, t.stopCode, t.stoppedReason])).toEqual([
      ['STOPPED', 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${primary?.id})`],
      ['STOPPED', 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${primary?.id})`],
    ]);
    const listedStopped = await ecs.send(
      new ListTasksCommand({ cluster: 'demo', serviceName: 'web', desiredStatus: 'STOPPED' }),
    );
    expect(listedStopped.taskArns?.sort()).toEqual([...oldTasks].sort());
  });

  it('rolling deployment with minimumHealthyPercent 0 and maximumPercent 100 replaces tasks stop-first', async () => {
    const { emulator, ecs } = await start(
      rollingWorld({
        desiredCount: 1,
        deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 100 },
      }),
    );
    await ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDefinition('app', 'app:v2')));
    await ecs.send(new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:2' }));
    let svc = await describeService(ecs);
    expect([svc.runningCount, svc.pendingCount]).toEqual([0, 0]);
    emulator.clock.advance(5_000);
    svc = await describeService(ecs);
    expect(svc.deployments?.map((d) => [d.status, d.pendingCount, d.runningCount])).toEqual([
      ['PRIMARY', 1, 0],
      ['ACTIVE', 0, 0],
    ]);
    emulator.clock.advance(10_000);
    expect((await describeService(ecs)).deployments?.[0]?.rolloutState).toBe('COMPLETED');
  });

  it('reaches COMPLETED on a fast clock (speed factor), as a watcher polling in real time sees it', async () => {
    const { ecs } = await start(rollingWorld(), { speed: 500 });
    await ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDefinition('app', 'app:v2')));
    const updated = await ecs.send(
      new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:2' }),
    );
    const id = updated.service?.deployments?.[0]?.id;
    const seen = new Set<string>();
    let svc = await describeService(ecs);
    for (let i = 0; i < 100 && svc.deployments?.[0]?.rolloutState !== 'COMPLETED'; i++) {
      seen.add(`${svc.deployments?.length}:${svc.deployments?.[0]?.rolloutState}`);
      await new Promise((r) => setTimeout(r, 10));
      svc = await describeService(ecs);
    }
    expect(svc.deployments).toEqual([
      expect.objectContaining({ id, rolloutState: 'COMPLETED', runningCount: 2 }),
    ]);
    expect(seen.has('2:IN_PROGRESS')).toBe(true);
  });

  it('circuit breaker: crashing tasks fail the deployment and roll back to the last completed one', async () => {
    const { emulator, ecs } = await start(rollingWorld());
    const completed = (await describeService(ecs)).deployments?.[0]?.id as string;
    // Family-wide: the new revision crashes, the one that already ran (app:1) does not.
    emulator.faults.crashTasks('app');
    await ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDefinition('app', 'app:broken')));
    const updated = await ecs.send(
      new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:2' }),
    );
    const failedId = updated.service?.deployments?.[0]?.id as string;

    emulator.clock.advance(10_000);
    let svc = await describeService(ecs);
    expect(svc.deployments?.[0]).toMatchObject({ id: failedId, failedTasks: 2, rolloutState: 'IN_PROGRESS' });
    const stoppedArns =
      (
        await ecs.send(
          new ListTasksCommand({ cluster: 'demo', serviceName: 'web', desiredStatus: 'STOPPED' }),
        )
      ).taskArns ?? [];
    const crashed =
      (await ecs.send(new DescribeTasksCommand({ cluster: 'demo', tasks: stoppedArns }))).tasks ?? [];
    expect(crashed[0]).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [expect.objectContaining({ name: 'web', lastStatus: 'STOPPED', exitCode: 1 })],
    });

    emulator.clock.advance(10_000);
    svc = await describeService(ecs);
    const failed = svc.deployments?.find((d) => d.id === failedId);
    expect(failed).toMatchObject({
      status: 'ACTIVE',
      rolloutState: 'FAILED',
      rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
    });
    const rollback = svc.deployments?.[0];
    expect(rollback).toMatchObject({ status: 'PRIMARY', taskDefinition: `${ARN}:task-definition/app:1` });
    expect(rollback?.id).not.toBe(completed);
    expect(messages(svc)).toEqual(
      expect.arrayContaining([
        `(service web) (deployment ${failedId}) deployment failed: tasks failed to start.`,
        `(service web) rolling back to deployment ${completed}.`,
      ]),
    );

    emulator.clock.advance(30_000);
    svc = await describeService(ecs);
    expect(svc.deployments).toEqual([
      expect.objectContaining({ id: rollback?.id, rolloutState: 'COMPLETED', runningCount: 2 }),
    ]);
    expect(svc.taskDefinition).toBe(`${ARN}:task-definition/app:1`);
    // The deployment the update created is gone: the signal a watcher must treat as failure.
    expect(svc.deployments?.some((d) => d.id === failedId)).toBe(false);
  });

  it('a rollback whose own revision crashes fails too, and is not rolled back again', async () => {
    const { emulator, ecs } = await start(rollingWorld());
    await ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDefinition('app', 'app:broken')));
    emulator.faults.crashTasks('app:2');
    emulator.faults.crashTasks('app:1', 'CannotStartContainerError: the old image is gone too');
    await ecs.send(new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:2' }));
    emulator.clock.advance(10 * 60_000);
    const svc = await describeService(ecs);
    expect(svc.deployments?.map((d) => [d.status, d.rolloutState, d.taskDefinition])).toEqual([
      ['PRIMARY', 'FAILED', `${ARN}:task-definition/app:1`],
      ['ACTIVE', 'FAILED', `${ARN}:task-definition/app:2`],
      ['ACTIVE', 'COMPLETED', `${ARN}:task-definition/app:1`],
    ]);
    expect(svc.runningCount).toBe(2);
    expect(messages(svc).filter((m) => m.includes('rolling back'))).toHaveLength(1);
  });

  it('without a circuit breaker the deployment stays IN_PROGRESS while tasks keep failing', async () => {
    const { emulator, ecs } = await start(
      rollingWorld({ deploymentConfiguration: { minimumHealthyPercent: 100 } }),
    );
    await ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDefinition('app', 'app:broken')));
    emulator.faults.crashTasks(
      'app',
      'CannotPullContainerError: pull image manifest has been retried 1 time(s)',
    );
    await ecs.send(new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:2' }));
    emulator.clock.advance(60_000);
    const svc = await describeService(ecs);
    expect(svc.deployments?.[0]).toMatchObject({ rolloutState: 'IN_PROGRESS', failedTasks: 12 });
    expect(svc.deployments?.[1]).toMatchObject({ status: 'ACTIVE', runningCount: 2 });
    expect(messages(svc)).toContain(
      '(service web) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.',
    );
    const stopped =
      (await ecs.send(new ListTasksCommand({ cluster: 'demo', desiredStatus: 'STOPPED' }))).taskArns ?? [];
    const [task] =
      (await ecs.send(new DescribeTasksCommand({ cluster: 'demo', tasks: stopped.slice(0, 1) }))).tasks ?? [];
    expect(task?.stoppedReason).toBe(
      'CannotPullContainerError: pull image manifest has been retried 1 time(s)',
    );
    emulator.faults.clear();
  });

  it('forceNewDeployment replaces tasks on the same task definition; a desiredCount change does not deploy', async () => {
    const { emulator, ecs } = await start(rollingWorld());
    const scaled = await ecs.send(
      new UpdateServiceCommand({ cluster: 'demo', service: 'web', desiredCount: 3 }),
    );
    expect(scaled.service?.deployments).toHaveLength(1);
    emulator.clock.advance(10_000);
    expect((await describeService(ecs)).runningCount).toBe(3);
    const forced = await ecs.send(
      new UpdateServiceCommand({ cluster: 'demo', service: 'web', forceNewDeployment: true }),
    );
    expect(forced.service?.deployments?.map((d) => d.taskDefinition)).toEqual([
      `${ARN}:task-definition/app:1`,
      `${ARN}:task-definition/app:1`,
    ]);
    emulator.clock.advance(15_000);
    const svc = await describeService(ecs);
    expect(svc.deployments).toEqual([
      expect.objectContaining({ id: forced.service?.deployments?.[0]?.id, rolloutState: 'COMPLETED' }),
    ]);
  });

  it('CODE_DEPLOY services: task sets instead of deployments, task definition changes refused', async () => {
    const { emulator, ecs } = await start({
      clusters: ['demo'],
      taskDefinitions: [fargateTaskDefinition('app'), fargateTaskDefinition('app', 'app:v2')],
      services: [
        {
          cluster: 'demo',
          serviceName: 'bg',
          taskDefinition: 'app:1',
          desiredCount: 2,
          deploymentController: 'CODE_DEPLOY',
          launchType: 'FARGATE',
          loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
        },
      ],
    });
    const svc = await describeService(ecs, 'bg');
    expect(svc.deployments).toEqual([]);
    expect(svc.taskDefinition).toBe(`${ARN}:task-definition/app:1`);
    expect(svc.loadBalancers?.[0]?.targetGroupArn).toMatch(
      /^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup\/demo-bg-tg1\/[0-9a-f]{16}$/,
    );
    expect(svc.taskSets).toEqual([
      expect.objectContaining({
        id: expect.stringMatching(/^ecs-svc\/\d{19}$/),
        status: 'PRIMARY',
        taskDefinition: `${ARN}:task-definition/app:1`,
        computedDesiredCount: 2,
        runningCount: 2,
        scale: { value: 100, unit: 'PERCENT' },
        stabilityStatus: 'STEADY_STATE',
      }),
    ]);
    const refused = await ecs
      .send(new UpdateServiceCommand({ cluster: 'demo', service: 'bg', taskDefinition: 'app:2' }))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidParameterException);
    expect((refused as Error).message).toBe(
      'Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.',
    );
    await ecs.send(new UpdateServiceCommand({ cluster: 'demo', service: 'bg', desiredCount: 3 }));
    emulator.clock.advance(10_000);
    expect((await describeService(ecs, 'bg')).taskSets?.[0]).toMatchObject({
      computedDesiredCount: 3,
      runningCount: 3,
    });
  });

  it('DeleteService: refuses while scaled up, drains, and the name is free again only once INACTIVE', async () => {
    const { emulator, ecs } = await start(rollingWorld());
    const refused = await ecs
      .send(new DeleteServiceCommand({ cluster: 'demo', service: 'web' }))
      .catch((e: unknown) => e);
    expect((refused as Error).message).toBe('The service cannot be stopped while it is scaled above 0.');
    const deleted = await ecs.send(
      new DeleteServiceCommand({ cluster: 'demo', service: 'web', force: true }),
    );
    expect(deleted.service).toMatchObject({ status: 'DRAINING', desiredCount: 0 });
    const recreate = () =>
      ecs.send(
        new CreateServiceCommand({
          cluster: 'demo',
          serviceName: 'web',
          taskDefinition: 'app',
          desiredCount: 1,
          launchType: 'FARGATE',
          networkConfiguration: awsvpc,
        }),
      );
    expect(((await recreate().catch((e: unknown) => e)) as Error).message).toBe(
      'Creation of service was not idempotent.',
    );
    const again = await ecs
      .send(new UpdateServiceCommand({ cluster: 'demo', service: 'web', desiredCount: 1 }))
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ServiceNotActiveException);
    emulator.clock.advance(5_000);
    expect((await describeService(ecs)).status).toBe('DRAINING');
    emulator.clock.advance(10_000);
    expect((await describeService(ecs)).status).toBe('INACTIVE');
    const created = await recreate();
    expect(created.service?.status).toBe('ACTIVE');
    expect((await describeService(ecs)).status).toBe('ACTIVE');
  });

  it('tags services and lists them', async () => {
    const { ecs } = await start(rollingWorld());
    const resourceArn = `${ARN}:service/demo/web`;
    await ecs.send(new TagResourceCommand({ resourceArn, tags: [{ key: 'env', value: 'pr-7' }] }));
    expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn }))).tags).toEqual([
      { key: 'env', value: 'pr-7' },
    ]);
    const svc = await ecs.send(
      new DescribeServicesCommand({ cluster: 'demo', services: ['web'], include: ['TAGS'] }),
    );
    expect(svc.services?.[0]?.tags).toEqual([{ key: 'env', value: 'pr-7' }]);
  });

  it('lists services ten at a time by default, as ECS does', async () => {
    const world = rollingWorld({ desiredCount: 0 });
    const template = world.services?.[0] as NonNullable<Seed['services']>[number];
    world.services = Array.from({ length: 12 }, (_, i) => ({
      ...template,
      serviceName: `svc-${String(i).padStart(2, '0')}`,
    }));
    const { ecs } = await start(world);
    const first = await ecs.send(new ListServicesCommand({ cluster: 'demo' }));
    expect(first.serviceArns).toHaveLength(10);
    const rest = await ecs.send(new ListServicesCommand({ cluster: 'demo', nextToken: first.nextToken }));
    expect(rest.serviceArns).toEqual([`${ARN}:service/demo/svc-10`, `${ARN}:service/demo/svc-11`]);
    expect(rest.nextToken).toBeUndefined();
  });

  it('describes missing tasks as failures', async () => {
    const { ecs } = await start(rollingWorld());
    const out = await ecs.send(
      new DescribeTasksCommand({ cluster: 'demo', tasks: ['0123456789abcdef0123456789abcdef'] }),
    );
    expect(out.failures).toEqual([
      { arn: `${ARN}:task/demo/0123456789abcdef0123456789abcdef`, reason: 'MISSING' },
    ]);
  });
});
