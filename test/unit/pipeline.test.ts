import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  ListDeploymentTargetsCommand,
} from '@aws-sdk/client-codedeploy';
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import {
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  GetRoleCommand,
  IAMClient,
  SimulatePrincipalPolicyCommand,
  type SimulatePrincipalPolicyCommandInput,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Cancelled } from '../../src/cancel.js';
import type { Clock } from '../../src/clock.js';
import { readConfig } from '../../src/config.js';
import { UserError } from '../../src/errors.js';
import { DeploymentFailed } from '../../src/stages/deps.js';
import { runDeploy as runPipeline } from '../../src/runs/deploy.js';
import { pipelineHarness } from './support/harness.js';

const ecs = mockClient(ECSClient);
const ecr = mockClient(ECRClient);
const cd = mockClient(CodeDeployClient);
const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);

const SHA = 'abcdef0123456789abcdef0123456789abcdef01';
const TD_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:8';
const OLD_TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:7';
const DIGEST = `sha256:${'b'.repeat(64)}`;
const taskDefinition = {
  family: 'app',
  containerDefinitions: [{ name: 'web', image: '<IMAGE1_NAME>', portMappings: [{ containerPort: 8080 }] }],
};
const goodAppSpec = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 8080
`;
const ec2AppSpec = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: x
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 8080
Hooks:
  ApplicationStart:
    - Location: scripts/start.sh
      Timeout: 300
      RunAsUser: root
`;

const MUTATING = [
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  CreateDeploymentCommand,
  CreateRepositoryCommand,
];

class FakeClock implements Clock {
  t = 0;
  now() {
    return this.t;
  }
  wall() {
    return new Date(this.t);
  }
  async sleep(ms: number) {
    this.t += ms;
  }
}

function harness(files: Record<string, string>) {
  return pipelineHarness({ files, clock: new FakeClock(), digest: DIGEST, report: { cluster: 'prod' } });
}

function config(inputs: Record<string, string>) {
  return readConfig((n) => inputs[n] ?? '', {
    GITHUB_WORKSPACE: '/ws',
    GITHUB_SHA: SHA,
    AWS_REGION: 'us-east-1',
    RUNNER_TEMP: '/tmp/r',
  });
}

function awsWorld(controller: 'CODE_DEPLOY' | 'ECS') {
  ecs.on(DescribeServicesCommand).resolves({
    services: [
      {
        serviceName: 'web',
        serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/web',
        status: 'ACTIVE',
        taskDefinition: OLD_TD,
        desiredCount: 2,
        deploymentController: { type: controller },
        loadBalancers: [{ containerName: 'web', containerPort: 8080, targetGroupArn: 'tg' }],
        deployments: [
          { id: 'ecs-svc/1', status: 'PRIMARY', taskDefinition: OLD_TD, rolloutState: 'COMPLETED' },
        ],
      },
    ],
  });
  ecs.on(DescribeTaskDefinitionCommand).resolves({
    taskDefinition: { ...taskDefinition, taskDefinitionArn: OLD_TD, revision: 7, status: 'ACTIVE' },
    tags: [],
  });
  ecr.on(DescribeRepositoriesCommand).resolves({
    repositories: [
      {
        repositoryName: 'app',
        repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app',
        imageTagMutability: 'MUTABLE',
      },
    ],
  });
  ecr.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [
      {
        authorizationToken: Buffer.from('AWS:pw').toString('base64'),
        proxyEndpoint: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com',
      },
    ],
  });
  ecs
    .on(RegisterTaskDefinitionCommand)
    .resolves({ taskDefinition: { taskDefinitionArn: TD_ARN, revision: 8 } });
  cd.on(GetDeploymentGroupCommand).resolves({
    deploymentGroupInfo: {
      applicationName: 'AppECS-prod-web',
      deploymentGroupName: 'DgpECS-prod-web',
      computePlatform: 'ECS',
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      ecsServices: [{ clusterName: 'prod', serviceName: 'web' }],
      blueGreenDeploymentConfiguration: {
        terminateBlueInstancesOnDeploymentSuccess: { terminationWaitTimeInMinutes: 5 },
      },
    },
  });
  cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-TEST1' });
  cd.on(GetDeploymentCommand).resolves({ deploymentInfo: { deploymentId: 'd-TEST1', status: 'Succeeded' } });
  cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
  ecs.on(UpdateServiceCommand).resolves({
    service: {
      deployments: [
        { id: 'ecs-svc/2', status: 'PRIMARY', taskDefinition: TD_ARN, rolloutState: 'IN_PROGRESS' },
      ],
    },
  });
}

