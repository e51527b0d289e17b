/**
 * The AWS CLI against the local endpoint, as a user rehearsing by hand would use it: register
 * a task definition, run a CodeDeploy blue/green deployment and wait for it with the CLI's own
 * waiter, update a rolling service and wait until it is stable. Every command names the
 * endpoint with --endpoint-url and --region (test/support/aws-cli.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { Emulator } from '../../emulator/index.js';
import { awsCli, awsCliAvailable } from '../support/aws-cli.js';
import { ACCOUNT, CLUSTER, CREDENTIALS, REGION, liveTaskDefinition, startWorld } from './support/world.js';

const available = await awsCliAvailable('the AWS CLI tests');
const withCli = available ? describe : describe.skip;

let emulator: Emulator;

beforeAll(async () => {
  if (available) emulator = await startWorld(undefined, 600);
});
afterAll(async () => {
  await emulator?.stop();
});

function aws(args: string[], secret = CREDENTIALS.secretAccessKey): Promise<unknown> {
  return awsCli(args, {
    endpoint: emulator.url,
    region: REGION,
    accessKeyId: CREDENTIALS.accessKeyId,
    secretAccessKey: secret,
  });
}

withCli('the AWS CLI against the local endpoint', () => {
  it('runs a CodeDeploy blue/green deployment to success and waits for it', async () => {
    const td = liveTaskDefinition('example-app', '127.0.0.1:9/example-app:cli');
    const registered = (await aws([
      'ecs',
      'register-task-definition',
      '--cli-input-json',
      JSON.stringify(td),
    ])) as {
      taskDefinition: { taskDefinitionArn: string; revision: number };
    };
    const arn = registered.taskDefinition.taskDefinitionArn;
    expect(arn).toMatch(new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/example-app:\\d+$`));

    const appspec = [
      'version: 0.0',
      'Resources:',
      '  - TargetService:',
      '      Type: AWS::ECS::Service',
      '      Properties:',
      `        TaskDefinition: "${arn}"`,
      '        LoadBalancerInfo:',
      '          ContainerName: web',
      '          ContainerPort: 8080',
      '',
    ].join('\n');
    const revision = {
      revisionType: 'AppSpecContent',
      appSpecContent: { content: appspec, sha256: createHash('sha256').update(appspec).digest('hex') },
    };
    const created = (await aws([
      'deploy',
      'create-deployment',
      '--application-name',
      'AppECS-demo-web',
      '--deployment-group-name',
      'DgpECS-demo-web',
      '--revision',
      JSON.stringify(revision),
    ])) as { deploymentId: string };
    expect(created.deploymentId).toMatch(/^d-[A-Z0-9]+$/);

    await aws(['deploy', 'wait', 'deployment-successful', '--deployment-id', created.deploymentId]);
    const info = (await aws(['deploy', 'get-deployment', '--deployment-id', created.deploymentId])) as {
      deploymentInfo: { status: string };
    };
    expect(info.deploymentInfo.status).toBe('Succeeded');
    const services = (await aws(['ecs', 'describe-services', '--cluster', CLUSTER, '--services', 'web'])) as {
      services: { taskDefinition: string }[];
    };
    expect(services.services[0]?.taskDefinition).toBe(arn);
  }, 120_000);

  it('updates a rolling service and waits until it is stable', async () => {
    const td = liveTaskDefinition('example-rolling', '127.0.0.1:9/example-app:cli');
    const registered = (await aws([
      'ecs',
      'register-task-definition',
      '--cli-input-json',
      JSON.stringify(td),
    ])) as {
      taskDefinition: { taskDefinitionArn: string };
    };
    await aws([
      'ecs',
      'update-service',
      '--cluster',
      CLUSTER,
      '--service',
      'rolling',
      '--task-definition',
      registered.taskDefinition.taskDefinitionArn,
    ]);
    await aws(['ecs', 'wait', 'services-stable', '--cluster', CLUSTER, '--services', 'rolling']);
    const services = (await aws([
      'ecs',
      'describe-services',
      '--cluster',
      CLUSTER,
      '--services',
      'rolling',
    ])) as {
      services: { taskDefinition: string; deployments: { status: string; rolloutState: string }[] }[];
    };
    expect(services.services[0]?.taskDefinition).toBe(registered.taskDefinition.taskDefinitionArn);
    expect(services.services[0]?.deployments).toEqual([
      expect.objectContaining({ status: 'PRIMARY', rolloutState: 'COMPLETED' }),
    ]);
  }, 120_000);

  it('gets the errors AWS gives: a wrong secret key, a missing service', async () => {
    await expect(aws(['ecs', 'list-clusters'], 'not-the-secret')).rejects.toMatchObject({
      stderr: expect.stringContaining('(InvalidSignatureException)'),
    });
    const missing = (await aws(['ecs', 'describe-services', '--cluster', CLUSTER, '--services', 'nope'])) as {
      failures: { reason: string }[];
    };
    expect(missing.failures[0]?.reason).toBe('MISSING');
    await expect(
      aws(['ecs', 'describe-services', '--cluster', 'nope', '--services', 'web']),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining('(ClusterNotFoundException)'),
    });
  }, 60_000);
});
