/**
 * Issue 13, end to end: the built action (dist/index.js) against the local endpoint (and a
 * real Docker engine for the build) when inputs, files, build output and AWS turn hostile:
 * workflow-command injection, an unreadable event payload, bad build args, an appspec of
 * another family, lost answers, 5xx storms, an endpoint that disappears, racing runs. Every
 * bad-input case: exit 1, a first `::error` naming the input or file field with a fix, no
 * stack trace, no mutating call.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startEmulator, type CallRecord, type Emulator } from '../../emulator/index.js';
import { ensureDocker, type DockerEnv } from '../support/docker.js';
import { runAction, runPost, type ActionRun } from './support/action.js';
import { activeDeployments, processesIn, runSecrets, type Secret, secretLeaks } from './support/secrets.js';
import { ACCOUNT, awsEnv, CLUSTER, CREDENTIALS, REGION, sdk, seed, serviceState } from './support/world.js';

const SPEED = 60;
const OTHER_CREDENTIALS = { accessKeyId: 'AKIDE2EOTHER', secretAccessKey: 'e2e-other-secret-key' };

let docker: DockerEnv | undefined;
let emulator: Emulator;
let workspace: string;
let secrets: Secret[] = [];
const runnerTemps: string[] = [];
/** The image the deploy cases run: with Docker, one built in beforeAll (the registry must have it). */
let image = '127.0.0.1:5000/example-app:v0';

async function makeWorkspace(): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'ecs-deploy-hostile-')));
  await cp(path.resolve('example-app/task-definition.json'), path.join(dir, 'task-definition.json'));
  const appspec = await readFile(path.resolve('example-app/appspec.yaml'), 'utf8');
  await writeFile(path.join(dir, 'appspec.yaml'), appspec);
  await writeFile(
    path.join(dir, 'appspec-other-family.yaml'),
    appspec.replace("'<TASK_DEFINITION>'", `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/other-app:3`),
  );
  // AWS reads an appspec with a byte order mark, CRLF line ends and tabs after values.
  await writeFile(
    path.join(dir, 'appspec-bom.yaml'),
    `\ufeff${appspec.replace('ContainerPort: 8080', 'ContainerPort: 8080\t').replace(/\n/g, '\r\n')}`,
  );
  await writeFile(path.join(dir, 'event-malformed.json'), '{"pull_request": {"number": 7');
  await mkdir(path.join(dir, 'event-dir'));
  await writeFile(path.join(dir, 'event-zero.json'), JSON.stringify({ pull_request: { number: 0 } }));
  await mkdir(path.join(dir, 'inject'));
  await writeFile(
    path.join(dir, 'inject', 'Dockerfile'),
    [
      'ARG BASE_IMAGE',
      'FROM ${BASE_IMAGE}',
      'ARG NONCE',
      'RUN echo "$NONCE" && echo "::add-mask::hostile-mask" && echo "::warning::hostile-warning" && echo "  ::stop-commands::hostile-stop" && echo "##[error]hostile-legacy"',
      '',
    ].join('\n'),
  );
  return dir;
}

beforeAll(async () => {
  docker = await ensureDocker();
  workspace = await makeWorkspace();
  secrets = [
    ...runSecrets(docker),
    { name: 'other AWS secret key', value: OTHER_CREDENTIALS.secretAccessKey },
  ];
  emulator = await startEmulator({
    region: REGION,
    accountId: ACCOUNT,
    credentials: [CREDENTIALS, OTHER_CREDENTIALS],
    speed: SPEED,
    seed: seed(),
    registry: docker
      ? { host: docker.registryHost, username: docker.registryUser, password: docker.registryPassword }
      : undefined,
  });
  if (docker) {
    const built = await run(
      blueGreen({
        image: '',
        'ecr-repository': 'example-app',
        context: 'inject',
        'build-args': `BASE_IMAGE=${docker.baseImage}\nNONCE=before-all`,
        network: 'host',
        'deploy-mode': 'none',
      }),
    );
    if (built.code !== 0) throw new Error(`Building the image failed:\n${built.stdout.slice(-4000)}`);
    image = built.outputs['image-uri'] as string;
  }
}, 300_000);