beforeEach(() => {
  ecs.reset();
  ecr.reset();
  cd.reset();
  sts.reset();
  iam.reset();
});

const base = {
  preflight: 'false',
  'ecr-repository': 'app',
  cluster: 'prod',
  service: 'web',
  'task-definition': 'td.json',
  'poll-interval-seconds': '1',
};
const files = {
  '/ws/td.json': JSON.stringify(taskDefinition),
  '/ws/appspec.yaml': goodAppSpec,
  '/ws/ec2.yaml': ec2AppSpec,
};

describe('runPipeline', () => {
  it('blue/green: validates, builds, pushes, registers, deploys and watches, in that order', async () => {
    awsWorld('CODE_DEPLOY');
    const h = harness(files);
    await runPipeline(config({ ...base, 'codedeploy-appspec': 'appspec.yaml' }), h.deps, h.timer, h.report);

    const image = `123456789012.dkr.ecr.us-east-1.amazonaws.com/app:${SHA}`;
    expect(h.dockerCalls.map((c) => c[0])).toEqual(['buildx', 'login', 'build', 'push']);
    expect(ecs).toHaveReceivedCommandWith(RegisterTaskDefinitionCommand, {
      family: 'app',
      containerDefinitions: [{ name: 'web', image, portMappings: [{ containerPort: 8080 }] }],
    });
    const create = cd.commandCalls(CreateDeploymentCommand)[0]?.args[0].input;
    expect(create).toMatchObject({
      applicationName: 'AppECS-prod-web',
      deploymentGroupName: 'DgpECS-prod-web',
      revision: { revisionType: 'AppSpecContent' },
    });
    expect(create?.revision?.appSpecContent?.content).toContain(`TaskDefinition: "${TD_ARN}"`);
    expect(h.outputs).toMatchObject({
      'deploy-mode': 'codedeploy',
      'image-uri': image,
      'image-digest': DIGEST,
      'image-uri-digest': `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@${DIGEST}`,
      'task-definition-arn': TD_ARN,
      'codedeploy-deployment-id': 'd-TEST1',
      'deployment-outcome': 'succeeded',
    });
    expect(JSON.parse(h.written['/tmp/r/ecs-deploy/imagedefinitions.json'] as string)).toEqual([
      { name: 'web', imageUri: image },
    ]);
    expect(JSON.parse(h.written['/tmp/r/ecs-deploy/imageDetail.json'] as string)).toEqual({
      ImageURI: image,
    });
    expect(h.written['/tmp/r/ecs-deploy/appspec.yaml']).toContain(TD_ARN);
    expect(h.state).toMatchObject({
      registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      settled: 'true',
    });
    expect(JSON.parse(h.state.deployment as string)).toEqual({
      kind: 'codedeploy',
      id: 'd-TEST1',
      cluster: 'prod',
      service: 'web',
      region: 'us-east-1',
      // The intent written before CreateDeployment: enough for the post step to find it.
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:8',
      application: 'AppECS-prod-web',
      deploymentGroup: 'DgpECS-prod-web',
      since: '1970-01-01T00:00:00.000Z',
    });
    expect(h.report.stages.map((s) => `${s.name}:${s.result}`)).toEqual([
      'Validate:succeeded',
      'ECR login:succeeded',
      'Build web:succeeded',
      'Register task definition:succeeded',
      'CodeDeploy deployment:succeeded',
      'Watch:succeeded',
    ]);
  });

  it('generates the appspec from the service load balancer when none is given', async () => {
    awsWorld('CODE_DEPLOY');
    const h = harness(files);
    await runPipeline(config(base), h.deps, h.timer, h.report);
    const content =
      cd.commandCalls(CreateDeploymentCommand)[0]?.args[0].input.revision?.appSpecContent?.content;
    expect(content).toMatch(/ContainerName: "web"\s+ContainerPort: 8080/);
  });

  it('rolling: UpdateService with the new revision and watches our deployment', async () => {
    awsWorld('ECS');
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({
        services: [
          {
            serviceName: 'web',
            serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/web',
            status: 'ACTIVE',
            taskDefinition: OLD_TD,
            desiredCount: 1,
            deploymentController: { type: 'ECS' },
          },
        ],
      })
      .resolves({
        services: [
          {
            serviceName: 'web',
            status: 'ACTIVE',
            desiredCount: 1,
            runningCount: 1,
            events: [],
            deployments: [
              {
                id: 'ecs-svc/2',
                status: 'PRIMARY',
                taskDefinition: TD_ARN,
                rolloutState: 'COMPLETED',
                desiredCount: 1,
                runningCount: 1,
              },
            ],
          },
        ],
      });
    const h = harness(files);
    await runPipeline(
      config({ ...base, image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1', 'ecr-repository': '' }),
      h.deps,
      h.timer,
      h.report,
    );
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, {
      cluster: 'prod',
      service: 'web',
      taskDefinition: TD_ARN,
      forceNewDeployment: false,
    });
    expect(h.dockerCalls).toEqual([]);
    expect(h.outputs).toMatchObject({
      'deploy-mode': 'rolling',
      'ecs-deployment-id': 'ecs-svc/2',
      'deployment-outcome': 'succeeded',
    });
  });

  it('deploy-mode none registers only', async () => {
    awsWorld('ECS');
    const h = harness(files);
    await runPipeline(
      config({ ...base, 'deploy-mode': 'none', image: 'r/app:1', 'ecr-repository': '' }),
      h.deps,
      h.timer,
      h.report,
    );
    expect(ecs).toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(cd).not.toHaveReceivedCommand(CreateDeploymentCommand);
    expect(h.report.outcome).toBe('registered');
  });

  it.each([
    ['EC2-style hooks in the appspec', { 'codedeploy-appspec': 'ec2.yaml' }, 'CODE_DEPLOY', /Lambda/],
    ['a missing appspec file', { 'codedeploy-appspec': 'nope.yaml' }, 'CODE_DEPLOY', /does not exist/],
    ['a container that is not in the task definition', { 'container-name': 'api' }, 'CODE_DEPLOY', /api/],
    [
      'codedeploy for an ECS-controller service',
      { 'deploy-mode': 'codedeploy' },
      'ECS',
      /deploy-mode|controller/i,
    ],
    [
      'rolling for a CODE_DEPLOY service',
      { 'deploy-mode': 'rolling' },
      'CODE_DEPLOY',
      /deploy-mode|controller/i,
    ],
  ] as const)('stops on %s before any change', async (_name, inputs, controller, message) => {
    awsWorld(controller);
    const h = harness(files);
    const err = await runPipeline(config({ ...base, ...inputs }), h.deps, h.timer, h.report).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(message);
    for (const command of MUTATING) {
      expect(ecs.commandCalls(command as never)).toHaveLength(0);
      expect(cd.commandCalls(command as never)).toHaveLength(0);
      expect(ecr.commandCalls(command as never)).toHaveLength(0);
    }
    expect(h.dockerCalls).toEqual([]);
  });

  it('reports a missing repository and a bad appspec port together', async () => {
    awsWorld('CODE_DEPLOY');
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(Object.assign(new Error('nope'), { name: 'RepositoryNotFoundException' }));
    const h = harness({ ...files, '/ws/appspec.yaml': goodAppSpec.replace('8080', '9090') });
    const err = (await runPipeline(
      config({ ...base, 'codedeploy-appspec': 'appspec.yaml' }),
      h.deps,
      h.timer,
      h.report,
    ).catch((e: unknown) => e)) as UserError;
    expect(err.problems.map((p) => p.where)).toEqual(expect.arrayContaining(['ecr-repository']));
    expect(err.problems.length).toBeGreaterThanOrEqual(2);
    expect(err.message).toMatch(/9090/);
  });

  it('creates a missing repository when allowed, after validation', async () => {
    awsWorld('CODE_DEPLOY');
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(Object.assign(new Error('nope'), { name: 'RepositoryNotFoundException' }));
    ecr
      .on(CreateRepositoryCommand)
      .resolves({ repository: { repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app' } });
    const h = harness(files);
    await runPipeline(config({ ...base, 'create-repository': 'true' }), h.deps, h.timer, h.report);
    expect(ecr).toHaveReceivedCommandWith(CreateRepositoryCommand, { repositoryName: 'app' });
  });

  it('fails with the deployment diagnostics when the deployment fails', async () => {
    awsWorld('CODE_DEPLOY');
    cd.on(GetDeploymentCommand).resolves({
      deploymentInfo: {
        deploymentId: 'd-TEST1',
        status: 'Failed',
        errorInformation: { code: 'ECS_UPDATE_ERROR', message: 'tasks failed' },
      },
    });
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          serviceName: 'web',
          serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/web',
          status: 'ACTIVE',
          taskDefinition: OLD_TD,
          desiredCount: 2,
          deploymentController: { type: 'CODE_DEPLOY' },
          loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
          events: [],
        },
      ],
    });
    const h = harness(files);
    const err = await runPipeline(config(base), h.deps, h.timer, h.report).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeploymentFailed);
    expect((err as DeploymentFailed).diagnostics.join('\n')).toMatch(/ECS_UPDATE_ERROR/);
    expect(h.outputs['deployment-outcome']).toBe('failed');
    expect(h.state.settled).toBe('true');
    // The one error is the failure's sentence; the Watch stage is ❌ with it, never ✅.
    const failed = err as DeploymentFailed;
    expect(failed.failure?.cause).toBe('CodeDeploy deployment d-TEST1 failed: tasks failed');
    expect(failed.message).toBe(
      `${failed.failure?.cause}; production still serves ${OLD_TD.replace(/^.*task-definition\//, '')}.`,
    );
    expect(h.timer.stages.find((st) => st.name === 'Watch')).toMatchObject({
      result: 'failed',
      detail: failed.failure?.cause,
    });
    expect(h.report.failure).toBe(failed.failure);
    expect(h.log.text()).toContain('errorInformation: ECS_UPDATE_ERROR: tasks failed');
  });

  it('leaves a deployment unsettled when the watch is cancelled, for the post step', async () => {
    awsWorld('CODE_DEPLOY');
    const abort = new AbortController();
    // Cancelled while the watch polls (a cancel before a stage stops the run there instead).
    cd.on(GetDeploymentCommand).callsFake(() => {
      abort.abort(new Error('cancelled'));
      return { deploymentInfo: { deploymentId: 'd-TEST1', status: 'InProgress' } };
    });
    const h = harness(files);
    h.deps.signal = abort.signal;
    await expect(runPipeline(config(base), h.deps, h.timer, h.report)).rejects.toBeInstanceOf(
      DeploymentFailed,
    );
    expect(h.state.deployment).toBeDefined();
    expect(h.state.settled).toBeUndefined();
  });
});

