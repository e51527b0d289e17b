/**
 * The built action (dist/index.js) against ECS-native blue/green, linear and canary services
 * of the local endpoint: success with the stages, hooks and traffic weights in the log;
 * failures (a Lambda hook, the circuit breaker) rolled back and reported; PAUSE hooks
 * answered by a second run (`paused-hook`); wait-until; the timeout and a cancelled run
 * stopping the service deployment with rollback. Existing images only: no Docker build.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { DeploymentConfiguration } from '@aws-sdk/client-ecs';
import { DescribeServiceDeploymentsCommand } from '@aws-sdk/client-ecs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PolicyDocument } from '../../src/policy.js';
import { startEmulator, type Emulator, type Seed } from '../../emulator/index.js';
import { runAction, runPost, type ActionRun } from './support/action.js';
import {
  ACCOUNT,
  awsEnv,
  CLUSTER,
  CREDENTIALS,
  hookedBlueGreen,
  REGION,
  sdk,
  seed,
  withNativeServices,
} from './support/world.js';

const workspace = path.resolve('.');
const SPEED = 60;
const IMAGE = '127.0.0.1:5000/example-app:v0';

let emulator: Emulator;

const pause = (stage: 'POST_TEST_TRAFFIC_SHIFT') => ({
  targetType: 'PAUSE' as const,
  lifecycleStages: [stage],
  timeoutConfiguration: { timeoutInMinutes: 600, action: 'ROLLBACK' as const },
});

const SERVICES: [string, DeploymentConfiguration][] = [
  ['nbg', { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 2 }],
  ['nlinear', { strategy: 'LINEAR', linearConfiguration: { stepPercent: 50, stepBakeTimeInMinutes: 1 } }],
  ['ncanary', { strategy: 'CANARY', canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: 1 } }],
  ['nhooked', hookedBlueGreen()],
  [
    'nbreaker',
    {
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 1,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    },
  ],
  [
    'ngated',
    { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1, lifecycleHooks: [pause('POST_TEST_TRAFFIC_SHIFT')] },
  ],
  ['nslow', { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 40 }],
];

function nativeSeed(): Seed {
  return withNativeServices(seed(IMAGE), SERVICES, IMAGE);
}

beforeAll(async () => {
  emulator = await startEmulator({
    region: REGION,
    accountId: ACCOUNT,
    credentials: [CREDENTIALS],
    speed: SPEED,
    seed: nativeSeed(),
    registry: { host: '127.0.0.1:9', username: 'AWS', password: 'unused' },
  });
}, 120_000);

afterAll(async () => {
  await emulator?.stop();
});

beforeEach(() => {
  emulator.faults.clear();
  emulator.clock.speed = SPEED;
  // Whatever an earlier test left running (a bake, a rollback) ends, as an hour would in AWS.
  emulator.clock.advance(60 * 60_000);
});

const inputs = (service: string, extra: Record<string, string> = {}) => ({
  'task-definition': 'example-app/task-definition.json',
  'task-definition-family': service,
  image: IMAGE,
  cluster: CLUSTER,
  service,
  'poll-interval-seconds': '1',
  ...extra,
});

function run(input: Record<string, string>, onStart?: Parameters<typeof runAction>[0]['onStart']) {
  return runAction({ inputs: input, workspace, env: awsEnv(emulator), onStart });
}

function outcome(r: ActionRun) {
  return { code: r.code, errors: r.errors, log: r.code === 0 ? '' : r.stdout.slice(-4000) };
}

async function deployment(arn: string) {
  const out = await sdk(emulator).ecs.send(
    new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }),
  );
  return out.serviceDeployments?.[0];
}

const ARN = /^arn:aws:ecs:us-east-1:\d{12}:service-deployment\/demo\/\w+\/[\w-]+$/;

describe('ECS-native deployments succeed', () => {
  it.each([
    ['BLUE_GREEN', 'nbg', ['traffic: green 100% / blue 0%', 'stage: BAKE_TIME', 'bake time: about']],
    ['LINEAR', 'nlinear', ['traffic: green 50% / blue 50%', 'traffic: green 100% / blue 0%']],
    ['CANARY', 'ncanary', ['traffic: green 20% / blue 80%', 'traffic: green 100% / blue 0%']],
  ])(
    '%s: deploy-mode auto finds it; stages and traffic are reported; SUCCESSFUL',
    async (_s, service, lines) => {
      const r = await run(inputs(service));
      expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
      expect(r.outputs['deploy-mode']).toBe('ecs-native');
      expect(r.outputs['deployment-outcome']).toBe('succeeded');
      expect(r.outputs['service-deployment-arn']).toMatch(ARN);
      if (process.env.SHOW_LOG) console.log(r.stdout);
      for (const line of lines) expect(r.stdout).toContain(line);
      expect(r.stdout).toContain('stage: CLEAN_UP');
      expect((await deployment(r.outputs['service-deployment-arn'] as string))?.status).toBe('SUCCESSFUL');
      // The service deployment is watched, not the service's stability.
      expect(emulator.calls.some((c) => c.operation === 'DescribeServiceDeployments')).toBe(true);
    },
    120_000,
  );
});

describe('ECS-native failures are rolled back and reported', () => {
  it('a failing Lambda hook: rolled back, the hook and its message named', async () => {
    emulator.faults.failLifecycleEvent('POST_TEST_TRAFFIC_SHIFT', 'smoke test: GET /health returned 500');
    const r = await run(inputs('nhooked', { 'deploy-mode': 'ecs-native' }));
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('failed');
    const all = `${r.errors.join('\n')}\n${r.stdout}`;
    expect(all).toContain('smoke test: GET /health returned 500');
    expect(all).toMatch(/the rollback to nhooked:\d+ succeeded/);
    expect(all).toContain('smoke-test');
    expect((await deployment(r.outputs['service-deployment-arn'] as string))?.status).toBe(
      'ROLLBACK_SUCCESSFUL',
    );
  }, 120_000);

  it('the circuit breaker: rolled back, the breaker and the stopped tasks reported', async () => {
    emulator.faults.crashTasks('nbreaker', 'CannotPullContainerError: pull access denied');
    const r = await run(inputs('nbreaker'));
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('failed');
    const all = `${r.errors.join('\n')}\n${r.stdout}`;
    expect(all).toMatch(/circuit breaker/i);
    expect(all).toContain('CannotPullContainerError');
  }, 120_000);
});

/** Runs the action and calls `onPaused` once its log shows the way to continue a PAUSE hook. */
function runUntilPaused(input: Record<string, string>, onPaused: () => Promise<ActionRun>) {
  let second: Promise<ActionRun> | undefined;
  const first = run(input, (child) => {
    let seen = '';
    child.stdout?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (second === undefined && seen.includes('paused-hook: continue')) second = onPaused();
    });
  });
  return { first, second: () => second };
}

