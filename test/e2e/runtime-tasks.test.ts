/**
 * The demo runtime's one-off tasks and CloudWatch Logs with real containers: RunTask starts a real
 * container with the overridden command and environment, its exit code is the task's, and what it
 * printed (docker logs, with Docker's timestamps) is what GetLogEvents returns from the stream ECS
 * names. Needs the local Docker engine (run under the e2e lock).
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, RunTaskCommand, StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { startEmulator } from '../../emulator/index.js';
import { awsvpc, clients, fargateTaskDefinition } from '../emulator/clients.js';
import { parseEnvLines, repoRoot } from '../support/docker.js';

const execFileAsync = promisify(execFile);
const localDockerScript = path.join(repoRoot, 'scripts', 'local-docker.sh');

/** The base image, or undefined (with a visible warning) when Docker cannot be had here. */
async function baseImageOrSkip(): Promise<string | undefined> {
  try {
    await execFileAsync('bash', [localDockerScript, 'up', '--quiet'], { timeout: 15 * 60_000 });
    return parseEnvLines((await execFileAsync('bash', [localDockerScript, 'env'])).stdout).BASE_IMAGE;
  } catch (error) {
    if (process.env.E2E_REQUIRE_DOCKER) throw error;
    console.warn(`Skipping the runtime task tests: Docker cannot be had here: ${(error as Error).message}`);
    return undefined;
  }
}

async function eventually<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what} did not settle within 60 s: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('one-off tasks as real containers', () => {
  it('runs the overridden command; its exit code and printed lines are the task’s; StopTask stops a running one', async () => {
    const image = await baseImageOrSkip();
    if (!image) return;
    const emulator = await startEmulator({
      speed: 60,
      runtime: { stopTimeoutSeconds: 1 },
      seed: {
        clusters: ['demo'],
        taskDefinitions: [
          fargateTaskDefinition('job', image, {
            containerDefinitions: [
              {
                name: 'app',
                image,
                essential: true,
                portMappings: [{ containerPort: 8080, protocol: 'tcp' }],
                environment: [{ name: 'WHO', value: 'definition' }],
                logConfiguration: {
                  logDriver: 'awslogs',
                  options: {
                    'awslogs-group': '/ecs/job',
                    'awslogs-region': 'us-east-1',
                    'awslogs-stream-prefix': 'job',
                  },
                },
              },
            ],
          }),
        ],
      },
    });
    const runId = emulator.runtime?.runId as string;
    try {
      const { ecs } = clients(emulator);
      const logs = new CloudWatchLogsClient({
        endpoint: emulator.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
      const run = (command: string[]) =>
        ecs.send(
          new RunTaskCommand({
            cluster: 'demo',
            taskDefinition: 'job',
            launchType: 'FARGATE',
            networkConfiguration: awsvpc,
            overrides: {
              containerOverrides: [
                { name: 'app', command, environment: [{ name: 'WHO', value: 'override' }] },
              ],
            },
          }),
        );
      const describeTask = async (arn: string) =>
        (await ecs.send(new DescribeTasksCommand({ cluster: 'demo', tasks: [arn] }))).tasks?.[0] as Task;
      const printed = async (arn: string) => {
        const out = await logs.send(
          new GetLogEventsCommand({
            logGroupName: '/ecs/job',
            logStreamName: `job/app/${arn.split('/').pop()}`,
            startFromHead: true,
          }),
        );
        return out.events ?? [];
      };

      const failing = await run([
        'node',
        '-e',
        'console.log("migrating 001 as " + process.env.WHO); console.error("error: table exists"); process.exit(4)',
      ]);
      const failingArn = failing.tasks?.[0]?.taskArn as string;
      const stopped = await eventually(
        'the migration',
        () => describeTask(failingArn),
        (t) => t.lastStatus === 'STOPPED',
      );
      expect(stopped).toMatchObject({
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        containers: [expect.objectContaining({ name: 'app', exitCode: 4 })],
      });
      const events = await printed(failingArn);
      expect(events.map((e) => e.message)).toEqual(['migrating 001 as override', 'error: table exists']);
      expect(
        events.every((e) => typeof e.timestamp === 'number' && e.timestamp <= emulator.clock.now()),
      ).toBe(true);

      const sleeper = await run(['node', '-e', 'console.log("waiting"); setInterval(() => {}, 1000)']);
      const sleeperArn = sleeper.tasks?.[0]?.taskArn as string;
      await eventually(
        'the long task',
        () => describeTask(sleeperArn),
        (t) => t.lastStatus === 'RUNNING',
      );
      await eventually(
        'its first line',
        () => printed(sleeperArn),
        (e) => e.length === 1,
      );
      await ecs.send(new StopTaskCommand({ cluster: 'demo', task: sleeperArn, reason: 'cancelled' }));
      const cancelled = await eventually(
        'the stop',
        () => describeTask(sleeperArn),
        (t) => t.lastStatus === 'STOPPED',
      );
      expect(cancelled).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'cancelled' });
    } finally {
      await emulator.stop();
    }
    const { stdout } = await execFileAsync('docker', [
      'ps',
      '-aq',
      '--filter',
      `label=ecs-deploy-demo=${runId}`,
    ]);
    expect(stdout.trim()).toBe('');
  }, 180_000);
});
