import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  CodeDeployClient,
  GetDeploymentGroupCommand,
  type DeploymentGroupInfo,
} from '@aws-sdk/client-codedeploy';
import {
  DescribeClustersCommand,
  DescribeServicesCommand,
  ECSClient,
  type Service,
} from '@aws-sdk/client-ecs';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { MemoryLog } from '../../src/log.js';
import { generateAppSpec, parseAppSpec } from '../../src/render/appspec.js';
import { parseDocument } from '../../src/render/document.js';
import { prepareTaskDefinition } from '../../src/render/taskdef.js';
import { verifyDeployment, type VerifyTarget } from '../../src/verify.js';
import { sdkError } from './deploy/fakes.js';

const ecsMock = mockClient(ECSClient);
const cdMock = mockClient(CodeDeployClient);
const iamMock = mockClient(IAMClient);
const clients = {
  ecs: new ECSClient({ region: 'us-east-1' }),
  codedeploy: new CodeDeployClient({ region: 'us-east-1' }),
  iam: new IAMClient({ region: 'us-east-1' }),
};

const TASK_DEFINITION_FILE = 'deploy/task-definition.json';
const APPSPEC_FILE = 'deploy/appspec.yaml';
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/example-app:0123abc';
// The example app's documents as the tests rely on them (line numbers included).
const TASK_DEFINITION = `{
  "family": "example-app",
  "requiresCompatibilities": ["FARGATE"],
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
  "taskRoleArn": "arn:aws:iam::123456789012:role/example-app-task-role",
  "containerDefinitions": [
    {
      "name": "web",
      "image": "<IMAGE1_NAME>",
      "essential": true,
      "portMappings": [{ "containerPort": 8080, "protocol": "tcp" }]
    }
  ]
}
`;
const APPSPEC = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: '<TASK_DEFINITION>'
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 8080
Hooks:
  - AfterAllowTestTraffic: 'example-app-smoke-test'
