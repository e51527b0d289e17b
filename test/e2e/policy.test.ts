/**
 * The least-privilege policy, proven against the local AWS endpoint, which authorizes every
 * call by the caller's IAM policies as AWS does. For a kind of run, the built CLI
 * (`dist/cli/index.js policy …`) prints the policy; the deploy role is seeded with exactly
 * that; the built action (dist/index.js) then makes that kind of run, with the preflight on,
 * down its success path and its failure paths. The IAM actions the endpoint authorized must
 * be the ones the policy grants, no more and no fewer, less those only the registry sees.
 * With one action taken away, the preflight stops the run before any change and names it;
 * without the preflight, the call fails with AWS's AccessDenied and nothing is deployed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startEmulator, type CallRecord, type Emulator, type Seed } from '../../emulator/index.js';
import { ECR_PUSH_ACTIONS } from '../../src/iam.js';
import type { PolicyDocument } from '../../src/policy.js';
import { ensureDocker, runDocker, type DockerEnv } from '../support/docker.js';
import { runAction, type ActionRun } from './support/action.js';
import { ACCOUNT, CLUSTER, CREDENTIALS, REGION, seed, serviceState } from './support/world.js';

const workspace = path.resolve('.');
const SPEED = 60;
const EXECUTION_ROLE = `arn:aws:iam::${ACCOUNT}:role/example-app-execution-role`;
const TASK_ROLE = `arn:aws:iam::${ACCOUNT}:role/example-app-task-role`;
/** A second key, for the role that lacks one action of the policy. */
const LIMITED_CREDENTIALS = { accessKeyId: 'AKIDE2ELIMITED', secretAccessKey: 'e2e-limited-secret' };
const LIMITED_ROLE = 'deploy-limited';
/** A commit of its own: the registry outlives the endpoint, and an immutable tag is pushed once. */
const SHA = Date.now().toString(16).padStart(40, 'e');

const docker: DockerEnv | undefined = await ensureDocker();
/** Both kinds of run need the registry: one pushes to it, the other deploys an image from it. */
const withDocker = docker ? describe : describe.skip;

afterAll(async () => {
  await docker?.stop();
});

/** The policy the built CLI prints for these arguments. */
async function printedPolicy(args: string[]): Promise<PolicyDocument> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    path.resolve('dist/cli/index.js'),
    'policy',
    '--region',
    REGION,
    '--account',
    ACCOUNT,
    '--cluster',
    CLUSTER,
    '--pass-role',
    EXECUTION_ROLE,
    '--pass-role',
    TASK_ROLE,
    ...args,
  ]);
  return JSON.parse(stdout) as PolicyDocument;
}

function without(policy: PolicyDocument, action: string): PolicyDocument {
  return {
    ...policy,
    Statement: policy.Statement.map((s) => ({ ...s, Action: s.Action.filter((a) => a !== action) })).filter(
      (s) => s.Action.length > 0,
    ),
  };
}

const granted = (policy: PolicyDocument) => new Set(policy.Statement.flatMap((s) => s.Action));

/**
 * The world of the other end-to-end tests, as the example stack has it: an immutable
 * repository, and task definitions that carry a tag (so registering their next revision is
 * tagged on creation too). No termination wait, so that a wait budget is the run's own
 * minutes. The deploy role holds exactly `policy`, the limited role `limited`.
 */
function world(policy: PolicyDocument, limited: PolicyDocument): Seed {
  const base = seed();
  return {
    ...base,
    codedeploy: {
      ...base.codedeploy,
      deploymentGroups: (base.codedeploy?.deploymentGroups ?? []).map((g) => ({
        ...g,
        terminationWaitMinutes: 0,
      })),
    },
    repositories: [{ name: 'example-app', imageTagMutability: 'IMMUTABLE' }],
    taskDefinitions: (base.taskDefinitions ?? []).map((td) => ({
      ...td,
      tags: [{ key: 'app', value: 'example-app' }],
    })),
    iam: {
      roles: [
        { name: 'deploy', policies: [policy] },
        { name: LIMITED_ROLE, policies: [limited] },
        { name: 'example-app-execution-role' },
        { name: 'example-app-task-role' },
      ],
    },
  };
}

