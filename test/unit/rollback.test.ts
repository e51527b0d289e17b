import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  ListDeploymentTargetsCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
  type DeploymentInfo,
} from '@aws-sdk/client-codedeploy';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  UpdateServiceCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { readConfig } from '../../src/config.js';
import { UserError } from '../../src/errors.js';
import { MemoryLog } from '../../src/log.js';
import { renderSummary } from '../../src/report.js';
import {
  appSpecTaskDefinition,
  previousFromHistory,
  previousRevision,
  rollingInProgress,
} from '../../src/deploy/history.js';
import { planRollback as planWithStrategy, runRollback } from '../../src/runs/rollback.js';
import { ScriptedClock } from './deploy/fakes.js';

/** The rollback plan as the tests name it: a redeploy is named by its strategy. */
async function planRollback(
  config: Parameters<typeof planWithStrategy>[0],
  clients: Parameters<typeof planWithStrategy>[1],
) {
  const { strategy, plan } = await planWithStrategy(config, clients, {
    clock: new ScriptedClock(),
    log: new MemoryLog(),
  });
  if (plan.kind === 'stop') return { ...plan, group: plan.check.group };
  return { ...plan, kind: strategy.name, group: plan.check.group, appspec: plan.appspec! };
}
import { pipelineHarness } from './support/harness.js';

const ecsMock = mockClient(ECSClient);
const cdMock = mockClient(CodeDeployClient);
const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
const td = (family: string, rev: number) =>
  `arn:aws:ecs:us-east-1:123456789012:task-definition/${family}:${rev}`;
const appspec = (arn: string) =>
  `version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: "${arn}"\n        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 8080\nHooks:\n  - AfterAllowTestTraffic: smoke-test\n`;
const deployment = (
  id: string,
  arn: string,
  status: DeploymentInfo['status'],
  minute: number,
): DeploymentInfo => ({
  deploymentId: id,
  status,
  createTime: new Date(Date.UTC(2025, 0, 1, 12, minute)),
  revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appspec(arn), sha256: 'x' } },
});

let log: MemoryLog;
beforeEach(() => {
  ecsMock.reset();
  cdMock.reset();
  log = new MemoryLog();
  // Every revision is still registered unless a test says otherwise.
  ecsMock.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => ({
    taskDefinition: {
      taskDefinitionArn: input.taskDefinition,
      status: 'ACTIVE',
      family: 'app',
      containerDefinitions: [{ name: 'web', portMappings: [{ containerPort: 8080 }] }],
    },
  }));
});

describe('pure helpers', () => {
  it.each([
    ['a YAML appspec', appspec(td('app', 3)), td('app', 3)],
    [
      'a JSON appspec',
      JSON.stringify({ Resources: [{ TargetService: { Properties: { TaskDefinition: td('app', 4) } } }] }),
      td('app', 4),
    ],
    ['no appspec', undefined, undefined],
    ['text that is not one', '{{{', undefined],
  ])('appSpecTaskDefinition reads %s', (_name, content, expected) => {
    expect(appSpecTaskDefinition(content)).toBe(expected);
  });

  it.each([
    [
      'the newest successful deployment of another revision, whatever the listing order',
      [
        deployment('d-1', td('app', 1), 'Succeeded', 1),
        deployment('d-3', td('app', 3), 'Succeeded', 3),
        deployment('d-2', td('app', 2), 'Succeeded', 2),
      ],
      td('app', 3),
      'd-2',
    ],
    [
      'skipping failed deployments and re-deploys of the current revision',
      [
        deployment('d-1', td('app', 1), 'Succeeded', 1),
        deployment('d-2', td('app', 2), 'Failed', 2),
        deployment('d-3', td('app', 3), 'Succeeded', 3),
        deployment('d-4', td('app', 3), 'Succeeded', 4),
      ],
      td('app', 3),
      'd-1',
    ],
    [
      'nothing but the current revision',
      [deployment('d-1', td('app', 3), 'Succeeded', 1)],
      td('app', 3),
      undefined,
    ],
  ])('previousFromHistory: %s', (_name, history, current, expected) => {
    expect(previousFromHistory(current, history)?.deploymentId).toBe(expected);
  });

  it.each([
    [
      'the highest lower revision',
      td('app', 5),
      [td('app', 6), td('app', 5), td('app', 3), td('app', 1)],
      td('app', 3),
    ],
    ['not another family', td('app', 5), [td('app-pr-7', 4), td('other', 2)], undefined],
    ['nothing for the first revision', td('app', 1), [td('app', 1)], undefined],
  ])('previousRevision: %s', (_name, current, active, expected) => {
    expect(previousRevision(current, active)).toBe(expected);
  });

  it.each([
    [
      'a deployment in progress replaces the ACTIVE one',
      [
        { status: 'PRIMARY', rolloutState: 'IN_PROGRESS', taskDefinition: td('app', 4) },
        { status: 'ACTIVE', rolloutState: 'COMPLETED', taskDefinition: td('app', 3), createdAt: new Date(2) },
        { status: 'ACTIVE', rolloutState: 'COMPLETED', taskDefinition: td('app', 2), createdAt: new Date(1) },
      ],
      { from: td('app', 4), to: td('app', 3) },
    ],
    [
      'a completed deployment alone',
      [{ status: 'PRIMARY', rolloutState: 'COMPLETED', taskDefinition: td('app', 4) }],
      undefined,
    ],
  ])('rollingInProgress: %s', (_name, deployments, expected) => {
    expect(rollingInProgress({ deployments } as Service)).toEqual(expected);
  });
});

