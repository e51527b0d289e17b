/**
 * Pull-request previews, end to end: the built action (dist/index.js) run as the runner runs
 * it for pull_request events, against the local AWS endpoint (ECS, ECR, ELBv2), a real
 * registry, and a local stand-in for the GitHub API that keeps the pull request's comments.
 * Everything left behind is counted from the endpoint's own state.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, type Emulator, type Seed } from '../../emulator/index.js';
import { ensureDocker, runDocker, type DockerEnv } from '../support/docker.js';
import { startFakeGitHub, type FakeGitHub } from '../support/github.js';
import { runAction, type ActionRun } from './support/action.js';
import { ACCOUNT, awsEnv, CLUSTER, CREDENTIALS, REGION, seed, visible } from './support/world.js';

const workspace = path.resolve('.');
const SPEED = 60;
const TOKEN = 'ghs_e2e_preview_token_5b1f0c';
const DOMAIN = 'preview.example.test';
const REPOSITORY = 'preview-app';
const SHA1 = 'e2e1111111111111111111111111111111111111';
const SHA2 = 'e2e2222222222222222222222222222222222222';

let docker: DockerEnv | undefined;
let emulator: Emulator;
let github: FakeGitHub;
let listenerArn = '';
let eventDir = '';

function world(): Seed {
  const base = seed();
  return {
    ...base,
    repositories: [...(base.repositories ?? []), { name: REPOSITORY, imageTagMutability: 'MUTABLE' }],
    elbv2: { loadBalancers: [{ name: 'previews', listeners: [{ port: 443, protocol: 'HTTPS' }] }] },
  };
}

beforeAll(async () => {
  docker = await ensureDocker();
  github = await startFakeGitHub({ token: TOKEN });
  emulator = await startEmulator({
    region: REGION,
    accountId: ACCOUNT,
    credentials: [CREDENTIALS],
    speed: SPEED,
    seed: world(),
    // Without Docker, a closed loopback port, as in support/world.ts.
    registry: docker
      ? { host: docker.registryHost, username: docker.registryUser, password: docker.registryPassword }
      : { host: '127.0.0.1:9', username: 'AWS', password: 'unused' },
  });
  const elb = new ElasticLoadBalancingV2Client({
    endpoint: emulator.url,
    region: REGION,
    credentials: CREDENTIALS,
  });
  const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: ['previews'] }))).LoadBalancers?.[0];
  listenerArn =
    (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn }))).Listeners?.[0]
      ?.ListenerArn ?? '';
  eventDir = await mkdtemp(path.join(os.tmpdir(), 'ecs-deploy-preview-event-'));
}, 300_000);

afterAll(async () => {
  // The builds' local tags; the registry's were deleted by the destroys.
  for (const tag of [`pr-7-${SHA1}`, `pr-7-${SHA2}`, `pr-8-${SHA1}`]) {
    if (docker)
      await runDocker(['rmi', `${docker.registryHost}/${REPOSITORY}:${tag}`]).catch(() => undefined);
  }
  await emulator?.stop();
  await github?.stop();
  await docker?.stop();
  if (eventDir) await rm(eventDir, { recursive: true, force: true });
});

beforeEach(() => {
  emulator.clock.speed = SPEED;
  emulator.faults.clear();
});

/** The pull_request event the runner hands the action in GITHUB_EVENT_PATH. */
async function event(number: number, action: string, headSha: string): Promise<string> {
  const file = path.join(eventDir, `pr-${number}-${action}-${headSha.slice(0, 7)}.json`);
  await writeFile(file, JSON.stringify({ action, number, pull_request: { number, head: { sha: headSha } } }));
  return file;
}

/** The image: built from example-app with Docker, else an existing reference. */
function imageInputs(): Record<string, string> {
  return docker
    ? {
        context: 'example-app',
        'build-args': `BASE_IMAGE=${docker.baseImage}\nNPM_CONFIG_REGISTRY=${docker.npmRegistry}`,
        network: 'host',
      }
    : { image: '127.0.0.1:5000/example-app:v0' };
}

