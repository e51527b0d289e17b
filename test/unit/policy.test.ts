import { describe, expect, it } from '@jest/globals';
import { runCli, USAGE } from '../../src/cli.js';
import { UserError } from '../../src/errors.js';
import { allActions, type PermissionNeeds } from '../../src/iam.js';
import {
  buildPolicy,
  partitionOf,
  permissionChecks,
  policyActions,
  restrictPolicy,
  type PolicyInput,
} from '../../src/policy.js';

const EXECUTION_ROLE = 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole';
const TASK_ROLE = 'arn:aws:iam::123456789012:role/example-app-task-role';

const exampleApp = (over: Partial<PolicyInput> = {}): PolicyInput => ({
  region: 'us-east-1',
  accountId: '123456789012',
  repositories: ['example-app'],
  cluster: 'demo',
  service: 'web',
  taskDefinitionFamily: 'example-app',
  codedeploy: { application: 'AppECS-demo-web', deploymentGroup: 'DgpECS-demo-web' },
  passRoles: [EXECUTION_ROLE, TASK_ROLE],
  needs: { build: true, createRepository: false, mode: 'codedeploy' },
  ...over,
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
            'ecr:GetDownloadUrlForLayer',
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
          Action: ['codedeploy:GetApplicationRevision', 'codedeploy:RegisterApplicationRevision'],
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
      }
    }
  }
  it.each(needsTable)('grants exactly allActions(needs) for %o', (needs) => {
    const policy = buildPolicy(exampleApp({ needs }));
    expect([...policyActions(policy)].sort()).toEqual([...new Set(allActions(needs))].sort());
    // Each action is granted in one statement only, so a policy reads as one place per action.
    expect(policy.Statement.flatMap((s) => s.Action)).toHaveLength(policyActions(policy).size);
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
    expect(cd.Statement.find((s) => s.Sid === 'DeploymentConfig')?.Resource).toEqual([
      'arn:aws:codedeploy:us-east-1:123456789012:deploymentconfig:CodeDeployDefault.ECSCanary10Percent5Minutes',
    ]);
    const rolling = buildPolicy(
      exampleApp({ needs: { build: true, createRepository: false, mode: 'rolling' } }),
    );
    expect(rolling.Statement.find((s) => s.Sid === 'Service')).toEqual({
      Sid: 'Service',
      Effect: 'Allow',
      Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
      Resource: ['arn:aws:ecs:us-east-1:123456789012:service/demo/web'],
    });
    expect(rolling.Statement.some((s) => s.Action.some((a) => a.startsWith('codedeploy:')))).toBe(false);
  });

  it("defaults the CodeDeploy names to the console's AppECS-/DgpECS- names", () => {
    const policy = buildPolicy(exampleApp({ codedeploy: undefined }));
    expect(policy.Statement.find((s) => s.Sid === 'DeploymentGroup')?.Resource).toEqual([
      'arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:AppECS-demo-web/DgpECS-demo-web',
    ]);
  });

  it('takes cluster and service ARNs by their names, and uses the region partition', () => {
    const policy = buildPolicy(
      exampleApp({
        region: 'cn-north-1',
        cluster: 'arn:aws-cn:ecs:cn-north-1:123456789012:cluster/demo',
        service: 'arn:aws-cn:ecs:cn-north-1:123456789012:service/demo/web',
        needs: { build: false, createRepository: false, mode: 'rolling' },
      }),
    );
    expect(policy.Statement.find((s) => s.Sid === 'Service')?.Resource).toEqual([
      'arn:aws-cn:ecs:cn-north-1:123456789012:service/demo/web',
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
    const repos = policy.Statement.find((s) => s.Sid === 'EcrRepositories');
    expect(repos?.Action).toContain('ecr:CreateRepository');
    expect(repos?.Resource).toEqual([
      'arn:aws:ecr:us-east-1:123456789012:repository/web',
      'arn:aws:ecr:us-east-1:123456789012:repository/team/envoy',
    ]);
  });

  it('leaves iam:PassRole out when the task definition names no role', () => {
    const policy = buildPolicy(exampleApp({ passRoles: [] }));
    expect(policyActions(policy).has('iam:PassRole')).toBe(false);
  });

  it.each([
    ['service', exampleApp({ service: undefined })],
    ['ecr-repository', exampleApp({ repositories: [] })],
  ])('refuses a policy it cannot scope (%s)', (where, input) => {
    const err = (() => {
      try {
        buildPolicy(input);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
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
  const exampleArgs = [
    'policy',
    '--region',
    'us-east-1',
    '--account',
    '123456789012',
    '--repository',
    'example-app',
    '--cluster',
    'demo',
    '--service',
    'web',
    '--family',
    'example-app',
    '--mode',
    'codedeploy',
    '--pass-role',
    EXECUTION_ROLE,
    '--pass-role',
    TASK_ROLE,
  ];

  it('prints the example app policy as JSON', () => {
    const result = runCli(exampleArgs);
    expect(result).toEqual({
      exitCode: 0,
      stdout: `${JSON.stringify(buildPolicy(exampleApp({ codedeploy: undefined })), null, 2)}\n`,
      stderr: '',
    });
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
    expect(JSON.parse(result.stdout)).toEqual(
      buildPolicy(
        exampleApp({
          codedeploy: {
            application: 'AppECS-demo-web',
            deploymentGroup: 'blue-green',
            deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
          },
          needs: { build: true, createRepository: true, mode: 'codedeploy' },
        }),
      ),
    );
  });

  it('grants no ECR actions without --repository, and notes a missing --pass-role', () => {
    const result = runCli([
      'policy',
      '--region',
      'eu-west-1',
      '--account',
      '123456789012',
      '--family',
      'web',
      '--mode',
      'none',
    ]);
    expect(result.exitCode).toBe(0);
    const actions = (JSON.parse(result.stdout) as { Statement: { Action: string[] }[] }).Statement.flatMap(
      (s) => s.Action,
    );
    expect(actions.sort()).toEqual([
      'ecs:DescribeTaskDefinition',
      'ecs:RegisterTaskDefinition',
      'ecs:TagResource',
    ]);
    expect(result.stderr).toMatch(/^note: no --pass-role given/);
  });

  it('prints the usage for --help', () => {
    expect(runCli(['policy', '--help'])).toEqual({ exitCode: 0, stdout: USAGE, stderr: '' });
  });

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
      ],
    ],
    [
      'CodeDeploy names outside codedeploy mode',
      [
        'policy',
        '--region',
        'us-east-1',
        '--account',
        '123456789012',
        '--family',
        'f',
        '--mode',
        'rolling',
        '--service',
        's',
        '--application',
        'a',
      ],
      ['error: --application applies to --mode codedeploy only.'],
    ],
    [
      '--create-repository without a repository',
      [
        'policy',
        '--region',
        'us-east-1',
        '--account',
        '123456789012',
        '--family',
        'f',
        '--mode',
        'none',
        '--create-repository',
      ],
      ['error: --create-repository needs the --repository to create.'],
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
