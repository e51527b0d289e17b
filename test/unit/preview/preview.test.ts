import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { readConfig } from '../../../src/config.js';
import type { TargetService } from '../../../src/deploy/service.js';
import { UserError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import { DeploymentFailed } from '../../../src/stages/deps.js';
import { runPreview as runPipeline } from '../../../src/runs/preview.js';
import { runPreviewDestroy } from '../../../src/runs/teardown.js';
import { previewNames } from '../../../src/preview/names.js';
import {
  familyOfArn,
  planPreview,
  previewImageDeletions,
  previewServiceInput,
  servingContainer,
  startPreviewDeployment,
} from '../../../src/preview/preview.js';
import { ScriptedClock } from '../deploy/fakes.js';
import { pipelineHarness } from '../support/harness.js';

const ecsMock = mockClient(ECSClient);
const ecrMock = mockClient(ECRClient);
const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
const SHA = 'abcdef0123456789abcdef0123456789abcdef01';
const ACCOUNT = '123456789012';
const td = (family: string, rev: number) =>
  `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${family}:${rev}`;
const REPO_URI = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app`;
const OUR_TAGS = [
  { key: 'preview-of', value: 'web' },
  { key: 'pull-request', value: '42' },
];

const baseService: Service = {
  serviceName: 'web',
  serviceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/demo/web`,
  status: 'ACTIVE',
  taskDefinition: td('app', 7),
  desiredCount: 4,
  launchType: 'FARGATE',
  platformVersion: '1.4.0',
  networkConfiguration: {
    awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' },
  },
  deploymentController: { type: 'CODE_DEPLOY' },
  loadBalancers: [{ containerName: 'web', containerPort: 8080, targetGroupArn: 'tg-base' }],
  serviceRegistries: [{ registryArn: 'arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1' }],
  healthCheckGracePeriodSeconds: 30,
};
const target: TargetService = {
  cluster: 'demo',
  serviceName: 'web',
  serviceArn: baseService.serviceArn as string,
  status: 'ACTIVE',
  controller: 'CODE_DEPLOY',
  taskDefinitionArn: td('app', 7),
  desiredCount: 4,
  service: baseService,
};
const taskDefinition = {
  family: 'app',
  networkMode: 'awsvpc' as const,
  containerDefinitions: [
    { name: 'web', image: 'x', portMappings: [{ containerPort: 8080 }] },
    { name: 'sidecar', image: 'y' },
  ],
};
const names = previewNames('web', { action: 'deploy', pullRequest: 42 });

let log: MemoryLog;
beforeEach(() => {
  ecsMock.reset();
  ecrMock.reset();
  log = new MemoryLog();
});

function config(inputs: Record<string, string>) {
  return readConfig((n) => inputs[n] ?? '', {
    GITHUB_WORKSPACE: '/ws',
    GITHUB_SHA: SHA,
    AWS_REGION: 'us-east-1',
    RUNNER_TEMP: '/tmp/r',
  });
}

describe('servingContainer', () => {
  const withLb = (lb: Service['loadBalancers']): Service => ({ ...baseService, loadBalancers: lb });
  it.each([
    [
      'the base service’s load balancer entry',
      withLb([{ containerName: 'web', containerPort: 8080 }]),
      {},
      { name: 'web', port: 8080 },
    ],
    [
      'the inputs, without a load balancer on the base service',
      withLb([]),
      { containerName: 'web' },
      { name: 'web', port: 8080 },
    ],
    ['the only container with a port', withLb(undefined), {}, { name: 'web', port: 8080 }],
  ])('from %s', (_name, base, opts, expected) => {
    expect(servingContainer(base, taskDefinition, opts)).toEqual(expected);
  });

  it.each([
    [
      'a port the container does not map',
      { containerName: 'web', containerPort: 9090 },
      /maps ports 8080, not 9090/,
    ],
    ['a container without ports', { containerName: 'sidecar' }, /sidecar .* has no port mappings/],
  ])('refuses %s', (_name, opts, message) => {
    expect(() => servingContainer(withLb([]), taskDefinition, opts)).toThrow(message);
  });
});

