/** The strategies' own promises: an idempotent start, and where a rollback goes. */
import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  DeploymentLimitExceededException,
  GetDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { readConfig } from '../../../src/config.js';
import type { DeploymentGroupTarget } from '../../../src/deploy/codedeploy.js';
import { STRATEGIES } from '../../../src/deploy/choose.js';
import type { DeployContext, StartRequest } from '../../../src/deploy/strategy.js';
import { UserError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import { generateAppSpec, renderAppSpec } from '../../../src/render/appspec.js';
import { ScriptedClock } from './fakes.js';

const cdMock = mockClient(CodeDeployClient);
const ecsMock = mockClient(ECSClient);
const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
const clients = {
  codedeploy: new CodeDeployClient({ region: 'us-east-1', credentials }),
  ecs: new ECSClient({ region: 'us-east-1', credentials }),
};
const TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:8';

beforeEach(() => {
  cdMock.reset();
  ecsMock.reset();
});

function ctx(inputs: Record<string, string> = {}): DeployContext & { log: MemoryLog } {
  const config = readConfig(
    (n) => ({ cluster: 'prod', service: 'web', image: 'nginx:1', ...inputs })[n] ?? '',
    {
      GITHUB_WORKSPACE: '/ws',
      GITHUB_SHA: 'a'.repeat(40),
      AWS_REGION: 'us-east-1',
    },
  );
  return { config, clock: new ScriptedClock(), log: new MemoryLog() };
}

const appspec = generateAppSpec({
  taskDefinition: {
    family: 'app',
    containerDefinitions: [{ name: 'web', image: 'x', portMappings: [{ containerPort: 8080 }] }],
  },
});
const group = {
  application: 'AppECS-prod-web',
  deploymentGroup: 'DgpECS-prod-web',
  deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
  readyWaitMinutes: 0,
  terminationWaitMinutes: 5,
  info: {},
} as DeploymentGroupTarget;
const request: StartRequest = {
  cluster: 'prod',
  service: 'web',
  taskDefinitionArn: TD,
  check: { group },
  appspec,
  waitForIdle: true,
};
const busy = (id: string) =>
  new DeploymentLimitExceededException({
    message: `The Deployment Group 'DgpECS-prod-web' already has an active Deployment '${id}'`,
    $metadata: {},
  });

describe('codedeploy start is idempotent', () => {
  it('a start whose CreateDeployment already went through adopts that deployment instead of a second one', async () => {
    cdMock.on(CreateDeploymentCommand).rejects(busy('d-OURS'));
    cdMock.on(GetDeploymentCommand, { deploymentId: 'd-OURS' }).resolves({
      deploymentInfo: {
        deploymentId: 'd-OURS',
        status: 'InProgress',
        revision: { appSpecContent: { content: renderAppSpec(appspec, TD).content } },
      },
    });
    const c = ctx();
    const started = await STRATEGIES.codedeploy.start(clients, request, c);
    expect(started).toMatchObject({ strategy: 'codedeploy', id: 'd-OURS' });
    expect(cdMock).toHaveReceivedCommandTimes(CreateDeploymentCommand, 1);
    expect(c.log.text()).toMatch(/d-OURS of this task definition is already running: adopted it/);
  });

  it("another run's active deployment is not adopted: the group is busy", async () => {
    cdMock.on(CreateDeploymentCommand).rejects(busy('d-OTHER'));
    cdMock.on(GetDeploymentCommand).resolves({
      deploymentInfo: {
        deploymentId: 'd-OTHER',
        status: 'InProgress',
        revision: { appSpecContent: { content: renderAppSpec(appspec, `${TD.slice(0, -1)}7`).content } },
      },
    });
    const err = await STRATEGIES.codedeploy
      .start(clients, request, ctx({ 'wait-for-active-deployment-minutes': '0' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).problems[0]).toMatchObject({
      where: 'codedeploy-deployment-group',
      what: expect.stringContaining('d-OTHER'),
    });
    expect(cdMock).toHaveReceivedCommandTimes(CreateDeploymentCommand, 1);
  });
});

describe('rolling start', () => {
  it('UpdateService once, and the PRIMARY deployment of our task definition is the one watched', async () => {
    ecsMock.on(UpdateServiceCommand).resolves({
      service: {
        deployments: [
          { id: 'ecs-svc/2', status: 'PRIMARY', taskDefinition: TD, rolloutState: 'IN_PROGRESS' },
        ],
      },
    });
    const started = await STRATEGIES.rolling.start(clients, { ...request, waitForIdle: false }, ctx());
    expect(started).toMatchObject({ strategy: 'rolling', id: 'ecs-svc/2', timeoutMs: 30 * 60_000 });
    expect(ecsMock).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });
});
