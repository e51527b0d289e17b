/**
 * Injected faults: the built action (dist/index.js), run as the runner runs it, against the
 * local AWS endpoint while it throttles, fails, drops connections, answers slowly, fails a
 * lifecycle hook, crashes tasks, runs out of time, is cancelled, or is deployed to by two
 * runs at once. Each test checks the outcome and the message, and that production is not
 * left half-changed: a failed deployment leaves the service on its previous task
 * definition, nothing stays in progress, no process of the run stays behind, and no secret
 * shows.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { BatchDeleteImageCommand, DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startEmulator, type CallRecord, type Emulator } from '../../emulator/index.js';
import { ensureDocker, type DockerEnv } from '../support/docker.js';
import { runAction, runPost, type ActionRun } from './support/action.js';
import {
  activeDeployments,
  type CommandLineWatch,
  processesIn,
  runSecrets,
  type Secret,
  secretLeaks,
  watchCommandLines,
} from './support/secrets.js';
import { ACCOUNT, awsEnv, CLUSTER, CREDENTIALS, REGION, seed, serviceState } from './support/world.js';

const SPEED = 60;
/** One commit per suite run, so that the immutable repository starts without its tag. */
const SHA = randomBytes(20).toString('hex');
const IMMUTABLE_REPOSITORY = 'example-immutable';
/** A second run's own key pair, so that the call log tells the two runs apart. */
const OTHER_CREDENTIALS = { accessKeyId: 'AKIDE2EOTHER', secretAccessKey: 'e2e-other-secret-key' };

let docker: DockerEnv | undefined;
let emulator: Emulator;
let workspace: string;
let commandLines: CommandLineWatch;
let secrets: Secret[] = [];
/** Each run's RUNNER_TEMP, removed at the end: the docker credential store of a run that logged in is there. */
const runnerTemps: string[] = [];
/** Without Docker an image that is never pulled: the endpoint runs no containers. */
let image = '127.0.0.1:5000/example-app:v0';

/** A checkout: the example app's source, task definition and appspec. */
async function makeWorkspace(): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'ecs-deploy-faults-')));
  await cp(path.resolve('example-app'), path.join(dir, 'example-app'), {
    recursive: true,
    filter: (src) => !/\/example-app\/(node_modules|infra)(\/|$)/.test(src),
  });
  return dir;
}

const buildInputs = (d: DockerEnv) => ({
  'ecr-repository': IMMUTABLE_REPOSITORY,
  context: 'example-app',
  'build-args': `BASE_IMAGE=${d.baseImage}\nNPM_CONFIG_REGISTRY=${d.npmRegistry}`,
  network: 'host',
});

const blueGreen = (extra: Record<string, string> = {}) => ({
  'task-definition': 'example-app/task-definition.json',
  'codedeploy-appspec': 'example-app/appspec.yaml',
  cluster: CLUSTER,
  service: 'web',
  image,
  'poll-interval-seconds': '1',
  ...extra,
});

const rolling = (extra: Record<string, string> = {}) =>
  blueGreen({
    'codedeploy-appspec': '',
    'task-definition-family': 'example-rolling',
    service: 'rolling',
    ...extra,
  });

beforeAll(async () => {
  docker = await ensureDocker();
  workspace = await makeWorkspace();
  secrets = [
    ...runSecrets(docker),
    { name: 'other AWS secret key', value: OTHER_CREDENTIALS.secretAccessKey },
  ];
  commandLines = watchCommandLines(secrets);
  emulator = await startEmulator({
    region: REGION,
    accountId: ACCOUNT,
    credentials: [CREDENTIALS, OTHER_CREDENTIALS],
    speed: SPEED,
    seed: { ...seed(), repositories: [{ name: IMMUTABLE_REPOSITORY, imageTagMutability: 'IMMUTABLE' }] },
    registry: docker
      ? { host: docker.registryHost, username: docker.registryUser, password: docker.registryPassword }
      : undefined,
  });
  if (docker) {
    const built = await run({ ...blueGreen({ image: '' }), ...buildInputs(docker), 'deploy-mode': 'none' });
    if (built.code !== 0) throw new Error(`Building the image failed:\n${built.stdout.slice(-4000)}`);
    image = built.outputs['image-uri'] as string;
  }
}, 300_000);

