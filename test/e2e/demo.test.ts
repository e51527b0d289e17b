/**
 * `npm run demo -- --once` as a newcomer runs it (real Docker, registry, containers and load
 * balancer), and the demo load balancer's routing as CodeDeploy moves traffic (no Docker).
 */
import { describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateDeploymentCommand, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import {
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { chooseRoute, listenerRoutes, RUN_LABEL } from '../../emulator/runtime/index.js';
import { clients, fargateTaskDefinition } from '../emulator/clients.js';
import { parseEnvLines, repoRoot, runDocker } from '../support/docker.js';

const execFileAsync = promisify(execFile);
const DEMO_TIMEOUT_MS = 240_000;
const localDockerScript = path.join(repoRoot, 'scripts', 'local-docker.sh');

/** Why Docker cannot be had here, or undefined when `scripts/local-docker.sh up` brought it up. */
async function dockerUnavailable(): Promise<string | undefined> {
  try {
    await execFileAsync('bash', [localDockerScript, 'up', '--quiet'], {
      timeout: 15 * 60_000,
    });
    return undefined;
  } catch (error) {
    const { stderr = '', stdout = '' } = error as { stderr?: string; stdout?: string };
    return (stderr || stdout || (error as Error).message).trim();
  }
}

/** Skips the test (with a visible message) when Docker cannot be had, unless E2E_REQUIRE_DOCKER says it must. */
async function dockerOrSkip(test: string): Promise<boolean> {
  const unavailable = await dockerUnavailable();
  if (unavailable === undefined) return true;
  if (process.env.E2E_REQUIRE_DOCKER) throw new Error(`Docker is required here: ${unavailable}`);
  console.warn(
    `Skipping ${test}: Docker cannot be had here:\n${unavailable}\nSet E2E_REQUIRE_DOCKER=1 to make this an error.`,
  );
  return false;
}

function runDemo(extra: string[] = []): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', 'demo', '--', '--once', ...extra], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // SIGINT, so that even a demo that overruns removes what it started.
    const timer = setTimeout(() => child.kill('SIGINT'), DEMO_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The demo's `  prod: v1 90% | v2 10%` lines, as version → percent. */
function prodSamples(output: string): Record<string, number>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('  prod: '))
    .map((line) =>
      Object.fromEntries(
        line
          .slice('  prod: '.length)
          .split(' | ')
          .map((part) => {
            const [, name = part, percent = 'NaN'] = /^(.*) (\d+)%$/.exec(part) ?? [];
            return [name, Number(percent)];
          }),
      ),
    );
}

describe('npm run demo -- --once', () => {
  it('builds v1, serves it, deploys v2 while production moves over, ends on v2 and leaves no container', async () => {
    if (!(await dockerOrSkip('the demo test'))) return;

    const { code, output } = await runDemo();
    expect({ code, tail: code === 0 ? '' : output.slice(-5000) }).toEqual({ code: 0, tail: '' });

    const samples = prodSamples(output);
    expect(samples).toContainEqual({ v1: 100 });
    // Traffic moved: some bursts of requests were answered by both versions.
    expect(samples.filter((s) => (s.v1 ?? 0) > 0 && (s.v2 ?? 0) > 0).length).toBeGreaterThan(0);
    expect(samples.at(-1)).toEqual({ v2: 100 });
    expect(output).toMatch(
      /demo: v2 is live at http:\/\/127\.0\.0\.1:\d+ \(deployment d-[A-Z0-9]+, succeeded\)/,
    );
    // v2's migrations ran as a one-off task, their lines streamed, before v2 was deployed.
    expect(output).toMatch(
      /demo: v2's migrations ran as one-off task arn:aws:ecs:\S+:task\/\S+ \(exit code 0\)/,
    );
    expect(output).toContain('| migrate: example-app');
    // The smoke test hook checked the test listener before production moved.
    expect(output).toContain('the test listener answers "Hello from ECS! version v2": pass');
    // The registry password reaches the action only to be masked; the demo never prints it.
    expect(output).not.toMatch(/::add-mask::/);

    const runId = new RegExp(`containers are labelled ${RUN_LABEL}=(\\S+)`).exec(output)?.[1];
    expect(runId).toMatch(/^demo-[0-9a-f]+$/);
    expect(output).toContain(`removed the containers labelled ${RUN_LABEL}=${runId}`);
    const left = await runDocker(['ps', '--all', '--quiet', '--filter', `label=${RUN_LABEL}=${runId}`]);
    expect(left.trim()).toBe('');
  }, 300_000);
});

describe('npm run demo -- --once --strategy linear', () => {
  it('deploys v2 with an ECS-native LINEAR deployment: production moves step by step with the rule weights', async () => {
    if (!(await dockerOrSkip('the ECS-native demo test'))) return;

    const { code, output } = await runDemo(['--strategy', 'linear']);
    expect({ code, tail: code === 0 ? '' : output.slice(-5000) }).toEqual({ code: 0, tail: '' });
    for (const step of [20, 40, 60, 80]) {
      expect(output).toContain(`traffic: green ${step}% / blue ${100 - step}%`);
    }
    const samples = prodSamples(output);
    expect(samples).toContainEqual({ v1: 100 });
    expect(samples.filter((s) => (s.v1 ?? 0) > 0 && (s.v2 ?? 0) > 0).length).toBeGreaterThan(2);
    expect(samples.at(-1)).toEqual({ v2: 100 });
    expect(output).toMatch(
      /demo: v2 is live at http:\/\/127\.0\.0\.1:\d+ \(deployment arn:aws:ecs:us-east-1:\d{12}:service-deployment\/demo\/web\/[\w-]+, succeeded\)/,
    );
  }, 300_000);
});

describe('the demo load balancer', () => {
  it('chooses a route by weight, never one with weight 0', () => {
    const routes = [
      { name: 'blue', weight: 90 },
      { name: 'green', weight: 10 },
      { name: 'drained', weight: 0 },
    ];
    expect(chooseRoute(routes, 0)?.name).toBe('blue');
    expect(chooseRoute(routes, 0.89)?.name).toBe('blue');
    expect(chooseRoute(routes, 0.9)?.name).toBe('green');
    expect(chooseRoute(routes, 0.999)?.name).toBe('green');
    expect(chooseRoute([{ name: 'drained', weight: 0 }], 0.5)).toBeUndefined();
    expect(chooseRoute([], 0.5)).toBeUndefined();
  });

  describe('follows a CodeDeploy linear deployment (emulated clock, no containers)', () => {
    const SECOND = 1_000;
    const MINUTE = 60 * SECOND;
    let emulator: Emulator;

    /** Listener → [weight, the task definitions of the RUNNING tasks] per target group it forwards to. */
    const routes = () =>
      Object.fromEntries(
        (['production', 'test'] as const).map((listener) => [
          listener,
          listenerRoutes(emulator.state, 'demo', 'web', listener).map((r) => [
            r.weight,
            r.tasks.map((t) => t.taskDefinitionArn.split('/').at(-1)),
          ]),
        ]),
      );
    const v1 = ['app:1', 'app:1'];
    const v2 = ['app:2', 'app:2'];

    it('splits production by the traffic weight, and sends test traffic to the replacement after AllowTestTraffic', async () => {
      emulator = await startEmulator({
        manualClock: true,
        seed: {
          clusters: ['demo'],
          taskDefinitions: [fargateTaskDefinition('app', '127.0.0.1:5000/app:v1')],
          services: [
            {
              cluster: 'demo',
              serviceName: 'web',
              taskDefinition: 'app',
              desiredCount: 2,
              deploymentController: 'CODE_DEPLOY',
              launchType: 'FARGATE',
              loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
            },
          ],
          codedeploy: {
            applications: ['AppECS-demo-web'],
            deploymentGroups: [
              {
                application: 'AppECS-demo-web',
                name: 'DgpECS-demo-web',
                cluster: 'demo',
                service: 'web',
                deploymentConfigName: 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
                terminationWaitMinutes: 1,
              },
            ],
          },
        },
      });
      try {
        const { ecs, codedeploy } = clients(emulator);
        expect(routes()).toEqual({ production: [[100, v1]], test: [[100, v1]] });

        const td = await ecs.send(
          new RegisterTaskDefinitionCommand(fargateTaskDefinition('app', '127.0.0.1:5000/app:v2')),
        );
        const content = JSON.stringify({
          version: 0.0,
          Resources: [
            {
              TargetService: {
                Type: 'AWS::ECS::Service',
                Properties: {
                  TaskDefinition: td.taskDefinition?.taskDefinitionArn,
                  LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 },
                },
              },
            },
          ],
        });
        await codedeploy.send(
          new CreateDeploymentCommand({
            applicationName: 'AppECS-demo-web',
            deploymentGroupName: 'DgpECS-demo-web',
            revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
          }),
        );
        // Created, then Install: the replacement's tasks start; neither listener sends them traffic yet.
        emulator.clock.advance(1 * SECOND);
        expect(routes()).toEqual({
          production: [
            [100, v1],
            [0, []],
          ],
          test: [[100, v1]],
        });
        emulator.clock.advance(10 * SECOND);
        expect(routes()).toEqual({
          production: [
            [100, v1],
            [0, v2],
          ],
          test: [[100, v1]],
        });
        // AllowTestTraffic: the test listener moves to the replacement.
        emulator.clock.advance(2 * SECOND);
        expect(routes()).toEqual({
          production: [
            [100, v1],
            [0, v2],
          ],
          test: [[100, v2]],
        });
        // AllowTraffic: 10% at once, then 10% more every minute.
        emulator.clock.advance(2 * SECOND);
        expect(routes().production).toEqual([
          [90, v1],
          [10, v2],
        ]);
        emulator.clock.advance(3 * MINUTE);
        expect(routes().production).toEqual([
          [60, v1],
          [40, v2],
        ]);
        // All traffic moved; the original still runs through the termination wait.
        emulator.clock.advance(6 * MINUTE);
        expect(routes()).toEqual({
          production: [
            [0, v1],
            [100, v2],
          ],
          test: [[100, v2]],
        });
        // Succeeded: the original is gone and the replacement is the service.
        emulator.clock.advance(1 * MINUTE + 10 * SECOND);
        expect(routes()).toEqual({ production: [[100, v2]], test: [[100, v2]] });
      } finally {
        await emulator.stop();
      }
    });
  });

  it('sends production traffic to the old and new tasks of a rolling update as it replaces them', async () => {
    const emulator = await startEmulator({
      manualClock: true,
      seed: {
        clusters: ['demo'],
        taskDefinitions: [fargateTaskDefinition('app', '127.0.0.1:5000/app:v1')],
        services: [
          {
            cluster: 'demo',
            serviceName: 'web',
            taskDefinition: 'app',
            desiredCount: 2,
            launchType: 'FARGATE',
            loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
            deploymentConfiguration: { maximumPercent: 150, minimumHealthyPercent: 100 },
          },
        ],
      },
    });
    const production = () =>
      listenerRoutes(emulator.state, 'demo', 'web', 'production').map((r) => [
        r.weight,
        r.tasks.map((t) => t.taskDefinitionArn.split('/').at(-1)).sort(),
      ]);
    try {
      const { ecs } = clients(emulator);
      expect(production()).toEqual([[100, ['app:1', 'app:1']]]);
      const td = await ecs.send(
        new RegisterTaskDefinitionCommand(fargateTaskDefinition('app', '127.0.0.1:5000/app:v2')),
      );
      await ecs.send(
        new UpdateServiceCommand({
          cluster: 'demo',
          service: 'web',
          taskDefinition: td.taskDefinition?.taskDefinitionArn,
        }),
      );
      // One new task at a time (maximum 150%); it gets requests only once RUNNING.
      expect(production()).toEqual([[100, ['app:1', 'app:1']]]);
      // It runs: an old task stops (and gets no new requests while it drains), the next new one starts.
      emulator.clock.advance(10_000);
      expect(production()).toEqual([[100, ['app:1', 'app:2']]]);
      // The stopped task's place frees up, the second new task starts and runs, the last old one goes.
      emulator.clock.advance(20_000);
      expect(production()).toEqual([[100, ['app:2', 'app:2']]]);
    } finally {
      await emulator.stop();
    }
  });
});

