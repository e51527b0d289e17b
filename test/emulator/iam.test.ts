import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AccessDeniedException,
  DescribeClustersCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import {
  GetRoleCommand,
  IAMClient,
  IAMServiceException,
  NoSuchEntityException,
  SimulatePrincipalPolicyCommand,
  type ContextEntry,
  type EvaluationResult,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { evaluate, requestContext, statementPositions, type PolicySource } from '../../emulator/iam.js';
import {
  startEmulator,
  type Emulator,
  type IamPolicyDocument,
  type IamPolicyStatement,
} from '../../emulator/index.js';
import { UserError } from '../../src/errors.js';
import { MemoryLog } from '../../src/log.js';
import { buildPolicy, type PolicyDocument } from '../../src/policy.js';
import { preflight } from '../../src/preflight.js';
import { fargateTaskDefinition } from './clients.js';

const ACCOUNT = '000000000000';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const session = (name: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/GitHubActions`;
const EXECUTION_ROLE = role('ecsTaskExecutionRole');

function clientsFor(emulator: Emulator, accessKeyId = 'test', secretAccessKey = 'test') {
  const config = {
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  };
  return { sts: new STSClient(config), iam: new IAMClient(config), ecs: new ECSClient(config) };
}

const leastPrivilege = buildPolicy({
  region: 'us-east-1',
  accountId: ACCOUNT,
  repositories: ['example-app'],
  cluster: 'demo',
  service: 'web',
  taskDefinitionFamily: 'example-app',
  codedeploy: { application: 'AppECS-demo-web', deploymentGroup: 'DgpECS-demo-web' },
  passRoles: [EXECUTION_ROLE],
  needs: { build: true, createRepository: false, mode: 'codedeploy' },
});

/** What the action's preflight itself needs: to read and simulate its own role. */
const selfInspection = (name: string): IamPolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['iam:GetRole', 'iam:SimulatePrincipalPolicy'], Resource: role(name) },
  ],
});

const withoutPassRole = (policy: PolicyDocument): IamPolicyDocument => ({
  ...policy,
  Statement: policy.Statement.filter((s) => !s.Action.includes('iam:PassRole')),
});

const SUBJECT_POLICY: IamPolicyDocument = {
  Id: 'subject-deploy',
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Describe', Effect: 'Allow', Action: 'ecs:Describe*', Resource: '*' },
    {
      Sid: 'Services',
      Effect: 'Allow',
      Action: ['ecs:UpdateService'],
      Resource: 'arn:aws:ecs:us-east-1:000000000000:service/demo/*',
    },
    {
      Sid: 'NotProduction',
      Effect: 'Deny',
      Action: 'ECS:updateservice',
      Resource: 'arn:aws:ecs:us-east-1:000000000000:service/demo/prod-?',
    },
    {
      Sid: 'PassTaskRoles',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: 'arn:aws:iam::000000000000:role/ecs*',
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    },
    {
      Sid: 'EverythingElse',
      Effect: 'Allow',
      NotAction: ['iam:*', 'ecs:*', 'codedeploy:*'],
      NotResource: 'arn:aws:ecr:*:*:repository/secret*',
    },
    {
      Sid: 'TagOnRegister',
      Effect: 'Allow',
      Action: 'ecs:TagResource',
      Resource: '*',
      Condition: { StringLike: { 'ecs:CreateAction': 'Register*' } },
    },
    {
      Sid: 'DemoTasks',
      Effect: 'Allow',
      Action: 'ecs:ListTasks',
      Resource: '*',
      Condition: { ArnLike: { 'ecs:cluster': 'arn:aws:ecs:*:*:cluster/demo' } },
    },
    {
      Sid: 'HomeRegionOnly',
      Effect: 'Deny',
      Action: 'ecr:*',
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:RequestedRegion': 'us-east-1' } },
    },
  ],
};

describe('IAM policy evaluation', () => {
  const decide = (condition: IamPolicyStatement['Condition'], context: Record<string, string[]> = {}) => {
    const source: PolicySource = {
      id: 'p',
      type: 'role',
      document: { Statement: [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*', Condition: condition }] },
    };
    return evaluate([source], undefined, { action: 'ecs:ListTasks', resource: '*' }, requestContext(context))
      .decision;
  };

  it.each<[string, IamPolicyStatement['Condition'], Record<string, string[]>, string]>([
    ['IfExists without the key', { StringEqualsIfExists: { 'ecs:cluster': 'a' } }, {}, 'allowed'],
    [
      'IfExists with another value',
      { StringEqualsIfExists: { 'ecs:cluster': 'a' } },
      { 'ecs:cluster': ['b'] },
      'implicitDeny',
    ],
    ['Null true without the key', { Null: { 'aws:TagKeys': 'true' } }, {}, 'allowed'],
    ['Null true with the key', { Null: { 'aws:TagKeys': 'true' } }, { 'aws:TagKeys': ['x'] }, 'implicitDeny'],
    ['Null false with the key', { Null: { 'aws:TagKeys': 'false' } }, { 'aws:TagKeys': ['x'] }, 'allowed'],
    ['Bool', { Bool: { 'aws:SecureTransport': true } }, { 'aws:SecureTransport': ['true'] }, 'allowed'],
    [
      'Bool false',
      { Bool: { 'aws:SecureTransport': 'true' } },
      { 'aws:SecureTransport': ['false'] },
      'implicitDeny',
    ],
    [
      'ForAllValues, all listed',
      { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] } },
      { 'aws:TagKeys': ['a', 'b'] },
      'allowed',
    ],
    [
      'ForAllValues, one not',
      { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a'] } },
      { 'aws:TagKeys': ['a', 'c'] },
      'implicitDeny',
    ],
    [
      'ForAllValues without the key',
      { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a'] } },
      {},
      'allowed',
    ],
    [
      'ForAnyValue, one listed',
      { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a'] } },
      { 'aws:TagKeys': ['c', 'a'] },
      'allowed',
    ],
    [
      'StringNotLike',
      { StringNotLike: { 'ecs:cluster': 'prod-*' } },
      { 'ecs:cluster': ['prod-1'] },
      'implicitDeny',
    ],
    [
      'StringNotLike, other',
      { StringNotLike: { 'ecs:cluster': 'prod-*' } },
      { 'ecs:cluster': ['dev-1'] },
      'allowed',
    ],
    [
      'StringEqualsIgnoreCase',
      { StringEqualsIgnoreCase: { 'ecs:cluster': 'DEMO' } },
      { 'ECS:Cluster': ['demo'] },
      'allowed',
    ],
    [
      'ArnNotEquals',
      { ArnNotEquals: { 'ecs:cluster': 'arn:aws:ecs:*:*:cluster/prod' } },
      { 'ecs:cluster': ['arn:aws:ecs:us-east-1:1:cluster/prod'] },
      'implicitDeny',
    ],
    [
      'two keys, both needed',
      { StringEquals: { 'ecs:cluster': 'a', 'aws:RequestedRegion': 'us-east-1' } },
      { 'ecs:cluster': ['a'] },
      'implicitDeny',
    ],
  ])('%s', (_name, condition, context, decision) => {
    expect(decide(condition, context)).toBe(decision);
  });

  it('places statements in the two-space JSON, a single Statement object too', () => {
    expect(statementPositions({ Statement: { Effect: 'Allow', Action: '*', Resource: '*' } })).toEqual([
      [
        { Line: 2, Column: 16 },
        { Line: 6, Column: 3 },
      ],
    ]);
  });
});

describe('IAM without seed.iam: every principal may do everything', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ manualClock: true });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('GetRole answers the caller role, and NoSuchEntity (404) for any other', async () => {
    const { iam } = clientsFor(emulator);
    const out = await iam.send(new GetRoleCommand({ RoleName: 'deploy' }));
    expect(out.Role).toMatchObject({
      RoleName: 'deploy',
      Path: '/',
      Arn: role('deploy'),
      RoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}$/),
      MaxSessionDuration: 3600,
    });
    expect(out.Role?.CreateDate).toBeInstanceOf(Date);
    expect(JSON.parse(decodeURIComponent(out.Role?.AssumeRolePolicyDocument ?? ''))).toMatchObject({
      Statement: [
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } },
      ],
    });

    const missing = await iam.send(new GetRoleCommand({ RoleName: 'nope' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NoSuchEntityException);
    expect(missing).toMatchObject({
      name: 'NoSuchEntityException',
      message: 'The role with name nope cannot be found.',
      $metadata: { httpStatusCode: 404 },
    });
  });

  it("the action's preflight passes: every call of the least-privilege policy is allowed", async () => {
    const log = new MemoryLog();
    const result = await preflight(clientsFor(emulator), leastPrivilege, log);
    const pairs = leastPrivilege.Statement.reduce((n, s) => n + s.Action.length * s.Resource.length, 0);
    expect(result).toMatchObject({ checked: true, principal: role('deploy'), allowed: pairs, undecided: [] });
    expect(log.text()).not.toContain('warning');
    const calls = emulator.calls.map((c) => `${c.service}:${c.operation}:${c.status}`);
    expect(calls.slice(2, 4)).toEqual(['sts:GetCallerIdentity:200', 'iam:GetRole:200']);
    expect(calls.length).toBeGreaterThan(4);
    expect(new Set(calls.slice(4))).toEqual(new Set(['iam:SimulatePrincipalPolicy:200']));
    expect(emulator.mutatingCalls()).toEqual([]);
  });
});

describe('IAM with seeded roles', () => {
  let emulator: Emulator;
  const keys = {
    deployer: ['AKIDDEPLOYER', 'deployer-secret'],
    reader: ['AKIDREADER', 'reader-secret'],
    denied: ['AKIDDENIED', 'denied-secret'],
    bounded: ['AKIDBOUNDED', 'bounded-secret'],
    permitted: ['AKIDPERMITTED', 'permitted-secret'],
  } as const;
  const as = (who: keyof typeof keys) => clientsFor(emulator, keys[who][0], keys[who][1]);

  beforeAll(async () => {
    emulator = await startEmulator({
      manualClock: true,
      credentials: Object.entries(keys).map(([name, [accessKeyId, secretAccessKey]]) => ({
        accessKeyId,
        secretAccessKey,
        principalArn: session(name),
      })),
      seed: {
        clusters: ['demo'],
        iam: {
          roles: [
            { name: 'deployer', policies: [withoutPassRole(leastPrivilege), selfInspection('deployer')] },
            {
              name: 'reader',
              policies: [
                {
                  Version: '2012-10-17',
                  Statement: [
                    {
                      Effect: 'Allow',
                      Action: 'iam:SimulatePrincipalPolicy',
                      Resource: [role('deploy/subject'), role('bounded')],
                    },
                    { Effect: 'Allow', Action: 'iam:GetRole', Resource: role('deploy/subject') },
                  ],
                },
              ],
            },
            { name: 'subject', path: '/deploy/', policies: [SUBJECT_POLICY] },
            {
              name: 'denied',
              policies: [
                { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: '*', Resource: '*' } },
                {
                  Id: 'no-registering',
                  Statement: [{ Effect: 'Deny', Action: ['ecs:Register*', 'sts:*'], Resource: '*' }],
                },
              ],
            },
            {
              name: 'bounded',
              policies: [
                {
                  Version: '2012-10-17',
                  Statement: [{ Effect: 'Allow', Action: ['ecs:*', 'iam:*'], Resource: '*' }],
                },
              ],
              permissionsBoundary: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: ['ecs:Describe*', 'iam:*'], Resource: '*' }],
              },
            },
            { name: 'permitted', policies: [leastPrivilege] },
            { name: 'ecsTaskExecutionRole' },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  async function simulate(
    actions: string[],
    resources?: string[],
    context?: ContextEntry[],
    source = role('deploy/subject'),
  ): Promise<EvaluationResult[]> {
    const out = await as('reader').iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: source,
        ActionNames: actions,
        ResourceArns: resources,
        ContextEntries: context,
      }),
    );
    return out.EvaluationResults ?? [];
  }

  it('GetRole answers a seeded role with its path', async () => {
    const out = await as('reader').iam.send(new GetRoleCommand({ RoleName: 'subject' }));
    expect(out.Role).toMatchObject({ Path: '/deploy/', Arn: role('deploy/subject') });
  });

  it('allows what an Allow statement grants (action wildcards, case-insensitive), naming the statement', async () => {
    const [result] = await simulate(['ecs:describeservices']);
    expect(result).toEqual({
      EvalActionName: 'ecs:describeservices',
      EvalResourceName: '*',
      EvalDecision: 'allowed',
      MatchedStatements: [
        {
          SourcePolicyId: 'subject-deploy',
          SourcePolicyType: 'role',
          StartPosition: { Line: 5, Column: 5 },
          EndPosition: { Line: 10, Column: 5 },
        },
      ],
      MissingContextValues: [],
    });
  });

  it('an explicit Deny wins over an Allow; no statement means implicitDeny; one result per action with each resource', async () => {
    const service = (name: string) => `arn:aws:ecs:us-east-1:000000000000:service/${name}`;
    const [result] = await simulate(
      ['ecs:UpdateService'],
      [service('demo/web'), service('demo/prod-1'), service('other/web')],
    );
    expect(result?.EvalDecision).toBe('explicitDeny');
    expect(result?.MatchedStatements?.map((m) => m.StartPosition?.Line)).toEqual([19]);
    expect(result?.ResourceSpecificResults?.map((r) => [r.EvalResourceName, r.EvalResourceDecision])).toEqual(
      [
        [service('demo/web'), 'allowed'],
        [service('demo/prod-1'), 'explicitDeny'],
        [service('other/web'), 'implicitDeny'],
      ],
    );
    // `?` is one character: prod-10 is not denied, only allowed by demo/*.
    const [ten] = await simulate(['ecs:UpdateService'], [service('demo/prod-10')]);
    expect(ten?.EvalDecision).toBe('allowed');
    // A specific Resource does not match the simulation's default resource "*".
    const [any] = await simulate(['ecs:UpdateService']);
    expect(any?.EvalDecision).toBe('implicitDeny');
  });

  it('iam:PassRole is allowed with iam:PassedToService; without it the key is reported missing', async () => {
    const passedTo = (service: string): ContextEntry[] => [
      { ContextKeyName: 'iam:PassedToService', ContextKeyValues: [service], ContextKeyType: 'string' },
    ];
    const [allowed] = await simulate(['iam:PassRole'], [EXECUTION_ROLE], passedTo('ecs-tasks.amazonaws.com'));
    expect(allowed?.EvalDecision).toBe('allowed');
    const [unknown] = await simulate(['iam:PassRole'], [EXECUTION_ROLE]);
    expect(unknown).toMatchObject({
      EvalDecision: 'implicitDeny',
      MissingContextValues: ['iam:PassedToService'],
    });
    expect(unknown?.ResourceSpecificResults?.[0]?.MissingContextValues).toEqual(['iam:PassedToService']);
    const [otherService] = await simulate(
      ['iam:PassRole'],
      [EXECUTION_ROLE],
      passedTo('lambda.amazonaws.com'),
    );
    expect(otherService).toMatchObject({ EvalDecision: 'implicitDeny', MissingContextValues: [] });
    const [otherRole] = await simulate(
      ['iam:PassRole'],
      [role('admin')],
      passedTo('ecs-tasks.amazonaws.com'),
    );
    expect(otherRole?.EvalDecision).toBe('implicitDeny');
  });

  it('evaluates NotAction/NotResource, StringLike, ArnLike and StringNotEquals conditions', async () => {
    const repository = (name: string) => `arn:aws:ecr:us-east-1:000000000000:repository/${name}`;
    const region: ContextEntry[] = [
      { ContextKeyName: 'aws:RequestedRegion', ContextKeyValues: ['us-east-1'], ContextKeyType: 'string' },
    ];
    const [push] = await simulate(['ecr:PutImage'], [repository('app'), repository('secret-keys')], region);
    expect(push?.ResourceSpecificResults?.map((r) => r.EvalResourceDecision)).toEqual([
      'allowed',
      'implicitDeny',
    ]);
    // A negated operator holds when the request lacks the key: the region Deny applies.
    const [noRegion] = await simulate(['ecr:PutImage'], [repository('app')]);
    expect(noRegion).toMatchObject({
      EvalDecision: 'explicitDeny',
      MissingContextValues: ['aws:RequestedRegion'],
    });
    const [abroad] = await simulate(
      ['ecr:PutImage'],
      [repository('app')],
      [{ ContextKeyName: 'aws:RequestedRegion', ContextKeyValues: ['eu-west-1'], ContextKeyType: 'string' }],
    );
    expect(abroad?.EvalDecision).toBe('explicitDeny');

    const createAction = (value: string): ContextEntry[] => [
      { ContextKeyName: 'ecs:CreateAction', ContextKeyValues: [value], ContextKeyType: 'string' },
    ];
    expect(
      (await simulate(['ecs:TagResource'], undefined, createAction('RegisterTaskDefinition')))[0]
        ?.EvalDecision,
    ).toBe('allowed');
    expect(
      (await simulate(['ecs:TagResource'], undefined, createAction('CreateService')))[0]?.EvalDecision,
    ).toBe('implicitDeny');
    const cluster = (arn: string): ContextEntry[] => [
      { ContextKeyName: 'ecs:cluster', ContextKeyValues: [arn], ContextKeyType: 'string' },
    ];
    expect(
      (
        await simulate(
          ['ecs:ListTasks'],
          undefined,
          cluster('arn:aws:ecs:eu-west-1:000000000000:cluster/demo'),
        )
      )[0]?.EvalDecision,
    ).toBe('allowed');
    expect(
      (
        await simulate(
          ['ecs:ListTasks'],
          undefined,
          cluster('arn:aws:ecs:eu-west-1:000000000000:cluster/demo-2'),
        )
      )[0]?.EvalDecision,
    ).toBe('implicitDeny');
  });

  it('pages the results with MaxItems and Marker', async () => {
    const actions = [
      'ecs:DescribeServices',
      'ecs:DescribeTasks',
      'ecs:ListTasks',
      'iam:GetRole',
      'codedeploy:GetDeployment',
    ];
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const out = await as('reader').iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: role('deploy/subject'),
          ActionNames: actions,
          MaxItems: 2,
          Marker: marker,
        }),
      );
      pages++;
      seen.push(...(out.EvaluationResults ?? []).map((r) => `${r.EvalActionName}=${r.EvalDecision}`));
      expect(out.IsTruncated).toBe(pages < 3);
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual([
      'ecs:DescribeServices=allowed',
      'ecs:DescribeTasks=allowed',
      'ecs:ListTasks=implicitDeny',
      'iam:GetRole=implicitDeny',
      'codedeploy:GetDeployment=implicitDeny',
    ]);
  });

  it('caps the identity policies with the permissions boundary', async () => {
    const out = await as('reader').iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: role('bounded'),
        ActionNames: ['ecs:DescribeServices', 'ecs:UpdateService'],
      }),
    );
    expect(
      out.EvaluationResults?.map((r) => [
        r.EvalDecision,
        r.PermissionsBoundaryDecisionDetail?.AllowedByPermissionsBoundary,
      ]),
    ).toEqual([
      ['allowed', true],
      ['implicitDeny', false],
    ]);
  });

  it('simulates PolicyInputList documents along with the principal’s own', async () => {
    const out = await as('reader').iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: role('deploy/subject'),
        ActionNames: ['codedeploy:GetDeployment'],
        PolicyInputList: [
          JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'codedeploy:Get*', Resource: '*' }],
          }),
        ],
      }),
    );
    expect(out.EvaluationResults?.[0]).toMatchObject({
      EvalDecision: 'allowed',
      MatchedStatements: [{ SourcePolicyId: 'PolicyInputList.1', SourcePolicyType: 'IAM Policy' }],
    });
    const malformed = await as('reader')
      .iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: role('deploy/subject'),
          ActionNames: ['ecs:ListTasks'],
          PolicyInputList: ['{"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}'],
        }),
      )
      .catch((e: unknown) => e);
    expect(malformed).toMatchObject({
      name: 'InvalidInputException',
      message: expect.stringMatching(/Effect must be Allow or Deny/),
    });
  });

  it('answers NoSuchEntity for a principal it does not know, or a role ARN without its path', async () => {
    const { iam } = as('bounded');
    const ghost = await iam
      .send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: role('ghost'),
          ActionNames: ['ecs:ListTasks'],
        }),
      )
      .catch((e: unknown) => e);
    expect(ghost).toBeInstanceOf(NoSuchEntityException);
    expect((ghost as Error).message).toBe('The role with name ghost cannot be found.');
    const pathless = await iam
      .send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: role('subject'),
          ActionNames: ['ecs:ListTasks'],
        }),
      )
      .catch((e: unknown) => e);
    expect(pathless).toBeInstanceOf(NoSuchEntityException);
  });

  it('refuses a caller without iam:SimulatePrincipalPolicy or iam:GetRole: AccessDenied (403) with IAM’s message', async () => {
    const denied = await as('reader')
      .iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: role('deployer'),
          ActionNames: ['ecs:ListTasks'],
        }),
      )
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(IAMServiceException);
    expect(denied).toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
      message: `User: ${session('reader')} is not authorized to perform: iam:SimulatePrincipalPolicy on resource: ${role('deployer')} because no identity-based policy allows the iam:SimulatePrincipalPolicy action`,
    });
    const getRole = await as('reader')
      .iam.send(new GetRoleCommand({ RoleName: 'deployer' }))
      .catch((e: unknown) => e);
    expect(getRole).toMatchObject({
      name: 'AccessDenied',
      message: `User: ${session('reader')} is not authorized to perform: iam:GetRole on resource: ${role('deployer')} because no identity-based policy allows the iam:GetRole action`,
    });
    expect(emulator.calls.at(-1)).toMatchObject({
      service: 'iam',
      operation: 'GetRole',
      status: 403,
      errorType: 'AccessDenied',
    });
  });

  it("the action's preflight stops a role without iam:PassRole before any change, naming the statement to add", async () => {
    const before = emulator.mutatingCalls().length;
    const err = await preflight(as('deployer'), leastPrivilege, new MemoryLog()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const [problem] = (err as UserError).problems;
    expect(problem?.what).toContain(`| iam:PassRole | ${EXECUTION_ROLE} | implicitDeny |`);
    expect(problem?.fix).toContain('"iam:PassedToService": "ecs-tasks.amazonaws.com"');
    expect(emulator.mutatingCalls().length).toBe(before);
  });

  it("the action's preflight is skipped with a warning when the caller may not simulate itself", async () => {
    const log = new MemoryLog();
    const result = await preflight(as('permitted'), leastPrivilege, log);
    expect(result).toMatchObject({ checked: false, principal: role('permitted') });
    expect(log.text()).toMatch(/may not call iam:SimulatePrincipalPolicy \(User: .* is not authorized/);
  });

  it('without preflight, RegisterTaskDefinition fails on the missing iam:PassRole with the message AWS gives, registering nothing', async () => {
    const { ecs } = as('deployer');
    const td = fargateTaskDefinition('example-app');
    const err = await ecs.send(new RegisterTaskDefinitionCommand(td)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedException);
    expect(err).toMatchObject({
      $metadata: { httpStatusCode: 400 },
      message: `User: ${session('deployer')} is not authorized to perform: iam:PassRole on resource: ${EXECUTION_ROLE} because no identity-based policy allows the iam:PassRole action`,
    });
    expect(emulator.calls.at(-1)).toMatchObject({
      service: 'ecs',
      operation: 'RegisterTaskDefinition',
      status: 400,
      errorType: 'AccessDeniedException',
    });
    expect(emulator.state.ecs.taskDefinitions.has('example-app')).toBe(false);

    // The least-privilege policy with its PassRole and tag-on-create statements is enough.
    const registered = await as('permitted').ecs.send(
      new RegisterTaskDefinitionCommand({ ...td, tags: [{ key: 'commit', value: 'abc' }] }),
    );
    expect(registered.taskDefinition?.revision).toBe(1);
  });

  it('names an explicit Deny and a permissions boundary in the denial', async () => {
    const explicit = await as('denied')
      .ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDefinition('other')))
      .catch((e: unknown) => e);
    expect((explicit as Error).message).toBe(
      `User: ${session('denied')} is not authorized to perform: ecs:RegisterTaskDefinition on resource: * with an explicit deny in an identity-based policy`,
    );
    const bounded = await as('bounded')
      .ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDefinition('other')))
      .catch((e: unknown) => e);
    expect((bounded as Error).message).toBe(
      `User: ${session('bounded')} is not authorized to perform: ecs:RegisterTaskDefinition on resource: * because no permissions boundary allows the ecs:RegisterTaskDefinition action`,
    );
    // What both allow goes through.
    const described = await as('bounded').ecs.send(new DescribeClustersCommand({ clusters: ['demo'] }));
    expect(described.clusters?.map((c) => c.clusterName)).toEqual(['demo']);
  });

  it('answers sts:GetCallerIdentity whatever the policies say', async () => {
    const out = await as('denied').sts.send(new GetCallerIdentityCommand({}));
    expect(out.Arn).toBe(session('denied'));
    expect(out.UserId?.split(':')[0]).toBe(emulator.state.iam.roles.get('denied')?.id);
  });

  it('refuses a seed with a policy IAM would not store, naming the entry', async () => {
    await expect(
      startEmulator({
        seed: {
          iam: {
            roles: [
              {
                name: 'broken',
                policies: [
                  {
                    Statement: [
                      {
                        Effect: 'Allow',
                        Action: 'ecs:*',
                        Resource: '*',
                        Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01' } },
                      },
                    ],
                  },
                ],
              },
            ],
          },
        },
      }),
    ).rejects.toThrow(
      /^seed iam\.roles 'broken': MalformedPolicyDocument: policies\[0\]: Statement\[0\]: condition operator DateGreaterThan is not supported/,
    );
  });
});