afterAll(async () => {
  await commandLines?.stop();
  // The registry outlives the emulator: take this run's image out of it again.
  if (docker && emulator) await deletePushedImage();
  await emulator?.stop();
  await docker?.stop();
  for (const dir of [workspace, ...runnerTemps]) if (dir) await rm(dir, { recursive: true, force: true });
});

async function deletePushedImage(): Promise<void> {
  const ecr = new ECRClient({ endpoint: emulator.url, region: REGION, credentials: CREDENTIALS });
  const repositoryName = IMMUTABLE_REPOSITORY;
  const described = await ecr
    .send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: SHA }] }))
    .catch(() => undefined);
  const imageDigest = described?.imageDetails?.[0]?.imageDigest;
  if (imageDigest)
    await ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest }] }));
}

beforeEach(() => {
  emulator.faults.clear();
  emulator.clock.speed = SPEED;
  // Lets what an earlier test left to AWS (a rollback, a draining task set) finish, as an
  // hour would, so each test starts from a settled service.
  emulator.clock.advance(60 * 60_000);
});

/** Runs the built action; what it printed and wrote must hold no secret. */
async function run(
  inputs: Record<string, string>,
  opts: { env?: Record<string, string | undefined>; onStart?: (child: ChildProcess) => void } = {},
): Promise<ActionRun> {
  const r = await runAction({
    inputs,
    workspace,
    sha: SHA,
    env: { ...awsEnv(emulator), ...opts.env },
    onStart: opts.onStart,
    timeoutMs: 120_000,
  });
  runnerTemps.push(r.runnerTemp);
  expect(await secretLeaks(r, secrets)).toEqual([]);
  return r;
}

/** Makes a failing expectation show what the action printed. */
function outcome(r: ActionRun) {
  return { code: r.code, errors: r.errors, log: r.code === 0 ? '' : r.stdout.slice(-4000) };
}

/** Each attempt of an operation in order: its error type, or the HTTP status (0: the connection was dropped). */
function attempts(calls: CallRecord[], operation: string): (string | number)[] {
  return calls.filter((c) => c.operation === operation).map((c) => c.errorType ?? c.status);
}

const failedTimes = (n: number, what: string | number) => Array<string | number>(n).fill(what);

/** The deployment's status in the emulator, as CodeDeploy reports it. */
const codeDeployStatus = (id: string | undefined) =>
  id === undefined ? undefined : emulator.state.codedeploy.deployments.get(id)?.status;

/**
 * Waits (real time, the clock running at `speed`) until no deployment is in progress:
 * rollbacks AWS runs on its own after a failure end too. Then no process of the run may
 * be left in the workspace.
 */