afterAll(async () => {
  await emulator?.stop();
  await docker?.stop();
  for (const dir of [workspace, ...runnerTemps]) if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  emulator.faults.clear();
  emulator.clock.speed = SPEED;
  emulator.clock.advance(60 * 60_000);
});

const blueGreen = (extra: Record<string, string> = {}) => ({
  'task-definition': 'task-definition.json',
  'codedeploy-appspec': 'appspec.yaml',
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

async function run(
  inputs: Record<string, string>,
  opts: {
    env?: Record<string, string | undefined>;
    onStart?: (child: ChildProcess) => void;
    on?: Emulator;
  } = {},
): Promise<ActionRun> {
  const r = await runAction({
    inputs,
    workspace,
    sha: randomBytes(20).toString('hex'),
    env: { ...awsEnv(opts.on ?? emulator), ...opts.env },
    onStart: opts.onStart,
    timeoutMs: 150_000,
  });
  runnerTemps.push(r.runnerTemp);
  expect(await secretLeaks(r, secrets)).toEqual([]);
  return r;
}

/** A stack trace line, as Node prints one. */
const STACK = /^\s+at .+[(\s][^\s()]+:\d+:\d+\)?$/m;

/** The workflow commands the runner would read in what the run printed (stdout and stderr). */
function commands(r: ActionRun): string[] {
  return `${r.stdout}\n${r.stderr}`
    .split(/\r\n|\r|\n/)
    .filter((l) => /^\s*::/.test(l) || l.includes('##['))
    .map((l) => l.trim());
}

function firstError(r: ActionRun): { title?: string; message: string } | undefined {
  const line = r.stdout.split('\n').find((l) => l.startsWith('::error'));
  if (line === undefined) return undefined;
  const end = line.indexOf('::', 2);
  const title = /title=([^,:]*(?::[^,:]+)*?)(?:,|$)/.exec(line.slice('::error'.length, end).trim())?.[1];
  const unescape = (s: string) =>
    s.replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
  return { title: title && unescape(title), message: unescape(line.slice(end + 2)) };
}

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
const called = (since: number, op: string) => () =>
  emulator.calls.some((c) => c.at >= since && c.operation === op);
const attempts = (calls: CallRecord[], op: string) =>
  calls.filter((c) => c.operation === op).map((c) => c.errorType ?? c.status);
const codeDeployStatus = (id: string | undefined) =>
  id === undefined ? undefined : emulator.state.codedeploy.deployments.get(id)?.status;

async function expectNothingLeftRunning(withinMs = 30_000): Promise<void> {
  emulator.clock.speed = SPEED;
  const deadline = Date.now() + withinMs;
  while (activeDeployments(emulator).length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(activeDeployments(emulator)).toEqual([]);
  expect(await processesIn(workspace)).toEqual([]);
}

interface BadCase {
  inputs: Record<string, string>;
  env?: Record<string, string>;
  where: string;
  message: RegExp[];
}

const HOSTILE = 'demo\n::add-mask::hostile-mask\n::warning::hostile-warning';

const badCases: [string, BadCase][] = [
  [
    'a cluster with line breaks carrying ::add-mask:: and ::warning:: (the issue’s example)',
    {
      inputs: { cluster: HOSTILE },
      where: 'cluster',
      message: [/spans 3 lines; cluster is a single line/, /Fix: Write cluster on one line/],
    },
  ],
  [
    'a cluster ARN with a command on its second line',
    {
      inputs: { cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/demo\n::add-mask::hostile-mask` },
      where: 'cluster',
      message: [/cluster is a single line/],
    },
  ],
  [
    'a service with a line break',
    {
      inputs: { service: 'web\n::stop-commands::x' },
      where: 'service',
      message: [/service is a single line/],
    },
  ],
  [
    'a container-name with a carriage return',
    {
      inputs: { 'container-name': 'web\r::warning::hostile-warning' },
      where: 'container-name',
      message: [/container-name is a single line/],
    },
  ],
  [
    'an aws-region with a line break',
    {
      inputs: { 'aws-region': 'us-east-1\n::error::x' },
      where: 'aws-region',
      message: [/aws-region is a single line/],
    },
  ],
  [
    'an unread preview-url with a line break',
    {
      inputs: { 'preview-url': 'https://x\n::add-mask::hostile-mask' },
      where: 'preview-url',
      message: [/preview-url is a single line/],
    },
  ],
  [
    'a preview without pull-request-number and a malformed event payload',
    {
      inputs: { ...rolling(), preview: 'destroy', image: '' },
      env: { GITHUB_EVENT_PATH: 'event-malformed.json' },
      where: 'pull-request-number',
      message: [
        /the event payload could not be read: GITHUB_EVENT_PATH \(event-malformed\.json\)/,
        /Fix: .*set pull-request-number/,
      ],
    },
  ],
  [
    'a preview without pull-request-number and a directory at GITHUB_EVENT_PATH',
    {
      inputs: { ...rolling(), preview: 'destroy', image: '' },
      env: { GITHUB_EVENT_PATH: 'event-dir' },
      where: 'pull-request-number',
      message: [/could not be read: .*EISDIR/],
    },
  ],
  [
    'a preview whose event has pull_request.number 0',
    {
      inputs: { ...rolling(), preview: 'destroy', image: '' },
      env: { GITHUB_EVENT_PATH: 'event-zero.json' },
      where: 'pull-request-number',
      message: [/pull_request\.number \(0\) is not a positive whole number/],
    },
  ],
  [
    'a pull-request-number beyond the safe integers',
    {
      inputs: { ...rolling(), preview: 'destroy', image: '', 'pull-request-number': '9007199254740993' },
      where: 'pull-request-number',
      message: [/is not a pull request number/],
    },
  ],
  [
    'containers: a build arg that is a mapping',
    {
      inputs: {
        image: '',
        containers: 'web:\n  context: .\n  repository: example-app\n  build-args: [{A: b}]\n',
      },
      where: 'containers',
      message: [/web\.build-args\[0\] is a object, not one NAME=value line/, /Fix: Write each build arg/],
    },
  ],
  [
    'containers: a build arg with a line break',
    {
      inputs: {
        image: '',
        containers:
          'web:\n  context: .\n  repository: example-app\n  build-args: ["A=x\\n::add-mask::hostile-mask"]\n',
      },
      where: 'containers',
      message: [/web\.build-args\[0\] is not one NAME=value line/],
    },
  ],
  [
    'containers: a build arg without NAME=',
    {
      inputs: {
        image: '',
        containers: 'web:\n  context: .\n  repository: example-app\n  build-args: ["=x"]\n',
      },
      where: 'containers',
      message: [/web\.build-args\[0\] is not one NAME=value line/],
    },
  ],
  [
    'an appspec whose TaskDefinition names another family',
    {
      inputs: { 'codedeploy-appspec': 'appspec-other-family.yaml' },
      where: 'appspec-other-family.yaml: Resources[0].TargetService.Properties.TaskDefinition',
      message: [
        /names the family other-app, but this run deploys a revision of example-app/,
        /Fix: Write `TaskDefinition: <TASK_DEFINITION>`/,
      ],
    },
  ],
];

describe('hostile and bad input: refused before any change, the input or field named, no stack trace', () => {
  it.each(badCases)(
    '%s',
    async (_, c) => {
      const mutatingBefore = emulator.mutatingCalls().length;
      const env = c.env?.GITHUB_EVENT_PATH
        ? { GITHUB_EVENT_PATH: path.join(workspace, c.env.GITHUB_EVENT_PATH) }
        : {};
      const r = await run(blueGreen(c.inputs), { env });
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
      const first = firstError(r);
      expect(first?.title).toBe(c.where);
      for (const m of c.message) expect(first?.message.replace(workspace + '/', '')).toMatch(m);
      expect(`${r.stdout}\n${r.stderr}`).not.toMatch(STACK);
      expect(emulator.mutatingCalls().slice(mutatingBefore)).toEqual([]);
      // Nothing the input smuggled in is a command the runner would read.
      expect(
        commands(r).filter((l) => /hostile-(mask|warning|stop|legacy)|stop-commands::x|::error::x/.test(l)),
      ).toEqual([]);
    },
    60_000,
  );

  it('an appspec with a byte order mark, CRLF and a tab (as AWS accepts) deploys', async () => {
    const r = await run(blueGreen({ 'codedeploy-appspec': 'appspec-bom.yaml' }));
    expect({ code: r.code, errors: r.errors }).toEqual({ code: 0, errors: [] });
  }, 120_000);

  it('a malformed event payload does not stop a deploy that does not need it', async () => {
    const r = await run(rolling(), {
      env: { GITHUB_EVENT_PATH: path.join(workspace, 'event-malformed.json') },
    });
    expect({ code: r.code, errors: r.errors }).toEqual({ code: 0, errors: [] });
  }, 120_000);
});

describe("docker's own output cannot issue workflow commands", () => {
  it('a Dockerfile that echoes ::add-mask::, ::warning::, ::stop-commands:: and ##[error]: all printed inert', async () => {
    if (!docker) throw new Error('This test needs Docker (scripts/local-docker.sh).');
    const r = await run(
      blueGreen({
        image: '',
        'ecr-repository': 'example-app',
        context: 'inject',
        'build-args': `BASE_IMAGE=${docker.baseImage}\nNONCE=${randomBytes(8).toString('hex')}\nNPM_TOKEN=not-really`,
        network: 'host',
        'deploy-mode': 'none',
      }),
    );
    expect({ code: r.code, errors: r.errors }).toEqual({ code: 0, errors: [] });
    const all = `${r.stdout}\n${r.stderr}`;
    // The build really printed them (inert), and none is a command.
    expect(all).toContain('hostile-mask');
    expect(all).toContain('hostile-warning');
    expect(commands(r).filter((l) => /hostile-(mask|warning|stop|legacy)/.test(l))).toEqual([]);
    // A secret-looking build arg is warned about, its value never shown.
    expect(r.stdout).toMatch(
      /::warning::build-args: the build arg NPM_TOKEN looks like a secret \(its name\)/,
    );
    expect(r.stdout).toContain('RUN --mount=type=secret');
  }, 150_000);
});

describe('lost answers: a retried start adopts its own deployment, never a second one', () => {
  /** Every ECS deployment of `service` seen while `during` runs, by id and task definition. */
  async function deploymentsSeen(service: string, during: Promise<ActionRun>) {
    const seen = new Map<string, string>();
    const poll = setInterval(() => {
      const svc = emulator.state.ecs.services.find((s) => s.serviceName === service && s.status === 'ACTIVE');
      for (const d of svc?.deployments ?? []) seen.set(d.id, d.taskDefinition);
    }, 5);
    const r = await during;
    clearInterval(poll);
    return { r, seen };
  }

  it.each([
    ['UpdateService', {}],
    ['UpdateService with force-new-deployment', { 'force-new-deployment': 'true' }],
  ])(
    'rolling: %s whose answer is lost is retried and adopts the one deployment',
    async (_, extra) => {
      const from = emulator.calls.length;
      emulator.faults.loseAnswer('UpdateService', 1);
      const { r, seen } = await deploymentsSeen('rolling', run(rolling(extra)));
      expect({ code: r.code, errors: r.errors }).toEqual({ code: 0, errors: [] });
      expect(attempts(emulator.calls.slice(from), 'UpdateService')[0]).toBe(0);
      const ours = [...seen].filter(([, td]) => td === r.outputs['task-definition-arn']).map(([id]) => id);
      expect(ours).toEqual([r.outputs['ecs-deployment-id']]);
      await expectNothingLeftRunning();
    },
    120_000,
  );

  it('CodeDeploy: CreateDeployment whose answer is lost meets its own deployment and adopts it', async () => {
    const from = emulator.calls.length;
    const earlier = new Set(emulator.state.codedeploy.deployments.keys());
    emulator.faults.loseAnswer('CreateDeployment', 1);
    const r = await run(blueGreen());
    expect({ code: r.code, errors: r.errors }).toEqual({ code: 0, errors: [] });
    expect(attempts(emulator.calls.slice(from), 'CreateDeployment')).toEqual([
      0,
      'DeploymentLimitExceededException',
    ]);
    expect(r.stdout).toContain('of this task definition is already running: adopted it');
    expect(r.stdout).not.toContain('is busy with deployment');
    const created = [...emulator.state.codedeploy.deployments.keys()].filter((id) => !earlier.has(id));
    expect(created).toEqual([r.outputs['codedeploy-deployment-id']]);
    await expectNothingLeftRunning();
  }, 120_000);

  it('CodeDeploy: lost answer, adopted, then SIGINT: the post step stops the adopted deployment with rollback', async () => {
    emulator.clock.speed = 1;
    const before = (await serviceState(emulator, 'slow'))?.taskDefinition;
    const earlier = new Set(emulator.state.codedeploy.deployments.keys());
    emulator.faults.loseAnswer('CreateDeployment', 1);
    const r = await run(blueGreen({ service: 'slow' }), {
      onStart: (child) =>
        void when(() =>
          [...emulator.state.codedeploy.deployments.values()].some(
            (d) => !earlier.has(d.deploymentId) && d.status === 'InProgress',
          ),
        ).then(() => setTimeout(() => child.kill('SIGINT'), 1_500)),
    });
    expect(r.code).toBe(1);
    const created = [...emulator.state.codedeploy.deployments.keys()].filter((id) => !earlier.has(id));
    expect(created).toHaveLength(1);
    expect(JSON.parse(r.state.deployment as string)).toMatchObject({
      kind: 'codedeploy',
      taskDefinitionArn: r.outputs['task-definition-arn'],
    });
    expect(r.state.settled).toBeUndefined();
    const post = await runPost(r, { workspace, env: awsEnv(emulator) });
    runnerTemps.push(post.runnerTemp);
    expect(post.code).toBe(0);
    expect(post.stdout).toContain(
      `CodeDeploy deployment ${created[0]} was InProgress: stopped it with rollback`,
    );
    expect(codeDeployStatus(created[0])).toBe('Stopped');
    await expectNothingLeftRunning();
    expect((await serviceState(emulator, 'slow'))?.taskDefinition).toBe(before);
  }, 120_000);
});

describe('failure storms: a watch that loses sight of AWS says so and leaves the decision to the post step', () => {
  it.each([
    ['GetDeployment', 503],
    ['*', 500],
  ])(
    'CodeDeploy: a %s storm (HTTP %d) past the retries: unknown, still running, the post step stops it',
    async (op, status) => {
      emulator.clock.speed = 1;
      const started = Date.now();
      const r = await run(blueGreen({ service: 'slow', 'max-retries': '1' }), {
        onStart: () =>
          void when(called(started, 'CreateDeployment')).then(() =>
            emulator.faults.serverError(op, 10_000, status),
          ),
      });
      emulator.faults.clear();
      expect(r.code).toBe(1);
      const id = r.outputs['codedeploy-deployment-id'] as string;
      expect(r.outputs['deployment-outcome']).toBe('unknown');
      const text = r.errors.join('\n').replace(/%0A/g, '\n');
      expect(text).toContain(
        `Lost sight of CodeDeploy deployment ${id}: 3 polls in a row failed (AWS answered HTTP ${status}`,
      );
      expect(text).toContain(`aws deploy get-deployment --deployment-id ${id}`);
      expect(`${r.stdout}\n${r.stderr}`).not.toMatch(STACK);
      expect(r.state.settled).toBeUndefined();
      expect(codeDeployStatus(id)).toBe('InProgress');
      const post = await runPost(r, { workspace, env: awsEnv(emulator) });
      runnerTemps.push(post.runnerTemp);
      expect(post.stdout).toContain(`CodeDeploy deployment ${id} was InProgress: stopped it with rollback`);
      await expectNothingLeftRunning();
    },
    150_000,
  );

  it('rolling: a DescribeServices storm past the retries: unknown, the deployment id and how to follow it', async () => {
    emulator.clock.speed = 1;
    const started = Date.now();
    const r = await run(rolling({ 'max-retries': '1' }), {
      onStart: () =>
        void when(called(started, 'UpdateService')).then(() =>
          emulator.faults.serverError('DescribeServices', 10_000, 503),
        ),
    });
    emulator.faults.clear();
    expect(r.code).toBe(1);
    expect(r.outputs['deployment-outcome']).toBe('unknown');
    const id = r.outputs['ecs-deployment-id'] as string;
    const text = r.errors.join('\n');
    expect(text).toContain(`Lost sight of ECS deployment ${id}`);
    expect(text).toContain(`aws ecs describe-services --cluster ${CLUSTER} --services rolling`);
    expect(r.state.settled).toBeUndefined();
    await expectNothingLeftRunning();
  }, 150_000);

  it('the endpoint disappears mid-watch: no raw SDK text, no stack trace, the deployment named', async () => {
    const gone = await startEmulator({
      region: REGION,
      accountId: ACCOUNT,
      credentials: [CREDENTIALS],
      speed: 1,
      seed: seed(),
    });
    let stopped = false;
    const started = Date.now();
    const r = await run(blueGreen({ service: 'slow', 'max-retries': '1' }), {
      on: gone,
      onStart: () =>
        void when(() => gone.calls.some((c) => c.at >= started && c.operation === 'GetDeployment')).then(
          async () => {
            stopped = true;
            await gone.stop();
          },
        ),
    });
    if (!stopped) await gone.stop();
    expect(r.code).toBe(1);
    const id = r.outputs['codedeploy-deployment-id'] as string;
    expect(r.errors.join('\n')).toContain(
      `Lost sight of CodeDeploy deployment ${id}: 3 polls in a row failed (the AWS endpoint did not answer`,
    );
    expect(`${r.stdout}\n${r.stderr}`).not.toMatch(STACK);
    expect(r.outputs['deployment-outcome']).toBe('unknown');
    expect(r.state.settled).toBeUndefined();
  }, 150_000);
});

describe('racing runs on one rolling service', () => {
  it('with wait-for-active-deployment-minutes 0 the second is refused, naming the first one’s deployment; the first succeeds', async () => {
    const started = Date.now();
    emulator.clock.speed = 1;
    const a = run(rolling());
    await when(called(started, 'UpdateService'));
    const b = await run(rolling({ 'wait-for-active-deployment-minutes': '0' }), {
      env: {
        AWS_ACCESS_KEY_ID: OTHER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: OTHER_CREDENTIALS.secretAccessKey,
      },
    });
    emulator.clock.speed = SPEED;
    const ra = await a;
    expect({ code: ra.code, errors: ra.errors }).toEqual({ code: 0, errors: [] });
    expect(b.code).toBe(1);
    const first = firstError(b);
    expect(first?.title).toBe('service');
    expect(first?.message).toContain(
      `has a deployment in progress (${ra.outputs['ecs-deployment-id']}) that this run did not start`,
    );
    const bChanges = emulator
      .mutatingCalls()
      .filter((c) => c.at >= started && c.accessKeyId === OTHER_CREDENTIALS.accessKeyId)
      .map((c) => c.operation);
    // Refused while validating: nothing built, nothing registered.
    expect(bChanges).toEqual([]);
    expect(b.stdout).not.toContain('Left behind');
    expect(b.outputs['ecs-deployment-id']).toBeUndefined();
    expect((await serviceState(emulator, 'rolling'))?.taskDefinition).toBe(ra.outputs['task-definition-arn']);
    await expectNothingLeftRunning();
  }, 150_000);
});

describe('a deployment replaced by another actor is never reported as a success', () => {
  it('rolling: another UpdateService mid-watch replaces ours: the run fails naming the other deployment', async () => {
    emulator.clock.speed = 1;
    const before = (await serviceState(emulator, 'rolling'))?.taskDefinition as string;
    const started = Date.now();
    let other: string | undefined;
    const r = await run(rolling(), {
      onStart: () =>
        void when(called(started, 'UpdateService')).then(async () => {
          const out = await sdk(emulator).ecs.send(
            new UpdateServiceCommand({
              cluster: CLUSTER,
              service: 'rolling',
              taskDefinition: before,
              forceNewDeployment: true,
            }),
          );
          other = out.service?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
        }),
    });
    emulator.clock.speed = SPEED;
    expect(r.code).toBe(1);
    expect(other).toBeDefined();
    expect(r.outputs['deployment-outcome']).toBe('failed');
    expect(r.errors.join('\n')).toContain(`was replaced by deployment ${other}`);
    await expectNothingLeftRunning();
  }, 120_000);
});

describe('half-done work is named', () => {
  it('CreateDeployment refused after RegisterTaskDefinition: "Left behind: registered example-app:N, not deployed"', async () => {
    emulator.faults.serverError('CreateDeployment', 50, 500);
    const r = await run(blueGreen({ 'max-retries': '0' }));
    emulator.faults.clear();
    expect(r.code).toBe(1);
    const arn = r.outputs['task-definition-arn'] as string;
    const revision = arn.replace(/^.*:task-definition\//, '');
    expect(r.stdout).toContain(`::warning::Left behind: registered ${revision}, not deployed.`);
    expect(r.summary).toContain(`Left behind: registered ${revision}, not deployed`);
    expect(`${r.stdout}\n${r.stderr}`).not.toMatch(STACK);
    expect(r.state.settled).toBeUndefined();
    await expectNothingLeftRunning();
  }, 120_000);
});

describe('half-done preview: killed after its routing was created, removed by a later teardown', () => {
  it('SIGKILL right after CreateRule: the teardown finds the rule and target group by name and tags and removes them', async () => {
    const world = await startEmulator({
      region: REGION,
      accountId: ACCOUNT,
      credentials: [CREDENTIALS],
      speed: SPEED,
      seed: {
        ...seed(),
        elbv2: { loadBalancers: [{ name: 'previews', listeners: [{ port: 443, protocol: 'HTTPS' }] }] },
      },
    });
    try {
      const elb = new ElasticLoadBalancingV2Client({
        endpoint: world.url,
        region: REGION,
        credentials: CREDENTIALS,
      });
      const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: ['previews'] })))
        .LoadBalancers?.[0];
      const listenerArn =
        (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn })))
          .Listeners?.[0]?.ListenerArn ?? '';
      const inputs = {
        'task-definition': 'task-definition.json',
        'container-name': 'web',
        cluster: CLUSTER,
        service: 'web',
        'preview-listener-arn': listenerArn,
        'preview-domain': 'preview.example.test',
        'pull-request-number': '41',
        'github-token': '',
        'poll-interval-seconds': '1',
      };
      const routing = () => ({
        rules: [...world.state.elbv2.rules.values()].filter((r) => !r.rule.IsDefault).length,
        targetGroups: [...world.state.elbv2.targetGroups.values()].filter(
          (t) => t.targetGroup.TargetGroupName === 'web-pr-41',
        ).length,
      });
      const started = Date.now();
      const killed = await run(
        { ...inputs, preview: 'deploy', image },
        {
          on: world,
          onStart: (child) =>
            void when(() =>
              world.calls.some((c) => c.at >= started && c.operation === 'CreateRule' && c.status === 200),
            ).then(() => child.kill('SIGKILL')),
        },
      );
      expect(killed.signal).toBe('SIGKILL');
      expect(routing()).toEqual({ rules: 1, targetGroups: 1 });

      const teardown = await run({ ...inputs, preview: 'destroy' }, { on: world });
      expect({ code: teardown.code, errors: teardown.errors }).toEqual({ code: 0, errors: [] });
      expect(routing()).toEqual({ rules: 0, targetGroups: 0 });
    } finally {
      await world.stop();
    }
  }, 150_000);
});

describe('AWS answers cannot issue workflow commands', () => {
  it('a lifecycle hook failure whose message carries ::add-mask:: and ::warning:: lines: shown inert', async () => {
    emulator.faults.failLifecycleEvent(
      'AfterAllowTestTraffic',
      'smoke test failed\n::add-mask::hostile-mask\n  ::warning::hostile-warning\n##[error]hostile-legacy',
    );
    const r = await run(blueGreen());
    expect(r.code).toBe(1);
    expect(`${r.stdout}\n${r.stderr}`).toContain('hostile-mask');
    expect(
      commands(r).filter((l) => /^::(add-mask|warning|stop-commands)::hostile|##\[error\]hostile/.test(l)),
    ).toEqual([]);
    expect(`${r.stdout}\n${r.stderr}`).not.toMatch(STACK);
    await expectNothingLeftRunning();
  }, 120_000);
});
