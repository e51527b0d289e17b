/**
 * Secrets during a run that logs in to the registry, builds, pushes and deploys: the
 * registry password (and the ECR token that carries it) and the AWS secret key never show
 * in what the runner prints or keeps, never sit in the rendered files, and never appear on
 * any process's command line, sampled from /proc every 20 ms while the run goes on. The
 * post step then logs out of the registry.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BatchDeleteImageCommand, DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { ensureDocker, type DockerEnv } from '../support/docker.js';
import { runAction, runPost } from './support/action.js';
import {
  processesIn,
  registryLogins,
  runSecrets,
  secretLeaks,
  watchCommandLines,
} from './support/secrets.js';
import { ACCOUNT, awsEnv, CLUSTER, CREDENTIALS, REGION, seed } from './support/world.js';

const REPOSITORY = 'example-secrets';
const SHA = randomBytes(20).toString('hex');

let docker: DockerEnv | undefined;
let emulator: Emulator | undefined;
let workspace: string | undefined;
/** Each run's RUNNER_TEMP, removed at the end: the main step's holds the docker credential store. */
const runnerTemps: string[] = [];

beforeAll(async () => {
  docker = await ensureDocker();
  if (!docker) return;
  workspace = await realpath(await mkdtemp(path.join(os.tmpdir(), 'ecs-deploy-secrets-')));
  await cp(path.resolve('example-app'), path.join(workspace, 'example-app'), {
    recursive: true,
    filter: (src) => !/\/example-app\/(node_modules|infra)(\/|$)/.test(src),
  });
  emulator = await startEmulator({
    region: REGION,
    accountId: ACCOUNT,
    credentials: [CREDENTIALS],
    speed: 60,
    seed: { ...seed(), repositories: [{ name: REPOSITORY, imageTagMutability: 'MUTABLE' }] },
    registry: { host: docker.registryHost, username: docker.registryUser, password: docker.registryPassword },
  });
}, 300_000);

afterAll(async () => {
  if (emulator) {
    // The registry outlives the emulator: take this run's image out of it again.
    const ecr = new ECRClient({ endpoint: emulator.url, region: REGION, credentials: CREDENTIALS });
    const described = await ecr
      .send(new DescribeImagesCommand({ repositoryName: REPOSITORY, imageIds: [{ imageTag: SHA }] }))
      .catch(() => undefined);
    const imageDigest = described?.imageDetails?.[0]?.imageDigest;
    if (imageDigest) {
      await ecr.send(
        new BatchDeleteImageCommand({ repositoryName: REPOSITORY, imageIds: [{ imageDigest }] }),
      );
    }
    await emulator.stop();
  }
  await docker?.stop();
  for (const dir of [workspace, ...runnerTemps]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe('secrets during a build, push and deploy', () => {
  it('never show in output, files or command lines, and the post step logs out', async () => {
    if (!docker || !emulator || !workspace) return;
    const secrets = runSecrets(docker);
    const commandLines = watchCommandLines(secrets);
    const env = awsEnv(emulator);
    const r = await runAction({
      workspace,
      sha: SHA,
      env,
      inputs: {
        'ecr-repository': REPOSITORY,
        context: 'example-app',
        'build-args': `BASE_IMAGE=${docker.baseImage}\nNPM_CONFIG_REGISTRY=${docker.npmRegistry}`,
        network: 'host',
        'task-definition': 'example-app/task-definition.json',
        'codedeploy-appspec': 'example-app/appspec.yaml',
        cluster: CLUSTER,
        service: 'web',
        'poll-interval-seconds': '1',
      },
    });
    runnerTemps.push(r.runnerTemp);
    const loggedIn = await registryLogins(r);
    // The post step runs with the main step's docker credential store, as on a runner.
    const post = await runPost(r, {
      workspace,
      env: { ...env, DOCKER_CONFIG: path.join(r.runnerTemp, 'docker-config') },
    });
    runnerTemps.push(post.runnerTemp);
    const report = await commandLines.stop();

    expect({ code: r.code, errors: r.errors }).toEqual({ code: 0, errors: [] });
    expect(r.outputs['image-uri']).toBe(`${docker.registryHost}/${REPOSITORY}:${SHA}`);
    // The action knew the password and had the runner mask it (the runner consumes these lines).
    expect(r.stdout).toContain(`::add-mask::${docker.registryPassword}`);
    // The rendered files the scan covers are there.
    for (const output of [
      'task-definition-path',
      'imagedefinitions-path',
      'imagedetail-path',
      'appspec-path',
    ]) {
      expect(r.outputs[output]?.startsWith(`${r.runnerTemp}/`)).toBe(true);
    }
    expect(await secretLeaks(r, secrets)).toEqual([]);
    expect(await secretLeaks(post, secrets)).toEqual([]);

    expect(report.leaks).toEqual([]);
    // The watch sampled while the image was built and pushed.
    expect([...report.seen].some((l) => /\bdocker (buildx )?build\b/.test(l))).toBe(true);
    expect(report.passes).toBeGreaterThan(10);

    expect(loggedIn).toContain(docker.registryHost);
    expect(post.code).toBe(0);
    expect(post.stdout).toContain(`Logged out of ${docker.registryHost}.`);
    expect(await registryLogins(r)).not.toContain(docker.registryHost);
    expect(await processesIn(workspace)).toEqual([]);
  }, 300_000);
});