async function expectNothingLeftRunning(withinMs = 20_000): Promise<void> {
  emulator.clock.speed = SPEED;
  const deadline = Date.now() + withinMs;
  while (activeDeployments(emulator).length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(activeDeployments(emulator)).toEqual([]);
  expect(await processesIn(workspace)).toEqual([]);
}

/** Resolves once `condition` holds (checked every 20 ms), or after `withinMs` regardless. */
function when(condition: () => boolean, withinMs = 60_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (condition() || Date.now() > deadline) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
}

const called = (matches: (call: CallRecord) => boolean) => () => emulator.calls.some(matches);

describe('transient AWS faults are survived', () => {
  it('throttling bursts on several operations: retried, every attempt in the call log', async () => {
    const burst = { DescribeServices: 1, RegisterTaskDefinition: 2, CreateDeployment: 1, GetDeployment: 2 };
    for (const [operation, n] of Object.entries(burst)) emulator.faults.throttle(operation, n);
    const from = emulator.calls.length;
    const r = await run(blueGreen());
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.outputs['deployment-outcome']).toBe('succeeded');
    const calls = emulator.calls.slice(from);
    for (const [operation, n] of Object.entries(burst)) {
      expect([operation, attempts(calls, operation).slice(0, n + 1)]).toEqual([
        operation,
        [...failedTimes(n, 'ThrottlingException'), 200],
      ]);
    }
    // Retried, not repeated: one task definition, one deployment.
    expect(attempts(calls, 'RegisterTaskDefinition').filter((a) => a === 200)).toHaveLength(1);
    expect(attempts(calls, 'CreateDeployment').filter((a) => a === 200)).toHaveLength(1);
    await expectNothingLeftRunning();
  }, 120_000);

  it('5xx answers (ServiceUnavailable, InternalFailure): retried to success', async () => {
    emulator.faults.serverError('RegisterTaskDefinition', 2, 503);
    emulator.faults.serverError('CreateDeployment', 1, 503);
    // The watch's first read is the deployment itself (one call per poll, nextRead).
    emulator.faults.serverError('GetDeployment', 2, 500);
    const from = emulator.calls.length;
    const r = await run(blueGreen());
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    const calls = emulator.calls.slice(from);
    expect(attempts(calls, 'RegisterTaskDefinition')).toEqual([
      'ServiceUnavailable',
      'ServiceUnavailable',
      200,
    ]);
    expect(attempts(calls, 'CreateDeployment')).toEqual(['ServiceUnavailable', 200]);
    expect(attempts(calls, 'GetDeployment').slice(0, 3)).toEqual(['InternalFailure', 'InternalFailure', 200]);
    await expectNothingLeftRunning();
  }, 60_000);

  it('dropped connections: retried, and the dropped calls were never carried out twice', async () => {
    emulator.faults.dropConnection('RegisterTaskDefinition', 1);
    emulator.faults.dropConnection('CreateDeployment', 1);
    emulator.faults.dropConnection('GetDeployment', 2);
    const from = emulator.calls.length;
    const before = emulator.state.codedeploy.deployments.size;
    const r = await run(blueGreen());
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    const calls = emulator.calls.slice(from);
    expect(attempts(calls, 'RegisterTaskDefinition')).toEqual([0, 200]);
    expect(attempts(calls, 'CreateDeployment')).toEqual([0, 200]);
    expect(attempts(calls, 'GetDeployment').slice(0, 3)).toEqual([0, 0, 200]);
    expect(emulator.state.codedeploy.deployments.size).toBe(before + 1);
    await expectNothingLeftRunning();
  }, 60_000);

  it('slow answers: waited for, not timed out', async () => {
    emulator.faults.latency('DescribeServices', 2000, 1);
    emulator.faults.latency('RegisterTaskDefinition', 1500, 1);
    emulator.faults.latency('GetDeployment', 1000, 2);
    const started = Date.now();
    const r = await run(blueGreen());
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.outputs['deployment-outcome']).toBe('succeeded');
    expect(Date.now() - started).toBeGreaterThanOrEqual(5500);
    await expectNothingLeftRunning();
  }, 60_000);

  it('throttled GetDeployment during the watch, past the SDK’s own retries: the watch polls on', async () => {
    // max-retries 1: two attempts per call, so four throttles fail two polls outright.
    emulator.faults.throttle('GetDeployment', 4);
    const from = emulator.calls.length;
    const r = await run(blueGreen({ 'max-retries': '1' }));
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.outputs['deployment-outcome']).toBe('succeeded');
    expect(attempts(emulator.calls.slice(from), 'GetDeployment').slice(0, 5)).toEqual([
      ...failedTimes(4, 'ThrottlingException'),
      200,
    ]);
    expect(
      r.stdout.match(/^::warning::Polling failed for now, trying again: ThrottlingException/gm),
    ).toHaveLength(2);
    await expectNothingLeftRunning();
  }, 60_000);
});