describe('the demo runtime', () => {
  /** A stand-in app on the base image: answers `version $APP_VERSION` on $PORT, /health included. */
  const server = [
    'node',
    '-e',
    "require('http').createServer((q, s) => s.end('version ' + process.env.APP_VERSION)).listen(process.env.PORT)",
  ];
  const taskDefinition = (image: string, version: string, command: string[]) =>
    fargateTaskDefinition('app', image, {
      containerDefinitions: [
        {
          name: 'web',
          image,
          command,
          portMappings: [{ containerPort: 8080 }],
          environment: [{ name: 'APP_VERSION', value: version }],
        },
      ],
    });

  async function eventually<T>(what: string, get: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const value = await get();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('serves healthy containers; a container that exits fails the deployment with its exit code; stop removes them all', async () => {
    if (!(await dockerOrSkip('the demo runtime test'))) return;
    const image = parseEnvLines((await execFileAsync('bash', [localDockerScript, 'env'])).stdout)
      .BASE_IMAGE as string;
    const emulator = await startEmulator({
      speed: 60,
      runtime: { loadBalancer: { cluster: 'demo', service: 'web' } },
      seed: {
        clusters: ['demo'],
        taskDefinitions: [taskDefinition(image, 'v1', server)],
        services: [
          {
            cluster: 'demo',
            serviceName: 'web',
            taskDefinition: 'app',
            desiredCount: 2,
            deploymentController: 'CODE_DEPLOY',
            launchType: 'FARGATE',
            loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
          },
        ],
        codedeploy: {
          applications: ['AppECS-demo-web'],
          deploymentGroups: [
            { application: 'AppECS-demo-web', name: 'DgpECS-demo-web', cluster: 'demo', service: 'web' },
          ],
        },
      },
    });
    const runId = emulator.runtime?.runId as string;
    try {
      const production = emulator.runtime?.loadBalancer?.productionUrl as string;
      const answer = () => fetch(production).then(async (r) => `${r.status} ${await r.text()}`);
      await eventually('production', answer, (a) => a === '200 version v1');

      const { ecs, codedeploy } = clients(emulator);
      const broken = await ecs.send(
        new RegisterTaskDefinitionCommand(taskDefinition(image, 'v2', ['node', '-e', 'process.exit(3)'])),
      );
      const content = JSON.stringify({
        version: 0.0,
        Resources: [
          {
            TargetService: {
              Type: 'AWS::ECS::Service',
              Properties: {
                TaskDefinition: broken.taskDefinition?.taskDefinitionArn,
                LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 },
              },
            },
          },
        ],
      });
      const { deploymentId } = await codedeploy.send(
        new CreateDeploymentCommand({
          applicationName: 'AppECS-demo-web',
          deploymentGroupName: 'DgpECS-demo-web',
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
        }),
      );
      const failed = await eventually(
        'the deployment',
        async () => (await codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo,
        (d) => d?.status !== 'Created' && d?.status !== 'InProgress',
      );
      expect(failed?.status).toBe('Failed');
      expect(failed?.errorInformation).toMatchObject({
        code: 'ECS_UPDATE_ERROR',
        message: expect.stringContaining('Essential container in task exited'),
      });
      const stopped = await ecs.send(new ListTasksCommand({ cluster: 'demo', desiredStatus: 'STOPPED' }));
      const { tasks = [] } = await ecs.send(
        new DescribeTasksCommand({ cluster: 'demo', tasks: stopped.taskArns }),
      );
      // Those still starting when Install failed were stopped with the replacement task set.
      const crashed = tasks.filter(
        (t) =>
          t.taskDefinitionArn === broken.taskDefinition?.taskDefinitionArn &&
          t.stopCode === 'EssentialContainerExited',
      );
      expect(crashed.length).toBeGreaterThanOrEqual(3);
      for (const t of crashed) {
        expect(t.stoppedReason).toBe('Essential container in task exited');
        expect(t.containers?.[0]?.exitCode).toBe(3);
      }
      expect(await answer()).toBe('200 version v1');
    } finally {
      await emulator.stop();
    }
    const left = await runDocker(['ps', '--all', '--quiet', '--filter', `label=${RUN_LABEL}=${runId}`]);
    expect(left.trim()).toBe('');
  }, 120_000);
});
