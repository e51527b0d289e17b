/**
 * The least-privilege IAM policy for the role that runs this action: every action from
 * src/iam.ts, each on the resources AWS documents for it, so that a user can paste the
 * output and a preflight can simulate exactly that. Pure: no AWS calls.
 *
 * Resource types follow the Service Authorization Reference and the CodeDeploy permissions
 * reference: actions without resource-level permissions get "*", everything else the ARN of
 * this run's repository, service, task family, deployment group or role.
 */
import { defaultCodeDeployNames } from './deploy/codedeploy.js';
import { resourceName } from './deploy/aws-errors.js';
import { UserError } from './errors.js';
import { allActions, ECR_PUSH_ACTIONS, type PermissionNeeds } from './iam.js';

export interface PolicyInput {
  region: string;
  accountId: string;
  /** ECR repository names the run pushes to (empty when it builds nothing). */
  repositories: string[];
  /** Cluster name or ARN. */
  cluster: string;
  /** Service name or ARN; required unless needs.mode is 'none'. */
  service?: string;
  taskDefinitionFamily: string;
  /** Defaults to the ECS console's names (AppECS-<cluster>-<service>, DgpECS-…). */
  codedeploy?: { application: string; deploymentGroup: string; deploymentConfigName?: string };
  /** The task role and execution role ARNs the task definition names. */
  passRoles: string[];
  needs: PermissionNeeds;
}

export type PolicyCondition = Record<string, Record<string, string>>;

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  /** Sorted. */
  Action: string[];
  Resource: string[];
  Condition?: PolicyCondition;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** One statement as something to simulate: its actions on its resources, with its condition's keys as context. */
export interface PermissionCheck {
  sid: string;
  actions: string[];
  resources: string[];
  context: { key: string; values: string[] }[];
}

/** The service ecs:RegisterTaskDefinition passes the task and execution roles to. */
export const ECS_TASKS_PRINCIPAL = 'ecs-tasks.amazonaws.com';

type StatementKind =
  | 'EcrLogin'
  | 'EcrRepositories'
  | 'TaskDefinitions'
  | 'TagTaskDefinitions'
  | 'Service'
  | 'ListServiceTasks'
  | 'DescribeServiceTasks'
  | 'DeploymentGroup'
  | 'ApplicationRevisions'
  | 'DeploymentConfig'
  | 'PassTaskRoles';

const STATEMENT_OF: Record<string, StatementKind> = {
  'ecr:GetAuthorizationToken': 'EcrLogin',
  ...Object.fromEntries(ECR_PUSH_ACTIONS.map((a) => [a, 'EcrRepositories' as const])),
  'ecr:DescribeRepositories': 'EcrRepositories',
  'ecr:DescribeImages': 'EcrRepositories',
  'ecr:CreateRepository': 'EcrRepositories',
  // Neither supports resource-level permissions.
  'ecs:RegisterTaskDefinition': 'TaskDefinitions',
  'ecs:DescribeTaskDefinition': 'TaskDefinitions',
  'ecs:TagResource': 'TagTaskDefinitions',
  'ecs:DescribeServices': 'Service',
  'ecs:UpdateService': 'Service',
  'ecs:ListTasks': 'ListServiceTasks',
  'ecs:DescribeTasks': 'DescribeServiceTasks',
  'codedeploy:GetDeploymentGroup': 'DeploymentGroup',
  'codedeploy:CreateDeployment': 'DeploymentGroup',
  'codedeploy:GetDeployment': 'DeploymentGroup',
  'codedeploy:ListDeploymentTargets': 'DeploymentGroup',
  'codedeploy:GetDeploymentTarget': 'DeploymentGroup',
  'codedeploy:StopDeployment': 'DeploymentGroup',
  'codedeploy:RegisterApplicationRevision': 'ApplicationRevisions',
  'codedeploy:GetApplicationRevision': 'ApplicationRevisions',
  'codedeploy:GetDeploymentConfig': 'DeploymentConfig',
  'iam:PassRole': 'PassTaskRoles',
};

/** Statement order in the document; Sids are these names. */
const KIND_ORDER: StatementKind[] = [
  'EcrLogin',
  'EcrRepositories',
  'TaskDefinitions',
  'TagTaskDefinitions',
  'Service',
  'ListServiceTasks',
  'DescribeServiceTasks',
  'DeploymentGroup',
  'ApplicationRevisions',
  'DeploymentConfig',
  'PassTaskRoles',
];

/** The ARN partition of a region: aws-cn and aws-us-gov have their own. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * The policy document granting exactly `allActions(input.needs)`, scoped to this run's
 * resources. iam:PassRole is left out when no role is given: there is nothing to pass.
 */
