/**
 * Manual dispatch, end to end: the built action deploying an image that is already in the
 * registry (and refusing one that is not, before any change), and rolling back, after a
 * good deploy and while a CodeDeploy deployment is still running.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BatchDeleteImageCommand, DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { ensureDocker, runDocker, type DockerEnv } from '../support/docker.js';
import { runAction, type ActionRun } from './support/action.js';
import { ACCOUNT, awsEnv, CLUSTER, CREDENTIALS, REGION, seed, serviceState } from './support/world.js';

const workspace = path.resolve('.');
const SPEED = 60;
/** A repository of these tests' own, emptied at the end: the registry outlives the run. */
const REPOSITORY = 'dispatch-app';

let docker: DockerEnv | undefined;
let emulator: Emulator;
/** An image pushed to the registry before the runs, as a release tag would be. */
let existing = '';

beforeAll(async () => {
  docker = await ensureDocker();
  const world = seed();
  emulator = await startEmulator({
    region: REGION,
    accountId: ACCOUNT,
    credentials: [CREDENTIALS],
    speed: SPEED,
    seed: { ...world, repositories: [...(world.repositories ?? []), { name: REPOSITORY }] },
    // Without Docker, a closed loopback port, as in support/world.ts.
    registry: docker
      ? { host: docker.registryHost, username: docker.registryUser, password: docker.registryPassword }
      : { host: '127.0.0.1:9', username: 'AWS', password: 'unused' },
  });
  if (docker) existing = await pushExistingImage(docker, `release-${Date.now()}`);
}, 300_000);

afterAll(async () => {
  if (existing) {
    const ecr = new ECRClient({ endpoint: emulator.url, region: REGION, credentials: CREDENTIALS });
    const images =
      (await ecr.send(new DescribeImagesCommand({ repositoryName: REPOSITORY }))).imageDetails ?? [];
    const imageIds = images.map((i) => ({ imageDigest: i.imageDigest as string }));
    if (imageIds.length > 0)
      await ecr.send(new BatchDeleteImageCommand({ repositoryName: REPOSITORY, imageIds }));
  }
  await emulator?.stop();
  await docker?.stop();
});

beforeEach(() => {
  emulator.faults.clear();
  emulator.clock.speed = SPEED;
  // Whatever an earlier test left running finishes, as an hour would in AWS.
  emulator.clock.advance(60 * 60_000);
});

/** Tags the base image into the tests' repository and pushes it (login on stdin). */
async function pushExistingImage(d: DockerEnv, tag: string): Promise<string> {
  const config = await mkdtemp(path.join(os.tmpdir(), 'ecs-deploy-dispatch-docker-'));
  const env = { DOCKER_CONFIG: config };
  const image = `${d.registryHost}/${REPOSITORY}:${tag}`;
  try {
    await runDocker(['login', '--username', d.registryUser, '--password-stdin', d.registryHost], {
      input: d.registryPassword,
      env,
    });
    await runDocker(['tag', d.baseImage, image], { env });
    await runDocker(['push', image], { env });
  } finally {
    // Only the local tag goes; the base image stays for other builds.
    await runDocker(['rmi', image], { env }).catch(() => undefined);
    await runDocker(['logout', d.registryHost], { env }).catch(() => undefined);
    await rm(config, { recursive: true, force: true });
  }
  return image;
}

async function run(inputs: Record<string, string>): Promise<ActionRun> {
  const r = await runAction({
    inputs: { cluster: CLUSTER, 'poll-interval-seconds': '1', ...inputs },
    workspace,
    env: awsEnv(emulator),
  });
  // Outputs, state and summary are read: the runner's temporary files go.
  await rm(r.runnerTemp, { recursive: true, force: true });
  return r;
}

const blueGreen = (extra: Record<string, string>) => ({
  'task-definition': 'example-app/task-definition.json',
  'codedeploy-appspec': 'example-app/appspec.yaml',
  service: 'web',
  ...extra,
});

function outcome(r: ActionRun) {
  return { code: r.code, errors: r.errors, log: r.code === 0 ? '' : r.stdout.slice(-4000) };
}

/** The operations the endpoint saw since call number `from`. */
const operationsSince = (from: number) => emulator.calls.slice(from).map((c) => c.operation);
const taskDefinitionOf = async (service: string) => (await serviceState(emulator, service))?.taskDefinition;
const short = (arn: string | undefined) => arn?.replace(/^.*:task-definition\//, '');

describe('deploying an existing image', () => {
  it('deploys it without building or logging in, after checking it exists', async () => {
    if (!docker) return;
    const from = emulator.calls.length;
    const r = await run({
      image: existing,
      'task-definition': 'example-app/task-definition.json',
      'task-definition-family': 'example-rolling',
      service: 'rolling',
    });
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.outputs).toMatchObject({
      'image-uri': existing,
      'deploy-mode': 'rolling',
      'deployment-outcome': 'succeeded',
    });
    const ops = operationsSince(from);
    expect(ops).not.toContain('GetAuthorizationToken');
    expect(r.stdout).not.toMatch(/Building .* with/);
    expect(r.stdout).toMatch(/Preflight: .* may make all \d+ calls this run needs/);
    const check = emulator.calls
      .slice(from)
      .find(
        (c) =>
          c.operation === 'DescribeImages' &&
          JSON.stringify(c.input).includes(existing.split(':').at(-1) as string),
      );
    expect(check?.status).toBe(200);
    expect(ops.indexOf('DescribeImages')).toBeLessThan(ops.indexOf('RegisterTaskDefinition'));
    expect(await taskDefinitionOf('rolling')).toBe(r.outputs['task-definition-arn']);
  }, 120_000);

  it('refuses an image that is not in the repository, before any change', async () => {
    if (!docker) return;
    const before = emulator.mutatingCalls().length;
    const missing = `${docker.registryHost}/${REPOSITORY}:not-pushed-${Date.now()}`;
    const r = await run(blueGreen({ image: missing }));
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toMatch(
      /The image .*not-pushed-\d+ does not exist: repository dispatch-app has no image tagged not-pushed-\d+.*Fix: /,
    );
    expect(emulator.mutatingCalls().length).toBe(before);
  }, 60_000);
});