describe('runPipeline annotations', () => {
  it('points an appspec port problem at its line', async () => {
    awsWorld('CODE_DEPLOY');
    const h = harness({ ...files, '/ws/appspec.yaml': goodAppSpec.replace('8080', '9090') });
    const err = (await runPipeline(
      config({ ...base, 'codedeploy-appspec': 'appspec.yaml' }),
      h.deps,
      h.timer,
      h.report,
    ).catch((e: unknown) => e)) as UserError;
    const port = err.problems.find((p) => /9090/.test(p.what));
    expect(port).toMatchObject({ file: '/ws/appspec.yaml', line: 9 });
  });
});

describe('runPipeline preflight', () => {
  const roleTaskDefinition = {
    ...taskDefinition,
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    taskRoleArn: 'arn:aws:iam::123456789012:role/task',
  };
  const withRoles = { ...files, '/ws/td.json': JSON.stringify(roleTaskDefinition) };

  function iamWorld(deny: (action: string) => boolean) {
    ecs.on(DescribeClustersCommand).resolves({ clusters: [{ clusterName: 'prod', status: 'ACTIVE' }] });
    sts.on(GetCallerIdentityCommand).resolves({
      Account: '123456789012',
      Arn: 'arn:aws:sts::123456789012:assumed-role/deploy/gh-run',
    });
    iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => ({
      Role: {
        RoleName: input.RoleName,
        Arn: `arn:aws:iam::123456789012:role/${input.RoleName}`,
        Path: '/',
        RoleId: 'x',
        CreateDate: new Date(),
      },
    }));
    iam.on(SimulatePrincipalPolicyCommand).callsFake((input: SimulatePrincipalPolicyCommandInput) => ({
      EvaluationResults: (input.ActionNames ?? []).flatMap((action) =>
        (input.ResourceArns ?? ['*']).map((resource) => ({
          EvalActionName: action,
          EvalResourceName: resource,
          EvalDecision: deny(action) ? 'implicitDeny' : 'allowed',
        })),
      ),
    }));
  }

  it('checks every permission, then deploys', async () => {
    awsWorld('CODE_DEPLOY');
    iamWorld(() => false);
    const h = harness(withRoles);
    await runPipeline(config({ ...base, preflight: 'true' }), h.deps, h.timer, h.report);
    const simulated = iam
      .commandCalls(SimulatePrincipalPolicyCommand)
      .flatMap((c) => c.args[0].input.ActionNames ?? []);
    expect(simulated).toEqual(
      expect.arrayContaining(['ecs:RegisterTaskDefinition', 'codedeploy:CreateDeployment', 'iam:PassRole']),
    );
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)[0]?.args[0].input.PolicySourceArn).toBe(
      'arn:aws:iam::123456789012:role/deploy',
    );
    expect(cd).toHaveReceivedCommand(CreateDeploymentCommand);
    expect(h.log.text()).toMatch(/Preflight: arn:aws:iam::123456789012:role\/deploy may make all \d+ calls/);
    // Verify reuses what validation read: the group and the service are asked for once each.
    expect(cd.commandCalls(GetDeploymentGroupCommand)).toHaveLength(1);
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(1);
  });

  it('stops before any change when iam:PassRole is missing, naming it', async () => {
    awsWorld('CODE_DEPLOY');
    iamWorld((action) => action === 'iam:PassRole');
    const h = harness(withRoles);
    const err = await runPipeline(config({ ...base, preflight: 'true' }), h.deps, h.timer, h.report).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain('iam:PassRole');
    expect(h.dockerCalls).toEqual([]);
    for (const command of MUTATING) {
      expect(ecs.commandCalls(command as never)).toHaveLength(0);
      expect(cd.commandCalls(command as never)).toHaveLength(0);
      expect(ecr.commandCalls(command as never)).toHaveLength(0);
    }
  });

  it('warns and goes on when the role may not simulate its own policies', async () => {
    awsWorld('CODE_DEPLOY');
    iamWorld(() => false);
    iam.on(SimulatePrincipalPolicyCommand).rejects(
      Object.assign(new Error('not authorized to perform: iam:SimulatePrincipalPolicy'), {
        name: 'AccessDenied',
      }),
    );
    const h = harness(withRoles);
    await runPipeline(config({ ...base, preflight: 'true' }), h.deps, h.timer, h.report);
    expect(h.log.text()).toMatch(/warning: Preflight permission check skipped/);
    expect(cd).toHaveReceivedCommand(CreateDeploymentCommand);
  });

  it('prints the policy with print-policy', async () => {
    awsWorld('CODE_DEPLOY');
    const h = harness(withRoles);
    await runPipeline(config({ ...base, 'print-policy': 'true' }), h.deps, h.timer, h.report);
    const policy = JSON.parse(h.outputs.policy as string) as { Statement: { Action: string[] }[] };
    expect(policy.Statement.flatMap((st) => st.Action)).toContain('codedeploy:CreateDeployment');
  });
});