async function startWith(policy: PolicyDocument, limited: PolicyDocument): Promise<Emulator> {
  return startEmulator({
    region: REGION,
    accountId: ACCOUNT,
    credentials: [
      CREDENTIALS,
      {
        ...LIMITED_CREDENTIALS,
        principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${LIMITED_ROLE}/GitHubActions`,
      },
    ],
    speed: SPEED,
    seed: world(policy, limited),
    registry: docker && {
      host: docker.registryHost,
      username: docker.registryUser,
      password: docker.registryPassword,
    },
  });
}

/**
 * The IAM actions the endpoint authorized for these calls: each call's own, and what
 * RegisterTaskDefinition checks besides (passing the roles it names, tagging on creation).
 * sts:GetCallerIdentity needs no permission.
 */
function authorizedActions(calls: CallRecord[]): Set<string> {
  const actions = new Set<string>();
  for (const c of calls) {
    if (c.service === 'sts') continue;
    actions.add(`${c.service === 'elbv2' ? 'elasticloadbalancing' : c.service}:${c.operation}`);
    if (c.operation !== 'RegisterTaskDefinition') continue;
    const input = c.input as { taskRoleArn?: string; executionRoleArn?: string; tags?: unknown[] };
    if (input.taskRoleArn || input.executionRoleArn) actions.add('iam:PassRole');
    if ((input.tags ?? []).length > 0) actions.add('ecs:TagResource');
  }
  return actions;
}

function run(
  emulator: Emulator,
  inputs: Record<string, string>,
  credentials: { accessKeyId: string; secretAccessKey: string } = CREDENTIALS,
): Promise<ActionRun> {
  return runAction({
    inputs: { cluster: CLUSTER, 'poll-interval-seconds': '1', ...inputs },
    workspace,
    sha: SHA,
    env: {
      AWS_ENDPOINT_URL: emulator.url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
  });
}

/** Makes a failing expectation show what the action printed. */
function outcome(r: ActionRun) {
  return { code: r.code, errors: r.errors, log: r.code === 0 ? '' : r.stdout.slice(-4000) };
}

/** The run's preflight passed on its own: no warning that a check or the simulation was skipped. */
function expectCleanPreflight(r: ActionRun): void {
  expect(r.stdout).toContain(`Preflight: arn:aws:iam::${ACCOUNT}:role/deploy may make all`);
  expect(r.stdout.split('\n').filter((l) => l.startsWith('::warning') && /Preflight|Verify/.test(l))).toEqual(
    [],
  );
}

/** Runs a test's action runs, keeping the calls each key made meanwhile. */
function recorder(emulator: () => Emulator) {
  const seen: CallRecord[] = [];
  return {
    seen,
    async during(key: string, runs: () => Promise<void>): Promise<void> {
      const from = emulator().calls.length;
      await runs();
      seen.push(
        ...emulator()
          .calls.slice(from)
          .filter((c) => c.accessKeyId === key),
      );
    },
  };
}

withDocker('a blue/green deploy that builds, under exactly its printed policy', () => {
  const d = docker as DockerEnv;
  const cli = [
    '--family',
    'example-app',
    '--mode',
    'codedeploy',
    '--service',
    'web',
    '--repository',
    'example-app',
    '--deployment-config',
    'CodeDeployDefault.ECSAllAtOnce',
    // The url output reads the group's production listener; a failure reads the containers' logs.
    '--load-balanced',
    '--log-group',
    '/ecs/example-app',
  ];
  // The service's own task definition gets the new image; the appspec is the example's.
  const inputs = () => ({
    service: 'web',
    'codedeploy-appspec': 'example-app/appspec.yaml',
    'codedeploy-deployment-config': 'CodeDeployDefault.ECSAllAtOnce',
    'ecr-repository': 'example-app',
    context: 'example-app',
    'build-args': `BASE_IMAGE=${d.baseImage}\nNPM_CONFIG_REGISTRY=${d.npmRegistry}`,
    network: 'host',
  });
  let policy: PolicyDocument;
  let emulator: Emulator;
  const calls = recorder(() => emulator);

  beforeAll(async () => {
    policy = await printedPolicy([...cli, '--deploy-role', 'deploy']);
    const limited = without(
      await printedPolicy([...cli, '--deploy-role', LIMITED_ROLE]),
      'codedeploy:CreateDeployment',
    );
    emulator = await startWith(policy, limited);
  }, 60_000);

  afterAll(async () => {
    await emulator?.stop();
  });

  beforeEach(() => {
    emulator.faults.clear();
    emulator.clock.speed = SPEED;
    // What a run before left running (a rollback, the blue tasks' termination wait) finishes.
    emulator.clock.advance(60 * 60_000);
  });

  it('builds, pushes and deploys, with the preflight passing on its own', async () => {
    await calls.during(CREDENTIALS.accessKeyId, async () => {
      const r = await run(emulator, inputs());
      expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
      expect(r.outputs['deployment-outcome']).toBe('succeeded');
      expectCleanPreflight(r);
      expect(r.outputs['image-uri']).toBe(`${d.registryHost}/example-app:${SHA}`);
      expect((await serviceState(emulator, 'web'))?.taskDefinition).toBe(r.outputs['task-definition-arn']);
    });
    // docker push really went to the registry, under the push actions the policy grants.
    const auth = Buffer.from(`${d.registryUser}:${d.registryPassword}`).toString('base64');
    const tags = (await fetch(`http://${d.registryHost}/v2/example-app/tags/list`, {
      headers: { authorization: `Basic ${auth}` },
    }).then((res) => res.json())) as { tags: string[] };
    expect(tags.tags).toContain(SHA);
  }, 300_000);

  it('reports a failed lifecycle hook with the stopped tasks, under the same policy', async () => {
    emulator.faults.failLifecycleEvent('AfterAllowTestTraffic', 'smoke test: GET / returned 500');
    await calls.during(CREDENTIALS.accessKeyId, async () => {
      const r = await run(emulator, inputs());
      expect(r.code).toBe(1);
      expect(r.outputs['deployment-outcome']).toBe('failed');
      expectCleanPreflight(r);
    });
  }, 120_000);

  it('stops the deployment with rollback when the wait runs out, under the same policy', async () => {
    emulator.clock.speed = 1;
    await calls.during(CREDENTIALS.accessKeyId, async () => {
      const r = await run(emulator, { ...inputs(), 'wait-for-minutes': '0.05' });
      expect(r.code).toBe(1);
      expect(r.outputs['deployment-outcome']).toBe('timed-out');
      expectCleanPreflight(r);
    });
  }, 120_000);

  it('called exactly what the policy grants, less what only the registry and CodeDeploy itself check', () => {
    expect(calls.seen.filter((c) => /AccessDenied/.test(c.errorType ?? ''))).toEqual([]);
    // docker push goes to the registry, not the ECR API. CreateDeployment's own check of
    // RegisterApplicationRevision is AWS's, which the endpoint does not make; GetDeploymentConfig,
    // its other one, the runs call themselves, as they name the config.
    // The seeded group's production listener is not one the endpoint's ELB has, so the url
    // lookup ends at DescribeListeners and never reads a load balancer.
    const unseen = new Set<string>([
      ...ECR_PUSH_ACTIONS,
      'codedeploy:RegisterApplicationRevision',
      'elasticloadbalancing:DescribeLoadBalancers',
      // No container stops on its own in these runs (a failed hook scales the new tasks down).
      'logs:GetLogEvents',
      // The target is read as cluster:service; it is listed only when CodeDeploy does not know that id.
      'codedeploy:ListDeploymentTargets',
    ]);
    const expected = [...granted(policy)].filter((a) => !unseen.has(a)).sort();
    expect([...authorizedActions(calls.seen)].sort()).toEqual(expected);
  });

  it('without one action, the preflight stops the run before any change and names it', async () => {
    const before = emulator.mutatingCalls().length;
    const r = await run(emulator, inputs(), LIMITED_CREDENTIALS);
    expect(r.code).toBe(1);
    const errors = r.errors.join('\n');
    expect(errors).toContain(
      `| codedeploy:CreateDeployment | arn:aws:codedeploy:${REGION}:${ACCOUNT}:deploymentgroup:AppECS-demo-web/DgpECS-demo-web | implicitDeny |`,
    );
    expect(errors).toContain('"Sid": "DeploymentGroup"');
    expect(emulator.mutatingCalls().length).toBe(before);
    // Stopped before logging in: nothing was built or pushed either.
    const limitedCalls = emulator.calls.filter((c) => c.accessKeyId === LIMITED_CREDENTIALS.accessKeyId);
    expect(limitedCalls.map((c) => c.operation)).not.toContain('GetAuthorizationToken');
  }, 120_000);

  it("without the preflight, CreateDeployment fails with AWS's AccessDenied and nothing is deployed", async () => {
    const live = (await serviceState(emulator, 'web'))?.taskDefinition;
    const deployments = emulator.state.codedeploy.deployments.size;
    const r = await run(emulator, { ...inputs(), preflight: 'false' }, LIMITED_CREDENTIALS);
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toContain(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/${LIMITED_ROLE}/GitHubActions is not authorized to perform: codedeploy:CreateDeployment on resource: arn:aws:codedeploy:${REGION}:${ACCOUNT}:deploymentgroup:AppECS-demo-web/DgpECS-demo-web because no identity-based policy allows the codedeploy:CreateDeployment action`,
    );
    expect(emulator.state.codedeploy.deployments.size).toBe(deployments);
    expect((await serviceState(emulator, 'web'))?.taskDefinition).toBe(live);
  }, 300_000);
});

withDocker('a rolling deploy of an existing image, under exactly its printed policy', () => {
  const cli = [
    '--family',
    'example-rolling',
    '--mode',
    'rolling',
    '--service',
    'rolling',
    '--image-repository',
    'example-app',
    // Behind a target group: the url output and the drain's end read it.
    '--load-balanced',
    // The circuit-breaker test's crashed containers: their last lines are read from here.
    '--log-group',
    '/ecs/example-app',
  ];
  let image = '';
  // The family's latest revision gets the image, as CodePipeline's ECS deploy action does it.
  const inputs = () => ({ service: 'rolling', 'task-definition-family': 'example-rolling', image });
  let policy: PolicyDocument;
  let emulator: Emulator;
  const calls = recorder(() => emulator);

  beforeAll(async () => {
    image = await pushImage(docker as DockerEnv, `release-${SHA.slice(-12)}`);
    policy = await printedPolicy([...cli, '--deploy-role', 'deploy']);
    const limited = without(await printedPolicy([...cli, '--deploy-role', LIMITED_ROLE]), 'iam:PassRole');
    emulator = await startWith(policy, limited);
  }, 300_000);

  afterAll(async () => {
    await emulator?.stop();
  });

  beforeEach(() => {
    emulator.faults.clear();
    emulator.clock.advance(60 * 60_000);
  });

  it('checks the image exists and deploys it, with the preflight passing on its own', async () => {
    await calls.during(CREDENTIALS.accessKeyId, async () => {
      const r = await run(emulator, inputs());
      expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
      expect(r.outputs['deployment-outcome']).toBe('succeeded');
      expectCleanPreflight(r);
      expect((await serviceState(emulator, 'rolling'))?.taskDefinition).toBe(
        r.outputs['task-definition-arn'],
      );
    });
  }, 120_000);

  it("reports a circuit-breaker rollback with the stopped tasks' reason, under the same policy", async () => {
    emulator.faults.crashTasks('example-rolling');
    await calls.during(CREDENTIALS.accessKeyId, async () => {
      const r = await run(emulator, inputs());
      expect(r.code).toBe(1);
      expect(r.outputs['deployment-outcome']).toBe('failed');
      expect(r.errors.join('\n') + r.stdout).toContain('Essential container in task exited');
      expectCleanPreflight(r);
    });
  }, 120_000);

  it('called exactly what the policy grants, less the load balancer the target group is not in', () => {
    expect(calls.seen.filter((c) => /AccessDenied/.test(c.errorType ?? ''))).toEqual([]);
    // No load balancer forwards to the seeded target group, so the url lookup ends at
    // DescribeTargetGroups.
    const unseen = new Set<string>([
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeLoadBalancers',
    ]);
    // The drain's end (the group's deregistration delay) is read only when a poll sees the old
    // tasks draining before the deployment completes: at this endpoint's pace it may not.
    const maybe = 'elasticloadbalancing:DescribeTargetGroupAttributes';
    const seen = [...authorizedActions(calls.seen)].filter((a) => a !== maybe).sort();
    const expected = [...granted(policy)].filter((a) => !unseen.has(a) && a !== maybe).sort();
    expect(seen).toEqual(expected);
    expect(granted(policy)).toContain(maybe);
  });

  it('without iam:PassRole, the preflight stops the run before any change and names it', async () => {
    const before = emulator.mutatingCalls().length;
    const r = await run(emulator, inputs(), LIMITED_CREDENTIALS);
    expect(r.code).toBe(1);
    const errors = r.errors.join('\n');
    for (const role of [EXECUTION_ROLE, TASK_ROLE]) {
      expect(errors).toContain(`| iam:PassRole | ${role} | implicitDeny |`);
    }
    expect(errors).toContain('"iam:PassedToService": "ecs-tasks.amazonaws.com"');
    expect(emulator.mutatingCalls().length).toBe(before);
  }, 120_000);

  it("without the preflight, RegisterTaskDefinition fails with AWS's AccessDenied and nothing is deployed", async () => {
    const live = (await serviceState(emulator, 'rolling'))?.taskDefinition;
    const revisions = emulator.state.ecs.taskDefinitions.get('example-rolling')?.length;
    const r = await run(emulator, { ...inputs(), preflight: 'false' }, LIMITED_CREDENTIALS);
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toMatch(
      new RegExp(
        `User: arn:aws:sts::${ACCOUNT}:assumed-role/${LIMITED_ROLE}/GitHubActions is not authorized to perform: iam:PassRole on resource: arn:aws:iam::${ACCOUNT}:role/example-app-(task|execution)-role because no identity-based policy allows the iam:PassRole action`,
      ),
    );
    expect(emulator.state.ecs.taskDefinitions.get('example-rolling')?.length).toBe(revisions);
    expect((await serviceState(emulator, 'rolling'))?.taskDefinition).toBe(live);
    expect(
      emulator
        .mutatingCalls()
        .filter((c) => c.status === 200 && c.accessKeyId === LIMITED_CREDENTIALS.accessKeyId),
    ).toEqual([]);
  }, 120_000);
});

/** Pushes the base image to the example-app repository, as a release tag would be; login on stdin. */
async function pushImage(d: DockerEnv, tag: string): Promise<string> {
  const config = await mkdtemp(path.join(os.tmpdir(), 'ecs-deploy-policy-docker-'));
  const env = { DOCKER_CONFIG: config };
  const image = `${d.registryHost}/example-app:${tag}`;
  try {
    await runDocker(['login', '--username', d.registryUser, '--password-stdin', d.registryHost], {
      input: d.registryPassword,
      env,
    });
    await runDocker(['tag', d.baseImage, image], { env });
    await runDocker(['push', image], { env });
  } finally {
    await runDocker(['logout', d.registryHost], { env }).catch(() => undefined);
    await rm(config, { recursive: true, force: true });
  }
  return image;
}
