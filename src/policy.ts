/**
 * The least-privilege IAM policy for the role that runs this action: every action from
 * src/iam.ts, each on the resources AWS documents for it, so that a user can paste the
 * output and a preflight can simulate exactly that. Pure: no AWS calls.
 *
 * Resource types follow the Service Authorization Reference and the CodeDeploy permissions
 * reference: actions without resource-level permissions get "*", everything else the ARN of
 * this run's repository, cluster, service, task family, deployment group, role, listener or
 * target group.
 */
import { defaultCodeDeployNames } from './deploy/codedeploy.js';
import { resourceName } from './deploy/aws-errors.js';
import { UserError } from './errors.js';
import { requiredActions, type PermissionNeeds, type ResourceKind } from './iam.js';
import { targetGroupName } from './preview/names.js';

export interface PolicyInput {
  region: string;
  accountId: string;
  /** ECR repository names the run pushes to (empty when it builds nothing). */
  repositories: string[];
  /** ECR repositories of the existing images the run deploys (needs.existingImage). */
  imageRepositories?: string[];
  /** Cluster name or ARN. */
  cluster: string;
  /** Service name or ARN; required unless needs.mode is 'none' (for previews: the base service). */
  service?: string;
  taskDefinitionFamily: string;
  /** Defaults to the ECS console's names (AppECS-<cluster>-<service>, DgpECS-…). */
  codedeploy?: { application: string; deploymentGroup: string; deploymentConfigName?: string };
  /** The task role and execution role ARNs the task definition names. */
  passRoles: string[];
  /**
   * Who runs the action, for the preflight (needs.preflight), which reads and simulates it:
   * an IAM role ARN, the assumed-role session ARN STS reports for it, or an IAM user ARN. A
   * session ARN carries no role path, so it stands for the role at the root path: for a role
   * with a path, give the role's own ARN (iam:GetRole answers it), as role/NAME is not
   * role/PATH/NAME.
   */
  principalArn?: string;
  /** The listener previews are routed through (needs.preview.routing). */
  previewListenerArn?: string;
  /** The awslogs groups of the one-off task's containers (needs.task). */
  taskLogGroups?: string[];
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

/** The ARN partition of a region: aws-cn and aws-us-gov have their own. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** What the preflight reads and simulates for a caller ARN. */
export function principalResources(principalArn: string): { role?: string; simulated: string } {
  const session = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(principalArn);
  if (session) {
    // A session ARN has no role path: it names a role at the root path.
    const role = `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
    return { role, simulated: role };
  }
  if (/^arn:[\w-]+:iam::\d{12}:role\/.+$/.test(principalArn)) {
    return { role: principalArn, simulated: principalArn };
  }
  if (/^arn:[\w-]+:iam::\d{12}:user\/.+$/.test(principalArn)) return { simulated: principalArn };
  throw new UserError({
    where: 'deploy role',
    what: `${principalArn} is not an IAM role or user ARN, nor a role session ARN.`,
    fix: 'Name the role the action runs as: arn:aws:iam::ACCOUNT:role/NAME (with its path, if it has one).',
  });
}

/**
 * Target group names of a base service's previews, as IAM patterns: `<service>-pr-*`, and
 * for the pull-request numbers whose plain name would pass 32 characters, the shortened
 * form `<head>…-<hash>-pr-*` (see targetGroupName), for numbers of up to ten digits.
 */
export function previewTargetGroupPatterns(service: string): string[] {
  const patterns = new Set<string>();
  const plain = targetGroupName(service, 1);
  if (plain === `${service}-pr-1`) patterns.add(`${service}-pr-*`);
  const largest = 9_999_999_999;
  const suffix = `-pr-${largest}`;
  const shortened = targetGroupName(service, largest);
  if (shortened !== `${service}${suffix}`) {
    const stem = shortened.slice(0, -suffix.length);
    const hash = stem.slice(-6);
    // Fewer digits leave room for more of the service name before the hash.
    patterns.add(`${stem.slice(0, -7)}*-${hash}-pr-*`);
  }
  return [...patterns];
}

/**
 * The policy document granting exactly `allActions(input.needs)`, scoped to this run's
 * resources. A statement with nothing to name is left out: iam:PassRole when the task
 * definition names no role, iam:GetRole when there is no role to read, the image checks
 * when the images are in the repositories the run pushes to (granted there already).
 */
export function buildPolicy(input: PolicyInput): PolicyDocument {
  const resources = new RunResources(input);
  const statements: PolicyStatement[] = [];
  for (const group of requiredActions(input.needs)) {
    const scoped = SCOPES[group.resource](resources, input);
    if (scoped.Resource.length === 0) continue;
    statements.push({ Sid: group.resource, Effect: 'Allow', Action: group.actions, ...scoped });
  }
  return { Version: '2012-10-17', Statement: statements };
}

type Scope = { Resource: string[]; Condition?: PolicyCondition };

/** This run's resources as ARNs; each throws a named problem when what it needs is not given. */
class RunResources {
  readonly cluster: string;
  private readonly service?: string;
  private readonly partition: string;

  constructor(private readonly input: PolicyInput) {
    this.partition = partitionOf(input.region);
    this.cluster = resourceName(input.cluster);
    this.service = input.service === undefined ? undefined : resourceName(input.service);
  }

  arn(service: string, resource: string): string {
    return `arn:${this.partition}:${service}:${this.input.region}:${this.input.accountId}:${resource}`;
  }

  requireService(): string {
    if (this.service === undefined) {
      const { needs } = this.input;
      throw new UserError({
        where: 'service',
        what: `${needs.preview ? 'Previews copy a base service' : `Deploy mode ${needs.mode} deploys to a service`}, but no service is named.`,
        fix: 'Name the ECS service (it scopes the service, preview and CodeDeploy statements), or use deploy mode none.',
      });
    }
    return this.service;
  }

  codedeploy() {
    return this.input.codedeploy ?? defaultCodeDeployNames(this.cluster, this.requireService());
  }

  repositoryArns(names: string[]): string[] {
    return unique(names).map((r) => this.arn('ecr', `repository/${r}`));
  }

  principal() {
    if (this.input.principalArn === undefined) {
      throw new UserError({
        where: 'deploy role',
        what: 'The preflight reads and simulates the role the action runs as, but no role is named.',
        fix: 'Name the role the action runs as, or leave the preflight out (preflight: false).',
      });
    }
    return principalResources(this.input.principalArn);
  }

  previewServices(): string {
    return this.arn('ecs', `service/${this.cluster}/${this.requireService()}-pr-*`);
  }

  previewFamilies(): string {
    return this.arn('ecs', `task-definition/${this.input.taskDefinitionFamily}-pr-*:*`);
  }

  listener(): string {
    const listenerArn = this.input.previewListenerArn;
    if (listenerArn === undefined || !/:listener\/(app|net)\/[^/]+\/[^/]+\/[^/]+$/.test(listenerArn)) {
      throw new UserError({
        where: 'preview-listener-arn',
        what:
          listenerArn === undefined
            ? 'Previews are routed through a load balancer listener, but no listener is named.'
            : `${listenerArn} is not a load balancer listener ARN.`,
        fix: 'Give the ARN of the listener previews are reached through (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID).',
      });
    }
    return listenerArn;
  }

  previewTargetGroups(): string[] {
    return previewTargetGroupPatterns(this.requireService()).map((name) =>
      this.arn('elasticloadbalancing', `targetgroup/${name}/*`),
    );
  }
}

function ecrRepositories(r: RunResources, input: PolicyInput): Scope {
  if (input.repositories.length === 0) {
    throw new UserError({
      where: 'ecr-repository',
      what: 'The run builds and pushes an image, but no ECR repository is named.',
      fix: 'Name the repository the image is pushed to.',
    });
  }
  return { Resource: r.repositoryArns(input.repositories) };
}

function ecrImages(r: RunResources, input: PolicyInput): Scope {
  const images = input.imageRepositories ?? [];
  if (images.length === 0) {
    throw new UserError({
      where: 'image',
      what: 'The run deploys existing images, checked in ECR first, but no ECR repository of theirs is named.',
      fix: 'Name the repositories the images are in (for an image outside ECR nothing is checked: leave existing images out).',
    });
  }
  // Repositories the run pushes to have these reads granted with the push.
  const pushed = new Set(input.needs.build ? input.repositories : []);
  return { Resource: r.repositoryArns(images.filter((name) => !pushed.has(name))) };
}

const onCreate = (key: string, action: string) => ({ StringEquals: { [key]: action } });

/** The resources (and conditions) of each kind of statement, for this run. */
const SCOPES: Record<ResourceKind, (r: RunResources, input: PolicyInput) => Scope> = {
  EcrLogin: () => ({ Resource: ['*'] }),
  TaskDefinitions: () => ({ Resource: ['*'] }),
  LoadBalancers: () => ({ Resource: ['*'] }),
  EcrRepositories: ecrRepositories,
  EcrImages: ecrImages,
  // Tags sent with RegisterTaskDefinition, and no tagging of anything else.
  TagTaskDefinitions: (r, input) => ({
    Resource: [
      r.arn('ecs', `task-definition/${input.taskDefinitionFamily}:*`),
      ...(input.needs.preview ? [r.previewFamilies()] : []),
    ],
    Condition: onCreate('ecs:CreateAction', 'RegisterTaskDefinition'),
  }),
  PreviewTaskDefinitions: (r) => ({ Resource: [r.previewFamilies()] }),
  Cluster: (r) => ({ Resource: [r.arn('ecs', `cluster/${r.cluster}`)] }),
  Service: (r) => ({ Resource: [r.arn('ecs', `service/${r.cluster}/${r.requireService()}`)] }),
  PreviewServices: (r) => ({ Resource: [r.previewServices()] }),
  TagPreviewServices: (r) => ({
    Resource: [r.previewServices()],
    Condition: onCreate('ecs:CreateAction', 'CreateService'),
  }),
  // ListTasks is authorized on container instances; the cluster is its condition key.
  ListServiceTasks: (r) => ({
    Resource: ['*'],
    Condition: { ArnEquals: { 'ecs:cluster': r.arn('ecs', `cluster/${r.cluster}`) } },
  }),
  DescribeServiceTasks: (r) => ({ Resource: [r.arn('ecs', `task/${r.cluster}/*`)] }),
  DeploymentGroup: (r) => {
    const cd = r.codedeploy();
    return { Resource: [r.arn('codedeploy', `deploymentgroup:${cd.application}/${cd.deploymentGroup}`)] };
  },
  ApplicationRevisions: (r) => ({
    Resource: [r.arn('codedeploy', `application:${r.codedeploy().application}`)],
  }),
  // CreateDeployment needs GetDeploymentConfig on the config it uses, which is the group's
  // own when none is named: unknown here, so any config of the account.
  DeploymentConfig: (r, input) => ({
    Resource: [r.arn('codedeploy', `deploymentconfig:${input.codedeploy?.deploymentConfigName ?? '*'}`)],
  }),
  PassTaskRoles: (_r, input) => ({
    Resource: unique(input.passRoles),
    Condition: onCreate('iam:PassedToService', ECS_TASKS_PRINCIPAL),
  }),
  ReadRoles: (r, input) => {
    const own = r.principal().role;
    return { Resource: unique([...input.passRoles, ...(own === undefined ? [] : [own])]) };
  },
  SimulateOwnPolicies: (r) => ({ Resource: [r.principal().simulated] }),
  PreviewListener: (r) => ({ Resource: [r.listener()] }),
  PreviewRules: (r) => ({ Resource: [rulesOf(r.listener())] }),
  TagPreviewRules: (r) => ({
    Resource: [rulesOf(r.listener())],
    Condition: onCreate('elasticloadbalancing:CreateAction', 'CreateRule'),
  }),
  PreviewTargetGroups: (r) => ({ Resource: r.previewTargetGroups() }),
  TagPreviewTargetGroups: (r) => ({
    Resource: r.previewTargetGroups(),
    Condition: onCreate('elasticloadbalancing:CreateAction', 'CreateTargetGroup'),
  }),
  // ECS-native: the service's service deployments and the service revisions they move between.
  ServiceDeployments: (r) => ({
    Resource: [
      r.arn('ecs', `service-deployment/${r.cluster}/${r.requireService()}/*`),
      r.arn('ecs', `service-revision/${r.cluster}/${r.requireService()}/*`),
    ],
  }),
  // RunTask from this family's revisions, in this cluster only.
  RunTaskDefinitions: (r, input) => ({
    Resource: [r.arn('ecs', `task-definition/${input.taskDefinitionFamily}:*`)],
    Condition: { ArnEquals: { 'ecs:cluster': r.arn('ecs', `cluster/${r.cluster}`) } },
  }),
  OneOffTasks: (r) => ({ Resource: [r.arn('ecs', `task/${r.cluster}/*`)] }),
  TagOneOffTasks: (r) => ({
    Resource: [r.arn('ecs', `task/${r.cluster}/*`)],
    Condition: onCreate('ecs:CreateAction', 'RunTask'),
  }),
  TaskLogs: (r, input) => ({
    Resource: unique(input.taskLogGroups ?? []).map((g) => r.arn('logs', `log-group:${g}:log-stream:*`)),
  }),
  DeleteTaskDefinitions: (r, input) => ({
    Resource: [r.arn('ecs', `task-definition/${input.taskDefinitionFamily}:*`)],
  }),
  // GetLogEvents is authorized on the log stream: every stream of the groups the task definition names.
  ContainerLogs: (r, input) => ({
    Resource: unique(input.needs.containerLogGroups ?? []).map((g) =>
      r.arn('logs', `log-group:${g}:log-stream:*`),
    ),
  }),
};

/** Every rule of a listener: `listener-rule/app/<lb>/<lb id>/<listener id>/*`. */
function rulesOf(listenerArn: string): string {
  return `${listenerArn.replace(':listener/', ':listener-rule/')}/*`;
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
