import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { cleanUp, readSavedState, type SavedState } from '../../src/cleanup.js';
import type { Docker } from '../../src/docker.js';
import { MemoryLog } from '../../src/log.js';

const cd = mockClient(CodeDeployClient);
const ecs = mockClient(ECSClient);
beforeEach(() => {
  cd.reset();
  ecs.reset();
});

const docker = (): Docker & { calls: string[][] } => {
  const calls: string[][] = [];
  return { calls, run: async (args) => (calls.push(args), { exitCode: 0, stdout: '', stderr: '' }) };
};
const deps = (d: Docker, log: MemoryLog) => ({
  codedeploy: () => new CodeDeployClient({ region: 'us-east-1' }),
  ecs: () => new ECSClient({ region: 'us-east-1' }),
  docker: d,
  log,
});
const codedeploy = {
  kind: 'codedeploy' as const,
  id: 'd-1',
  cluster: 'c',
  service: 's',
  region: 'us-east-1',
};

describe('readSavedState', () => {
  it('reads what main saved', () => {
    const saved: Record<string, string> = {
      deployment: JSON.stringify(codedeploy),
      settled: 'true',
      registry: 'r',
      'on-cancel': 'leave',
    };
    expect(readSavedState((n) => saved[n] ?? '')).toEqual({
      deployment: codedeploy,
      settled: true,
      registry: 'r',
      taskSettled: false,
      onCancel: 'leave',
    });
  });
  it('defaults to rollback and nothing to do', () => {
    expect(readSavedState(() => '')).toEqual({
      deployment: undefined,
      settled: false,
      registry: undefined,
      taskSettled: false,
      onCancel: 'rollback',
    });
  });
});

describe('cleanUp', () => {
  it.each(['InProgress', 'Ready', 'Created'] as const)(
    'stops an unsettled %s CodeDeploy deployment with rollback',
    async (status) => {
      cd.on(GetDeploymentCommand).resolves({ deploymentInfo: { status } });
      cd.on(StopDeploymentCommand).resolves({ status: 'Pending', statusMessage: 'Stopping' });
      const log = new MemoryLog();
      await cleanUp({ deployment: codedeploy, settled: false, onCancel: 'rollback' }, deps(docker(), log));
      expect(cd).toHaveReceivedCommandWith(StopDeploymentCommand, {
        deploymentId: 'd-1',
        autoRollbackEnabled: true,
      });
      expect(log.text()).toMatch(/stopped it with rollback/);
    },
  );

  it.each<[string, Partial<SavedState>, string]>([
    ['settled', { settled: true }, ''],
    ['leave', { onCancel: 'leave' }, 'on-cancel is leave'],
  ])('does not stop when %s', async (_n, state, message) => {
    cd.on(GetDeploymentCommand).resolves({ deploymentInfo: { status: 'InProgress' } });
    const log = new MemoryLog();
    await cleanUp(
      { deployment: codedeploy, settled: false, onCancel: 'rollback', ...state },
      deps(docker(), log),
    );
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    expect(log.text()).toContain(message);
  });

  it('does not stop a deployment that already ended', async () => {
    cd.on(GetDeploymentCommand).resolves({ deploymentInfo: { status: 'Succeeded' } });
    await cleanUp(
      { deployment: codedeploy, settled: false, onCancel: 'rollback' },
      deps(docker(), new MemoryLog()),
    );
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
  });

  it('reports the state of a rolling deployment it leaves', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          deployments: [
            {
              id: 'ecs-svc/1',
              status: 'PRIMARY',
              rolloutState: 'IN_PROGRESS',
              runningCount: 1,
              desiredCount: 2,
            },
          ],
        },
      ],
    });
    const log = new MemoryLog();
    await cleanUp(
      {
        deployment: { ...codedeploy, kind: 'rolling', id: 'ecs-svc/1' },
        settled: false,
        onCancel: 'rollback',
      },
      deps(docker(), log),
    );
    expect(log.text()).toMatch(/left as it is: PRIMARY IN_PROGRESS, 1\/2 tasks running/);
  });

  it('logs out of the registry', async () => {
    const d = docker();
    await cleanUp(
      { settled: false, onCancel: 'rollback', registry: '127.0.0.1:5000' },
      deps(d, new MemoryLog()),
    );
    expect(d.calls).toEqual([['logout', '127.0.0.1:5000']]);
  });
});

describe('cleanUp from an intent only (the run ended between the start call and its answer)', () => {
  const TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:8';
  const intent = {
    kind: 'codedeploy' as const,
    cluster: 'c',
    service: 's',
    region: 'us-east-1',
    taskDefinitionArn: TD,
    application: 'AppECS-c-s',
    deploymentGroup: 'DgpECS-c-s',
    since: '2026-01-01T00:00:00.000Z',
  };
  const appspec = (arn: string) =>
    `version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: ${arn}\n`;

  it('finds the CodeDeploy deployment of the recorded task definition and stops it with rollback', async () => {
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-other', 'd-ours'] });
    cd.on(BatchGetDeploymentsCommand).resolves({
      deploymentsInfo: [
        {
          deploymentId: 'd-other',
          status: 'InProgress',
          createTime: new Date('2026-01-01T00:00:05Z'),
          revision: { appSpecContent: { content: appspec(`${TD.slice(0, -1)}7`) } },
        },
        {
          deploymentId: 'd-ours',
          status: 'InProgress',
          createTime: new Date('2026-01-01T00:00:01Z'),
          revision: { appSpecContent: { content: appspec(TD) } },
        },
      ],
    });
    cd.on(StopDeploymentCommand).resolves({ status: 'Pending' });
    const log = new MemoryLog();
    await cleanUp({ deployment: intent, settled: false, onCancel: 'rollback' }, deps(docker(), log));
    expect(cd).toHaveReceivedCommandWith(ListDeploymentsCommand, {
      applicationName: 'AppECS-c-s',
      deploymentGroupName: 'DgpECS-c-s',
    });
    expect(cd).toHaveReceivedCommandTimes(StopDeploymentCommand, 1);
    expect(cd).toHaveReceivedCommandWith(StopDeploymentCommand, {
      deploymentId: 'd-ours',
      autoRollbackEnabled: true,
    });
    expect(log.text()).toMatch(/d-ours was InProgress: stopped it with rollback/);
  });

  it('stops nothing when no deployment of that task definition was started', async () => {
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    const log = new MemoryLog();
    await cleanUp({ deployment: intent, settled: false, onCancel: 'rollback' }, deps(docker(), log));
    expect(cd).not.toHaveReceivedCommand(StopDeploymentCommand);
    expect(log.text()).toMatch(/No CodeDeploy deployment of .*app:8 is running; nothing to stop/);
  });

  it('finds a rolling update by its task definition and reports it', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          deployments: [
            {
              id: 'ecs-svc/9',
              status: 'PRIMARY',
              taskDefinition: TD,
              rolloutState: 'IN_PROGRESS',
              runningCount: 1,
              desiredCount: 2,
            },
          ],
        },
      ],
    });
    const log = new MemoryLog();
    await cleanUp(
      { deployment: { ...intent, kind: 'rolling' }, settled: false, onCancel: 'rollback' },
      deps(docker(), log),
    );
    expect(log.text()).toMatch(/PRIMARY IN_PROGRESS, 1\/2 tasks running/);
  });
});