describe('previewServiceInput', () => {
  it('copies launch type, platform version, network and placement; one task; ECS controller with circuit breaker; tags', () => {
    expect(
      previewServiceInput(baseService, names, {
        cluster: 'demo',
        taskDefinitionArn: td('app-pr-42', 1),
        loadBalancer: { targetGroupArn: 'tg-pr', containerName: 'web', containerPort: 8080 },
      }),
    ).toEqual({
      cluster: 'demo',
      serviceName: 'web-pr-42',
      taskDefinition: td('app-pr-42', 1),
      desiredCount: 1,
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      networkConfiguration: baseService.networkConfiguration,
      deploymentController: { type: 'ECS' },
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      loadBalancers: [{ targetGroupArn: 'tg-pr', containerName: 'web', containerPort: 8080 }],
      healthCheckGracePeriodSeconds: 30,
      propagateTags: 'SERVICE',
      enableECSManagedTags: true,
      tags: OUR_TAGS,
    });
  });

  it('takes a capacity provider strategy instead of the launch type, and never the production target group', () => {
    const input = previewServiceInput(
      {
        ...baseService,
        launchType: undefined,
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      },
      names,
      { cluster: 'demo', taskDefinitionArn: td('app-pr-42', 1) },
    );
    expect(input.capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]);
    expect(input.launchType).toBeUndefined();
    expect(input.loadBalancers).toBeUndefined();
    expect(input.serviceRegistries).toBeUndefined();
  });
});

describe('previewImageDeletions', () => {
  const d = (n: number) => `sha256:${String(n).repeat(64)}`;
  it.each([
    [
      'an image tagged only by the preview goes by digest, once',
      [{ imageDigest: d(1), imageTags: ['pr-42-a', 'pr-42-b'] }],
      [{ imageDigest: d(1) }],
    ],
    [
      'an image with other tags loses only the preview’s',
      [{ imageDigest: d(2), imageTags: ['pr-42-a', 'v1.2.0'] }],
      [{ imageTag: 'pr-42-a' }],
    ],
    [
      'other pull requests’ tags are untouched (pr-4 is not pr-42)',
      [{ imageDigest: d(3), imageTags: ['pr-4-a', 'pr-420-b'] }],
      [],
    ],
    ['untagged images are not the preview’s', [{ imageDigest: d(4) }], []],
  ])('%s', (_name, images, expected) => {
    expect(previewImageDeletions(images, 'pr-42-')).toEqual(expected);
  });
});

describe('planPreview', () => {
  const wait = (clock = new ScriptedClock()) => ({ timeoutMs: 60_000, pollIntervalMs: 5_000, clock, log });
  const cfg = config({
    service: 'web',
    cluster: 'demo',
    image: `${REPO_URI}:v1`,
    preview: 'deploy',
    'pull-request-number': '42',
  });

  it('plans a new service when there is none', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    const plan = await planPreview(cfg, target, taskDefinition, 'app', {
      ecs: new ECSClient({ credentials }),
      log,
      wait: wait(),
    });
    expect(plan).toMatchObject({ names: { service: 'web-pr-42' }, existing: undefined, routing: undefined });
  });

  it('waits for a service still draining from an earlier destroy, then plans a new one', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [{ serviceName: 'web-pr-42', status: 'DRAINING', tags: OUR_TAGS }] })
      .resolvesOnce({ services: [{ serviceName: 'web-pr-42', status: 'DRAINING', tags: OUR_TAGS }] })
      .resolves({ services: [{ serviceName: 'web-pr-42', status: 'INACTIVE', tags: OUR_TAGS }] });
    const clock = new ScriptedClock();
    const plan = await planPreview(cfg, target, taskDefinition, 'app', {
      ecs: new ECSClient({ credentials }),
      log,
      wait: wait(clock),
    });
    expect(plan.existing).toBeUndefined();
    expect(clock.sleeps).toEqual([5_000, 5_000]);
    expect(log.text()).toContain('still DRAINING');
  });

  it('fails with the fix when the old service drains past the bound', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'web-pr-42', status: 'DRAINING' }] });
    const error = await planPreview(cfg, target, taskDefinition, 'app', {
      ecs: new ECSClient({ credentials }),
      log,
      wait: wait(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).problems[0]).toMatchObject({
      where: 'preview',
      what: expect.stringContaining('still DRAINING after 1 min'),
      fix: expect.stringContaining('wait-for-active-deployment-minutes'),
    });
  });

  it('updates its own ACTIVE service, and never one that is not a preview', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [{ serviceName: 'web-pr-42', status: 'ACTIVE', tags: OUR_TAGS }] });
    const deps = { ecs: new ECSClient({ credentials }), log, wait: wait() };
    expect((await planPreview(cfg, target, taskDefinition, 'app', deps)).existing).toMatchObject({
      serviceName: 'web-pr-42',
    });
    ecsMock
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'web-pr-42', status: 'ACTIVE', tags: [] }] });
    await expect(planPreview(cfg, target, taskDefinition, 'app', deps)).rejects.toThrow(
      /exists and is not a preview of web/,
    );
  });
});

