/**
 * The IAM actions the action calls, by what a run does. One list, read by the least-
 * privilege policy (src/policy.ts, the `policy` command, print-policy and the preflight), by
 * the example infrastructure (a test checks its deploy role grants exactly these) and by the
 * end-to-end test that runs the action under exactly this policy, so the documentation
 * cannot drift from the code.
 *
 * Each group names what its actions act on; src/policy.ts turns that into a statement's
 * resources. An action can sit in more than one group when the run calls it on different
 * resources (DescribeServices on the base service and on its previews).
 */
export interface PermissionNeeds {
  /** Builds and pushes images: ECR login, the repositories' checks, docker push. */
  build: boolean;
  /** May create a missing repository (create-repository: true). */
  createRepository: boolean;
  /** How the service deploys: its deployment controller; none registers the task definition only. */
  mode: 'codedeploy' | 'rolling' | 'ecs-native' | 'none';
  /**
   * The preflight runs (the preflight input, true by default): verify reads the cluster and
   * the roles the task definition names, and IAM simulates the caller's own policies.
   * Default false, as callers that simulate a policy have made these calls already.
   */
  preflight?: boolean;
  /** Deploys images that exist already (the image input), each checked in ECR first. Default false. */
  existingImage?: boolean;
  /**
   * The build pulls from the repositories it pushes to: a cache-from registry cache kept
   * there, or a FROM image there. Default false. Pulls from other repositories need
   * ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on those, which no input names.
   */
  pull?: boolean;
  /** Rollback runs (rollback: true), through the service's own deployment controller. Default false. */
  rollback?: boolean;
  /**
   * Pull-request previews, deployed and destroyed (preview: deploy and destroy); `routing`
   * when they are routed through a load balancer listener (preview-listener-arn).
   */
  preview?: { routing: boolean };
  /**
   * A one-off task (run-task): RunTask from the family (tagged as it starts), DescribeTasks
   * and StopTask, ListTasks for the post step, and its container's log lines. Default false.
   */
  task?: boolean;
  /** register: false deploys an existing revision: no RegisterTaskDefinition. Default true. */
  register?: boolean;
  /** keep-revisions: old revisions deregistered, and deleted when `delete`. */
  pruneRevisions?: { delete: boolean };
  /**
   * The log groups whose last lines a failed deployment shows (container-log-lines > 0, the
   * task definition's awslogs containers). Default none: no logs permission.
   */
  containerLogGroups?: string[];
  /** The service is behind a load balancer: its production listener is read for the `url` output. Default false. */
  url?: boolean;
}

/** What a group of actions acts on: one statement of the policy each, in this order. */
export const RESOURCE_KINDS = [
  'EcrLogin',
  'EcrRepositories',
  'EcrImages',
  'TaskDefinitions',
  'TagTaskDefinitions',
  'PreviewTaskDefinitions',
  'Cluster',
  'Service',
  'PreviewServices',
  'TagPreviewServices',
  'ListServiceTasks',
  'DescribeServiceTasks',
  'DeploymentGroup',
  'ApplicationRevisions',
  'DeploymentConfig',
  'PassTaskRoles',
  'ReadRoles',
  'SimulateOwnPolicies',
  'LoadBalancers',
  'PreviewListener',
  'PreviewRules',
  'TagPreviewRules',
  'PreviewTargetGroups',
  'TagPreviewTargetGroups',
  'ServiceDeployments',
  'RunTaskDefinitions',
  'OneOffTasks',
  'TagOneOffTasks',
  'TaskLogs',
  'DeleteTaskDefinitions',
  'ContainerLogs',
] as const;

export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export interface ActionGroup {
  resource: ResourceKind;
  /** Sorted, without duplicates. */
  actions: string[];
}

/**
 * docker push, as AWS documents its permissions ("IAM permissions for pushing an image to
 * an Amazon ECR private repository"). These go through the registry, not the ECR API, so
 * no API call shows them. ecr:BatchGetImage is there because the pusher first asks the
 * registry for the manifest it is about to put.
 */
export const ECR_PUSH_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
  'ecr:BatchGetImage',
] as const;

/** Pulling layers through the registry, when the build pulls from its own repositories (needs.pull). */
export const ECR_PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] as const;