export function buildPolicy(input: PolicyInput): PolicyDocument {
  const { region, accountId, needs } = input;
  const arn = (service: string, resource: string, inRegion = region) =>
    `arn:${partitionOf(region)}:${service}:${inRegion}:${accountId}:${resource}`;
  const cluster = resourceName(input.cluster);
  const service = input.service === undefined ? undefined : resourceName(input.service);

  const requireService = (): string => {
    if (service === undefined) {
      throw new UserError({
        where: 'service',
        what: `Deploy mode ${needs.mode} deploys to a service, but no service is named.`,
        fix: 'Name the ECS service (it scopes ecs:UpdateService and the CodeDeploy group), or use deploy mode none.',
      });
    }
    return service;
  };
  const codedeploy = () => input.codedeploy ?? defaultCodeDeployNames(cluster, requireService());

  const resources = (kind: StatementKind): { Resource: string[]; Condition?: PolicyCondition } => {
    switch (kind) {
      case 'EcrLogin':
      case 'TaskDefinitions':
        return { Resource: ['*'] };
      case 'EcrRepositories':
        if (input.repositories.length === 0) {
          throw new UserError({
            where: 'ecr-repository',
            what: 'The run builds and pushes an image, but no ECR repository is named.',
            fix: 'Name the repository the image is pushed to.',
          });
        }
        return { Resource: unique(input.repositories).map((r) => arn('ecr', `repository/${r}`)) };
      case 'TagTaskDefinitions':
        // Tags sent with RegisterTaskDefinition, and no tagging of anything else.
        return {
          Resource: [arn('ecs', `task-definition/${input.taskDefinitionFamily}:*`)],
          Condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
        };
      case 'Service':
        return { Resource: [arn('ecs', `service/${cluster}/${requireService()}`)] };
      case 'ListServiceTasks':
        // ListTasks is authorized on container instances; the cluster is its condition key.
        return {
          Resource: ['*'],
          Condition: { ArnEquals: { 'ecs:cluster': arn('ecs', `cluster/${cluster}`) } },
        };
      case 'DescribeServiceTasks':
        return { Resource: [arn('ecs', `task/${cluster}/*`)] };
      case 'DeploymentGroup': {
        const cd = codedeploy();
        return { Resource: [arn('codedeploy', `deploymentgroup:${cd.application}/${cd.deploymentGroup}`)] };
      }
      case 'ApplicationRevisions':
        return { Resource: [arn('codedeploy', `application:${codedeploy().application}`)] };
      case 'DeploymentConfig': {
        // CreateDeployment needs GetDeploymentConfig on the config it uses, which is the
        // group's own when none is named: unknown here, so any config of the account.
        const name = input.codedeploy?.deploymentConfigName ?? '*';
        return { Resource: [arn('codedeploy', `deploymentconfig:${name}`)] };
      }
      case 'PassTaskRoles':
        return {
          Resource: unique(input.passRoles),
          Condition: { StringEquals: { 'iam:PassedToService': ECS_TASKS_PRINCIPAL } },
        };
    }
  };

  const actionsOf = new Map<StatementKind, Set<string>>();
  for (const action of allActions(needs)) {
    const kind = STATEMENT_OF[action];
    if (kind === undefined) {
      throw new Error(`src/policy.ts knows no resource for ${action}; add it to STATEMENT_OF.`);
    }
    if (kind === 'PassTaskRoles' && input.passRoles.length === 0) continue;
    const set = actionsOf.get(kind) ?? new Set<string>();
    set.add(action);
    actionsOf.set(kind, set);
  }
  const statements: PolicyStatement[] = [];
  for (const kind of KIND_ORDER) {
    const actions = actionsOf.get(kind);
    if (actions === undefined) continue;
    statements.push({ Sid: kind, Effect: 'Allow', Action: [...actions].sort(), ...resources(kind) });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** Every action the policy grants. */
export function policyActions(policy: PolicyDocument): Set<string> {
  return new Set(policy.Statement.flatMap((s) => s.Action));
}

/** The statements as simulation checks; conditions become the context a real call carries. */
export function permissionChecks(policy: PolicyDocument): PermissionCheck[] {
  return policy.Statement.map((s) => ({
    sid: s.Sid,
    actions: [...s.Action],
    resources: [...s.Resource],
    context: Object.values(s.Condition ?? {}).flatMap((keys) =>
      Object.entries(keys).map(([key, value]) => ({ key, values: [value] })),
    ),
  }));
}

/**
 * The part of a policy that grants the given action/resource pairs: the statements to add
 * when only those are missing. Each statement keeps its condition.
 */
export function restrictPolicy(
  policy: PolicyDocument,
  missing: { action: string; resource: string }[],
): PolicyDocument {
  const statements: PolicyStatement[] = [];
  for (const s of policy.Statement) {
    const hits = missing.filter((m) => s.Action.includes(m.action) && s.Resource.includes(m.resource));
    if (hits.length === 0) continue;
    statements.push({
      ...s,
      Action: unique(hits.map((h) => h.action)).sort(),
      Resource: s.Resource.filter((r) => hits.some((h) => h.resource === r)),
    });
  }
  return { Version: policy.Version, Statement: statements };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
