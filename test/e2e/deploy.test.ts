/**
 * The built action (dist/index.js), run as the GitHub runner runs it, against the local AWS
 * endpoint, a real Docker engine and a real registry.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import { ensureDocker, type DockerEnv } from '../support/docker.js';
import { runAction, runPost, type ActionRun } from './support/action.js';
import { awsEnv, CLUSTER, serviceState, startWorld, visible } from './support/world.js';

const workspace = path.resolve('.');
const SHA = 'e2e0000000000000000000000000000000000001';
const SPEED = 60;

let docker: DockerEnv | undefined;
let emulator: Emulator;
/** The image the first test built and pushed; later tests deploy it without building. */
let image = '';

beforeAll(async () => {
  docker = await ensureDocker();
  emulator = await startWorld(docker, SPEED);
}, 300_000);

afterAll(async () => {
  await emulator?.stop();
  await docker?.stop();
});

beforeEach(() => {
  emulator.faults.clear();
  emulator.clock.speed = SPEED;
  // Lets whatever an earlier test left running (a rollback, a draining task set) finish, as
  // an hour would in AWS, so each test starts from a settled service.
  emulator.clock.advance(60 * 60_000);
});

const blueGreen = (extra: Record<string, string> = {}) => ({
  'task-definition': 'example-app/task-definition.json',
  'codedeploy-appspec': 'example-app/appspec.yaml',
  cluster: CLUSTER,
  service: 'web',
  'poll-interval-seconds': '1',
  ...extra,
});

const rolling = (extra: Record<string, string> = {}) => ({
  'task-definition': 'example-app/task-definition.json',
  'task-definition-family': 'example-rolling',
  cluster: CLUSTER,
  service: 'rolling',
  'poll-interval-seconds': '1',
  ...extra,
});

function run(
  inputs: Record<string, string>,
  env: Record<string, string | undefined> = {},
  onStart?: Parameters<typeof runAction>[0]['onStart'],
) {
  return runAction({ inputs, workspace, sha: SHA, env: { ...awsEnv(emulator), ...env }, onStart });
}

/** Makes a failing expectation show what the action printed. */
function outcome(r: ActionRun) {
  return { code: r.code, errors: r.errors, log: r.code === 0 ? '' : r.stdout.slice(-4000) };
}

/** An image to deploy: the one the build test pushed, or a fixed reference without Docker. */
const deployable = () => image || '127.0.0.1:5000/example-app:v0';

const mutations = () => emulator.mutatingCalls().length;

