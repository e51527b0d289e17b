/**
 * The real pieces end to end: build example-app on the local engine from the local base image and
 * npm mirror, push it to the local registry after a `--password-stdin` login, run it on the host
 * network and talk to it. Everything stays on 127.0.0.1.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DockerEnv, ensureDocker, repoRoot, runDocker } from '../support/docker.js';

const docker = await ensureDocker();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** GETs a URL until it answers, for a server that is still starting. */
async function getWhenUp(url: string, withinMs: number): Promise<Response> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await fetch(url);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${withinMs} ms: ${error}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function smokeTests(env: DockerEnv): void {
  const repository = 'example-app';
  const image = `${env.registryHost}/${repository}:smoke`;
  const basicAuth = `Basic ${Buffer.from(`${env.registryUser}:${env.registryPassword}`).toString('base64')}`;
  const version = `smoke-${process.pid}`;
  const containerName = `example-app-smoke-${process.pid}`;
  // Labelled per run, the image has a manifest digest of its own, so deleting that digest from the
  // registry afterwards cannot take away a tag another test pushed for the same build.
  const runLabel = `e2e.docker-smoke.run=${process.pid}-${Date.now()}`;
  let dockerConfig: string | undefined;
  let pushed = false;
  let containerStarted = false;

  afterAll(async () => {
    try {
      if (containerStarted) await runDocker(['rm', '--force', containerName]);
      // The pushed manifest goes too, so the registry holds nothing this test made.
      if (pushed) {
        const head = await fetch(`http://${env.registryHost}/v2/${repository}/manifests/smoke`, {
          method: 'HEAD',
          headers: {
            authorization: basicAuth,
            accept: 'application/vnd.docker.distribution.manifest.v2+json',
          },
        });
        const digest = head.headers.get('docker-content-digest');
        expect(digest).toMatch(/^sha256:/);
        const deleted = await fetch(`http://${env.registryHost}/v2/${repository}/manifests/${digest}`, {
          method: 'DELETE',
          headers: { authorization: basicAuth },
        });
        expect(deleted.status).toBe(202);
      }
      // Absent when the build failed; nothing else to remove then.
      await runDocker(['image', 'rm', '--force', image]).catch(() => undefined);
    } finally {
      if (dockerConfig) await rm(dockerConfig, { recursive: true, force: true });
      await env.stop();
    }
  }, 60_000);

  it('builds example-app from the local base image with npm ci against the mirror', async () => {
    await runDocker(
      [
        'build',
        '--network',
        'host',
        '--force-rm',
        '--label',
        runLabel,
        '--build-arg',
        `BASE_IMAGE=${env.baseImage}`,
        '--build-arg',
        `NPM_CONFIG_REGISTRY=${env.npmRegistry}`,
        '--tag',
        image,
        join(repoRoot, 'example-app'),
      ],
      { env: { DOCKER_BUILDKIT: '0' } },
    );
    const config = JSON.parse(
      await runDocker(['image', 'inspect', '--format', '{{json .Config}}', image]),
    ) as {
      ExposedPorts?: Record<string, object>;
    };
    expect(config).toMatchObject({ User: 'node', Cmd: ['node', 'app.js'], WorkingDir: '/app' });
    expect(config.ExposedPorts).toHaveProperty('8080/tcp');
  }, 300_000);

  it('pushes to the registry after a --password-stdin login, and the registry lists the tag', async () => {
    // A private client config, so the login neither reads nor changes the user's ~/.docker.
    dockerConfig = await mkdtemp(join(tmpdir(), 'docker-config-'));
    await runDocker(
      [
        '--config',
        dockerConfig,
        'login',
        '--username',
        env.registryUser,
        '--password-stdin',
        env.registryHost,
      ],
      { input: env.registryPassword },
    );
    await runDocker(['--config', dockerConfig, 'push', image]);
    pushed = true;

    const tagsUrl = `http://${env.registryHost}/v2/${repository}/tags/list`;
    expect((await fetch(tagsUrl)).status).toBe(401);
    const tags = await fetch(tagsUrl, { headers: { authorization: basicAuth } });
    expect(tags.status).toBe(200);
    expect(await tags.json()).toMatchObject({ name: repository, tags: expect.arrayContaining(['smoke']) });
  }, 120_000);

  it('runs on the host network, answers / and /health, passes its health check and stops on SIGTERM', async () => {
    const port = await freePort();
    await runDocker([
      'run',
      '--detach',
      '--network',
      'host',
      '--name',
      containerName,
      '--env',
      `PORT=${port}`,
      '--env',
      `APP_VERSION=${version}`,
      image,
    ]);
    containerStarted = true;

    const home = await getWhenUp(`http://127.0.0.1:${port}/`, 20_000);
    expect(home.status).toBe(200);
    expect(await home.text()).toBe(`Hello from ECS! version ${version}\n`);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', version });
    // The command task-definition.json gives ECS as the container health check.
    await runDocker(['exec', containerName, 'node', 'healthcheck.js']);

    // Exit code 0, not 137: the app shut down on SIGTERM instead of being killed after the timeout.
    await runDocker(['stop', '--time', '15', containerName]);
    expect((await runDocker(['inspect', '--format', '{{.State.ExitCode}}', containerName])).trim()).toBe('0');
  }, 120_000);
}

const title = 'example-app on the local Docker engine and registry';
if (docker) describe(title, () => smokeTests(docker));
else describe.skip(title, () => it('needs Docker: see the warning above', () => undefined));
