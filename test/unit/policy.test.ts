import { requiredPart } from '../../src/plan.js';
import { describe, expect, it } from '@jest/globals';
import { runCli, USAGE } from '../../src/cli.js';
import { UserError } from '../../src/errors.js';
import {
  allActions,
  CREATE_DEPLOYMENT_ALSO_CHECKS,
  ECR_PUSH_ACTIONS,
  requiredActions,
  type PermissionNeeds,
} from '../../src/iam.js';
import {
  buildPolicy,
  partitionOf,
  permissionChecks,
  policyActions,
  previewTargetGroupPatterns,
  principalResources,
  restrictPolicy,
  type PolicyDocument,
  type PolicyInput,
} from '../../src/policy.js';
import { targetGroupName } from '../../src/preview/names.js';

const ACCOUNT = '123456789012';
const EXECUTION_ROLE = `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`;
const TASK_ROLE = `arn:aws:iam::${ACCOUNT}:role/example-app-task-role`;
const DEPLOY_ROLE = `arn:aws:iam::${ACCOUNT}:role/github-deploy`;
const LISTENER = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/previews/50dc6c495c0c9188/f2f7dc8efc522ab2`;

const exampleApp = (over: Partial<PolicyInput> = {}): PolicyInput => ({
  region: 'us-east-1',
  accountId: ACCOUNT,
  repositories: ['example-app'],
  cluster: 'demo',
  service: 'web',
  taskDefinitionFamily: 'example-app',
  codedeploy: { application: 'AppECS-demo-web', deploymentGroup: 'DgpECS-demo-web' },
  passRoles: [EXECUTION_ROLE, TASK_ROLE],
  needs: { build: true, createRepository: false, mode: 'codedeploy' },
  ...over,
});

/** Every input a policy can be scoped with, so that any needs can be built. */
const everything = (needs: PermissionNeeds): PolicyInput =>
  exampleApp({
    needs,
    imageRepositories: ['base-images'],
    principalArn: DEPLOY_ROLE,
    previewListenerArn: LISTENER,
  });

const statement = (policy: PolicyDocument, sid: string) => policy.Statement.find((s) => s.Sid === sid);

/** IAM's wildcard matching of a resource pattern (`*` any run of characters, `?` one). */
const matches = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
      .join('')}$`,
  ).test(value);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('requiredActions', () => {
  it('lists what a build and a CodeDeploy deployment call, grouped by what they act on', () => {
    expect(requiredActions({ build: true, createRepository: false, mode: 'codedeploy' })).toEqual([
      { resource: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'] },
      {
        resource: 'EcrRepositories',
        actions: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:CompleteLayerUpload',
          'ecr:DescribeImages',
          'ecr:DescribeRepositories',
          'ecr:InitiateLayerUpload',
          'ecr:PutImage',
          'ecr:UploadLayerPart',
        ],
      },
      { resource: 'TaskDefinitions', actions: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'] },
      { resource: 'TagTaskDefinitions', actions: ['ecs:TagResource'] },
      { resource: 'Service', actions: ['ecs:DescribeServices'] },
      { resource: 'ListServiceTasks', actions: ['ecs:ListTasks'] },
      { resource: 'DescribeServiceTasks', actions: ['ecs:DescribeTasks'] },
      {
        resource: 'DeploymentGroup',
        actions: [
          'codedeploy:CreateDeployment',
          'codedeploy:GetDeployment',
          'codedeploy:GetDeploymentGroup',
          'codedeploy:GetDeploymentTarget',
          'codedeploy:ListDeploymentTargets',
          'codedeploy:StopDeployment',
        ],
      },
      { resource: 'ApplicationRevisions', actions: ['codedeploy:RegisterApplicationRevision'] },
      { resource: 'DeploymentConfig', actions: ['codedeploy:GetDeploymentConfig'] },
      { resource: 'PassTaskRoles', actions: ['iam:PassRole'] },
    ]);
  });

  it("grants docker push what AWS documents for it, and CreateDeployment's other checks", () => {
    const actions = allActions({ build: true, createRepository: false, mode: 'codedeploy' });
    expect(actions).toEqual(expect.arrayContaining([...ECR_PUSH_ACTIONS, ...CREATE_DEPLOYMENT_ALSO_CHECKS]));
    // One of GetApplicationRevision or RegisterApplicationRevision is enough for CreateDeployment;
    // pulling layers only when the build pulls from its repository.
    expect(actions).not.toContain('codedeploy:GetApplicationRevision');
    expect(actions).not.toContain('ecr:GetDownloadUrlForLayer');
    expect(allActions({ build: true, createRepository: false, mode: 'none', pull: true })).toContain(
      'ecr:GetDownloadUrlForLayer',
    );
  });

  it('adds what each kind of run calls, and nothing for the options it leaves out', () => {
    const base: PermissionNeeds = { build: false, createRepository: false, mode: 'rolling' };
    const added = (extra: Partial<PermissionNeeds>) => {
      const before = new Set(allActions(base));
      return allActions({ ...base, ...extra }).filter((a) => !before.has(a));
    };
    expect(allActions(base)).toEqual([
      'ecs:DescribeServices',
      'ecs:DescribeTaskDefinition',
      'ecs:DescribeTasks',
      'ecs:ListTasks',
      'ecs:RegisterTaskDefinition',
      'ecs:TagResource',
      'ecs:UpdateService',
      'iam:PassRole',
    ]);
    expect(added({ preflight: true })).toEqual([
      'ecs:DescribeClusters',
      'iam:GetRole',
      'iam:SimulatePrincipalPolicy',
    ]);
    expect(added({ existingImage: true })).toEqual(['ecr:DescribeImages', 'ecr:DescribeRepositories']);
    expect(added({ rollback: true })).toEqual(['ecs:ListTaskDefinitions']);
    expect(added({ preview: { routing: false } })).toEqual([
      'ecs:CreateService',
      'ecs:DeleteService',
      'ecs:DeleteTaskDefinitions',
      'ecs:DeregisterTaskDefinition',
      'ecs:ListTaskDefinitions',
    ]);
    expect(
      added({ preview: { routing: true } }).filter((a) => a.startsWith('elasticloadbalancing:')),
    ).toEqual([
      'elasticloadbalancing:AddTags',
      'elasticloadbalancing:CreateRule',
      'elasticloadbalancing:CreateTargetGroup',
      'elasticloadbalancing:DeleteRule',
      'elasticloadbalancing:DeleteTargetGroup',
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeLoadBalancers',
      'elasticloadbalancing:DescribeRules',
      'elasticloadbalancing:DescribeTags',
      'elasticloadbalancing:DescribeTargetGroups',
      'elasticloadbalancing:ModifyRule',
    ]);
    const codedeploy: PermissionNeeds = { ...base, mode: 'codedeploy' };
    expect(
      allActions({ ...codedeploy, rollback: true }).filter((a) => !allActions(codedeploy).includes(a)),
    ).toEqual(['codedeploy:BatchGetDeployments', 'codedeploy:ListDeployments', 'ecs:ListTaskDefinitions']);
    // A rollback goes through the service's deployment controller: with none there is none.
    expect(allActions({ ...base, mode: 'none', rollback: true })).toEqual(
      allActions({ ...base, mode: 'none' }),
    );
    // A preview destroy deletes the preview's image tags from the repositories it builds to.
    expect(
      allActions({ ...base, build: true, preview: { routing: false } }).filter((a) => a.startsWith('ecr:')),
    ).toContain('ecr:BatchDeleteImage');
  });

  it('never lists sts:GetCallerIdentity, which needs no permission', () => {
    const needs: PermissionNeeds = {
      build: true,
      createRepository: true,
      mode: 'codedeploy',
      preflight: true,
      existingImage: true,
      pull: true,
      rollback: true,
      preview: { routing: true },
    };
    expect(allActions(needs).filter((a) => a.startsWith('sts:'))).toEqual([]);
  });
});

describe('buildPolicy', () => {
  it('writes the example app policy statement by statement, each action on its documented resource', () => {
    expect(buildPolicy(exampleApp())).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'EcrLogin', Effect: 'Allow', Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
        {
          Sid: 'EcrRepositories',
          Effect: 'Allow',
          Action: [
            'ecr:BatchCheckLayerAvailability',
            'ecr:BatchGetImage',
            'ecr:CompleteLayerUpload',
            'ecr:DescribeImages',
            'ecr:DescribeRepositories',
            'ecr:InitiateLayerUpload',
            'ecr:PutImage',
            'ecr:UploadLayerPart',
          ],
          Resource: ['arn:aws:ecr:us-east-1:123456789012:repository/example-app'],
        },
        {
          Sid: 'TaskDefinitions',
          Effect: 'Allow',
          Action: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'],
          Resource: ['*'],
        },
        {
          Sid: 'TagTaskDefinitions',
          Effect: 'Allow',
          Action: ['ecs:TagResource'],
          Resource: ['arn:aws:ecs:us-east-1:123456789012:task-definition/example-app:*'],
          Condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
        },
        {
          Sid: 'Service',
          Effect: 'Allow',
          Action: ['ecs:DescribeServices'],
          Resource: ['arn:aws:ecs:us-east-1:123456789012:service/demo/web'],
        },
        {
          Sid: 'ListServiceTasks',
          Effect: 'Allow',
          Action: ['ecs:ListTasks'],
          Resource: ['*'],
          Condition: { ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:us-east-1:123456789012:cluster/demo' } },
        },
        {
          Sid: 'DescribeServiceTasks',
          Effect: 'Allow',
          Action: ['ecs:DescribeTasks'],
          Resource: ['arn:aws:ecs:us-east-1:123456789012:task/demo/*'],
        },
        {
          Sid: 'DeploymentGroup',
          Effect: 'Allow',
          Action: [
            'codedeploy:CreateDeployment',
            'codedeploy:GetDeployment',
            'codedeploy:GetDeploymentGroup',
            'codedeploy:GetDeploymentTarget',
            'codedeploy:ListDeploymentTargets',
            'codedeploy:StopDeployment',
          ],
          Resource: [
            'arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:AppECS-demo-web/DgpECS-demo-web',
          ],
        },
        {
          Sid: 'ApplicationRevisions',
          Effect: 'Allow',
          Action: ['codedeploy:RegisterApplicationRevision'],
          Resource: ['arn:aws:codedeploy:us-east-1:123456789012:application:AppECS-demo-web'],
        },
        {
          Sid: 'DeploymentConfig',
          Effect: 'Allow',
          Action: ['codedeploy:GetDeploymentConfig'],
          Resource: ['arn:aws:codedeploy:us-east-1:123456789012:deploymentconfig:*'],
        },
        {
          Sid: 'PassTaskRoles',
          Effect: 'Allow',
          Action: ['iam:PassRole'],
          Resource: [EXECUTION_ROLE, TASK_ROLE],
          Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        },
      ],
    });
  });

  const needsTable: PermissionNeeds[] = [];
  for (const mode of ['codedeploy', 'rolling', 'none'] as const) {
    for (const build of [true, false]) {
      for (const createRepository of build ? [true, false] : [false]) {
        needsTable.push({ build, createRepository, mode });
        needsTable.push({ build, createRepository, mode, preflight: true, existingImage: true });
        needsTable.push({ build, createRepository, mode, rollback: true, pull: build });
        needsTable.push({ build, createRepository, mode, preview: { routing: true }, preflight: true });
      }
    }
  }
  it.each(needsTable)('grants exactly allActions(needs) for %o', (needs) => {
    const policy = buildPolicy(everything(needs));
    expect([...policyActions(policy)].sort()).toEqual(allActions(needs));
    // Statements are what IAM accepts: unique Sids, nothing empty.
    expect(new Set(policy.Statement.map((s) => s.Sid)).size).toBe(policy.Statement.length);
    for (const s of policy.Statement)
      expect([s.Sid, s.Action.length > 0, s.Resource.length > 0]).toEqual([s.Sid, true, true]);
  });

  it('scopes a named deployment config, and rolling mode to UpdateService on the service', () => {
    const cd = buildPolicy(
      exampleApp({
        codedeploy: {
          application: 'app',
          deploymentGroup: 'group',
          deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
        },
      }),
    );
    expect(statement(cd, 'DeploymentConfig')?.Resource).toEqual([
      'arn:aws:codedeploy:us-east-1:123456789012:deploymentconfig:CodeDeployDefault.ECSCanary10Percent5Minutes',
    ]);
    const rolling = buildPolicy(
      exampleApp({ needs: { build: true, createRepository: false, mode: 'rolling' } }),
    );
    expect(statement(rolling, 'Service')).toEqual({
      Sid: 'Service',
      Effect: 'Allow',
      Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
      Resource: ['arn:aws:ecs:us-east-1:123456789012:service/demo/web'],
    });
    expect(rolling.Statement.some((s) => s.Action.some((a) => a.startsWith('codedeploy:')))).toBe(false);
  });

  it("defaults the CodeDeploy names to the console's AppECS-/DgpECS- names", () => {
    const policy = buildPolicy(exampleApp({ codedeploy: undefined }));
    expect(statement(policy, 'DeploymentGroup')?.Resource).toEqual([
      'arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:AppECS-demo-web/DgpECS-demo-web',
    ]);
  });

  it('takes cluster and service ARNs by their names, and uses the region partition', () => {
    const policy = buildPolicy(
      exampleApp({
        region: 'cn-north-1',
        cluster: 'arn:aws-cn:ecs:cn-north-1:123456789012:cluster/demo',
        service: 'arn:aws-cn:ecs:cn-north-1:123456789012:service/demo/web',
        needs: { build: false, createRepository: false, mode: 'rolling', preflight: true },
        principalArn: 'arn:aws-cn:iam::123456789012:role/deploy',
      }),
    );
    expect(statement(policy, 'Service')?.Resource).toEqual([
      'arn:aws-cn:ecs:cn-north-1:123456789012:service/demo/web',
    ]);
    expect(statement(policy, 'Cluster')?.Resource).toEqual([
      'arn:aws-cn:ecs:cn-north-1:123456789012:cluster/demo',
    ]);
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionOf('eu-west-1')).toBe('aws');
  });

  it('lists each repository once and grants CreateRepository on them when asked', () => {
    const policy = buildPolicy(
      exampleApp({
        repositories: ['web', 'team/envoy', 'web'],
        needs: { build: true, createRepository: true, mode: 'none' },
        service: undefined,
      }),
    );
    const repos = statement(policy, 'EcrRepositories');
    expect(repos?.Action).toContain('ecr:CreateRepository');
    expect(repos?.Resource).toEqual([
      'arn:aws:ecr:us-east-1:123456789012:repository/web',
      'arn:aws:ecr:us-east-1:123456789012:repository/team/envoy',
    ]);
  });

  it('checks existing images in their own repositories, or with the push where they are the same', () => {
    const needs: PermissionNeeds = {
      build: true,
      createRepository: false,
      mode: 'rolling',
      existingImage: true,
    };
    const apart = buildPolicy(exampleApp({ needs, imageRepositories: ['releases', 'example-app'] }));
    expect(statement(apart, 'EcrImages')).toEqual({
      Sid: 'EcrImages',
      Effect: 'Allow',
      Action: ['ecr:DescribeImages', 'ecr:DescribeRepositories'],
      Resource: ['arn:aws:ecr:us-east-1:123456789012:repository/releases'],
    });
    const same = buildPolicy(exampleApp({ needs, imageRepositories: ['example-app'] }));
    expect(statement(same, 'EcrImages')).toBeUndefined();
    expect([...policyActions(same)].sort()).toEqual(allActions(needs));
    const onlyImages = buildPolicy(
      exampleApp({ repositories: [], needs: { ...needs, build: false }, imageRepositories: ['example-app'] }),
    );
    expect(statement(onlyImages, 'EcrImages')?.Resource).toEqual([
      'arn:aws:ecr:us-east-1:123456789012:repository/example-app',
    ]);
    expect(statement(onlyImages, 'EcrLogin')).toBeUndefined();
  });

  it('grants pulling layers from the pushed repositories when the build pulls from them', () => {
    const policy = buildPolicy(
      exampleApp({ needs: { build: true, createRepository: false, mode: 'none', pull: true } }),
    );
    expect(statement(policy, 'EcrRepositories')?.Action).toEqual(
      expect.arrayContaining(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']),
    );
  });

  it("lets the preflight read the task definition's roles and the deploying role, and simulate only that role", () => {
    const needs: PermissionNeeds = {
      build: false,
      createRepository: false,
      mode: 'rolling',
      preflight: true,
    };
    const policy = buildPolicy(exampleApp({ needs, principalArn: `arn:aws:iam::${ACCOUNT}:role/ci/deploy` }));
    expect(policy.Statement.slice(-3)).toEqual([
      {
        Sid: 'PassTaskRoles',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: [EXECUTION_ROLE, TASK_ROLE],
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
      {
        Sid: 'ReadRoles',
        Effect: 'Allow',
        Action: ['iam:GetRole'],
        Resource: [EXECUTION_ROLE, TASK_ROLE, `arn:aws:iam::${ACCOUNT}:role/ci/deploy`],
      },
      {
        Sid: 'SimulateOwnPolicies',
        Effect: 'Allow',
        Action: ['iam:SimulatePrincipalPolicy'],
        Resource: [`arn:aws:iam::${ACCOUNT}:role/ci/deploy`],
      },
    ]);
    expect(statement(policy, 'Cluster')).toEqual({
      Sid: 'Cluster',
      Effect: 'Allow',
      Action: ['ecs:DescribeClusters'],
      Resource: ['arn:aws:ecs:us-east-1:123456789012:cluster/demo'],
    });
    // An IAM user is simulated as it is; nothing of its own is read.
    const user = buildPolicy(
      exampleApp({ needs, passRoles: [], principalArn: `arn:aws:iam::${ACCOUNT}:user/ci` }),
    );
    expect(statement(user, 'ReadRoles')).toBeUndefined();
    expect(statement(user, 'SimulateOwnPolicies')?.Resource).toEqual([`arn:aws:iam::${ACCOUNT}:user/ci`]);
  });

  it.each([
    [`arn:aws:sts::${ACCOUNT}:assumed-role/deploy/GitHubActions`, `arn:aws:iam::${ACCOUNT}:role/deploy`],
    [`arn:aws:iam::${ACCOUNT}:role/ci/deploy`, `arn:aws:iam::${ACCOUNT}:role/ci/deploy`],
    [`arn:aws-cn:sts::${ACCOUNT}:assumed-role/deploy/s`, `arn:aws-cn:iam::${ACCOUNT}:role/deploy`],
  ])('reads and simulates %s as the role %s', (caller, role) => {
    expect(principalResources(caller)).toEqual({ role, simulated: role });
  });

  it('grants rollbacks the history they read', () => {
    const codedeploy = buildPolicy(
      exampleApp({ needs: { build: false, createRepository: false, mode: 'codedeploy', rollback: true } }),
    );
    expect(statement(codedeploy, 'DeploymentGroup')?.Action).toEqual(
      expect.arrayContaining(['codedeploy:ListDeployments', 'codedeploy:BatchGetDeployments']),
    );
    expect(statement(codedeploy, 'TaskDefinitions')?.Action).toContain('ecs:ListTaskDefinitions');
  });

  it.each([
    [
      'the task definition names log groups',
      ['/ecs/example-app', '/ecs/sidecar', '/ecs/example-app'],
      'rolling',
      [
        'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/example-app:log-stream:*',
        'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/sidecar:log-stream:*',
      ],
    ],
    ['none (container-log-lines 0, or no awslogs container)', [], 'codedeploy', undefined],
    ['log groups, but nothing is deployed', ['/ecs/example-app'], 'none', undefined],
  ] as const)('reads container logs only when needed: %s', (_n, groups, mode, resources) => {
    const policy = buildPolicy(
      exampleApp({ needs: { build: false, createRepository: false, mode, containerLogGroups: [...groups] } }),
    );
    const logs = statement(policy, 'ContainerLogs');
    if (resources === undefined) expect(logs).toBeUndefined();
    else
      expect(logs).toEqual({
        Sid: 'ContainerLogs',
        Effect: 'Allow',
        Action: ['logs:GetLogEvents'],
        Resource: resources,
      });
  });

  it('reads the load balancer (url output, rolling drain) only when the service is behind one', () => {
    const needs = { build: false, createRepository: false, mode: 'codedeploy' } as const;
    expect(statement(buildPolicy(exampleApp({ needs: { ...needs, url: true } })), 'LoadBalancers')).toEqual({
      Sid: 'LoadBalancers',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeLoadBalancers'],
      Resource: ['*'],
    });
    const rolling = buildPolicy(exampleApp({ needs: { ...needs, mode: 'rolling', url: true } }));
    // Rolling: the url output's target group, and its deregistration delay (the drain's end).
    expect(statement(rolling, 'LoadBalancers')?.Action).toEqual([
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeLoadBalancers',
      'elasticloadbalancing:DescribeTargetGroupAttributes',
      'elasticloadbalancing:DescribeTargetGroups',
    ]);
    expect(statement(buildPolicy(exampleApp({ needs })), 'LoadBalancers')).toBeUndefined();
  });

  it("scopes previews to the base service's -pr- services, families, listener rules and target groups", () => {
    const policy = buildPolicy(
      everything({ build: true, createRepository: false, mode: 'none', preview: { routing: true } }),
    );
    const scoped = Object.fromEntries(
      policy.Statement.map((s) => [
        s.Sid,
        { Action: s.Action, Resource: s.Resource, Condition: s.Condition },
      ]),
    );
    const rules = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener-rule/app/previews/50dc6c495c0c9188/f2f7dc8efc522ab2/*`;
    const groups = [`arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/web-pr-*/*`];
    expect(scoped).toMatchObject({
      TagTaskDefinitions: {
        Resource: [
          `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/example-app:*`,
          `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/example-app-pr-*:*`,
        ],
      },
      PreviewTaskDefinitions: {
        Action: ['ecs:DeleteTaskDefinitions'],
        Resource: [`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/example-app-pr-*:*`],
      },
      Service: {
        Action: ['ecs:DescribeServices'],
        Resource: [`arn:aws:ecs:us-east-1:${ACCOUNT}:service/demo/web`],
      },
      PreviewServices: {
        Action: ['ecs:CreateService', 'ecs:DeleteService', 'ecs:DescribeServices', 'ecs:UpdateService'],
        Resource: [`arn:aws:ecs:us-east-1:${ACCOUNT}:service/demo/web-pr-*`],
      },
      TagPreviewServices: {
        Action: ['ecs:TagResource'],
        Resource: [`arn:aws:ecs:us-east-1:${ACCOUNT}:service/demo/web-pr-*`],
        Condition: { StringEquals: { 'ecs:CreateAction': 'CreateService' } },
      },
      LoadBalancers: { Resource: ['*'] },
      PreviewListener: { Action: ['elasticloadbalancing:CreateRule'], Resource: [LISTENER] },
      PreviewRules: {
        Action: ['elasticloadbalancing:DeleteRule', 'elasticloadbalancing:ModifyRule'],
        Resource: [rules],
      },
      TagPreviewRules: {
        Action: ['elasticloadbalancing:AddTags'],
        Resource: [rules],
        Condition: { StringEquals: { 'elasticloadbalancing:CreateAction': 'CreateRule' } },
      },
      PreviewTargetGroups: {
        Action: ['elasticloadbalancing:CreateTargetGroup', 'elasticloadbalancing:DeleteTargetGroup'],
        Resource: groups,
      },
      TagPreviewTargetGroups: {
        Resource: groups,
        Condition: { StringEquals: { 'elasticloadbalancing:CreateAction': 'CreateTargetGroup' } },
      },
    });
    expect(scoped.EcrRepositories?.Action).toContain('ecr:BatchDeleteImage');
  });

  it.each(['web', 'payments-api-service', 'a-very-long-service-name-for-previews', 'internal-api'])(
    'names every preview target group of %s by its patterns, and no other service’s',
    (service) => {
      const patterns = previewTargetGroupPatterns(service);
      for (const n of [1, 42, 987, 123_456, 9_999_999_999]) {
        const name = targetGroupName(service, n);
        expect([name, patterns.some((p) => matches(p, name))]).toEqual([name, true]);
      }
      expect(patterns.some((p) => matches(p, targetGroupName(`${service}x`, 1)))).toBe(false);
    },
  );

  it('leaves iam:PassRole out when the task definition names no role', () => {
    const policy = buildPolicy(exampleApp({ passRoles: [] }));
    expect(policyActions(policy).has('iam:PassRole')).toBe(false);
  });

  it.each([
    ['service', exampleApp({ service: undefined })],
    ['ecr-repository', exampleApp({ repositories: [] })],
    [
      'deploy role',
      exampleApp({ needs: { build: true, createRepository: false, mode: 'codedeploy', preflight: true } }),
    ],
    [
      'deploy role',
      exampleApp({
        principalArn: 'deploy',
        needs: { build: false, createRepository: false, mode: 'none', preflight: true },
      }),
    ],
    [
      'image',
      exampleApp({ needs: { build: false, createRepository: false, mode: 'none', existingImage: true } }),
    ],
    [
      'preview-listener-arn',
      exampleApp({
        needs: { build: false, createRepository: false, mode: 'none', preview: { routing: true } },
      }),
    ],
    [
      'preview-listener-arn',
      exampleApp({
        previewListenerArn: `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/app/previews/50dc6c495c0c9188`,
        needs: { build: false, createRepository: false, mode: 'none', preview: { routing: true } },
      }),
    ],
  ])('refuses a policy it cannot scope (%s)', (where, input) => {
    const err = thrown(() => buildPolicy(input));
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).problems[0]?.where).toBe(where);
  });
});

describe('permissionChecks', () => {
  it("turns each statement into a check, its condition into the call's context", () => {
    const checks = permissionChecks(buildPolicy(exampleApp()));
    expect(checks.find((c) => c.sid === 'PassTaskRoles')).toEqual({
      sid: 'PassTaskRoles',
      actions: ['iam:PassRole'],
      resources: [EXECUTION_ROLE, TASK_ROLE],
      context: [{ key: 'iam:PassedToService', values: ['ecs-tasks.amazonaws.com'] }],
    });
    expect(checks.find((c) => c.sid === 'ListServiceTasks')?.context).toEqual([
      { key: 'ecs:cluster', values: ['arn:aws:ecs:us-east-1:123456789012:cluster/demo'] },
    ]);
    expect(checks.find((c) => c.sid === 'TagTaskDefinitions')?.context).toEqual([
      { key: 'ecs:CreateAction', values: ['RegisterTaskDefinition'] },
    ]);
    expect(checks.find((c) => c.sid === 'EcrLogin')?.context).toEqual([]);
  });
});

describe('restrictPolicy', () => {
  it('keeps only the missing actions on the missing resources, with their conditions', () => {
    const policy = buildPolicy(exampleApp());
    expect(
      restrictPolicy(policy, [
        { action: 'iam:PassRole', resource: TASK_ROLE },
        { action: 'ecs:DescribeTasks', resource: 'arn:aws:ecs:us-east-1:123456789012:task/demo/*' },
      ]),
    ).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DescribeServiceTasks',
          Effect: 'Allow',
          Action: ['ecs:DescribeTasks'],
          Resource: ['arn:aws:ecs:us-east-1:123456789012:task/demo/*'],
        },
        {
          Sid: 'PassTaskRoles',
          Effect: 'Allow',
          Action: ['iam:PassRole'],
          Resource: [TASK_ROLE],
          Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        },
      ],
    });
  });
});

describe('runCli policy', () => {
  const required = ['--region', 'us-east-1', '--account', ACCOUNT, '--family', 'example-app'];
  const exampleArgs = [
    'policy',
    ...required,
    '--repository',
    'example-app',
    '--cluster',
    'demo',
    '--service',
    'web',
    '--mode',
    'codedeploy',
    '--deploy-role',
    'github-deploy',
    '--pass-role',
    EXECUTION_ROLE,
    '--pass-role',
    TASK_ROLE,
  ];
  const preflightNeeds = {
    build: true,
    createRepository: false,
    mode: 'codedeploy',
    preflight: true,
  } as const;
  const parsed = (stdout: string) => JSON.parse(stdout) as PolicyDocument;

  it('prints the example app policy as JSON, with the preflight of the deploying role', () => {
    const result = runCli(exampleArgs);
    expect(result).toEqual({
      exitCode: 0,
      stdout: `${JSON.stringify(
        buildPolicy(
          exampleApp({
            codedeploy: undefined,
            imageRepositories: [],
            principalArn: DEPLOY_ROLE,
            needs: { ...preflightNeeds, existingImage: false, pull: false, rollback: false },
          }),
        ),
        null,
        2,
      )}\n`,
      stderr: '',
    });
  });

  it.each([
    ['github-deploy', DEPLOY_ROLE],
    ['ci/deploy', `arn:aws:iam::${ACCOUNT}:role/ci/deploy`],
    [`arn:aws:iam::${ACCOUNT}:role/ci/deploy`, `arn:aws:iam::${ACCOUNT}:role/ci/deploy`],
  ])('takes --deploy-role %s as the role %s', (role, arn) => {
    const args = [...exampleArgs];
    args[args.indexOf('github-deploy')] = role;
    const policy = parsed(runCli(args).stdout);
    expect(statement(policy, 'SimulateOwnPolicies')?.Resource).toEqual([arn]);
    expect(statement(policy, 'ReadRoles')?.Resource).toEqual([EXECUTION_ROLE, TASK_ROLE, arn]);
  });

  it('takes CodeDeploy names, defaulting the ones left out, and --create-repository', () => {
    const result = runCli([
      ...exampleArgs,
      '--deployment-config',
      'CodeDeployDefault.ECSAllAtOnce',
      '--deployment-group',
      'blue-green',
      '--create-repository',
    ]);
    expect(result.exitCode).toBe(0);
    expect(parsed(result.stdout)).toEqual(
      buildPolicy(
        exampleApp({
          codedeploy: {
            application: 'AppECS-demo-web',
            deploymentGroup: 'blue-green',
            deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
          },
          principalArn: DEPLOY_ROLE,
          needs: { ...preflightNeeds, createRepository: true },
        }),
      ),
    );
  });

  it('grants what --no-preflight, --image-repository, --pull, --rollback and --preview add', () => {
    const args = [
      'policy',
      ...required,
      '--mode',
      'rolling',
      '--cluster',
      'demo',
      '--service',
      'web',
      '--no-preflight',
      '--repository',
      'example-app',
      '--pull',
      '--image-repository',
      'releases',
      '--rollback',
      '--preview',
      '--preview-listener',
      LISTENER,
      '--pass-role',
      TASK_ROLE,
    ];
    const result = runCli(args);
    expect(result.exitCode).toBe(0);
    const needs: PermissionNeeds = {
      build: true,
      createRepository: false,
      mode: 'rolling',
      existingImage: true,
      pull: true,
      rollback: true,
      preview: { routing: true },
    };
    expect([...policyActions(parsed(result.stdout))].sort()).toEqual(allActions(needs));
    expect(statement(parsed(result.stdout), 'EcrImages')?.Resource).toEqual([
      `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/releases`,
    ]);
  });

  it('grants no ECR actions without --repository, and notes a missing --pass-role', () => {
    const result = runCli([
      'policy',
      '--region',
      'eu-west-1',
      '--account',
      ACCOUNT,
      '--family',
      'web',
      '--mode',
      'none',
      '--no-preflight',
    ]);
    expect(result.exitCode).toBe(0);
    expect([...policyActions(parsed(result.stdout))].sort()).toEqual([
      'ecs:DescribeTaskDefinition',
      'ecs:RegisterTaskDefinition',
      'ecs:TagResource',
    ]);
    expect(result.stderr).toMatch(/^note: no --pass-role given/);
  });

  it('prints the usage for --help', () => {
    expect(runCli(['policy', '--help'])).toEqual({ exitCode: 0, stdout: USAGE, stderr: '' });
  });

  const none = ['policy', ...required, '--mode', 'none'];
  it.each<[string, string[], string[]]>([
    ['no command', [], ['error: no command given; the command is policy.']],
    ['an unknown command', ['deploy'], ['error: unknown command "deploy"; the command is policy.']],
    ['an unknown option', ['policy', '--regoin', 'us-east-1'], ["error: Unknown option '--regoin'."]],
    [
      'missing and malformed arguments, all at once',
      ['policy', '--region', 'useast1', '--mode', 'rolling', '--pass-role', 'ecsTaskExecutionRole'],
      [
        'error: --region "useast1" is not an AWS region such as us-east-1.',
        'error: --account is required.',
        'error: --family is required.',
        'error: --mode rolling deploys to a service: give --service.',
        'error: --pass-role "ecsTaskExecutionRole" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).',
        'error: --deploy-role is required: the preflight (on unless the workflow sets preflight: false) reads and simulates the role the action runs as. Name that role, or give --no-preflight.',
      ],
    ],
    [
      'CodeDeploy names outside codedeploy mode',
      ['policy', ...required, '--mode', 'rolling', '--service', 's', '--application', 'a', '--no-preflight'],
      ['error: --application applies to --mode codedeploy only.'],
    ],
    [
      '--create-repository without a repository',
      [...none, '--create-repository', '--no-preflight'],
      ['error: --create-repository needs the --repository to create.'],
    ],
    [
      'a --deploy-role that is neither a name nor a role ARN, and --pull without a repository',
      [...none, '--deploy-role', 'arn:aws:iam::123456789012:user/ci', '--pull'],
      [
        'error: --deploy-role "arn:aws:iam::123456789012:user/ci" is not a role name (NAME or PATH/NAME) or an IAM role ARN.',
        'error: --pull needs the --repository the build pulls from.',
      ],
    ],
    [
      '--deploy-role with --no-preflight',
      [...none, '--deploy-role', 'deploy', '--no-preflight'],
      ['error: --deploy-role is for the preflight, and --no-preflight leaves it out: give one of them.'],
    ],
    [
      'rollback and previews without what they need',
      [...none, '--no-preflight', '--rollback', '--preview-listener', LISTENER, '--image-repository', 'Bad'],
      [
        'error: --image-repository "Bad" is not an ECR repository name.',
        'error: --rollback redeploys through the service: give --mode codedeploy or rolling.',
        'error: --preview-listener routes previews: give --preview too.',
      ],
    ],
    [
      'a preview without its base service, and a listener ARN that is not one',
      [
        ...none,
        '--no-preflight',
        '--preview',
        '--preview-listener',
        'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1',
      ],
      [
        'error: --preview runs next to a base service: give --service.',
        'error: --preview-listener "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1" is not an Application Load Balancer listener ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID).',
      ],
    ],
  ])('refuses %s with exit code 2, the errors and the usage', (_, argv, errors) => {
    const result = runCli(argv);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    const [head, usage] = result.stderr.split('\n\n', 2);
    expect(head?.split('\n').map((l) => l.replace(/(Unknown option '[^']+'\.).*/, '$1'))).toEqual(errors);
    expect(result.stderr.endsWith(USAGE)).toBe(true);
    expect(usage?.startsWith('Usage: ecs-deploy-pipeline policy')).toBe(true);
  });
});

describe('ECS-native deployments', () => {
  it('grant the service deployment calls on the service and its deployments, the ELB reads, and no extra PassRole', () => {
    const groups = requiredActions({ build: false, createRepository: false, mode: 'ecs-native' });
    const of = (kind: string) => groups.find((g) => g.resource === kind)?.actions;
    expect(of('Service')).toEqual([
      'ecs:DescribeServices',
      'ecs:ListServiceDeployments',
      'ecs:UpdateService',
    ]);
    expect(of('ServiceDeployments')).toEqual([
      'ecs:ContinueServiceDeployment',
      'ecs:DescribeServiceDeployments',
      'ecs:DescribeServiceRevisions',
      'ecs:StopServiceDeployment',
    ]);
    // The check's reads: the listener rules, the target groups and their deregistration delay.
    expect(of('LoadBalancers')).toEqual([
      'elasticloadbalancing:DescribeRules',
      'elasticloadbalancing:DescribeTargetGroupAttributes',
      'elasticloadbalancing:DescribeTargetGroups',
    ]);
    expect(of('PassTaskRoles')).toEqual(['iam:PassRole']);
  });
});

describe('requiredPart: what the preflight insists on', () => {
  const needs = {
    build: false,
    createRepository: false,
    mode: 'rolling',
    url: true,
    containerLogGroups: ['/ecs/example-app'],
  } as const;
  it.each([
    [false, false],
    [true, true],
  ])('preview routing %s → the load balancer reads required %s', (routing, lbRequired) => {
    const policy = buildPolicy(
      exampleApp({ needs: { ...needs, containerLogGroups: [...needs.containerLogGroups] } }),
    );
    const sids = requiredPart(policy, routing).Statement.map((st) => st.Sid);
    // The container-log and url reads only add to the report: a role without them still deploys.
    expect(sids).not.toContain('ContainerLogs');
    expect(sids.includes('LoadBalancers')).toBe(lbRequired);
    expect(sids).toContain('Service');
  });
});