describe('blue/green through CodeDeploy', () => {
  it('builds, pushes, registers and deploys the example app to success', async () => {
    if (!docker) return;
    const r = await run(
      blueGreen({
        'ecr-repository': 'example-app',
        context: 'example-app',
        'build-args': `BASE_IMAGE=${docker.baseImage}\nNPM_CONFIG_REGISTRY=${docker.npmRegistry}`,
        network: 'host',
        tags: 'latest',
      }),
    );
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.outputs).toMatchObject({
      'deploy-mode': 'codedeploy',
      'deployment-outcome': 'succeeded',
      'image-uri': `${docker.registryHost}/example-app:${SHA}`,
    });
    expect(r.outputs['image-digest']).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(r.outputs['image-uri-digest']).toBe(
      `${docker.registryHost}/example-app@${r.outputs['image-digest']}`,
    );
    expect(r.outputs['task-definition-arn']).toMatch(
      /^arn:aws:ecs:us-east-1:\d{12}:task-definition\/example-app:2$/,
    );
    expect(r.outputs['codedeploy-deployment-id']).toMatch(/^d-[A-Z0-9]+$/);
    image = r.outputs['image-uri'] as string;

    // The rendered files are AWS's formats.
    expect(JSON.parse(await readFile(r.outputs['imagedefinitions-path'] as string, 'utf8'))).toEqual([
      { name: 'web', imageUri: image },
    ]);
    expect(JSON.parse(await readFile(r.outputs['imagedetail-path'] as string, 'utf8'))).toEqual({
      ImageURI: image,
    });
    const appspec = await readFile(r.outputs['appspec-path'] as string, 'utf8');
    expect(appspec).toContain(`TaskDefinition: "${r.outputs['task-definition-arn']}"`);
    const registered = JSON.parse(await readFile(r.outputs['task-definition-path'] as string, 'utf8'));
    expect(registered.containerDefinitions[0].image).toBe(image);

    // The registry holds both tags; the service now runs the new revision.
    const auth = Buffer.from(`${docker.registryUser}:${docker.registryPassword}`).toString('base64');
    const tags = (await fetch(`http://${docker.registryHost}/v2/example-app/tags/list`, {
      headers: { authorization: `Basic ${auth}` },
    }).then((res) => res.json())) as { tags: string[] };
    expect(tags.tags).toEqual(expect.arrayContaining([SHA, 'latest']));
    expect((await serviceState(emulator, 'web'))?.taskDefinition).toBe(r.outputs['task-definition-arn']);
    expect(emulator.calls.filter((c) => c.operation === 'CreateDeployment')).toHaveLength(1);

    expect(r.summary).toContain('ECS deploy succeeded: demo/web');
    expect(r.summary).toMatch(/\| Build web \| ✅ succeeded \|/);
    expect(r.stdout).toContain('traffic: green 100% / blue 0%');
    // Masked by the runner, and never printed in the clear.
    expect(r.stdout).toContain(`::add-mask::${docker.registryPassword}`);
    expect(visible(r.stdout + r.stderr) + r.summary).not.toContain(docker.registryPassword);
    expect(r.state.registry).toBe(docker.registryHost);
  }, 300_000);

  it('re-running the same commit rebuilds and deploys again', async () => {
    if (!docker) return;
    const r = await run(
      blueGreen({
        'ecr-repository': 'example-app',
        context: 'example-app',
        'build-args': `BASE_IMAGE=${docker.baseImage}\nNPM_CONFIG_REGISTRY=${docker.npmRegistry}`,
        network: 'host',
      }),
    );
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.outputs['image-uri']).toBe(image);
  }, 300_000);

  it('reports a failed lifecycle hook with its message, and the service stays on the old version', async () => {
    const before = (await serviceState(emulator, 'web'))?.taskDefinition;
    emulator.faults.failLifecycleEvent('AfterAllowTestTraffic', 'smoke test: GET / returned 500');
    const r = await run(blueGreen({ image: deployable() }));
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('failed');
    const all = r.errors.join('\n') + r.stdout;
    expect(all).toContain('AfterAllowTestTraffic');
    expect(all).toContain('smoke test: GET / returned 500');
    expect(r.summary).toContain('### What went wrong');
    expect((await serviceState(emulator, 'web'))?.taskDefinition).toBe(before);
  }, 120_000);

  it('stops the deployment with rollback when the wait runs out', async () => {
    emulator.clock.speed = 1;
    // Once stopped, the rollback the action follows to its end runs at the usual speed.
    const from = emulator.calls.length;
    const speedUp = setInterval(() => {
      if (emulator.calls.slice(from).some((c) => c.operation === 'StopDeployment'))
        emulator.clock.speed = SPEED;
    }, 50);
    const r = await run(
      blueGreen({ image: deployable(), service: 'slow', 'wait-for-minutes': '0.05' }),
    ).finally(() => clearInterval(speedUp));
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('timed-out');
    const id = r.outputs['codedeploy-deployment-id'];
    const stop = emulator.calls.find((c) => c.operation === 'StopDeployment');
    expect(stop?.input).toEqual({ deploymentId: id, autoRollbackEnabled: true });
    expect(r.stdout + r.errors.join('\n')).toMatch(/rollback/i);
  }, 120_000);

  it('a cancelled run has its deployment stopped with rollback by the post step', async () => {
    emulator.clock.speed = 1;
    const started = Date.now();
    const r = await run(blueGreen({ image: deployable(), service: 'slow' }), {}, (child) => {
      const poll = setInterval(() => {
        if (emulator.calls.some((c) => c.operation === 'CreateDeployment' && c.at >= started)) {
          clearInterval(poll);
          setTimeout(() => child.kill('SIGINT'), 500);
        }
      }, 50);
      child.on('close', () => clearInterval(poll));
    });
    expect(r.code).toBe(1);
    const id = r.outputs['codedeploy-deployment-id'] as string;
    expect(JSON.parse(r.state.deployment as string)).toMatchObject({ kind: 'codedeploy', id });
    expect(r.state.settled).toBeUndefined();

    const post = await runPost(r, { workspace, env: awsEnv(emulator) });
    expect(post.code).toBe(0);
    expect(post.stdout).toContain(`stopped it with rollback`);
    const stop = emulator.calls.filter((c) => c.operation === 'StopDeployment').at(-1);
    expect(stop?.input).toEqual({ deploymentId: id, autoRollbackEnabled: true });
  }, 120_000);
});