async function preview(
  action: 'deploy' | 'destroy',
  number: number,
  sha: string,
  extra: Record<string, string> = {},
): Promise<ActionRun> {
  const eventPath = await event(number, action === 'deploy' ? 'synchronize' : 'closed', sha);
  const r = await runAction({
    inputs: {
      preview: action,
      ...(action === 'deploy' ? imageInputs() : {}),
      'ecr-repository': REPOSITORY,
      'task-definition': 'example-app/task-definition.json',
      'container-name': 'web',
      cluster: CLUSTER,
      service: 'web',
      'preview-listener-arn': listenerArn,
      'preview-domain': DOMAIN,
      'github-token': TOKEN,
      'poll-interval-seconds': '1',
      'wait-for-active-deployment-minutes': '2',
      ...extra,
    },
    workspace,
    sha,
    env: { ...awsEnv(emulator), GITHUB_EVENT_PATH: eventPath, GITHUB_API_URL: github.url },
    timeoutMs: 280_000,
  });
  // Outputs, state and summary are read: the runner's temporary files (docker credentials among them) go.
  await rm(r.runnerTemp, { recursive: true, force: true });
  return r;
}

function outcome(r: ActionRun) {
  return { code: r.code, errors: r.errors, log: r.code === 0 ? '' : r.stdout.slice(-4000) };
}

/** What a preview of pull request `n` has in the endpoint, as its own state says. */
async function leftovers(n: number) {
  const state = emulator.state;
  const services = state.ecs.services
    .filter((s) => s.clusterName === CLUSTER && s.serviceName === `web-pr-${n}` && s.status !== 'INACTIVE')
    .map((s) => `${s.serviceName} ${s.status}`);
  const taskDefinitions = (state.ecs.taskDefinitions.get(`example-app-pr-${n}`) ?? [])
    .map((r) => r.taskDefinition)
    .filter((t) => t.status === 'ACTIVE' || t.status === 'INACTIVE')
    .map((t) => `${t.family}:${t.revision} ${t.status}`);
  const rules = [...state.elbv2.rules.values()]
    .filter((r) => r.listenerArn === listenerArn && !r.rule.IsDefault)
    .filter((r) => r.rule.Conditions?.some((c) => c.Values?.includes(`pr-${n}.${DOMAIN}`)))
    .map((r) => r.rule.RuleArn);
  const targetGroups = [...state.elbv2.targetGroups.values()]
    .map((t) => t.targetGroup.TargetGroupName)
    .filter((name) => name === `web-pr-${n}`);
  const ecr = new ECRClient({ endpoint: emulator.url, region: REGION, credentials: CREDENTIALS });
  const images =
    (await ecr.send(new DescribeImagesCommand({ repositoryName: REPOSITORY }))).imageDetails ?? [];
  const imageTags = images.flatMap((i) => i.imageTags ?? []).filter((t) => t.startsWith(`pr-${n}-`));
  return { services, taskDefinitions, rules, targetGroups, imageTags };
}

const nothing = { services: [], taskDefinitions: [], rules: [], targetGroups: [], imageTags: [] };
const comments = (n: number) => github.comments.get(`octo/app#${n}`) ?? [];
const baseTaskDefinition = () =>
  emulator.state.ecs.services
    .find((s) => s.serviceName === 'web' && s.status === 'ACTIVE')
    ?.taskSets.find((t) => t.status === 'PRIMARY')?.taskDefinition;