describe('runPipeline dry run', () => {
  it('builds without pushing, shows the diff and the calls, and changes nothing', async () => {
    awsWorld('CODE_DEPLOY');
    const h = harness(files);
    await runPipeline(config({ ...base, 'dry-run': 'true' }), h.deps, h.timer, h.report);
    expect(h.dockerCalls.map((c) => c[0])).toEqual(['buildx', 'build']);
    for (const command of MUTATING) {
      expect(ecs.commandCalls(command as never)).toHaveLength(0);
      expect(cd.commandCalls(command as never)).toHaveLength(0);
      expect(ecr.commandCalls(command as never)).toHaveLength(0);
    }
    expect(ecr).not.toHaveReceivedCommand(GetAuthorizationTokenCommand);
    expect(h.outputs['deployment-outcome']).toBe('dry-run');
    expect(h.report.extraMarkdown).toContain('### Dry run: nothing was changed in AWS');
    expect(h.report.extraMarkdown).toContain(
      `+      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:${SHA}"`,
    );
    expect(h.report.extraMarkdown).toContain('codedeploy:CreateDeployment AppECS-prod-web/DgpECS-prod-web');
  });
});

describe('cancellation between stages', () => {
  it.each(['CODE_DEPLOY', 'ECS'] as const)(
    'a cancel during the build (%s) stops the run: no push, no register, no deployment',
    async (controller) => {
      awsWorld(controller);
      const h = harness(files);
      const abort = new AbortController();
      h.deps.signal = abort.signal;
      const docker = h.deps.docker;
      // SIGINT arrives while `docker build` runs; the real Docker runner refuses later commands.
      h.deps.docker = {
        run: async (args, opts) => {
          if (abort.signal.aborted) throw abort.signal.reason;
          if (args[0] === 'build') abort.abort(new Cancelled('The run was cancelled (SIGINT).'));
          return docker.run(args, opts);
        },
      };
      const err = await runPipeline(config(base), h.deps, h.timer, h.report).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Cancelled);
      expect(h.dockerCalls.some((a) => a[0] === 'push')).toBe(false);
      expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
      expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
      expect(cd).not.toHaveReceivedCommand(CreateDeploymentCommand);
      expect(ecr).not.toHaveReceivedCommand(CreateRepositoryCommand);
      expect(h.state.deployment).toBeUndefined();
      expect(h.report.stages.map((s) => s.name)).not.toContain('Register task definition');
    },
  );

  it('a run cancelled before it starts makes no AWS call at all', async () => {
    awsWorld('ECS');
    const h = harness(files);
    const abort = new AbortController();
    abort.abort(new Cancelled());
    h.deps.signal = abort.signal;
    await expect(runPipeline(config(base), h.deps, h.timer, h.report)).rejects.toBeInstanceOf(Cancelled);
    for (const client of [ecs, ecr, cd, sts, iam]) expect(client.calls()).toHaveLength(0);
    expect(h.dockerCalls).toEqual([]);
  });
});