describe('rollback', () => {
  it('after good deploys, redeploys the revision live before the current one, through CodeDeploy', async () => {
    const image = existing || '127.0.0.1:5000/example-app:v0';
    const first = await run(blueGreen({ image }));
    expect(outcome(first)).toEqual({ code: 0, errors: [], log: '' });
    const second = await run(blueGreen({ image }));
    expect(outcome(second)).toEqual({ code: 0, errors: [], log: '' });
    expect(await taskDefinitionOf('web')).toBe(second.outputs['task-definition-arn']);

    const from = emulator.calls.length;
    const r = await run({ service: 'web', rollback: 'true' });
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.outputs).toMatchObject({
      'deploy-mode': 'codedeploy',
      'deployment-outcome': 'succeeded',
      'task-definition-arn': first.outputs['task-definition-arn'],
    });
    expect(await taskDefinitionOf('web')).toBe(first.outputs['task-definition-arn']);
    // Through the same path as a deploy: a CodeDeploy deployment of the earlier revision, with the appspec it had.
    const created = emulator.calls.slice(from).filter((c) => c.operation === 'CreateDeployment');
    expect(created).toHaveLength(1);
    const content = (created[0]?.input as { revision: { appSpecContent: { content: string } } }).revision
      .appSpecContent.content;
    expect(content).toContain(first.outputs['task-definition-arn']);
    expect(operationsSince(from)).not.toContain('RegisterTaskDefinition');
    expect(r.summary).toContain(
      `Rolled demo/web back from ${short(second.outputs['task-definition-arn'])} to ${short(first.outputs['task-definition-arn'])}.`,
    );
    expect(r.summary).toMatch(/redeployed \(CodeDeploy deployment d-\w+ deployed it\)/);
  }, 240_000);

  it('of a rolling service, returns to the family’s previous revision', async () => {
    const before = await taskDefinitionOf('rolling');
    const deployed = await run({
      image: existing || '127.0.0.1:5000/example-app:v0',
      'task-definition': 'example-app/task-definition.json',
      'task-definition-family': 'example-rolling',
      service: 'rolling',
    });
    expect(outcome(deployed)).toEqual({ code: 0, errors: [], log: '' });
    const r = await run({ service: 'rolling', rollback: 'true' });
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.outputs).toMatchObject({
      'deploy-mode': 'rolling',
      'deployment-outcome': 'succeeded',
      'task-definition-arn': before,
    });
    expect(await taskDefinitionOf('rolling')).toBe(before);
    expect(r.summary).toContain(`from ${short(deployed.outputs['task-definition-arn'])} to ${short(before)}`);
  }, 180_000);

  it('while a CodeDeploy deployment is in progress, stops it with rollback instead', async () => {
    // Real speed: the deployment is still running when the rollback run starts.
    emulator.clock.speed = 1;
    const original = await taskDefinitionOf('slow');
    const started = await run(
      blueGreen({
        image: existing || '127.0.0.1:5000/example-app:v0',
        service: 'slow',
        'wait-for-service-stability': 'false',
      }),
    );
    expect(outcome(started)).toEqual({ code: 0, errors: [], log: '' });
    expect(started.outputs['deployment-outcome']).toBe('started');
    const id = started.outputs['codedeploy-deployment-id'] as string;
    // Once the replacement task set exists, stopping needs a rollback deployment to restore the original.
    const deadline = Date.now() + 60_000;
    while (
      emulator.state.codedeploy.deployments.get(id)?.greenTaskSetId === undefined &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(emulator.state.codedeploy.deployments.get(id)?.status).toBe('InProgress');

    const from = emulator.calls.length;
    const r = await run({ service: 'slow', rollback: 'true' });
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    const stops = emulator.calls.slice(from).filter((c) => c.operation === 'StopDeployment');
    expect(stops.map((c) => c.input)).toEqual([{ deploymentId: id, autoRollbackEnabled: true }]);
    expect(operationsSince(from)).not.toContain('CreateDeployment');
    const rollbackId = emulator.state.codedeploy.deployments.get(id)?.rollbackInfo?.rollbackDeploymentId;
    expect(rollbackId).toMatch(/^d-/);
    // The rollback deployment is watched to its end.
    expect(r.outputs).toMatchObject({
      'codedeploy-deployment-id': rollbackId,
      'deployment-outcome': 'succeeded',
    });
    expect(emulator.state.codedeploy.deployments.get(rollbackId as string)?.status).toBe('Succeeded');
    expect(r.summary).toContain(`stopped CodeDeploy deployment ${id} with rollback`);
    expect(r.summary).toContain(`to ${short(original)}.`);
    expect(await taskDefinitionOf('slow')).toBe(original);
  }, 180_000);
});