describe('failed deployments leave production on the previous version', () => {
  it('a lifecycle hook fails: its message is shown, the deployment rolled back', async () => {
    const before = (await serviceState(emulator, 'web'))?.taskDefinition;
    emulator.faults.failLifecycleEvent('AfterAllowTestTraffic', 'smoke test: GET /health returned 503');
    const r = await run(blueGreen());
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('failed');
    const id = r.outputs['codedeploy-deployment-id'];
    // One annotation, the cause first: the hook, its function and its own words.
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      /^The AfterAllowTestTraffic hook example-app-smoke-test failed: smoke test: GET \/health returned 503; production still serves /,
    );
    expect(r.stdout).toContain('smoke test: GET /health returned 503');
    expect(r.summary).toContain('smoke test: GET /health returned 503');
    expect(codeDeployStatus(id)).toBe('Failed');
    expect((await serviceState(emulator, 'web'))?.taskDefinition).toBe(before);
    await expectNothingLeftRunning();
    expect((await serviceState(emulator, 'web'))?.taskDefinition).toBe(before);
  }, 60_000);

  it('crashing green tasks in blue/green: the stopped tasks’ reason is shown, the old tasks keep serving', async () => {
    const before = (await serviceState(emulator, 'web'))?.taskDefinition;
    const reason = 'CannotPullContainerError: pull image manifest has been retried 5 time(s)';
    emulator.faults.crashTasks('example-app', reason);
    const r = await run(blueGreen());
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('failed');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^\d+ new tasks? of example-app:\d+ stopped: /);
    expect(r.errors.join('\n')).toContain(reason);
    expect(codeDeployStatus(r.outputs['codedeploy-deployment-id'])).toBe('Failed');
    expect((await serviceState(emulator, 'web'))?.taskDefinition).toBe(before);
    await expectNothingLeftRunning();
    expect((await serviceState(emulator, 'web'))?.taskDefinition).toBe(before);
  }, 60_000);

  it('crashing tasks in a rolling update: the circuit breaker’s rollback is a failure, with the stoppedReason', async () => {
    const before = (await serviceState(emulator, 'rolling'))?.taskDefinition;
    const reason = 'Essential container in task exited: node: exec format error';
    emulator.faults.crashTasks('example-rolling', reason);
    const r = await run(rolling());
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('failed');
    const shown = `${r.errors.join('\n')}\n${r.summary}`;
    expect(shown).toMatch(/circuit breaker/i);
    expect(shown).toContain(reason);
    const svc = await serviceState(emulator, 'rolling');
    expect(svc?.taskDefinition).toBe(before);
    expect(svc?.deployments?.find((d) => d.id === r.outputs['ecs-deployment-id'])?.rolloutState).not.toBe(
      'IN_PROGRESS',
    );
    await expectNothingLeftRunning();
    expect((await serviceState(emulator, 'rolling'))?.taskDefinition).toBe(before);
  }, 60_000);

  it('the wait runs out: StopDeployment with rollback, and the deployment ends Stopped', async () => {
    emulator.clock.speed = 1;
    const before = (await serviceState(emulator, 'slow'))?.taskDefinition;
    const from = emulator.calls.length;
    // Once stopped, the rollback the action follows to its end runs at the usual speed.
    const speedUp = setInterval(() => {
      if (emulator.calls.slice(from).some((c) => c.operation === 'StopDeployment'))
        emulator.clock.speed = SPEED;
    }, 50);
    const r = await run(blueGreen({ service: 'slow', 'wait-for-minutes': '0.05' })).finally(() =>
      clearInterval(speedUp),
    );
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('timed-out');
    const id = r.outputs['codedeploy-deployment-id'] as string;
    expect(r.errors.join('\n')).toContain(`CodeDeploy deployment ${id} did not finish within 3 s`);
    expect(r.errors.join('\n')).toContain('Stopped it with rollback');
    const stops = emulator.calls.slice(from).filter((c) => c.operation === 'StopDeployment');
    expect(stops.map((c) => [c.input, c.status])).toEqual([
      [{ deploymentId: id, autoRollbackEnabled: true }, 200],
    ]);
    expect(codeDeployStatus(id)).toBe('Stopped');
    await expectNothingLeftRunning();
    expect((await serviceState(emulator, 'slow'))?.taskDefinition).toBe(before);
  }, 60_000);

  it('cancelled mid-deployment (SIGINT, as the runner sends it): the post step stops it with rollback', async () => {
    emulator.clock.speed = 1;
    const before = (await serviceState(emulator, 'slow'))?.taskDefinition;
    const earlier = new Set(emulator.state.codedeploy.deployments.keys());
    const r = await run(blueGreen({ service: 'slow' }), {
      onStart: (child) =>
        void when(() =>
          [...emulator.state.codedeploy.deployments.values()].some(
            (d) => !earlier.has(d.deploymentId) && d.status === 'InProgress',
          ),
        ).then(() => child.kill('SIGINT')),
    });
    expect(r.code).toBe(1);
    const id = r.outputs['codedeploy-deployment-id'] as string;
    expect(JSON.parse(r.state.deployment as string)).toMatchObject({ kind: 'codedeploy', id });
    expect(r.state.settled).toBeUndefined();
    expect(codeDeployStatus(id)).toBe('InProgress');

    const post = await runPost(r, { workspace, env: awsEnv(emulator) });
    runnerTemps.push(post.runnerTemp);
    expect(post.code).toBe(0);
    expect(await secretLeaks(post, secrets)).toEqual([]);
    expect(post.stdout).toContain(`CodeDeploy deployment ${id} was InProgress: stopped it with rollback`);
    const stop = emulator.calls.filter((c) => c.operation === 'StopDeployment').at(-1);
    expect(stop?.input).toEqual({ deploymentId: id, autoRollbackEnabled: true });
    expect(codeDeployStatus(id)).toBe('Stopped');
    await expectNothingLeftRunning();
    expect((await serviceState(emulator, 'slow'))?.taskDefinition).toBe(before);
  }, 60_000);
});