/**
 * What CodeDeploy checks on CreateDeployment besides codedeploy:CreateDeployment, with no
 * call of their own: GetDeploymentConfig on the deployment's config, and GetApplicationRevision
 * or RegisterApplicationRevision on the application (CodeDeploy permissions reference, note
 * 1 to CreateDeployment). RegisterApplicationRevision is the one of the two that also covers
 * a revision the application has not seen yet (each appspec is a new AppSpecContent
 * revision); aws-actions/amazon-ecs-deploy-task-definition documents the same pair.
 */
export const CREATE_DEPLOYMENT_ALSO_CHECKS = [
  'codedeploy:GetDeploymentConfig',
  'codedeploy:RegisterApplicationRevision',
] as const;

/** The actions of every run these needs describe, grouped by what they act on. */
export function requiredActions(needs: PermissionNeeds): ActionGroup[] {
  const groups = new Map<ResourceKind, Set<string>>();
  const add: AddActions = (resource, ...actions) => {
    const set = groups.get(resource) ?? new Set<string>();
    for (const a of actions) set.add(a);
    groups.set(resource, set);
  };
  const deploys = needs.mode !== 'none';
  const preview = needs.preview !== undefined;
  const rollback = needs.rollback === true && deploys;

  // Every deploy registers a task definition: the roles it names are passed to ECS, and its
  // tags (the file's own, a preview's) are set as it is created. DescribeTaskDefinition
  // reads the revision a run starts from when no file is given, and the live one a dry run
  // compares with.
  add('TaskDefinitions', 'ecs:DescribeTaskDefinition');
  if (needs.register !== false) {
    add('TaskDefinitions', 'ecs:RegisterTaskDefinition');
    add('TagTaskDefinitions', 'ecs:TagResource');
  }
  add('PassTaskRoles', 'iam:PassRole');
  addTaskActions(add, needs);

  if (needs.build) {
    add('EcrLogin', 'ecr:GetAuthorizationToken');
    // DescribeImages: in an immutable repository, whether this commit's tag exists already.
    add('EcrRepositories', 'ecr:DescribeRepositories', 'ecr:DescribeImages', ...ECR_PUSH_ACTIONS);
    if (needs.createRepository) add('EcrRepositories', 'ecr:CreateRepository');
    if (needs.pull) add('EcrRepositories', ...ECR_PULL_ACTIONS);
  }
  if (needs.existingImage) {
    // DescribeRepositories: an image whose host is not an ECR host name is matched to the
    // repository whose URI it has.
    add('EcrImages', 'ecr:DescribeRepositories', 'ecr:DescribeImages');
  }

  if (deploys || preview) add('Service', 'ecs:DescribeServices');
  if (deploys || preview) {
    // The stopped tasks and their reasons, when a deployment fails.
    add('ListServiceTasks', 'ecs:ListTasks');
    add('DescribeServiceTasks', 'ecs:DescribeTasks');
  }
  if (needs.mode === 'rolling') add('Service', 'ecs:UpdateService');
  if (needs.mode === 'codedeploy') {
    add(
      'DeploymentGroup',
      'codedeploy:GetDeploymentGroup',
      'codedeploy:CreateDeployment',
      'codedeploy:GetDeployment',
      'codedeploy:ListDeploymentTargets',
      'codedeploy:GetDeploymentTarget',
      // On a timeout, and by the post step when the job is cancelled.
      'codedeploy:StopDeployment',
    );
    add('DeploymentConfig', 'codedeploy:GetDeploymentConfig');
    add('ApplicationRevisions', 'codedeploy:RegisterApplicationRevision');
  }
  if (needs.mode === 'ecs-native') addNativeActions(add);
  if (rollback) {
    // The family's previous ACTIVE revision, when nothing newer says what was live before.
    add('TaskDefinitions', 'ecs:ListTaskDefinitions');
    if (needs.mode === 'codedeploy') {
      // The group's history: the deployment in progress to stop, the appspecs of earlier ones.
      add('DeploymentGroup', 'codedeploy:ListDeployments', 'codedeploy:BatchGetDeployments');
    }
  }

  if (needs.preflight) {
    add('Cluster', 'ecs:DescribeClusters');
    // The task definition's roles must exist; the deploying role's own ARN carries its path.
    add('ReadRoles', 'iam:GetRole');
    add('SimulateOwnPolicies', 'iam:SimulatePrincipalPolicy');
  }

  if (preview) addPreviewActions(add, needs);
  if (deploys && needs.url) {
    // CodeDeploy names the production listener; a rolling service names its target group.
    add(
      'LoadBalancers',
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeLoadBalancers',
    );
    // Rolling: the target group's deregistration delay tells when the old tasks finish draining.
    if (needs.mode === 'rolling')
      add(
        'LoadBalancers',
        'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetGroupAttributes',
      );
  }
  // A failed deployment's stopped containers: their last lines, read from their log streams.
  if ((deploys || preview) && (needs.containerLogGroups ?? []).length > 0)
    add('ContainerLogs', 'logs:GetLogEvents');

  return RESOURCE_KINDS.filter((kind) => groups.has(kind)).map((resource) => ({
    resource,
    actions: [...(groups.get(resource) as Set<string>)].sort(),
  }));
}