describe('PAUSE hooks answered from a second run', () => {
  it('the deploying run says how to continue and keeps waiting; paused-hook: continue lets it finish', async () => {
    const { first, second } = runUntilPaused(inputs('ngated'), () =>
      run({ cluster: CLUSTER, service: 'ngated', 'paused-hook': 'continue', 'poll-interval-seconds': '1' }),
    );
    const r = await first;
    const c = await second();
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.stdout).toMatch(/waits at a PAUSE hook \(ecs-pause-/);
    expect(r.stdout).toContain('AWAITING_ACTION');
    expect(c && outcome(c)).toEqual({ code: 0, errors: [], log: '' });
    expect(c?.outputs['service-deployment-arn']).toBe(r.outputs['service-deployment-arn']);
    const cont = emulator.calls.filter((x) => x.operation === 'ContinueServiceDeployment').at(-1);
    expect(cont?.input).toMatchObject({
      serviceDeploymentArn: r.outputs['service-deployment-arn'],
      action: 'CONTINUE',
    });
  }, 180_000);

  it('wait-until stops at the paused stage; paused-hook: rollback rolls it back', async () => {
    const r = await run(inputs('ngated', { 'wait-until': 'POST_TEST_TRAFFIC_SHIFT' }));
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.stdout).toContain('paused-hook: continue');
    const arn = r.outputs['service-deployment-arn'] as string;
    const c = await run({
      cluster: CLUSTER,
      service: 'ngated',
      'paused-hook': 'rollback',
      'poll-interval-seconds': '1',
    });
    expect(outcome(c)).toEqual({ code: 0, errors: [], log: '' });
    expect(c.stdout).toContain('was rolled back');
    expect(c.summary).toContain('was rolled back');
    expect((await deployment(arn))?.status).toBe('ROLLBACK_SUCCESSFUL');
  }, 180_000);

  it('paused-hook with nothing paused is a clear error', async () => {
    const continues = () => emulator.calls.filter((x) => x.operation === 'ContinueServiceDeployment').length;
    const before = continues();
    const c = await run({ cluster: CLUSTER, service: 'nbg', 'paused-hook': 'continue' });
    expect(c.code).toBe(1);
    expect(c.errors.join('\n')).toMatch(
      /Nothing of ECS service 'nbg' in cluster 'demo' waits at a PAUSE hook/,
    );
    expect(continues()).toBe(before);
  }, 60_000);
});