describe('cancelled during docker build', () => {
  /**
   * A build context whose build takes half a minute (a fresh nonce defeats the layer cache),
   * so the signal surely arrives while `docker build` runs.
   */
  async function slowContext(): Promise<string> {
    const dir = path.join(workspace, 'slow-build');
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'Dockerfile'),
      'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG NONCE\nRUN echo "$NONCE" && sleep 30\n',
    );
    return 'slow-build';
  }

  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s during the build: the build is killed, no AWS change follows, the post step has nothing to stop',
    async (signal) => {
      if (!docker) throw new Error('This test needs Docker (scripts/local-docker.sh).');
      const context = await slowContext();
      let killedAt = 0;
      const started = Date.now();
      const r = await runAction({
        inputs: blueGreen({
          image: '',
          'ecr-repository': IMMUTABLE_REPOSITORY,
          context,
          'build-args': `BASE_IMAGE=${docker.baseImage}\nNONCE=${randomBytes(8).toString('hex')}`,
          network: 'host',
        }),
        workspace,
        // A tag of its own: the immutable repository must not already hold it.
        sha: randomBytes(20).toString('hex'),
        env: awsEnv(emulator),
        timeoutMs: 120_000,
        onStart: (child) => {
          let seen = '';
          child.stdout?.on('data', (b: Buffer) => {
            seen += b.toString();
            if (killedAt === 0 && /\[command\]docker (buildx )?build/.test(seen)) {
              killedAt = Date.now();
              // Let the build get going (context sent, the slow step started), then cancel.
              setTimeout(() => child.kill(signal), 1_500);
            }
          });
        },
      });
      runnerTemps.push(r.runnerTemp);
      expect(killedAt).toBeGreaterThan(0);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toContain(`The run was cancelled (${signal})`);
      // Ended well before the 30 s build would have: the docker child was killed, not awaited.
      expect(Date.now() - started).toBeLessThan(25_000 + (killedAt - started));
      const after = emulator.mutatingCalls().filter((c) => c.at >= killedAt);
      expect(after.map((c) => c.operation)).toEqual([]);
      expect(r.outputs['task-definition-arn']).toBeUndefined();
      expect(r.state.deployment).toBeUndefined();

      const post = await runPost(r, { workspace, env: awsEnv(emulator) });
      runnerTemps.push(post.runnerTemp);
      expect(post.code).toBe(0);
      expect(emulator.mutatingCalls().filter((c) => c.at >= killedAt)).toEqual([]);
      expect(await processesIn(workspace)).toEqual([]);
    },
    120_000,
  );
});

