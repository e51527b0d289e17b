import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  GetRoleCommand,
  IAMClient,
  SimulatePrincipalPolicyCommand,
  type EvaluationResult,
  type SimulatePrincipalPolicyCommandInput,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { UserError } from '../../src/errors.js';
import { MemoryLog } from '../../src/log.js';
import { buildPolicy } from '../../src/policy.js';
import { batches, preflight, principalOf, SIMULATION_NOTE } from '../../src/preflight.js';
import { sdkError } from './deploy/fakes.js';

const stsMock = mockClient(STSClient);
const iamMock = mockClient(IAMClient);
const clients = { sts: new STSClient({ region: 'us-east-1' }), iam: new IAMClient({ region: 'us-east-1' }) };

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/github-deploy`;
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/github-deploy/GitHubActions`;
const EXECUTION_ROLE = `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`;
const TASK_ROLE = `arn:aws:iam::${ACCOUNT}:role/example-app-task-role`;

const policy = buildPolicy({
  region: 'us-east-1',
  accountId: ACCOUNT,
  repositories: ['example-app'],
  cluster: 'demo',
  service: 'web',
  taskDefinitionFamily: 'example-app',
  codedeploy: { application: 'AppECS-demo-web', deploymentGroup: 'DgpECS-demo-web' },
  passRoles: [EXECUTION_ROLE, TASK_ROLE],
  needs: { build: true, createRepository: false, mode: 'codedeploy' },
});
const pairCount = policy.Statement.reduce((n, s) => n + s.Action.length * s.Resource.length, 0);

type Decide = (action: string, resource: string) => Partial<EvaluationResult> & { EvalDecision?: string };

/** IAM's answer shape: one result per action, one ResourceSpecificResult per requested resource. */
function answer(input: SimulatePrincipalPolicyCommandInput, decide: Decide = () => ({})) {
  const resources = input.ResourceArns ?? ['*'];
  return {
    EvaluationResults: (input.ActionNames ?? []).map((action) => {
      const specific = resources.map((resource) => {
        const d = decide(action, resource);
        return {
          EvalResourceName: resource,
          EvalResourceDecision: (d.EvalDecision ?? 'allowed') as 'allowed',
          MatchedStatements: d.MatchedStatements,
          MissingContextValues: d.MissingContextValues ?? [],
          PermissionsBoundaryDecisionDetail: d.PermissionsBoundaryDecisionDetail,
        };
      });
      const worst = specific.find((s) => s.EvalResourceDecision !== 'allowed');
      return {
        EvalActionName: action,
        EvalResourceName: '*',
        EvalDecision: worst?.EvalResourceDecision ?? 'allowed',
        OrganizationsDecisionDetail: decide(action, resources[0] as string).OrganizationsDecisionDetail,
        ...(input.ResourceArns !== undefined && { ResourceSpecificResults: specific }),
        ...(input.ResourceArns === undefined && { MissingContextValues: specific[0]?.MissingContextValues }),
      };
    }),
    IsTruncated: false,
  };
}

