import { beforeEach, describe, expect, it } from '@jest/globals';
import { resolveDeployMode } from '../../../src/deploy/choose.js';
import {
  ClientException,
  ClusterNotFoundException,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  type Service,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { UserError } from '../../../src/errors.js';
import {
  describeTargetService,
  describeTaskDefinition,
  type DeploymentControllerType,
  type TargetService,
} from '../../../src/deploy/service.js';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'us-east-1' });

const SERVICE_ARN = 'arn:aws:ecs:us-east-1:123456789012:service/prod/web';
const TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7';

const service = (s: Partial<Service> = {}): Service => ({
  serviceName: 'web',
  serviceArn: SERVICE_ARN,
  status: 'ACTIVE',
  taskDefinition: TD,
  desiredCount: 2,
  deploymentController: { type: 'CODE_DEPLOY' },
  ...s,
});

async function userError(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

beforeEach(() => {
  ecsMock.reset();
});

describe('describeTargetService', () => {
  it('describes the one service and returns its controller, task definition and count', async () => {
    const raw = service();
    ecsMock.on(DescribeServicesCommand).resolves({ services: [raw], failures: [] });
    const svc = await describeTargetService(ecs, 'prod', 'web');
    expect(ecsMock).toHaveReceivedCommandWith(DescribeServicesCommand, {
      cluster: 'prod',
      services: ['web'],
    });
    expect(svc).toEqual({
      cluster: 'prod',
      serviceName: 'web',
      serviceArn: SERVICE_ARN,
      status: 'ACTIVE',
      controller: 'CODE_DEPLOY',
      taskDefinitionArn: TD,
      desiredCount: 2,
      service: raw,
    });
  });

  it('treats a service without deploymentController as ECS-controlled', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolves({ services: [service({ deploymentController: undefined })] });
    expect((await describeTargetService(ecs, 'prod', 'web')).controller).toBe('ECS');
  });

  it('reports a missing cluster on the cluster input', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .rejects(new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} }));
    const err = await userError(describeTargetService(ecs, 'prdo', 'web'));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ where: 'cluster', what: expect.stringContaining("'prdo'") });
    expect(err.problems[0]?.fix).toMatch(/region/);
  });

  it('reports a MISSING service on the service input', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolves({ services: [], failures: [{ arn: SERVICE_ARN, reason: 'MISSING' }] });
    const err = await userError(describeTargetService(ecs, 'prod', 'web'));
    expect(err.problems[0]).toMatchObject({
      where: 'service',
      what: expect.stringContaining("'web' was not found"),
    });
    expect(err.problems[0]?.fix).toMatch(/Create the service/);
  });

  it.each(['INACTIVE', 'DRAINING'])('refuses a %s service', async (status) => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [service({ status })] });
    const err = await userError(describeTargetService(ecs, 'prod', 'web'));
    expect(err.problems[0]).toMatchObject({ where: 'service', what: expect.stringContaining(status) });
  });

  it('passes on a failure other than MISSING as an AWS error, not a user error', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolves({ failures: [{ arn: SERVICE_ARN, reason: 'INTERNAL', detail: 'x' }] });
    const err = await describeTargetService(ecs, 'prod', 'web').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/INTERNAL \(x\)/);
  });
});

describe('resolveDeployMode', () => {
  const target = (controller: DeploymentControllerType): TargetService => ({
    cluster: 'prod',
    serviceName: 'web',
    serviceArn: SERVICE_ARN,
    status: 'ACTIVE',
    controller,
    taskDefinitionArn: TD,
    desiredCount: 1,
    service: service({ deploymentController: { type: controller } }),
  });

  it.each([
    ['auto', 'CODE_DEPLOY', 'codedeploy'],
    ['auto', 'ECS', 'rolling'],
    ['codedeploy', 'CODE_DEPLOY', 'codedeploy'],
    ['rolling', 'ECS', 'rolling'],
    ['none', 'ECS', 'none'],
    ['none', 'CODE_DEPLOY', 'none'],
    ['none', 'EXTERNAL', 'none'],
  ] as const)('%s on a %s service → %s', (requested, controller, mode) => {
    expect(resolveDeployMode(requested, target(controller))).toBe(mode);
  });

  it('needs no service for none', () => {
    expect(resolveDeployMode('none', undefined)).toBe('none');
  });

  it.each([
    ['auto', 'EXTERNAL', /EXTERNAL deployment controller/],
    ['codedeploy', 'EXTERNAL', /EXTERNAL deployment controller/],
    ['rolling', 'EXTERNAL', /EXTERNAL deployment controller/],
    ['codedeploy', 'ECS', /'codedeploy' but .* uses the ECS deployment controller/],
    ['rolling', 'CODE_DEPLOY', /'rolling' but .* uses the CODE_DEPLOY deployment controller/],
  ] as const)('refuses %s on a %s service', (requested, controller, what) => {
    let err: unknown;
    try {
      resolveDeployMode(requested, target(controller));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const problem = (err as UserError).problems[0];
    expect(problem?.where).toBe('deploy-mode');
    expect(problem?.what).toMatch(what);
    expect(problem?.fix).toMatch(/deploy-mode: /);
  });

  it.each(['auto', 'codedeploy', 'rolling'] as const)('refuses %s without a service', (requested) => {
    expect(() => resolveDeployMode(requested, undefined)).toThrow(/no service was given/);
  });
});

describe('describeTaskDefinition', () => {
  it('asks for the tags too and returns them beside the task definition', async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { family: 'web', revision: 7, taskDefinitionArn: TD },
      tags: [{ key: 'team', value: 'a' }],
    });
    const got = await describeTaskDefinition(ecs, 'web');
    expect(ecsMock).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, {
      taskDefinition: 'web',
      include: ['TAGS'],
    });
    expect(got).toEqual({
      taskDefinition: { family: 'web', revision: 7, taskDefinitionArn: TD },
      tags: [{ key: 'team', value: 'a' }],
    });
  });

  it('returns no tags when ECS sends none', async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { family: 'web' } });
    expect((await describeTaskDefinition(ecs, 'web')).tags).toEqual([]);
  });

  it('turns an unknown task definition into a user error on task-definition', async () => {
    ecsMock
      .on(DescribeTaskDefinitionCommand)
      .rejects(new ClientException({ message: 'Unable to describe task definition.', $metadata: {} }));
    const err = await userError(describeTaskDefinition(ecs, 'web:99'));
    expect(err.problems[0]).toMatchObject({
      where: 'task-definition',
      what: expect.stringContaining("'web:99'"),
    });
  });
});