describe('two runs against the same deployment group at once', () => {
  /**
   * Starts run A on the slow service and, once A's deployment is created, run B with its own
   * key pair. Emulated time almost stands still until B has tried to create its deployment,
   * so B meets A's deployment still active however long B takes to get there.
   */
  async function concurrently(
    waitMinutes: string,
  ): Promise<{ a: ActionRun; b: ActionRun; bCalls: CallRecord[]; bChanges: string[] }> {
    const started = Date.now();
    const byB = (c: CallRecord) => c.at >= started && c.accessKeyId === OTHER_CREDENTIALS.accessKeyId;
    const a = run(blueGreen({ service: 'slow' }));
    await when(called((c) => c.at >= started && c.operation === 'CreateDeployment'));
    emulator.clock.speed = 0.001;
    void when(called((c) => byB(c) && c.operation === 'CreateDeployment')).then(() => {
      emulator.clock.speed = SPEED;
    });
    const b = await run(blueGreen({ service: 'slow', 'wait-for-active-deployment-minutes': waitMinutes }), {
      env: {
        AWS_ACCESS_KEY_ID: OTHER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: OTHER_CREDENTIALS.secretAccessKey,
      },
    });
    emulator.clock.speed = SPEED;
    const bCalls = emulator.calls.filter(byB);
    const mutating = new Set(emulator.mutatingCalls());
    return { a: await a, b, bCalls, bChanges: bCalls.filter((c) => mutating.has(c)).map((c) => c.operation) };
  }

  it('the second waits for the first deployment to end, then deploys', async () => {
    const { a, b, bCalls } = await concurrently('5');
    expect(outcome(a)).toEqual({ code: 0, errors: [], log: '' });
    expect(outcome(b)).toEqual({ code: 0, errors: [], log: '' });
    const first = a.outputs['codedeploy-deployment-id'] as string;
    const second = b.outputs['codedeploy-deployment-id'] as string;
    expect(attempts(bCalls, 'CreateDeployment')).toEqual(['DeploymentLimitExceededException', 200]);
    expect(b.stdout).toContain(`Deployment group DgpECS-demo-slow is busy with deployment ${first}`);
    const deployments = emulator.state.codedeploy.deployments;
    expect([codeDeployStatus(first), codeDeployStatus(second)]).toEqual(['Succeeded', 'Succeeded']);
    expect(deployments.get(second)!.createTime.getTime()).toBeGreaterThanOrEqual(
      deployments.get(first)!.completeTime!.getTime(),
    );
    expect((await serviceState(emulator, 'slow'))?.taskDefinition).toBe(b.outputs['task-definition-arn']);
    await expectNothingLeftRunning();
  }, 120_000);

  it('with wait-for-active-deployment-minutes 0 the second fails at once, naming the active deployment', async () => {
    const { a, b, bCalls, bChanges } = await concurrently('0');
    expect(outcome(a)).toEqual({ code: 0, errors: [], log: '' });
    const first = a.outputs['codedeploy-deployment-id'] as string;
    expect(b.code).toBe(1);
    expect(b.errors.join('\n')).toContain(
      `CodeDeploy deployment group 'DgpECS-demo-slow' already has an active deployment ${first}`,
    );
    expect(b.errors.join('\n')).toMatch(/Fix: .*raise wait-for-active-deployment-minutes/);
    // The second run registered its revision and then changed nothing more.
    expect(bChanges).toEqual(['RegisterTaskDefinition', 'CreateDeployment']);
    expect(attempts(bCalls, 'CreateDeployment')).toEqual(['DeploymentLimitExceededException']);
    expect(b.outputs['codedeploy-deployment-id']).toBeUndefined();
    expect((await serviceState(emulator, 'slow'))?.taskDefinition).toBe(a.outputs['task-definition-arn']);
    await expectNothingLeftRunning();
  }, 120_000);
});

describe('re-running the same commit', () => {
  it('deploys the same image again with the same rendered files, and succeeds each time', async () => {
    const inputs = docker ? blueGreen({ image: '', ...buildInputs(docker) }) : blueGreen();
    const runs = [await run(inputs), await run(inputs)];
    for (const r of runs) {
      expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
      expect(r.outputs['deployment-outcome']).toBe('succeeded');
      expect(r.outputs['image-uri']).toBe(image);
      // The commit was built in beforeAll: its image is reused, never rebuilt over the immutable tag.
      if (docker) expect(r.stdout).toContain(`${image} already exists in the immutable repository`);
    }
    const [first, second] = runs as [ActionRun, ActionRun];
    const rendered = async (r: ActionRun, output: string) => readFile(r.outputs[output] as string, 'utf8');
    for (const output of ['task-definition-path', 'imagedefinitions-path', 'imagedetail-path']) {
      expect([output, await rendered(second, output)]).toEqual([output, await rendered(first, output)]);
    }
    // The appspec names each run's own revision; otherwise it is the same.
    const withoutRevision = async (r: ActionRun) =>
      (await rendered(r, 'appspec-path')).replace(r.outputs['task-definition-arn'] as string, 'REVISION');
    expect(await withoutRevision(second)).toBe(await withoutRevision(first));
    const svc = await serviceState(emulator, 'web');
    expect(svc?.taskDefinition).toBe(second.outputs['task-definition-arn']);
    await expectNothingLeftRunning();
  }, 120_000);
});

describe('secrets on command lines', () => {
  it('no process had a secret on its command line during these runs', async () => {
    const report = await commandLines.stop();
    expect(report.leaks).toEqual([]);
    expect(report.passes).toBeGreaterThan(10);
    expect([...report.seen].some((l) => l.includes('dist/index.js'))).toBe(true);
    // With Docker the image was built and pushed while the watch ran.
    if (docker) expect([...report.seen].some((l) => /\bdocker (buildx )?build\b/.test(l))).toBe(true);
  });
});