describe('wait-until, timeout and cancel', () => {
  it('wait-until: BAKE_TIME succeeds once traffic has moved; the deployment goes on and the post step leaves it', async () => {
    const r = await run(inputs('nslow', { 'wait-until': 'BAKE_TIME' }));
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    const arn = r.outputs['service-deployment-arn'] as string;
    expect(r.stdout).toContain('the deployment goes on in AWS');
    expect(r.summary).toContain('goes on in AWS');
    expect(r.summary).toContain('describe-service-deployments');
    expect(r.summary).toContain(`- ECS service deployment: <code>${arn}</code>`);
    const post = await runPost(r, { workspace, env: awsEnv(emulator) });
    expect(post.code).toBe(0);
    expect(emulator.calls.some((c) => c.operation === 'StopServiceDeployment')).toBe(false);
    expect(await deployment(arn)).toMatchObject({ status: 'IN_PROGRESS', lifecycleStage: 'BAKE_TIME' });
  }, 120_000);

  it('the wait running out stops the service deployment with rollback', async () => {
    const r = await run(inputs('nslow', { 'wait-for-minutes': '0.1' }));
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('timed-out');
    const arn = r.outputs['service-deployment-arn'];
    const stop = emulator.calls.filter((c) => c.operation === 'StopServiceDeployment').at(-1);
    expect(stop?.input).toEqual({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' });
  }, 120_000);

  it('a cancelled run has its service deployment stopped with rollback by the post step', async () => {
    const started = Date.now();
    const r = await run(inputs('nslow'), (child) => {
      const poll = setInterval(() => {
        if (emulator.calls.some((c) => c.operation === 'UpdateService' && c.at >= started)) {
          clearInterval(poll);
          setTimeout(() => child.kill('SIGINT'), 800);
        }
      }, 50);
      child.on('close', () => clearInterval(poll));
    });
    expect(r.code).toBe(1);
    const arn = r.outputs['service-deployment-arn'] as string;
    expect(JSON.parse(r.state.deployment as string)).toMatchObject({ kind: 'ecs-native', id: arn });
    const post = await runPost(r, { workspace, env: awsEnv(emulator) });
    expect(post.code).toBe(0);
    expect(post.stdout).toContain('stopped it with rollback');
    const stop = emulator.calls.filter((c) => c.operation === 'StopServiceDeployment').at(-1);
    expect(stop?.input).toEqual({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' });
  }, 120_000);
});

describe('refusals and rollback', () => {
  it('deploy-mode ecs-native on a rolling service is refused before any change, naming what is missing', async () => {
    const before = emulator.mutatingCalls().length;
    const r = await run({
      ...inputs('rolling'),
      'task-definition-family': 'example-rolling',
      'deploy-mode': 'ecs-native',
    });
    expect(r.code).toBe(1);
    const errors = r.errors.join('\n');
    expect(errors).toMatch(/deploymentConfiguration.strategy .*not BLUE_GREEN, LINEAR or CANARY/);
    expect(errors).toMatch(/advancedConfiguration.alternateTargetGroupArn/);
    expect(emulator.mutatingCalls().length).toBe(before);
  }, 60_000);

  it('rollback: true stops an ongoing service deployment with rollback and watches it roll back', async () => {
    const first = await run(inputs('nslow', { 'wait-until': 'BAKE_TIME' }));
    expect(outcome(first)).toEqual({ code: 0, errors: [], log: '' });
    const arn = first.outputs['service-deployment-arn'] as string;
    const r = await run({
      cluster: CLUSTER,
      service: 'nslow',
      rollback: 'true',
      'poll-interval-seconds': '1',
    });
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    const stop = emulator.calls.filter((c) => c.operation === 'StopServiceDeployment').at(-1);
    expect(stop?.input).toEqual({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' });
    expect((await deployment(arn))?.status).toBe('ROLLBACK_SUCCESSFUL');
  }, 120_000);
});

describe('under exactly the policy `ecs-deploy-pipeline policy --mode ecs-native` prints', () => {
  let limited: Emulator;
  afterAll(async () => {
    await limited?.stop();
  });

  it('deploys BLUE_GREEN with the preflight passing and no call denied', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      path.resolve('dist/cli/index.js'),
      'policy',
      ...['--region', REGION, '--account', ACCOUNT, '--cluster', CLUSTER, '--family', 'nbg'],
      ...[
        '--mode',
        'ecs-native',
        '--service',
        'nbg',
        '--deploy-role',
        'deploy',
        '--image-repository',
        'example-app',
      ],
      ...['--pass-role', `arn:aws:iam::${ACCOUNT}:role/example-app-execution-role`],
      ...['--pass-role', `arn:aws:iam::${ACCOUNT}:role/example-app-task-role`],
    ]);
    const policy = JSON.parse(stdout) as PolicyDocument;
    const base = nativeSeed();
    limited = await startEmulator({
      region: REGION,
      accountId: ACCOUNT,
      credentials: [CREDENTIALS],
      speed: SPEED,
      seed: {
        ...base,
        iam: {
          roles: [
            { name: 'deploy', policies: [policy] },
            { name: 'example-app-execution-role' },
            { name: 'example-app-task-role' },
          ],
        },
      },
      registry: { host: '127.0.0.1:9', username: 'AWS', password: 'unused' },
    });
    const r = await runAction({ inputs: inputs('nbg'), workspace, env: awsEnv(limited) });
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.stdout).toContain(`Preflight: arn:aws:iam::${ACCOUNT}:role/deploy may make all`);
    expect(limited.calls.filter((c) => /AccessDenied/.test(c.errorType ?? ''))).toEqual([]);
    for (const op of ['UpdateService', 'DescribeServiceDeployments', 'ListServiceDeployments']) {
      expect(limited.calls.some((c) => c.operation === op)).toBe(true);
    }
    expect(limited.calls.some((c) => c.service === 'elbv2' && c.operation === 'DescribeRules')).toBe(true);
  }, 120_000);
});