describe('startPreviewDeployment', () => {
  const planned = { names, base: target, baseFamily: 'app', existing: undefined, routing: undefined };

  it('creates the service and returns its first deployment', async () => {
    ecsMock
      .on(CreateServiceCommand)
      .resolves({ service: { deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY' }] } });
    const started = await startPreviewDeployment({ ecs: new ECSClient({ credentials }) }, planned, {
      cluster: 'demo',
      taskDefinitionArn: td('app-pr-42', 1),
      log,
    });
    expect(started).toEqual({ deploymentId: 'ecs-svc/1', created: true, routing: undefined });
    expect(ecsMock).toHaveReceivedCommandWith(CreateServiceCommand, {
      serviceName: 'web-pr-42',
      desiredCount: 1,
      tags: OUR_TAGS,
    });
  });

  it('updates an existing preview to the new revision, with one task', async () => {
    ecsMock.on(UpdateServiceCommand).resolves({
      service: { deployments: [{ id: 'ecs-svc/2', status: 'PRIMARY', taskDefinition: td('app-pr-42', 2) }] },
    });
    const started = await startPreviewDeployment(
      { ecs: new ECSClient({ credentials }) },
      { ...planned, existing: { serviceName: 'web-pr-42', status: 'ACTIVE' } },
      { cluster: 'demo', taskDefinitionArn: td('app-pr-42', 2), log },
    );
    expect(started).toMatchObject({ deploymentId: 'ecs-svc/2', created: false });
    expect(ecsMock).toHaveReceivedCommandWith(UpdateServiceCommand, {
      cluster: 'demo',
      service: 'web-pr-42',
      taskDefinition: td('app-pr-42', 2),
      desiredCount: 1,
    });
    expect(ecsMock).not.toHaveReceivedCommand(CreateServiceCommand);
  });

  it('explains ECS refusing a name still in use', async () => {
    ecsMock.on(CreateServiceCommand).rejects(
      Object.assign(new Error('Creation of service was not idempotent.'), {
        name: 'InvalidParameterException',
      }),
    );
    await expect(
      startPreviewDeployment({ ecs: new ECSClient({ credentials }) }, planned, {
        cluster: 'demo',
        taskDefinitionArn: td('app-pr-42', 1),
        log,
      }),
    ).rejects.toThrow(/still ACTIVE or DRAINING.*Fix: .*concurrency/s);
  });
});

/** PipelineDeps for runs on mocked clients. */
function harness() {
  return pipelineHarness({
    files: { '/ws/taskdef.json': JSON.stringify(taskDefinition) },
    clock: new ScriptedClock(),
    log,
    elbv2: true,
  });
}

describe('a preview deploy through the pipeline', () => {
  const inputs = {
    service: 'web',
    cluster: 'demo',
    'ecr-repository': 'app',
    'task-definition': 'taskdef.json',
    'container-name': 'web',
    preview: 'deploy',
    'pull-request-number': '42',
    preflight: 'false',
    'preview-url': 'https://pr-{number}.preview.example.com',
  };

  /** The base service, no preview service while planning, and `watched` once it was created. */
  function world(watched: Service) {
    ecsMock.on(DescribeServicesCommand).callsFake((input: { services: string[]; include?: string[] }) => {
      if (input.services[0] === 'web') return { services: [baseService] };
      return { services: input.include ? [] : [watched] };
    });
    ecrMock
      .on(DescribeRepositoriesCommand)
      .resolves({ repositories: [{ repositoryName: 'app', repositoryUri: REPO_URI }] });
    ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: Buffer.from('AWS:pw').toString('base64'),
          proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`,
        },
      ],
    });
    ecsMock
      .on(RegisterTaskDefinitionCommand)
      .resolves({ taskDefinition: { taskDefinitionArn: td('app-pr-42', 1), revision: 1 } });
    ecsMock
      .on(CreateServiceCommand)
      .resolves({ service: { deployments: [{ id: 'ecs-svc/9', status: 'PRIMARY' }] } });
  }

  it('builds pr-<N>-<sha>, registers <family>-pr-<N> with the preview tags, creates the service and watches it', async () => {
    world({
      serviceName: 'web-pr-42',
      status: 'ACTIVE',
      deployments: [
        { id: 'ecs-svc/9', status: 'PRIMARY', rolloutState: 'COMPLETED', taskDefinition: td('app-pr-42', 1) },
      ],
    });
    const h = harness();
    await runPipeline(config(inputs), h.deps, h.timer, h.report);

    expect(ecsMock).toHaveReceivedCommandWith(RegisterTaskDefinitionCommand, {
      family: 'app-pr-42',
      tags: OUR_TAGS,
      containerDefinitions: [
        expect.objectContaining({ name: 'web', image: `${REPO_URI}:pr-42-${SHA}` }),
        expect.objectContaining({ name: 'sidecar' }),
      ],
    });
    expect(ecsMock).toHaveReceivedCommandWith(CreateServiceCommand, {
      cluster: 'demo',
      serviceName: 'web-pr-42',
      taskDefinition: td('app-pr-42', 1),
      deploymentController: { type: 'ECS' },
    });
    // The base service is never changed.
    expect(ecsMock).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(h.outputs).toMatchObject({
      'deploy-mode': 'rolling',
      'preview-service': 'web-pr-42',
      'preview-url': 'https://pr-42.preview.example.com',
      'image-uri': `${REPO_URI}:pr-42-${SHA}`,
      'deployment-outcome': 'succeeded',
    });
    expect(JSON.parse(h.state.deployment as string)).toMatchObject({
      kind: 'rolling',
      id: 'ecs-svc/9',
      service: 'web-pr-42',
    });
    expect(h.report.service).toBe('web-pr-42');
  });

  it('prints the policy of a preview: its services and family next to the base service, not the base service’s deploy', async () => {
    world({
      serviceName: 'web-pr-42',
      status: 'ACTIVE',
      deployments: [
        { id: 'ecs-svc/9', status: 'PRIMARY', rolloutState: 'COMPLETED', taskDefinition: td('app-pr-42', 1) },
      ],
    });
    const h = harness();
    await runPipeline(config({ ...inputs, 'print-policy': 'true' }), h.deps, h.timer, h.report);
    const policy = JSON.parse(h.outputs.policy as string) as {
      Statement: { Sid: string; Action: string[]; Resource: string[] }[];
    };
    const statement = (sid: string) => policy.Statement.find((st) => st.Sid === sid);
    expect(statement('PreviewServices')).toMatchObject({
      Action: expect.arrayContaining(['ecs:CreateService', 'ecs:DeleteService', 'ecs:UpdateService']),
      Resource: [`arn:aws:ecs:us-east-1:${ACCOUNT}:service/demo/web-pr-*`],
    });
    expect(statement('PreviewTaskDefinitions')?.Resource).toEqual([
      `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/app-pr-*:*`,
    ]);
    expect(statement('Service')?.Action).toEqual(['ecs:DescribeServices']);
    expect(policy.Statement.flatMap((st) => st.Action)).not.toContain('codedeploy:CreateDeployment');
  });

  it('fails when the new service’s deployment fails, naming it', async () => {
    world({
      serviceName: 'web-pr-42',
      status: 'ACTIVE',
      deployments: [
        {
          id: 'ecs-svc/9',
          status: 'PRIMARY',
          rolloutState: 'FAILED',
          rolloutStateReason: 'tasks failed to start',
        },
      ],
    });
    const h = harness();
    await expect(runPipeline(config(inputs), h.deps, h.timer, h.report)).rejects.toBeInstanceOf(
      DeploymentFailed,
    );
    expect(h.outputs['deployment-outcome']).toBe('failed');
  });
});

describe('runPreviewDestroy', () => {
  const inputs = {
    service: 'web',
    cluster: 'demo',
    'ecr-repository': 'app',
    'task-definition': 'taskdef.json',
    preview: 'destroy',
    'pull-request-number': '42',
  };

  function leftovers() {
    ecsMock
      .on(DescribeServicesCommand, { cluster: 'demo', services: ['web-pr-42'], include: ['TAGS'] })
      .resolves({
        services: [
          { serviceName: 'web-pr-42', status: 'ACTIVE', taskDefinition: td('app-pr-42', 3), tags: OUR_TAGS },
        ],
      });
    ecsMock
      .on(ListTaskDefinitionsCommand, { familyPrefix: 'app-pr-42', status: 'ACTIVE' })
      .resolves({ taskDefinitionArns: [td('app-pr-42', 2), td('app-pr-42', 3)] })
      .on(ListTaskDefinitionsCommand, { familyPrefix: 'app-pr-42', status: 'INACTIVE' })
      .resolves({ taskDefinitionArns: [td('app-pr-42', 1), td('app-pr-42', 2), td('app-pr-42', 3)] });
    ecsMock.on(DeleteTaskDefinitionsCommand).resolves({ taskDefinitions: [{}, {}, {}] });
    ecrMock.on(DescribeImagesCommand).resolves({
      imageDetails: [
        { imageDigest: 'sha256:1', imageTags: ['pr-42-a', 'pr-42-b'] },
        { imageDigest: 'sha256:2', imageTags: ['pr-42-c', 'main'] },
        { imageDigest: 'sha256:3', imageTags: ['pr-43-a'] },
      ],
    });
    ecrMock.on(BatchDeleteImageCommand).resolves({ imageIds: [], failures: [] });
  }

  it('scales the service to 0 and deletes it, then task definitions and image tags', async () => {
    leftovers();
    const h = harness();
    const result = await runPreviewDestroy(config(inputs), h.deps, h.timer, h.report);
    expect(ecsMock).toHaveReceivedCommandWith(UpdateServiceCommand, {
      cluster: 'demo',
      service: 'web-pr-42',
      desiredCount: 0,
    });
    expect(ecsMock).toHaveReceivedCommandWith(DeleteServiceCommand, {
      cluster: 'demo',
      service: 'web-pr-42',
      force: true,
    });
    expect(
      ecsMock.commandCalls(DeregisterTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition),
    ).toEqual([td('app-pr-42', 2), td('app-pr-42', 3)]);
    expect(ecsMock).toHaveReceivedCommandWith(DeleteTaskDefinitionsCommand, {
      taskDefinitions: [td('app-pr-42', 1), td('app-pr-42', 2), td('app-pr-42', 3)],
    });
    expect(ecrMock).toHaveReceivedCommandWith(BatchDeleteImageCommand, {
      repositoryName: 'app',
      imageIds: [{ imageDigest: 'sha256:1' }, { imageTag: 'pr-42-c' }],
    });
    expect(result.removed).toEqual([
      'service demo/web-pr-42',
      '3 task definition revision(s) of app-pr-42',
      '3 image tag(s) pr-42-*',
    ]);
    expect(h.report.outcome).toBe('removed');
    expect(h.timer.stages.map((s) => s.name)).toEqual([
      'Delete preview service',
      'Delete preview task definitions',
      'Delete preview image tags',
    ]);
  });

  it('succeeds with a notice when there is nothing (never deployed, or destroyed before)', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [{ serviceName: 'web-pr-42', status: 'INACTIVE', taskDefinition: td('app-pr-42', 3) }],
    });
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });
    ecrMock
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageDigest: 'sha256:3', imageTags: ['main'] }] });
    const h = harness();
    const result = await runPreviewDestroy(config(inputs), h.deps, h.timer, h.report);
    expect(result.removed).toEqual([]);
    expect(h.report.outcome).toBe('nothing to remove');
    expect(log.text()).toContain('notice: Pull request #42 has no preview of web to remove');
    // Only reads: nothing was there to change.
    expect(ecsMock.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'DescribeServicesCommand',
      'ListTaskDefinitionsCommand',
      'ListTaskDefinitionsCommand',
    ]);
    expect(ecrMock).not.toHaveReceivedCommand(BatchDeleteImageCommand);
  });

  it('does not delete a service of that name that is not the preview’s', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'web-pr-42', status: 'ACTIVE', tags: [] }] });
    const h = harness();
    await expect(runPreviewDestroy(config(inputs), h.deps, h.timer, h.report)).rejects.toThrow(
      /is not a preview of web/,
    );
    expect(ecsMock).not.toHaveReceivedCommand(DeleteServiceCommand);
  });

  it('finds the family from the base service when no task definition is given', async () => {
    ecsMock
      .on(DescribeServicesCommand, { cluster: 'demo', services: ['web-pr-42'], include: ['TAGS'] })
      .resolves({ services: [] });
    ecsMock
      .on(DescribeServicesCommand, { cluster: 'demo', services: ['web'] })
      .resolves({ services: [baseService] });
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });
    const h = harness();
    await runPreviewDestroy(
      config({ ...inputs, 'task-definition': '', 'ecr-repository': '' }),
      h.deps,
      h.timer,
      h.report,
    );
    expect(ecsMock).toHaveReceivedCommandWith(ListTaskDefinitionsCommand, {
      familyPrefix: 'app-pr-42',
      status: 'ACTIVE',
    });
    expect(ecsMock).not.toHaveReceivedCommand(DescribeTaskDefinitionCommand);
  });

  it('familyOfArn reads the family of a revision ARN', () => {
    expect(familyOfArn(td('app-pr-42', 3))).toBe('app-pr-42');
    expect(familyOfArn('app')).toBeUndefined();
  });
});