describe('a pull request’s preview: deploy, synchronize, destroy', () => {
  let baseBefore: string | undefined;

  it('deploys the preview as its own service, routed by host name, and comments on the pull request', async () => {
    baseBefore = baseTaskDefinition();
    const r = await preview('deploy', 7, SHA1);
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.outputs).toMatchObject({
      'preview-url': `https://pr-7.${DOMAIN}`,
      'preview-service': 'web-pr-7',
      'deploy-mode': 'rolling',
      'deployment-outcome': 'succeeded',
      'task-definition-arn': expect.stringMatching(/:task-definition\/example-app-pr-7:1$/),
    });
    if (docker) expect(r.outputs['image-uri']).toBe(`${docker.registryHost}/${REPOSITORY}:pr-7-${SHA1}`);
    // The preflight simulated the preview's own policy (its services, family, rules, target groups).
    expect(r.stdout).toMatch(
      /Preflight: arn:aws:iam::\d{12}:role\/\S+ may make all \d+ calls this run needs/,
    );

    const svc = emulator.state.ecs.services.find(
      (s) => s.serviceName === 'web-pr-7' && s.status === 'ACTIVE',
    );
    expect(svc).toMatchObject({
      desiredCount: 1,
      launchType: 'FARGATE',
      deploymentController: { type: 'ECS' },
      deploymentConfiguration: expect.objectContaining({
        deploymentCircuitBreaker: { enable: true, rollback: true },
      }),
      tags: expect.arrayContaining([
        { key: 'preview-of', value: 'web' },
        { key: 'pull-request', value: '7' },
      ]),
    });
    const tg = [...emulator.state.elbv2.targetGroups.values()].find(
      (t) => t.targetGroup.TargetGroupName === 'web-pr-7',
    );
    expect(tg?.targetGroup).toMatchObject({ Port: 8080, TargetType: 'ip' });
    expect(svc?.loadBalancers).toEqual([
      { targetGroupArn: tg?.targetGroup.TargetGroupArn, containerName: 'web', containerPort: 8080 },
    ]);
    const rule = [...emulator.state.elbv2.rules.values()].find(
      (x) => x.listenerArn === listenerArn && !x.rule.IsDefault,
    );
    expect(rule?.rule).toMatchObject({
      Priority: '7',
      Conditions: [expect.objectContaining({ Field: 'host-header', Values: [`pr-7.${DOMAIN}`] })],
      Actions: [expect.objectContaining({ TargetGroupArn: tg?.targetGroup.TargetGroupArn })],
    });
    expect(rule?.tags).toEqual(expect.arrayContaining([{ Key: 'pull-request', Value: '7' }]));
    const family = emulator.state.ecs.taskDefinitions.get('example-app-pr-7') ?? [];
    expect(family.map((t) => t.tags)).toEqual([
      expect.arrayContaining([{ key: 'preview-of', value: 'web' }]),
    ]);

    expect(comments(7)).toHaveLength(1);
    const body = comments(7)[0]?.body ?? '';
    expect(body).toMatch(
      /^<!-- ecs-deploy-pipeline:preview:web -->\n### ✅ Preview of <code>web<\/code> is live/,
    );
    expect(body).toContain(`| URL | [https://pr-7.${DOMAIN}](https://pr-7.${DOMAIN}/) |`);
    expect(body).toContain(`| Commit | <code>${SHA1.slice(0, 12)}</code> |`);
    expect(body).toContain('| Run | [workflow run](http://127.0.0.1:9/octo/app/actions/runs/1) |');
    expect(github.requests.every((q) => q.authorization === `token ${TOKEN}`)).toBe(true);
    expect(visible(r.stdout + r.stderr) + r.summary).not.toContain(TOKEN);
    expect(r.summary).toContain(`Preview: https://pr-7.${DOMAIN}`);
    // Production is not touched.
    expect(baseTaskDefinition()).toBe(baseBefore);
  }, 300_000);

  it('a push to the pull request updates the same service, rule and comment', async () => {
    const commentId = comments(7)[0]?.id;
    const r = await preview('deploy', 7, SHA2);
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.outputs['task-definition-arn']).toMatch(/example-app-pr-7:2$/);
    expect(emulator.mutatingCalls().filter((c) => c.operation === 'CreateService')).toHaveLength(1);
    expect(emulator.mutatingCalls().filter((c) => c.operation === 'CreateRule')).toHaveLength(1);
    const svc = emulator.state.ecs.services.find(
      (s) => s.serviceName === 'web-pr-7' && s.status === 'ACTIVE',
    );
    expect(svc?.deployments[0]?.taskDefinition).toBe(r.outputs['task-definition-arn']);
    expect(comments(7).map((c) => c.id)).toEqual([commentId]);
    expect(comments(7)[0]?.body).toContain(`<code>${SHA2.slice(0, 12)}</code>`);
    expect(github.requests.filter((q) => q.method === 'PATCH')).toHaveLength(1);
    if (docker) expect((await leftovers(7)).imageTags.sort()).toEqual([`pr-7-${SHA1}`, `pr-7-${SHA2}`]);
    expect(baseTaskDefinition()).toBe(baseBefore);
  }, 300_000);

  it('closing the pull request removes everything the preview created', async () => {
    const r = await preview('destroy', 7, SHA2);
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    // Deleted services drain before they are gone, as in ECS.
    emulator.clock.advance(10 * 60_000);
    expect(await leftovers(7)).toEqual(nothing);
    expect(comments(7)).toHaveLength(1);
    expect(comments(7)[0]?.body).toContain('🗑️ Preview of <code>web</code> is gone');
    expect(r.summary).toContain('Removed the preview of web for pull request #7');
    expect(baseTaskDefinition()).toBe(baseBefore);
  }, 120_000);

  it('a second destroy finds nothing, changes nothing, and succeeds with a notice', async () => {
    const before = emulator.mutatingCalls().length;
    const r = await preview('destroy', 7, SHA2);
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.stdout).toContain('::notice::Pull request #7 has no preview of web to remove');
    expect(emulator.mutatingCalls().length).toBe(before);
    expect(await leftovers(7)).toEqual(nothing);
  }, 120_000);
});

