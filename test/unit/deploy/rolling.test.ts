import { beforeEach, describe, expect, it } from '@jest/globals';
import { ECSClient, ServiceNotActiveException, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { UserError } from '../../../src/errors.js';
import { startRollingDeployment } from '../../../src/deploy/rolling.js';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'us-east-1' });

const OLD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:6';
const NEW = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7';

beforeEach(() => {
  ecsMock.reset();
});

describe('startRollingDeployment', () => {
  it('updates the service and returns the PRIMARY deployment of the new task definition', async () => {
    const service = {
      serviceName: 'web',
      deployments: [
        { id: 'ecs-svc/old', status: 'ACTIVE', taskDefinition: OLD },
        { id: 'ecs-svc/new', status: 'PRIMARY', taskDefinition: NEW },
      ],
    };
    ecsMock.on(UpdateServiceCommand).resolves({ service });
    const got = await startRollingDeployment(ecs, {
      cluster: 'prod',
      service: 'web',
      taskDefinitionArn: NEW,
      forceNewDeployment: true,
      desiredCount: 3,
    });
    expect(got).toEqual({ deploymentId: 'ecs-svc/new', service });
    expect(ecsMock.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual({
      cluster: 'prod',
      service: 'web',
      taskDefinition: NEW,
      forceNewDeployment: true,
      desiredCount: 3,
    });
  });

  it('leaves desiredCount out unless given', async () => {
    ecsMock.on(UpdateServiceCommand).resolves({
      service: { deployments: [{ id: 'ecs-svc/new', status: 'PRIMARY', taskDefinition: NEW }] },
    });
    await startRollingDeployment(ecs, {
      cluster: 'prod',
      service: 'web',
      taskDefinitionArn: NEW,
      forceNewDeployment: false,
    });
    expect(ecsMock.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual({
      cluster: 'prod',
      service: 'web',
      taskDefinition: NEW,
      forceNewDeployment: false,
    });
  });

  it('fails loudly when no PRIMARY deployment runs the new task definition', async () => {
    ecsMock.on(UpdateServiceCommand).resolves({
      service: { deployments: [{ id: 'ecs-svc/old', status: 'PRIMARY', taskDefinition: OLD }] },
    });
    await expect(
      startRollingDeployment(ecs, {
        cluster: 'prod',
        service: 'web',
        taskDefinitionArn: NEW,
        forceNewDeployment: false,
      }),
    ).rejects.toThrow(/no PRIMARY deployment of .*web:7 \(deployments: ecs-svc\/old PRIMARY .*web:6\)/);
  });

  it('turns an inactive service into a user error on the service input', async () => {
    ecsMock
      .on(UpdateServiceCommand)
      .rejects(new ServiceNotActiveException({ message: 'Service was not ACTIVE.', $metadata: {} }));
    const err = await startRollingDeployment(ecs, {
      cluster: 'prod',
      service: 'web',
      taskDefinitionArn: NEW,
      forceNewDeployment: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).problems[0]).toMatchObject({
      where: 'service',
      what: expect.stringContaining('not ACTIVE'),
    });
  });
});