const service = (extra: Partial<Service>): Service => ({
  serviceName: 'web',
  serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/demo/web',
  status: 'ACTIVE',
  desiredCount: 2,
  loadBalancers: [{ containerName: 'web', containerPort: 8080, targetGroupArn: 'tg' }],
  ...extra,
});
const codeDeployService = (current: string, taskSets: Service['taskSets'] = []) =>
  service({
    taskDefinition: current,
    deploymentController: { type: 'CODE_DEPLOY' },
    taskSets,
    deployments: [],
  });
const group = {
  deploymentGroupInfo: {
    applicationName: 'AppECS-demo-web',
    deploymentGroupName: 'DgpECS-demo-web',
    computePlatform: 'ECS' as const,
    ecsServices: [{ clusterName: 'demo', serviceName: 'web' }],
    deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
  },
};

function config(inputs: Record<string, string> = {}) {
  return readConfig(
    (n) =>
      ({ service: 'web', cluster: 'demo', rollback: 'true', 'poll-interval-seconds': '1', ...inputs })[n] ??
      '',
    {
      GITHUB_WORKSPACE: '/ws',
      AWS_REGION: 'us-east-1',
      RUNNER_TEMP: '/tmp/r',
    },
  );
}

function clients() {
  return {
    ecs: new ECSClient({ region: 'us-east-1', credentials }),
    codedeploy: new CodeDeployClient({ region: 'us-east-1', credentials }),
  };
}

function history(active: DeploymentInfo[], succeeded: DeploymentInfo[]) {
  cdMock.on(GetDeploymentGroupCommand).resolves(group);
  cdMock.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
  cdMock.on(ListDeploymentsCommand).callsFake((input: { includeOnlyStatuses: string[] }) => ({
    deployments: (input.includeOnlyStatuses.includes('Succeeded') ? succeeded : active).map(
      (d) => d.deploymentId,
    ),
  }));
  cdMock.on(BatchGetDeploymentsCommand).callsFake((input: { deploymentIds: string[] }) => ({
    deploymentsInfo: [...active, ...succeeded].filter((d) =>
      input.deploymentIds.includes(d.deploymentId as string),
    ),
  }));
}