async function userError(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

beforeEach(() => {
  stsMock.reset();
  iamMock.reset();
  stsMock
    .on(GetCallerIdentityCommand)
    .resolves({ Account: ACCOUNT, Arn: SESSION, UserId: 'AROA:GitHubActions' });
  iamMock.on(GetRoleCommand).resolves({
    Role: { RoleName: 'github-deploy', Arn: ROLE, Path: '/', RoleId: 'AROA', CreateDate: new Date(0) },
  });
});

describe('principalOf', () => {
  it.each([
    [SESSION, { kind: 'role', arn: ROLE, roleName: 'github-deploy' }],
    [
      'arn:aws-cn:sts::123456789012:assumed-role/deploy/s',
      { kind: 'role', arn: 'arn:aws-cn:iam::123456789012:role/deploy', roleName: 'deploy' },
    ],
    [
      'arn:aws:iam::123456789012:user/ci/deployer',
      { kind: 'user', arn: 'arn:aws:iam::123456789012:user/ci/deployer' },
    ],
  ])('maps %s to the IAM entity to simulate', (caller, expected) => {
    expect(principalOf(caller)).toEqual(expected);
  });

  it.each(['arn:aws:iam::123456789012:root', 'arn:aws:sts::123456789012:federated-user/bob'])(
    'cannot simulate %s',
    (caller) => {
      expect(principalOf(caller).kind).toBe('unsupported');
    },
  );
});

describe('batches', () => {
  const check = (actions: string[], resources: string[], context: Record<string, string> = {}) => ({
    sid: 'S',
    actions,
    resources,
    context: Object.entries(context).map(([key, value]) => ({ key, values: [value] })),
  });
  it.each([
    ['no context', [check(['a:X'], ['*']), check(['a:Y'], ['r1'])], 1],
    ['different keys', [check(['a:X'], ['*'], { k1: 'v' }), check(['a:Y'], ['r1'], { k2: 'w' })], 1],
    ['one key, one value', [check(['a:X'], ['*'], { k: 'v' }), check(['a:Y'], ['r1'], { k: 'v' })], 1],
    ['one key, two values', [check(['a:X'], ['*'], { k: 'v' }), check(['a:Y'], ['r1'], { k: 'w' })], 2],
  ])('%s: %#', (_, checks, calls) => {
    const out = batches(checks);
    expect(out).toHaveLength(calls);
    // Every granted pair is asked for exactly once, and only those are read.
    const pairs = out.flatMap((b) => [...b.pairs]).sort();
    expect(pairs).toEqual(
      checks.flatMap((c) => c.actions.flatMap((a) => c.resources.map((r) => `${a}\u0000${r}`))).sort(),
    );
  });
});

describe('preflight', () => {
  it('simulates every statement for the role behind the session and passes when all is allowed', async () => {
    iamMock.on(SimulatePrincipalPolicyCommand).callsFake((input) => answer(input));
    const log = new MemoryLog();
    const result = await preflight(clients, policy, log);
    expect(result).toEqual({
      checked: true,
      principal: ROLE,
      allowed: pairCount,
      undecided: [],
      note: SIMULATION_NOTE,
    });
    expect(iamMock).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: 'github-deploy' });
    // One call for the whole policy: every action, every resource, the context keys merged
    // (no two statements give one key different values), IAM's largest page.
    const calls = iamMock.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(1);
    const call = calls[0] as SimulatePrincipalPolicyCommandInput;
    expect(call.PolicySourceArn).toBe(ROLE);
    expect(call.MaxItems).toBe(1000);
    expect(new Set(call.ActionNames)).toEqual(new Set(policy.Statement.flatMap((s) => s.Action)));
    expect(new Set(call.ResourceArns)).toEqual(new Set(policy.Statement.flatMap((s) => s.Resource)));
    expect(call.ContextEntries).toContainEqual({
      ContextKeyName: 'iam:PassedToService',
      ContextKeyValues: ['ecs-tasks.amazonaws.com'],
      ContextKeyType: 'string',
    });
    // The one "may make all N calls" line is printed by the plan, not here as well.
    expect(log.text()).not.toContain('Preflight:');
  });

  it('fails on a denied PassRole with the table and only the statement to add', async () => {
    iamMock
      .on(SimulatePrincipalPolicyCommand)
      .callsFake((input) =>
        answer(input, (action, resource) =>
          action === 'iam:PassRole' && resource === TASK_ROLE ? { EvalDecision: 'implicitDeny' } : {},
        ),
      );
    const err = await userError(preflight(clients, policy, new MemoryLog()));
    expect(err.problems).toHaveLength(1);
    const [problem] = err.problems;
    expect(problem?.where).toBe(`IAM permissions of ${ROLE}`);
    expect(problem?.what).toBe(
      `${ROLE} is not allowed 1 call(s) this run makes:\n` +
        '| action | resource | decision |\n' +
        '|---|---|---|\n' +
        `| iam:PassRole | ${TASK_ROLE} | implicitDeny |`,
    );
    const statements: unknown = JSON.parse(problem?.fix.slice(problem.fix.indexOf('\n') + 1) ?? '');
    expect(problem?.fix).toMatch(
      /^Add this statement to a policy attached to arn:aws:iam::123456789012:role\/github-deploy:\n/,
    );
    expect(statements).toEqual([
      {
        Sid: 'PassTaskRoles',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: [TASK_ROLE],
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ]);
  });

  it('reads the older answer shape too, one result per action and resource', async () => {
    iamMock.on(SimulatePrincipalPolicyCommand).callsFake((input: SimulatePrincipalPolicyCommandInput) => ({
      EvaluationResults: (input.ActionNames ?? []).flatMap((action) =>
        (input.ResourceArns ?? ['*']).map((resource) => ({
          EvalActionName: action,
          EvalResourceName: resource,
          EvalDecision: action === 'iam:PassRole' && resource === TASK_ROLE ? 'implicitDeny' : 'allowed',
        })),
      ),
    }));
    const err = await userError(preflight(clients, policy, new MemoryLog()));
    expect(err.problems[0]?.what.split('\n').slice(3)).toEqual([
      `| iam:PassRole | ${TASK_ROLE} | implicitDeny |`,
    ]);
    expect(err.problems[0]?.fix).toContain(`"Resource": [\n      "${TASK_ROLE}"\n    ]`);
  });

  it('tells an explicit Deny (remove it) apart from an implicit one (add a statement)', async () => {
    iamMock.on(SimulatePrincipalPolicyCommand).callsFake((input) =>
      answer(input, (action) => {
        if (action === 'ecs:DescribeTasks') return { EvalDecision: 'implicitDeny' };
        if (action === 'codedeploy:StopDeployment') {
          return {
            EvalDecision: 'explicitDeny',
            MatchedStatements: [{ SourcePolicyId: 'no-stopping', SourcePolicyType: 'user' }],
          };
        }
        return {};
      }),
    );
    const err = await userError(preflight(clients, policy, new MemoryLog()));
    expect(err.problems.map((p) => p.what.split('\n')[0])).toEqual([
      `${ROLE} is not allowed 1 call(s) this run makes:`,
      'An explicit Deny stops 1 call(s) this run makes:',
    ]);
    expect(err.problems[0]?.fix).toContain('"ecs:DescribeTasks"');
    expect(err.problems[0]?.fix).not.toContain('StopDeployment');
    expect(err.problems[1]?.what).toContain(
      '| codedeploy:StopDeployment | arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:AppECS-demo-web/DgpECS-demo-web | explicitDeny (denied by no-stopping) |',
    );
    expect(err.problems[1]?.fix).toMatch(/narrow or remove the named Deny/);
  });

  it('names an SCP and a permissions boundary as the cause, where no added statement would help', async () => {
    iamMock.on(SimulatePrincipalPolicyCommand).callsFake((input) =>
      answer(input, (action) => {
        if (action === 'ecr:PutImage') {
          return {
            EvalDecision: 'implicitDeny',
            PermissionsBoundaryDecisionDetail: { AllowedByPermissionsBoundary: false },
          };
        }
        if (action === 'ecs:RegisterTaskDefinition') {
          return {
            EvalDecision: 'implicitDeny',
            OrganizationsDecisionDetail: { AllowedByOrganizations: false },
          };
        }
        return {};
      }),
    );
    const err = await userError(preflight(clients, policy, new MemoryLog()));
    expect(err.problems.map((p) => p.what.split('\n')[0])).toEqual([
      'An AWS Organizations service control policy denies 1 call(s) this run makes:',
      `The permissions boundary of ${ROLE} does not allow 1 call(s) this run makes:`,
    ]);
  });

  it('warns about, but does not fail on, denials that hang on context the simulation lacks', async () => {
    iamMock
      .on(SimulatePrincipalPolicyCommand)
      .callsFake((input) =>
        answer(input, (action) =>
          action === 'ecs:TagResource'
            ? { EvalDecision: 'implicitDeny', MissingContextValues: ['aws:RequestTag/team'] }
            : {},
        ),
      );
    const log = new MemoryLog();
    const result = await preflight(clients, policy, log);
    expect(result.checked).toBe(true);
    expect(result.undecided).toEqual([
      {
        action: 'ecs:TagResource',
        resource: 'arn:aws:ecs:us-east-1:123456789012:task-definition/example-app:*',
        decision: 'implicitDeny',
        cause: 'missing-context',
        detail: 'needs aws:RequestTag/team',
      },
    ]);
    expect(log.text()).toContain('warning: Preflight: IAM could not decide 1 call(s)');
    expect(result.allowed).toBe(pairCount - 1);
  });

  it.each(['AccessDenied', 'AccessDeniedException'])(
    'warns and goes on when SimulatePrincipalPolicy itself is denied (%s)',
    async (name) => {
      iamMock
        .on(SimulatePrincipalPolicyCommand)
        .rejects(sdkError(name, 'not authorized to perform: iam:SimulatePrincipalPolicy', 403));
      const log = new MemoryLog();
      const result = await preflight(clients, policy, log);
      expect(result.checked).toBe(false);
      expect(result.principal).toBe(ROLE);
      expect(log.lines).toHaveLength(1);
      expect(log.lines[0]).toMatch(
        /^warning: Preflight permission check skipped: .* may not call iam:SimulatePrincipalPolicy/,
      );
      expect(log.lines[0]).toContain(`allow iam:SimulatePrincipalPolicy on ${ROLE} itself`);
    },
  );

  it('simulates the role with its path, which the session ARN leaves out', async () => {
    const withPath = `arn:aws:iam::${ACCOUNT}:role/ci/github-deploy`;
    iamMock.on(GetRoleCommand).resolves({
      Role: {
        RoleName: 'github-deploy',
        Arn: withPath,
        Path: '/ci/',
        RoleId: 'AROA',
        CreateDate: new Date(0),
      },
    });
    iamMock.on(SimulatePrincipalPolicyCommand).callsFake((input) => answer(input));
    expect((await preflight(clients, policy, new MemoryLog())).principal).toBe(withPath);
    for (const call of iamMock.commandCalls(SimulatePrincipalPolicyCommand)) {
      expect(call.args[0].input.PolicySourceArn).toBe(withPath);
    }
  });

  it('falls back to the path-less role ARN when GetRole is not allowed', async () => {
    iamMock
      .on(GetRoleCommand)
      .rejects(sdkError('AccessDenied', 'not authorized to perform: iam:GetRole', 403));
    iamMock.on(SimulatePrincipalPolicyCommand).callsFake((input) => answer(input));
    const log = new MemoryLog();
    expect((await preflight(clients, policy, log)).principal).toBe(ROLE);
    expect(log.text()).toContain('debug: iam:GetRole github-deploy failed');
  });

  it('simulates an IAM user as it is, without GetRole', async () => {
    const user = `arn:aws:iam::${ACCOUNT}:user/deployer`;
    stsMock.on(GetCallerIdentityCommand).resolves({ Arn: user });
    iamMock.on(SimulatePrincipalPolicyCommand).callsFake((input) => answer(input));
    expect((await preflight(clients, policy, new MemoryLog())).principal).toBe(user);
    expect(iamMock).not.toHaveReceivedCommand(GetRoleCommand);
  });

  it('follows IsTruncated/Marker and judges the results of every page', async () => {
    iamMock.on(SimulatePrincipalPolicyCommand).callsFake((input: SimulatePrincipalPolicyCommandInput) => {
      const first = (input.ActionNames ?? []).filter((a) => a !== 'ecs:DescribeServices');
      if (input.Marker === undefined) {
        return { ...answer({ ...input, ActionNames: first }), IsTruncated: true, Marker: 'page-2' };
      }
      return answer({ ...input, ActionNames: ['ecs:DescribeServices'] }, () => ({
        EvalDecision: 'implicitDeny',
      }));
    });
    const err = await userError(preflight(clients, policy, new MemoryLog()));
    expect(iamMock).toHaveReceivedCommandWith(SimulatePrincipalPolicyCommand, { Marker: 'page-2' });
    // Only the pair the policy grants is judged, not the cross product of the merged call.
    expect(err.problems[0]?.what.split('\n').slice(3)).toEqual([
      '| ecs:DescribeServices | arn:aws:ecs:us-east-1:123456789012:service/demo/web | implicitDeny |',
    ]);
  });

  it('skips with a warning for the root user, which IAM cannot simulate', async () => {
    stsMock.on(GetCallerIdentityCommand).resolves({ Arn: `arn:aws:iam::${ACCOUNT}:root` });
    const log = new MemoryLog();
    expect((await preflight(clients, policy, log)).checked).toBe(false);
    expect(log.text()).toMatch(/warning: .*root user/);
    expect(iamMock).not.toHaveReceivedCommand(SimulatePrincipalPolicyCommand);
  });

  it('skips with a warning when STS cannot be reached, and rethrows what is not an AWS answer', async () => {
    stsMock
      .on(GetCallerIdentityCommand)
      .rejects(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const log = new MemoryLog();
    expect((await preflight(clients, policy, log)).reason).toMatch(
      /sts:GetCallerIdentity failed .*ECONNREFUSED/,
    );
    stsMock.on(GetCallerIdentityCommand).rejects(new TypeError('boom'));
    await expect(preflight(clients, policy, log)).rejects.toThrow(TypeError);
  });
});