describe('rolling update', () => {
  it('deploys an existing image to COMPLETED', async () => {
    const r = await run(rolling({ image: deployable() }));
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.outputs).toMatchObject({ 'deploy-mode': 'rolling', 'deployment-outcome': 'succeeded' });
    const svc = await serviceState(emulator, 'rolling');
    expect(svc?.taskDefinition).toBe(r.outputs['task-definition-arn']);
    const ours = svc?.deployments?.find((d) => d.id === r.outputs['ecs-deployment-id']);
    expect(ours).toMatchObject({ status: 'PRIMARY', rolloutState: 'COMPLETED' });
  }, 120_000);

  it('reports a circuit-breaker rollback as a failure, with the stopped tasks’ reason', async () => {
    emulator.faults.crashTasks('example-rolling');
    const before = (await serviceState(emulator, 'rolling'))?.taskDefinition;
    const r = await run(rolling({ image: deployable() }));
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('failed');
    const all = r.errors.join('\n') + r.stdout;
    expect(all).toMatch(/circuit breaker/i);
    expect(all).toContain('Essential container in task exited');
    expect((await serviceState(emulator, 'rolling'))?.taskDefinition).toBe(before);
  }, 120_000);
});

describe('faults and bad input', () => {
  it('survives throttling with retries', async () => {
    emulator.faults.throttle('RegisterTaskDefinition', 2);
    const r = await run(rolling({ image: deployable(), 'deploy-mode': 'none' }));
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    const registers = emulator.calls.filter((c) => c.operation === 'RegisterTaskDefinition').slice(-3);
    expect(registers.map((c) => c.errorType ?? c.status)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      200,
    ]);
  }, 60_000);

  it('reports a session that expires during the wait with the fix, and the post step stops the deployment', async () => {
    emulator.clock.speed = 1;
    emulator.faults.expireToken('GetDeployment', 1000);
    const r = await run(blueGreen({ image: deployable(), service: 'slow' }));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /The AWS session expired during the run \(.*security token included in the request is expired\)/,
    );
    expect(r.stdout).toMatch(/role-duration-seconds/);
    const id = r.outputs['codedeploy-deployment-id'] as string;
    expect(r.state.settled).toBeUndefined();
    emulator.faults.clear();
    const post = await runPost(r, { workspace, env: awsEnv(emulator) });
    expect(post.stdout).toContain('stopped it with rollback');
    expect(emulator.calls.filter((c) => c.operation === 'StopDeployment').at(-1)?.input).toEqual({
      deploymentId: id,
      autoRollbackEnabled: true,
    });
  }, 120_000);

  it('refuses a wrong secret key with the fix, and changes nothing', async () => {
    const before = mutations();
    const r = await run(blueGreen({ image: deployable() }), { AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/secret access key does not match/i);
    expect(r.stdout).not.toContain('not-the-secret');
    expect(mutations()).toBe(before);
  }, 60_000);

  it('fails without credentials, before any call', async () => {
    const calls = emulator.calls.length;
    const r = await run(blueGreen({ image: deployable() }), {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      HOME: '/nonexistent',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/No AWS credentials could be loaded.*configure-aws-credentials/);
    expect(emulator.calls.length).toBe(calls);
  }, 60_000);

  it('rejects EC2-style appspec hooks with the file and line, before any change', async () => {
    const before = mutations();
    const r = await run(
      blueGreen({ image: deployable(), 'codedeploy-appspec': 'test/fixtures/render/appspec-ec2-hooks.yaml' }),
    );
    expect(r.code).toBe(1);
    const annotation = r.stdout.split('\n').find((l) => l.startsWith('::error') && l.includes('Lambda'));
    expect(annotation).toMatch(
      /^::error title=appspec-ec2-hooks\.yaml%3A Hooks,file=test\/fixtures\/render\/appspec-ec2-hooks\.yaml,line=11::/,
    );
    expect(mutations()).toBe(before);
  }, 60_000);

  it.each([
    ['a missing service', { service: 'nope' }, /service/],
    ['a missing cluster', { cluster: 'nope' }, /cluster/],
    ['rolling mode for a CODE_DEPLOY service', { 'deploy-mode': 'rolling' }, /deploy-mode/],
    ['a container the task definition lacks', { 'container-name': 'api' }, /api/],
    [
      'an unknown deployment config',
      { 'codedeploy-deployment-config': 'CodeDeployDefault.Fastest' },
      /CodeDeployDefault\.Fastest/,
    ],
  ])(
    'stops on %s before any change',
    async (_name, inputs, message) => {
      const before = mutations();
      const r = await run(blueGreen({ image: deployable(), ...inputs }));
      expect(r.code).toBe(1);
      expect(r.errors.join('\n')).toMatch(message);
      expect(mutations()).toBe(before);
    },
    60_000,
  );

  it('fails at once with no inputs and makes no AWS call', async () => {
    const calls = emulator.calls.length;
    const r = await runAction({ inputs: {}, workspace, env: { AWS_ENDPOINT_URL: emulator.url } });
    expect(r.code).toBe(1);
    expect(r.errors.length).toBeGreaterThan(1);
    expect(emulator.calls.length).toBe(calls);
  }, 30_000);
});