`;

function target(over: Partial<VerifyTarget> = {}, appspecText = APPSPEC): VerifyTarget {
  const parsed = parseDocument(TASK_DEFINITION, TASK_DEFINITION_FILE, 'task-definition');
  const input = prepareTaskDefinition(parsed.value, [{ containerName: 'web', imageUri: IMAGE }], {
    source: TASK_DEFINITION_FILE,
    where: 'task-definition',
    parsed,
  }).input;
  return {
    region: 'us-east-1',
    cluster: 'demo',
    service: 'web',
    deployMode: 'auto',
    taskDefinition: { input, source: TASK_DEFINITION_FILE, file: TASK_DEFINITION_FILE, parsed },
    appspec: { ...parseAppSpec(appspecText, APPSPEC_FILE, 'codedeploy-appspec'), file: APPSPEC_FILE },
    ...over,
  };
}

const service = (s: Partial<Service> = {}): Service => ({
  serviceName: 'web',
  serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/demo/web',
  status: 'ACTIVE',
  taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/example-app:6',
  desiredCount: 2,
  deploymentController: { type: 'CODE_DEPLOY' },
  loadBalancers: [
    { targetGroupArn: 'arn:aws:elasticloadbalancing:tg/blue', containerName: 'web', containerPort: 8080 },
  ],
  ...s,
});

const group = (g: Partial<DeploymentGroupInfo> = {}): DeploymentGroupInfo => ({
  applicationName: 'AppECS-demo-web',
  deploymentGroupName: 'DgpECS-demo-web',
  computePlatform: 'ECS',
  ecsServices: [{ clusterName: 'demo', serviceName: 'web' }],
  ...g,
});

beforeEach(() => {
  for (const m of [ecsMock, cdMock, iamMock]) m.reset();
  ecsMock
    .on(DescribeClustersCommand)
    .resolves({ clusters: [{ clusterName: 'demo', status: 'ACTIVE' }], failures: [] });
  ecsMock.on(DescribeServicesCommand).resolves({ services: [service()], failures: [] });
  cdMock.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: group() });
  iamMock.on(GetRoleCommand).callsFake((input: { RoleName?: string }) => ({
    Role: { RoleName: input.RoleName, Arn: `arn:aws:iam::123456789012:role/${input.RoleName}`, Path: '/' },
  }));
});

describe('verifyDeployment', () => {
  it('finds nothing wrong with the example app, having asked each service once', async () => {
    const log = new MemoryLog();
    expect(await verifyDeployment(clients, target(), log)).toEqual([]);
    expect(log.lines).toEqual([]);
    expect(ecsMock).toHaveReceivedCommandWith(DescribeClustersCommand, { clusters: ['demo'] });
    expect(cdMock).toHaveReceivedCommandWith(GetDeploymentGroupCommand, {
      applicationName: 'AppECS-demo-web',
      deploymentGroupName: 'DgpECS-demo-web',
    });
    expect(iamMock).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: 'ecsTaskExecutionRole' });
    expect(iamMock).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: 'example-app-task-role' });
  });

  it('reports a missing cluster, and does not look for a service in it', async () => {
    ecsMock
      .on(DescribeClustersCommand)
      .resolves({ clusters: [], failures: [{ arn: 'demo', reason: 'MISSING' }] });
    const problems = await verifyDeployment(clients, target(), new MemoryLog());
    expect(problems).toEqual([
      {
        where: 'cluster',
        what: "ECS cluster 'demo' was not found in us-east-1.",
        fix: 'Check the cluster name and the region the AWS credentials are configured for.',
      },
    ]);
    expect(ecsMock).not.toHaveReceivedCommand(DescribeServicesCommand);
    expect(cdMock).not.toHaveReceivedCommand(GetDeploymentGroupCommand);
  });

  it('reports a cluster that is not ACTIVE', async () => {
    ecsMock.on(DescribeClustersCommand).resolves({ clusters: [{ clusterName: 'demo', status: 'INACTIVE' }] });
    const [problem] = await verifyDeployment(clients, target(), new MemoryLog());
    expect(problem?.where).toBe('cluster');
    expect(problem?.what).toBe("ECS cluster 'demo' is INACTIVE, not ACTIVE (it was deleted).");
  });

  it.each<[string, () => void, Partial<VerifyTarget>, { where: string; what: RegExp }]>([
    [
      'a missing service',
      () => ecsMock.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] }),
      {},
      { where: 'service', what: /ECS service 'web' was not found in cluster 'demo'/ },
    ],
    [
      'a draining service',
      () => ecsMock.on(DescribeServicesCommand).resolves({ services: [service({ status: 'DRAINING' })] }),
      {},
      { where: 'service', what: /is DRAINING/ },
    ],
    [
      'a deployment controller that does not fit the mode',
      () => undefined,
      { deployMode: 'rolling' },
      { where: 'deploy-mode', what: /uses the CODE_DEPLOY deployment controller/ },
    ],
    [
      'a deployment group that targets another service',
      () =>
        cdMock.on(GetDeploymentGroupCommand).resolves({
          deploymentGroupInfo: group({ ecsServices: [{ clusterName: 'demo', serviceName: 'api' }] }),
        }),
      {},
      { where: 'codedeploy-deployment-group', what: /targets demo\/api, not demo\/web/ },
    ],
    [
      'a missing deployment group',
      () =>
        cdMock
          .on(GetDeploymentGroupCommand)
          .rejects(sdkError('DeploymentGroupDoesNotExistException', 'no', 400)),
      { codedeploy: { application: 'app', deploymentGroup: 'blue-green' } },
      { where: 'codedeploy-deployment-group', what: /'blue-green' does not exist in application 'app'/ },
    ],
  ])('reports %s', async (_, arrange, over, expected) => {
    arrange();
    const problems = await verifyDeployment(clients, target(over), new MemoryLog());
    expect(problems).toHaveLength(1);
    expect(problems[0]?.where).toBe(expected.where);
    expect(problems[0]?.what).toMatch(expected.what);
  });

  it("reports an appspec port that is not the service's load balancer port, at its line", async () => {
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [
        service({ loadBalancers: [{ targetGroupArn: 'tg', containerName: 'web', containerPort: 80 }] }),
      ],
    });
    const problems = await verifyDeployment(clients, target(), new MemoryLog());
    expect(problems).toEqual([
      {
        where: `${APPSPEC_FILE}: Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerPort`,
        what: "ECS service 'web' sends load balancer traffic to web:80, but the appspec names web:8080.",
        fix: "Set LoadBalancerInfo to ContainerName: web and ContainerPort: 80, as the service's load balancer is configured.",
        file: APPSPEC_FILE,
        line: 9,
      },
    ]);
  });

  it('reports a generated appspec mismatch on container-name', async () => {
    const t = target();
    const appspec = generateAppSpec({
      taskDefinition: t.taskDefinition!.input,
      containerName: 'web',
      containerPort: 8080,
    });
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [
        service({ loadBalancers: [{ targetGroupArn: 'tg', containerName: 'envoy', containerPort: 8080 }] }),
      ],
    });
    const problems = await verifyDeployment(clients, { ...t, appspec: { appspec } }, new MemoryLog());
    expect(problems.map((p) => p.where)).toEqual(['container-name']);
    expect(problems[0]?.fix).toBe(
      'Set container-name to envoy and container-port to 8080, or leave them unset to take them from the service.',
    );
  });

  it("reports an appspec port the task definition's container does not map", async () => {
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [
        service({ loadBalancers: [{ targetGroupArn: 'tg', containerName: 'web', containerPort: 9090 }] }),
      ],
    });
    const appspec = APPSPEC.replace('ContainerPort: 8080', 'ContainerPort: 9090');
    const problems = await verifyDeployment(clients, target({}, appspec), new MemoryLog());
    expect(problems).toHaveLength(1);
    expect(problems[0]?.where).toBe(
      `${APPSPEC_FILE}: Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerPort`,
    );
    expect(problems[0]?.what).toBe('Container "web" has port mappings for 8080, not 9090.');
  });

  it('reports a role the task definition names that does not exist, at its field and line', async () => {
    iamMock
      .on(GetRoleCommand, { RoleName: 'ecsTaskExecutionRole' })
      .rejects(
        sdkError('NoSuchEntityException', 'The role with name ecsTaskExecutionRole cannot be found.', 404),
      );
    const problems = await verifyDeployment(clients, target(), new MemoryLog());
    expect(problems).toEqual([
      {
        where: `${TASK_DEFINITION_FILE}: executionRoleArn`,
        what: 'The role arn:aws:iam::123456789012:role/ecsTaskExecutionRole does not exist (IAM has no role named ecsTaskExecutionRole in this account).',
        fix: 'Create the task execution role (ecsTaskExecutionRole, with the AmazonECSTaskExecutionRolePolicy) or correct the ARN.',
        file: TASK_DEFINITION_FILE,
        line: 7,
      },
    ]);
  });

  it('reports a role ARN whose path differs from the real one, and one that is no role ARN', async () => {
    iamMock.on(GetRoleCommand, { RoleName: 'example-app-task-role' }).resolves({
      Role: {
        RoleName: 'example-app-task-role',
        Arn: 'arn:aws:iam::123456789012:role/apps/example-app-task-role',
        Path: '/apps/',
        RoleId: 'AROA',
        CreateDate: new Date(0),
      },
    });
    const t = target();
    t.taskDefinition!.input.executionRoleArn = 'ecsTaskExecutionRole';
    const problems = await verifyDeployment(clients, t, new MemoryLog());
    expect(problems.map((p) => [p.where, p.what])).toEqual([
      [
        `${TASK_DEFINITION_FILE}: executionRoleArn`,
        'executionRoleArn "ecsTaskExecutionRole" is not an IAM role ARN.',
      ],
      [
        `${TASK_DEFINITION_FILE}: taskRoleArn`,
        'taskRoleArn is arn:aws:iam::123456789012:role/example-app-task-role, but the role named example-app-task-role is arn:aws:iam::123456789012:role/apps/example-app-task-role (its path or account differs), so ECS cannot use it.',
      ],
    ]);
  });

  it('reports every problem at once', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolves({ services: [service({ deploymentController: { type: 'ECS' } })] });
    iamMock.on(GetRoleCommand).rejects(sdkError('NoSuchEntityException', 'none', 404));
    const problems = await verifyDeployment(clients, target({ deployMode: 'codedeploy' }), new MemoryLog());
    expect(problems.map((p) => p.where)).toEqual([
      'deploy-mode',
      `${TASK_DEFINITION_FILE}: executionRoleArn`,
      `${TASK_DEFINITION_FILE}: taskRoleArn`,
    ]);
  });

  it('skips, with a warning, a check the credentials may not make', async () => {
    ecsMock
      .on(DescribeClustersCommand)
      .rejects(sdkError('AccessDeniedException', 'not authorized to perform: ecs:DescribeClusters', 400));
    iamMock
      .on(GetRoleCommand)
      .rejects(sdkError('AccessDenied', 'not authorized to perform: iam:GetRole', 403));
    const log = new MemoryLog();
    expect(await verifyDeployment(clients, target(), log)).toEqual([]);
    expect(log.lines).toEqual([
      'warning: Verify: could not check the cluster (not authorized to perform: ecs:DescribeClusters); allow ecs:DescribeClusters to have it checked.',
      'warning: Verify: could not check the executionRoleArn role (not authorized to perform: iam:GetRole); allow iam:GetRole to have it checked.',
      'warning: Verify: could not check the taskRoleArn role (not authorized to perform: iam:GetRole); allow iam:GetRole to have it checked.',
    ]);
    // The service is still checked when only the cluster could not be.
    expect(ecsMock).toHaveReceivedCommand(DescribeServicesCommand);
  });

  it('rethrows what is not a finding or a denial', async () => {
    ecsMock.on(DescribeClustersCommand).rejects(sdkError('ServerException', 'internal', 500));
    await expect(verifyDeployment(clients, target(), new MemoryLog())).rejects.toThrow('internal');
  });
});

describe('verifyDeployment of an ECS-native service', () => {
  it('names what a BLUE_GREEN service lacks for it (deploy-mode auto)', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [
        service({
          deploymentController: { type: 'ECS' },
          deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5 },
        }),
      ],
    });
    const problems = await verifyDeployment(clients, target({ appspec: undefined }), new MemoryLog());
    expect(problems).toEqual([
      expect.objectContaining({
        where: 'deploy-mode',
        what: expect.stringMatching(
          /advancedConfiguration.alternateTargetGroupArn, advancedConfiguration.productionListenerRule, advancedConfiguration.roleArn/,
        ),
      }),
    ]);
  });
});
