import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  DeploymentLimitExceededException,
  GetDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { waitForServiceIdle } from '../../../src/deploy/active.js';
import { createDeployment } from '../../../src/deploy/codedeploy.js';
import { UserError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import { ScriptedClock, sdkError } from './fakes.js';

const cdMock = mockClient(CodeDeployClient);
const ecsMock = mockClient(ECSClient);
const cd = new CodeDeployClient({ region: 'eu-west-1' });
const ecs = new ECSClient({ region: 'eu-west-1' });
beforeEach(() => {
  cdMock.reset();
  ecsMock.reset();
});

const busy = () =>
  new DeploymentLimitExceededException({
    message: "The Deployment Group 'DgpECS-prod-web' already has an active Deployment 'd-OTHER1'",
    $metadata: {},
  });
const request = (timeoutMs: number, clock = new ScriptedClock(), log = new MemoryLog()) => ({
  application: 'AppECS-prod-web',
  deploymentGroup: 'DgpECS-prod-web',
  appSpecContent: { content: 'x', sha256: 'y' },
  region: 'eu-west-1',
  waitForActive: { timeoutMs, pollIntervalMs: 5000, clock, log },
});

describe('createDeployment when the group is busy', () => {
  it('waits for the active deployment to end, then deploys', async () => {
    cdMock.on(CreateDeploymentCommand).rejectsOnce(busy()).resolves({ deploymentId: 'd-MINE' });
    cdMock
      .on(GetDeploymentCommand, { deploymentId: 'd-OTHER1' })
      .resolvesOnce({ deploymentInfo: { status: 'InProgress' } })
      .resolves({ deploymentInfo: { status: 'Succeeded' } });
    const clock = new ScriptedClock();
    const log = new MemoryLog();
    await expect(createDeployment(cd, request(600_000, clock, log))).resolves.toBe('d-MINE');
    expect(cdMock).toHaveReceivedCommandTimes(CreateDeploymentCommand, 2);
    expect(clock.sleeps).toEqual([5000, 5000]);
    expect(log.text()).toContain('busy with deployment d-OTHER1');
    expect(log.text()).toContain('d-OTHER1 ended: Succeeded');
  });

  it('gives up at the deadline, naming the active deployment', async () => {
    cdMock.on(CreateDeploymentCommand).rejects(busy());
    cdMock.on(GetDeploymentCommand).resolves({ deploymentInfo: { status: 'InProgress' } });
    const err = (await createDeployment(cd, request(60_000)).catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.problems[0]?.what).toMatch(
      /active deployment d-OTHER1 .*still running after 1 min of waiting/,
    );
  });

  it('fails at once without waiting when the wait is 0', async () => {
    cdMock.on(CreateDeploymentCommand).rejects(busy());
    const clock = new ScriptedClock();
    await expect(createDeployment(cd, request(0, clock))).rejects.toBeInstanceOf(UserError);
    expect(clock.sleeps).toEqual([]);
    expect(cdMock).not.toHaveReceivedCommand(GetDeploymentCommand);
  });

  it('keeps waiting through a throttled check', async () => {
    cdMock.on(CreateDeploymentCommand).rejectsOnce(busy()).resolves({ deploymentId: 'd-MINE' });
    cdMock
      .on(GetDeploymentCommand)
      .rejectsOnce(sdkError('ThrottlingException', 'Rate exceeded', 400))
      .resolves({ deploymentInfo: { status: 'Stopped' } });
    await expect(createDeployment(cd, request(600_000))).resolves.toBe('d-MINE');
  });
});

describe('waitForServiceIdle', () => {
  const svc = (rolloutState: string) => ({
    services: [{ deployments: [{ id: 'ecs-svc/9', status: 'PRIMARY', rolloutState }] }],
  });
  const opts = (timeoutMs: number, clock = new ScriptedClock()) => ({
    timeoutMs,
    pollIntervalMs: 5000,
    clock,
    log: new MemoryLog(),
  });

  it('returns at once when nothing is in progress', async () => {
    ecsMock.on(DescribeServicesCommand).resolves(svc('COMPLETED') as never);
    const clock = new ScriptedClock();
    await waitForServiceIdle(ecs, { cluster: 'c', service: 's' }, opts(60_000, clock));
    expect(clock.sleeps).toEqual([]);
  });

  it('waits for a deployment in progress to finish', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce(svc('IN_PROGRESS') as never)
      .resolvesOnce(svc('IN_PROGRESS') as never)
      .resolves(svc('COMPLETED') as never);
    const clock = new ScriptedClock();
    await waitForServiceIdle(ecs, { cluster: 'c', service: 's' }, opts(60_000, clock));
    expect(clock.sleeps).toEqual([5000, 5000]);
  });

  it.each([
    ['after waiting', 10_000, /ecs-svc\/9.*still running after 0 min/],
    [
      'at once when the wait is 0',
      0,
      /has a deployment in progress \(ecs-svc\/9\) that this run did not start\./,
    ],
  ])('fails naming the deployment %s', async (_n, timeoutMs, message) => {
    ecsMock.on(DescribeServicesCommand).resolves(svc('IN_PROGRESS') as never);
    const err = (await waitForServiceIdle(ecs, { cluster: 'c', service: 's' }, opts(timeoutMs)).catch(
      (e: unknown) => e,
    )) as UserError;
    expect(err.problems[0]).toMatchObject({ where: 'service', what: expect.stringMatching(message) });
  });
});