describe('planRollback', () => {
  it('redeploys what CodeDeploy deployed before, with that deployment’s own appspec', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [codeDeployService(td('app', 3))] });
    history(
      [],
      [deployment('d-3', td('app', 3), 'Succeeded', 3), deployment('d-2', td('app', 2), 'Succeeded', 2)],
    );
    const plan = await planRollback(config(), clients());
    expect(plan).toMatchObject({
      kind: 'codedeploy',
      from: td('app', 3),
      to: td('app', 2),
      source: 'CodeDeploy deployment d-2 deployed it',
    });
    expect(plan.kind === 'codedeploy' && plan.appspec.Hooks).toEqual([
      { AfterAllowTestTraffic: 'smoke-test' },
    ]);
    expect(cdMock).toHaveReceivedCommandWith(ListDeploymentsCommand, {
      applicationName: 'AppECS-demo-web',
      deploymentGroupName: 'DgpECS-demo-web',
      includeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'],
    });
  });

  it('stops a deployment in progress with rollback instead, naming both revisions', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [
        codeDeployService(td('app', 3), [
          { taskDefinition: td('app', 3), status: 'PRIMARY' },
          { taskDefinition: td('app', 4), status: 'ACTIVE' },
        ]),
      ],
    });
    history([deployment('d-4', td('app', 4), 'InProgress', 4)], []);
    expect(await planRollback(config(), clients())).toMatchObject({
      kind: 'stop',
      deploymentId: 'd-4',
      from: td('app', 4),
      to: td('app', 3),
    });
  });

  it('falls back on the family’s previous ACTIVE revision, and generates the appspec', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [codeDeployService(td('app', 3))] });
    history([], []);
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [td('app', 3), td('app', 2)] });
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: td('app', 2),
        status: 'ACTIVE',
        family: 'app',
        containerDefinitions: [{ name: 'web', portMappings: [{ containerPort: 8080 }] }],
      },
    });
    const plan = await planRollback(config(), clients());
    expect(plan).toMatchObject({
      kind: 'codedeploy',
      to: td('app', 2),
      source: 'the previous ACTIVE revision of the family',
    });
    expect(
      plan.kind === 'codedeploy' && plan.appspec.Resources[0].TargetService.Properties.LoadBalancerInfo,
    ).toEqual({
      ContainerName: 'web',
      ContainerPort: 8080,
    });
    expect(ecsMock).toHaveReceivedCommandWith(ListTaskDefinitionsCommand, {
      familyPrefix: 'app',
      status: 'ACTIVE',
      sort: 'DESC',
    });
  });

  it('refuses a revision CodeDeploy cannot deploy (INACTIVE)', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [codeDeployService(td('app', 3))] });
    history([], []);
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [td('app', 2)] });
    ecsMock
      .on(DescribeTaskDefinitionCommand)
      .resolves({ taskDefinition: { status: 'INACTIVE', containerDefinitions: [] } });
    await expect(planRollback(config(), clients())).rejects.toThrow(
      /app:2, the task definition to roll back to, is INACTIVE/,
    );
  });

  it('refuses a revision from the history that was deregistered since', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [codeDeployService(td('app', 3))] });
    history([], [deployment('d-2', td('app', 2), 'Succeeded', 2)]);
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { status: 'INACTIVE' } });
    const err = await planRollback(config(), clients()).catch((e: unknown) => e);
    expect((err as UserError).problems?.[0]).toMatchObject({
      where: 'rollback',
      what: expect.stringContaining('app:2, the task definition to roll back to, is INACTIVE'),
      fix: expect.stringContaining('image'),
    });
  });

  it('rolls a rolling update in progress back to the deployment it replaces', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [
        service({
          taskDefinition: td('app', 4),
          deploymentController: { type: 'ECS' },
          deployments: [
            { id: 'ecs-svc/2', status: 'PRIMARY', rolloutState: 'IN_PROGRESS', taskDefinition: td('app', 4) },
            { id: 'ecs-svc/1', status: 'ACTIVE', rolloutState: 'COMPLETED', taskDefinition: td('app', 3) },
          ],
        }),
      ],
    });
    expect(await planRollback(config(), clients())).toMatchObject({
      kind: 'rolling',
      from: td('app', 4),
      to: td('app', 3),
    });
    expect(ecsMock).not.toHaveReceivedCommand(ListTaskDefinitionsCommand);
  });

  it('says there is nothing to roll back to', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [
        service({
          taskDefinition: td('app', 1),
          deploymentController: { type: 'ECS' },
          deployments: [{ status: 'PRIMARY', rolloutState: 'COMPLETED', taskDefinition: td('app', 1) }],
        }),
      ],
    });
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [td('app', 1)] });
    const err = await planRollback(config(), clients()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).problems[0]).toMatchObject({
      where: 'rollback',
      what: expect.stringContaining('nothing to roll demo/web back to'),
    });
  });
});

function harness() {
  return pipelineHarness({ clock: new ScriptedClock(), log, report: { service: 'web' } });
}

