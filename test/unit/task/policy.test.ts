/** The one-off task, as-is deploys and revision hygiene in the least-privilege policy. */
import { describe, expect, it } from '@jest/globals';
import { allActions, type PermissionNeeds } from '../../../src/iam.js';
import { buildPolicy, type PolicyInput } from '../../../src/policy.js';

const A = '123456789012';
const input = (needs: Partial<PermissionNeeds>): PolicyInput => ({
  region: 'us-east-1',
  accountId: A,
  repositories: [],
  cluster: 'demo',
  service: 'web',
  taskDefinitionFamily: 'app',
  passRoles: [`arn:aws:iam::${A}:role/exec`],
  taskLogGroups: ['/ecs/app'],
  needs: { build: false, createRepository: false, mode: 'rolling', ...needs },
});
const base: PermissionNeeds = { build: false, createRepository: false, mode: 'rolling' };
const added = (extra: Partial<PermissionNeeds>) => {
  const before = new Set(allActions(base));
  return allActions({ ...base, ...extra }).filter((a) => !before.has(a));
};

describe('policy: one-off tasks and revisions', () => {
  it.each<[string, Partial<PermissionNeeds>, string[]]>([
    ['a one-off task', { task: true }, ['ecs:RunTask', 'ecs:StopTask', 'logs:GetLogEvents']],
    [
      'keep-revisions',
      { pruneRevisions: { delete: false } },
      ['ecs:DeregisterTaskDefinition', 'ecs:ListTaskDefinitions'],
    ],
    [
      'keep-revisions with deletion',
      { pruneRevisions: { delete: true } },
      ['ecs:DeleteTaskDefinitions', 'ecs:DeregisterTaskDefinition', 'ecs:ListTaskDefinitions'],
    ],
  ])('%s adds %j', (_name, extra, actions) => {
    expect(added(extra).sort()).toEqual(actions);
  });

  it('register: false grants no RegisterTaskDefinition nor tagging at registration', () => {
    const actions = allActions({ ...base, register: false });
    expect(actions).not.toContain('ecs:RegisterTaskDefinition');
    expect(actions).not.toContain('ecs:TagResource');
    expect(actions).toContain('ecs:DescribeTaskDefinition');
  });

  it('scopes RunTask to the family in the cluster, tasks to the cluster, logs to the groups', () => {
    const policy = buildPolicy(input({ task: true, pruneRevisions: { delete: true } }));
    const sid = (s: string) => policy.Statement.find((x) => x.Sid === s);
    expect(sid('RunTaskDefinitions')).toEqual({
      Sid: 'RunTaskDefinitions',
      Effect: 'Allow',
      Action: ['ecs:RunTask'],
      Resource: [`arn:aws:ecs:us-east-1:${A}:task-definition/app:*`],
      Condition: { ArnEquals: { 'ecs:cluster': `arn:aws:ecs:us-east-1:${A}:cluster/demo` } },
    });
    expect(sid('OneOffTasks')?.Resource).toEqual([`arn:aws:ecs:us-east-1:${A}:task/demo/*`]);
    expect(sid('OneOffTasks')?.Action).toEqual(['ecs:DescribeTasks', 'ecs:StopTask']);
    expect(sid('TagOneOffTasks')).toMatchObject({
      Action: ['ecs:TagResource'],
      Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    });
    expect(sid('TaskLogs')?.Resource).toEqual([
      `arn:aws:logs:us-east-1:${A}:log-group:/ecs/app:log-stream:*`,
    ]);
    expect(sid('DeleteTaskDefinitions')?.Resource).toEqual([
      `arn:aws:ecs:us-east-1:${A}:task-definition/app:*`,
    ]);
    // RunTask passes the task's roles to ECS: the same PassRole statement as registering.
    expect(sid('PassTaskRoles')?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
  });

  it('leaves the log statement out when no container logs with awslogs', () => {
    const policy = buildPolicy({ ...input({ task: true }), taskLogGroups: [] });
    expect(policy.Statement.map((s) => s.Sid)).not.toContain('TaskLogs');
  });
});
