import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  ApplicationDoesNotExistException,
  CodeDeployClient,
  CreateDeploymentCommand,
  DeploymentConfigDoesNotExistException,
  DeploymentGroupDoesNotExistException,
  DeploymentLimitExceededException,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  type DeploymentGroupInfo,
} from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { UserError } from '../../../src/errors.js';
import {
  createDeployment,
  defaultCodeDeployNames,
  getDeploymentGroup,
  waitBudgetMs,
  type DeploymentGroupTarget,
} from '../../../src/deploy/codedeploy.js';

const cdMock = mockClient(CodeDeployClient);
const cd = new CodeDeployClient({ region: 'eu-west-1' });

const groupInfo = (g: Partial<DeploymentGroupInfo> = {}): DeploymentGroupInfo => ({
  applicationName: 'AppECS-prod-web',
  deploymentGroupName: 'DgpECS-prod-web',
  deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
  computePlatform: 'ECS',
  ecsServices: [{ clusterName: 'prod', serviceName: 'web' }],
  blueGreenDeploymentConfiguration: {
    deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 30 },
    terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 5 },
  },
  ...g,
});

const groupOpts = {
  application: 'AppECS-prod-web',
  deploymentGroup: 'DgpECS-prod-web',
  cluster: 'prod',
  service: 'web',
};

async function userError(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

beforeEach(() => {
  cdMock.reset();
});

describe('defaultCodeDeployNames', () => {
  it.each([
    ['prod', 'web'],
    [
      'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      'arn:aws:ecs:eu-west-1:123456789012:service/prod/web',
    ],
  ])('names them after the cluster and service (%s, %s)', (cluster, service) => {
    expect(defaultCodeDeployNames(cluster, service)).toEqual({
      application: 'AppECS-prod-web',
      deploymentGroup: 'DgpECS-prod-web',
    });
  });
});

describe('getDeploymentGroup', () => {
  it('returns the group, its config and its wait times', async () => {
    const info = groupInfo();
    cdMock.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: info });
    const group = await getDeploymentGroup(cd, groupOpts);
    expect(cdMock).toHaveReceivedCommandWith(GetDeploymentGroupCommand, {
      applicationName: 'AppECS-prod-web',
      deploymentGroupName: 'DgpECS-prod-web',
    });
    expect(cdMock).not.toHaveReceivedCommand(GetDeploymentConfigCommand);
    expect(group).toEqual({
      application: 'AppECS-prod-web',
      deploymentGroup: 'DgpECS-prod-web',
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      readyWaitMinutes: 30,
      terminationWaitMinutes: 5,
      info,
    });
  });

  it('counts absent wait options as zero', async () => {
    cdMock.on(GetDeploymentGroupCommand).resolves({
      deploymentGroupInfo: groupInfo({ blueGreenDeploymentConfiguration: { deploymentReadyOption: {} } }),
    });
    const group = await getDeploymentGroup(cd, groupOpts);
    expect([group.readyWaitMinutes, group.terminationWaitMinutes]).toEqual([0, 0]);
  });

  it('checks a deployment config that was asked for and uses it', async () => {
    cdMock.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: groupInfo() });
    cdMock.on(GetDeploymentConfigCommand).resolves({
      deploymentConfigInfo: {
        deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
        computePlatform: 'ECS',
      },
    });
    const group = await getDeploymentGroup(cd, {
      ...groupOpts,
      deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
    });
    expect(cdMock).toHaveReceivedCommandWith(GetDeploymentConfigCommand, {
      deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
    });
    expect(group.deploymentConfigName).toBe('CodeDeployDefault.ECSCanary10Percent5Minutes');
  });

  it('explains that a missing application had the console default name', async () => {
    cdMock.on(GetDeploymentGroupCommand).rejects(
      new ApplicationDoesNotExistException({
        message: 'No application found for name: AppECS-prod-web',
        $metadata: {},
      }),
    );
    const err = await userError(getDeploymentGroup(cd, groupOpts));
    expect(err.problems[0]).toMatchObject({
      where: 'codedeploy-application',
      what: "CodeDeploy application 'AppECS-prod-web' does not exist.",
    });
    expect(err.problems[0]?.fix).toMatch(/default name the ECS console uses \(AppECS-<cluster>-<service>\)/);
    expect(err.problems[0]?.fix).toMatch(/set the codedeploy-application input/);
  });

  it('names the default when a given application name does not exist', async () => {
    cdMock
      .on(GetDeploymentGroupCommand)
      .rejects(new ApplicationDoesNotExistException({ message: 'No application found', $metadata: {} }));
    const err = await userError(getDeploymentGroup(cd, { ...groupOpts, application: 'web-app' }));
    expect(err.problems[0]?.fix).toMatch(/console's default 'AppECS-prod-web'/);
  });

  it('reports a missing deployment group on its input', async () => {
    cdMock
      .on(GetDeploymentGroupCommand)
      .rejects(
        new DeploymentGroupDoesNotExistException({ message: 'No Deployment Group found', $metadata: {} }),
      );
    const err = await userError(getDeploymentGroup(cd, groupOpts));
    expect(err.problems[0]).toMatchObject({
      where: 'codedeploy-deployment-group',
      what: expect.stringContaining("'DgpECS-prod-web' does not exist in application 'AppECS-prod-web'"),
      fix: expect.stringContaining('codedeploy-deployment-group'),
    });
  });

  it('refuses a group that targets another service', async () => {
    cdMock.on(GetDeploymentGroupCommand).resolves({
      deploymentGroupInfo: groupInfo({ ecsServices: [{ clusterName: 'staging', serviceName: 'web' }] }),
    });
    const err = await userError(getDeploymentGroup(cd, groupOpts));
    expect(err.problems[0]).toMatchObject({
      where: 'codedeploy-deployment-group',
      what: "CodeDeploy deployment group 'AppECS-prod-web/DgpECS-prod-web' targets staging/web, not prod/web.",
    });
  });

  it('matches the target by name when cluster and service are ARNs', async () => {
    cdMock.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: groupInfo() });
    await expect(
      getDeploymentGroup(cd, {
        ...groupOpts,
        cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
        service: 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web',
      }),
    ).resolves.toMatchObject({ deploymentGroup: 'DgpECS-prod-web' });
  });

  it('refuses a group of another compute platform', async () => {
    cdMock
      .on(GetDeploymentGroupCommand)
      .resolves({ deploymentGroupInfo: groupInfo({ computePlatform: 'Server' }) });
    const err = await userError(getDeploymentGroup(cd, groupOpts));
    expect(err.problems[0]?.what).toMatch(/Server compute platform/);
  });

  it('lists the built-in ECS configs when the config does not exist', async () => {
    cdMock.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: groupInfo() });
    cdMock
      .on(GetDeploymentConfigCommand)
      .rejects(new DeploymentConfigDoesNotExistException({ message: 'not found', $metadata: {} }));
    const err = await userError(
      getDeploymentGroup(cd, { ...groupOpts, deploymentConfigName: 'ECSAllAtOnce' }),
    );
    expect(err.problems[0]?.where).toBe('codedeploy-deployment-config');
    for (const name of [
      'CodeDeployDefault.ECSAllAtOnce',
      'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
      'CodeDeployDefault.ECSLinear10PercentEvery3Minutes',
      'CodeDeployDefault.ECSCanary10Percent5Minutes',
      'CodeDeployDefault.ECSCanary10Percent15Minutes',
    ]) {
      expect(err.problems[0]?.fix).toContain(name);
    }
  });

  it('refuses a config of another compute platform', async () => {
    cdMock.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: groupInfo() });
    cdMock.on(GetDeploymentConfigCommand).resolves({
      deploymentConfigInfo: {
        deploymentConfigName: 'CodeDeployDefault.OneAtATime',
        computePlatform: 'Server',
      },
    });
    const err = await userError(
      getDeploymentGroup(cd, { ...groupOpts, deploymentConfigName: 'CodeDeployDefault.OneAtATime' }),
    );
    expect(err.problems[0]).toMatchObject({
      where: 'codedeploy-deployment-config',
      what: expect.stringMatching(/Server/),
    });
  });
});