type AddActions = (resource: ResourceKind, ...actions: string[]) => void;

/**
 * ECS-native blue/green, linear and canary: UpdateService starts the service deployment, which
 * is found (List), watched (Describe, with its revisions' task definitions), stopped with
 * rollback on a timeout or cancel, and continued at a PAUSE hook (paused-hook). The check
 * reads the listener rules and target groups (and their deregistration delay). No iam:PassRole: a new task definition does not
 * pass the service's infrastructure role again (only a change of its load balancers would).
 */
function addNativeActions(add: AddActions): void {
  add('Service', 'ecs:UpdateService', 'ecs:ListServiceDeployments');
  add(
    'ServiceDeployments',
    'ecs:DescribeServiceDeployments',
    'ecs:StopServiceDeployment',
    'ecs:ContinueServiceDeployment',
    'ecs:DescribeServiceRevisions',
  );
  // DescribeTargetGroupAttributes: how long CLEAN_UP drains (the deregistration delay).
  add(
    'LoadBalancers',
    'elasticloadbalancing:DescribeRules',
    'elasticloadbalancing:DescribeTargetGroups',
    'elasticloadbalancing:DescribeTargetGroupAttributes',
  );
}

/** The one-off task and revision hygiene. */
function addTaskActions(add: AddActions, needs: PermissionNeeds): void {
  if (needs.task) {
    // RunTask passes the task and execution roles (PassTaskRoles) and tags the task as it
    // starts (its tags, the revision's by propagateTags, and ECS-managed ones).
    add('RunTaskDefinitions', 'ecs:RunTask');
    add('OneOffTasks', 'ecs:DescribeTasks', 'ecs:StopTask');
    add('TagOneOffTasks', 'ecs:TagResource');
    // The post step finds a task whose RunTask answer was lost by its startedBy.
    add('ListServiceTasks', 'ecs:ListTasks');
    add('TaskLogs', 'logs:GetLogEvents');
  }
  if (needs.pruneRevisions) {
    // Which revisions the service's deployments still use: DescribeServices, granted with the deploy.
    add('TaskDefinitions', 'ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition');
    if (needs.pruneRevisions.delete) add('DeleteTaskDefinitions', 'ecs:DeleteTaskDefinitions');
  }
}

/** A preview's own service, task definition family, image tags and routing. */
function addPreviewActions(add: AddActions, needs: PermissionNeeds): void {
  add(
    'PreviewServices',
    'ecs:DescribeServices',
    'ecs:CreateService',
    'ecs:UpdateService',
    'ecs:DeleteService',
  );
  add('TagPreviewServices', 'ecs:TagResource');
  // A destroy deregisters every revision of the preview's family, then deletes them.
  add('TaskDefinitions', 'ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition');
  add('PreviewTaskDefinitions', 'ecs:DeleteTaskDefinitions');
  if (needs.build) add('EcrRepositories', 'ecr:DescribeImages', 'ecr:BatchDeleteImage');
  if (needs.preview?.routing) {
    add(
      'LoadBalancers',
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeLoadBalancers',
      'elasticloadbalancing:DescribeTargetGroups',
      'elasticloadbalancing:DescribeRules',
      'elasticloadbalancing:DescribeTags',
    );
    add('PreviewListener', 'elasticloadbalancing:CreateRule');
    add('PreviewRules', 'elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule');
    add('TagPreviewRules', 'elasticloadbalancing:AddTags');
    add(
      'PreviewTargetGroups',
      'elasticloadbalancing:CreateTargetGroup',
      'elasticloadbalancing:DeleteTargetGroup',
    );
    add('TagPreviewTargetGroups', 'elasticloadbalancing:AddTags');
  }
}

/** Every action the runs can call, once each, sorted: for checks that a policy grants them all. */
export function allActions(needs: PermissionNeeds): string[] {
  return [...new Set(requiredActions(needs).flatMap((g) => g.actions))].sort();
}