describe('log groups', () => {
  it('every stage runs inside one log group of its own name, none nested', async () => {
    awsWorld('CODE_DEPLOY');
    const h = harness(files);
    const groups: string[] = [];
    let open = 0;
    let nested = false;
    h.deps.group = async (name, fn) => {
      groups.push(name);
      if (open++ > 0) nested = true;
      try {
        return await fn();
      } finally {
        open--;
      }
    };
    await runPipeline(config({ ...base, 'codedeploy-appspec': 'appspec.yaml' }), h.deps, h.timer, h.report);
    expect(groups).toEqual(h.report.stages.filter((s) => s.result !== 'skipped').map((s) => s.name));
    expect(groups).toEqual(
      expect.arrayContaining([
        'Validate',
        'Build web',
        'Register task definition',
        'CodeDeploy deployment',
        'Watch',
      ]),
    );
    expect(nested).toBe(false);
  });
});

describe("the post step's record", () => {
  it.each(['CODE_DEPLOY', 'ECS'] as const)(
    'is written before the start call (%s): a start that never answers still leaves the intent',
    async (controller) => {
      awsWorld(controller);
      // The call went out and its answer was lost (the connection dropped, the runner died).
      const lost = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
      cd.on(CreateDeploymentCommand).rejects(lost);
      ecs.on(UpdateServiceCommand).rejects(lost);
      const h = harness(files);
      const inputs = controller === 'CODE_DEPLOY' ? { ...base, 'codedeploy-appspec': 'appspec.yaml' } : base;
      await expect(runPipeline(config(inputs), h.deps, h.timer, h.report)).rejects.toThrow('socket hang up');
      expect(JSON.parse(h.state.deployment as string)).toEqual({
        kind: controller === 'CODE_DEPLOY' ? 'codedeploy' : 'rolling',
        cluster: 'prod',
        service: 'web',
        region: 'us-east-1',
        taskDefinitionArn: TD_ARN,
        since: '1970-01-01T00:00:00.000Z',
        ...(controller === 'CODE_DEPLOY' && {
          application: 'AppECS-prod-web',
          deploymentGroup: 'DgpECS-prod-web',
        }),
      });
      expect(h.state.settled).toBeUndefined();
    },
  );
});