describe('runRollback', () => {
  it('redeploys the earlier revision through CodeDeploy, watches it, and says from which to which', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [codeDeployService(td('app', 3))] });
    history(
      [],
      [deployment('d-3', td('app', 3), 'Succeeded', 3), deployment('d-2', td('app', 2), 'Succeeded', 2)],
    );
    cdMock.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-5' });
    cdMock
      .on(GetDeploymentCommand)
      .resolves({ deploymentInfo: { deploymentId: 'd-5', status: 'Succeeded' } });
    const h = harness();
    await runRollback(config(), h.deps, h.timer, h.report);
    const created = cdMock.commandCalls(CreateDeploymentCommand)[0]?.args[0].input;
    expect(created?.description).toBe('Rollback by ecs-deploy-pipeline from app:3 to app:2');
    expect(appSpecTaskDefinition(created?.revision?.appSpecContent?.content)).toBe(td('app', 2));
    expect(created?.revision?.appSpecContent?.content).toContain('AfterAllowTestTraffic');
    expect(h.outputs).toMatchObject({
      'task-definition-arn': td('app', 2),
      'codedeploy-deployment-id': 'd-5',
      'deployment-outcome': 'succeeded',
    });
    // A rollback is not handed to the post step: a cancelled job must not undo it.
    expect(h.state.deployment).toBeUndefined();
    h.report.ok = true;
    const summary = renderSummary(h.report);
    expect(summary).toContain('Rolled demo/web back from app:3 to app:2.');
    expect(summary).toContain(
      `| \`${td('app', 3)}\` | \`${td('app', 2)}\` | redeployed (CodeDeploy deployment d-2 deployed it) |`,
    );
  });

  it('stops the deployment in progress with rollback and watches the rollback deployment', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [
        codeDeployService(td('app', 3), [{ taskDefinition: td('app', 3) }, { taskDefinition: td('app', 4) }]),
      ],
    });
    history([deployment('d-4', td('app', 4), 'InProgress', 4)], []);
    cdMock.on(StopDeploymentCommand).resolves({ status: 'Pending', statusMessage: 'Stopping' });
    cdMock
      .on(GetDeploymentCommand, { deploymentId: 'd-4' })
      .resolves({
        deploymentInfo: {
          deploymentId: 'd-4',
          status: 'Stopped',
          rollbackInfo: { rollbackDeploymentId: 'd-6' },
        },
      })
      .on(GetDeploymentCommand, { deploymentId: 'd-6' })
      .resolves({ deploymentInfo: { deploymentId: 'd-6', status: 'Succeeded' } });
    const h = harness();
    await runRollback(config(), h.deps, h.timer, h.report);
    expect(cdMock).toHaveReceivedCommandWith(StopDeploymentCommand, {
      deploymentId: 'd-4',
      autoRollbackEnabled: true,
    });
    expect(cdMock).not.toHaveReceivedCommand(CreateDeploymentCommand);
    expect(h.outputs).toMatchObject({
      'codedeploy-deployment-id': 'd-6',
      'deployment-outcome': 'succeeded',
      'task-definition-arn': td('app', 3),
    });
    expect(h.report.message).toBe('Rolled demo/web back from app:4 to app:3.');
    expect(h.report.extraMarkdown).toContain('stopped CodeDeploy deployment d-4 with rollback');
  });

  it('rolls a rolling service back with UpdateService, without waiting for the deployment it supersedes', async () => {
    const rolling = (deployments: Service['deployments']) =>
      service({ taskDefinition: td('app', 4), deploymentController: { type: 'ECS' }, deployments });
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce({
        services: [
          rolling([
            { id: 'ecs-svc/2', status: 'PRIMARY', rolloutState: 'IN_PROGRESS', taskDefinition: td('app', 4) },
            { id: 'ecs-svc/1', status: 'ACTIVE', rolloutState: 'COMPLETED', taskDefinition: td('app', 3) },
          ]),
        ],
      })
      .resolves({
        services: [
          rolling([
            { id: 'ecs-svc/3', status: 'PRIMARY', rolloutState: 'COMPLETED', taskDefinition: td('app', 3) },
          ]),
        ],
      });
    ecsMock.on(UpdateServiceCommand).resolves({
      service: { deployments: [{ id: 'ecs-svc/3', status: 'PRIMARY', taskDefinition: td('app', 3) }] },
    });
    const h = harness();
    await runRollback(config(), h.deps, h.timer, h.report);
    expect(ecsMock).toHaveReceivedCommandWith(UpdateServiceCommand, {
      cluster: 'demo',
      service: 'web',
      taskDefinition: td('app', 3),
    });
    expect(h.outputs).toMatchObject({
      'deploy-mode': 'rolling',
      'ecs-deployment-id': 'ecs-svc/3',
      'deployment-outcome': 'succeeded',
    });
    expect(h.timer.stages.map((s) => s.name)).toEqual(['Validate', 'ECS rolling deployment', 'Watch']);
  });
});