describe('a reopened pull request', () => {
  it('a comment GitHub refuses is a warning, and the deploy still succeeds', async () => {
    github.refuse(403, 'Resource not accessible by integration');
    const r = await preview('deploy', 8, SHA1);
    expect(outcome(r)).toEqual({ code: 0, errors: [], log: '' });
    expect(r.stdout).toMatch(
      /::warning::Could not comment on pull request #8 \(403: Resource not accessible by integration/,
    );
    expect(comments(8)).toEqual([]);
  }, 300_000);

  it('gets its new service once the old one, deleted on close, has finished draining', async () => {
    // At real speed the deleted service drains for seconds, so the reopen finds it DRAINING.
    emulator.clock.speed = 1;
    const closed = await preview('destroy', 8, SHA1);
    expect(outcome(closed)).toEqual({ code: 0, errors: [], log: '' });
    expect(
      emulator.state.ecs.services.filter((s) => s.serviceName === 'web-pr-8').map((s) => s.status),
    ).toEqual(['DRAINING']);

    const reopened = await preview('deploy', 8, SHA1);
    expect(outcome(reopened)).toEqual({ code: 0, errors: [], log: '' });
    expect(reopened.stdout).toContain('is still DRAINING; a new one can be created once it is INACTIVE');
    expect(
      emulator.state.ecs.services.filter((s) => s.serviceName === 'web-pr-8').map((s) => s.status),
    ).toEqual(['INACTIVE', 'ACTIVE']);
    expect(comments(8)).toHaveLength(1);

    emulator.clock.speed = SPEED;
    const cleaned = await preview('destroy', 8, SHA1);
    expect(outcome(cleaned)).toEqual({ code: 0, errors: [], log: '' });
    emulator.clock.advance(10 * 60_000);
    expect(await leftovers(8)).toEqual(nothing);
  }, 300_000);
});