describe('waitBudgetMs', () => {
  it('adds the ready and termination waits to the minutes the user gave', () => {
    const group = { readyWaitMinutes: 30, terminationWaitMinutes: 5 } as DeploymentGroupTarget;
    expect(waitBudgetMs(group, 10)).toBe(45 * 60_000);
    expect(waitBudgetMs({ ...group, readyWaitMinutes: 0, terminationWaitMinutes: 0 }, 10)).toBe(600_000);
  });
});

describe('createDeployment', () => {
  const appSpecContent = { content: 'version: 0.0\n', sha256: 'ab'.repeat(32) };
  const base = {
    application: 'AppECS-prod-web',
    deploymentGroup: 'DgpECS-prod-web',
    appSpecContent,
    region: 'eu-west-1',
  };

  it('sends the AppSpec inline with the config and description, and returns the id', async () => {
    cdMock.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-ABC123' });
    const id = await createDeployment(cd, {
      ...base,
      deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
      description: 'commit abc',
    });
    expect(id).toBe('d-ABC123');
    expect(cdMock.commandCalls(CreateDeploymentCommand)[0]?.args[0].input).toEqual({
      applicationName: 'AppECS-prod-web',
      deploymentGroupName: 'DgpECS-prod-web',
      revision: { revisionType: 'AppSpecContent', appSpecContent },
      deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
      description: 'commit abc',
    });
  });

  it('leaves the config and description out when not given', async () => {
    cdMock.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-ABC123' });
    await createDeployment(cd, base);
    expect(cdMock.commandCalls(CreateDeploymentCommand)[0]?.args[0].input).toEqual({
      applicationName: 'AppECS-prod-web',
      deploymentGroupName: 'DgpECS-prod-web',
      revision: { revisionType: 'AppSpecContent', appSpecContent },
    });
  });

  it('names the active deployment, links it and suggests concurrency when the group is busy', async () => {
    cdMock.on(CreateDeploymentCommand).rejects(
      new DeploymentLimitExceededException({
        message: "The Deployment Group 'DgpECS-prod-web' already has an active Deployment 'd-OLD4567'",
        $metadata: {},
      }),
    );
    const err = await userError(createDeployment(cd, base));
    const problem = err.problems[0];
    expect(problem?.where).toBe('codedeploy-deployment-group');
    expect(problem?.what).toContain('d-OLD4567');
    expect(problem?.what).toContain(
      'https://console.aws.amazon.com/codesuite/codedeploy/deployments/d-OLD4567?region=eu-west-1',
    );
    expect(problem?.fix).toContain('concurrency:');
  });

  it('still explains a busy group when the message names no deployment', async () => {
    cdMock
      .on(CreateDeploymentCommand)
      .rejects(new DeploymentLimitExceededException({ message: 'limit exceeded', $metadata: {} }));
    const err = await userError(createDeployment(cd, base));
    expect(err.problems[0]?.what).toContain('(limit exceeded)');
  });
});
