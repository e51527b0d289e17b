/**
 * The emulator's state, exposed (read-only by convention) for test assertions. Records keep
 * AWS's member names; times are `Date`s on the emulated clock. Where AWS derives a value
 * (running counts, a service's task definition) it is derived from these records on read.
 */
import type {
  ApplicationInfo,
  AutoRollbackConfiguration,
  BlueGreenDeploymentConfiguration,
  DeploymentConfigInfo,
  DeploymentGroupInfo,
  DeploymentStatus,
  ErrorInformation,
  LifecycleEventStatus,
  Diagnostics,
  RevisionLocation,
  RollbackInfo,
  TargetStatus,
  Tag as CodeDeployTag,
} from '@aws-sdk/client-codedeploy';
import type { Repository, Tag as EcrTag } from '@aws-sdk/client-ecr';
import type {
  Listener,
  LoadBalancer as ElbLoadBalancer,
  Rule,
  Tag as Elbv2Tag,
  TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type {
  CapacityProviderStrategyItem,
  ClusterSetting,
  DeploymentConfiguration,
  DeploymentController,
  DeploymentLifecycleHookAction,
  DeploymentLifecycleHookStatus,
  DeploymentLifecycleHookTargetType,
  DeploymentRolloutState,
  LaunchType,
  LoadBalancer,
  NetworkConfiguration,
  PlacementConstraint,
  PlacementStrategy,
  PropagateTags,
  Scale,
  SchedulingStrategy,
  ContainerImage,
  ServiceDeploymentLifecycleStage,
  ServiceDeploymentRollbackMonitorsStatus,
  ServiceDeploymentStatus,
  ServiceEvent,
  ServiceRegistry,
  StabilityStatus,
  Tag as EcsTag,
  TaskDefinition,
  TaskOverride,
  TaskStopCode,
} from '@aws-sdk/client-ecs';
import type { LogsState } from './logs.js';

export interface EmulatorState {
  ecs: EcsState;
  ecr: EcrState;
  codedeploy: CodeDeployState;
  iam: IamState;
  elbv2: Elbv2State;
  logs: LogsState;
}

// ---------------------------------------------------------------- ECS

export interface EcsState {
  /** By cluster name. */
  clusters: Map<string, ClusterRecord>;
  /** By family; index = revision - 1. */
  taskDefinitions: Map<string, TaskDefinitionRecord[]>;
  /** Every service ever created, INACTIVE ones included, in creation order. */
  services: ServiceRecord[];
  /** Every task ever started (stopped ones are pruned an emulated hour after they stop). */
  tasks: TaskRecord[];
  /** ECS-native (BLUE_GREEN, LINEAR, CANARY) service deployments, in creation order. */
  serviceDeployments: ServiceDeploymentRecord[];
  /** Service revisions of services that use a native strategy, in creation order. */
  serviceRevisions: ServiceRevisionRecord[];
}

/** What a service ran at one point: one ECS deployment's task definition and settings. */
export interface ServiceRevisionRecord {
  serviceRevisionArn: string;
  serviceArn: string;
  clusterName: string;
  serviceName: string;
  /** The ECS deployment (DescribeServices `deployments[].id`) whose tasks are this revision's. */
  ecsDeploymentId: string;
  taskDefinition: string;
  launchType?: LaunchType;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  platformVersion?: string;
  loadBalancers: LoadBalancer[];
  serviceRegistries: ServiceRegistry[];
  networkConfiguration?: NetworkConfiguration;
  containerImages: ContainerImage[];
  createdAt: Date;
  /** The target group this revision's tasks serve production traffic from (ECS-native). */
  targetGroupArn?: string;
  productionListenerRule?: string;
}

export interface LifecycleHookExecutionRecord {
  hookId: string;
  targetType: DeploymentLifecycleHookTargetType;
  targetArn?: string;
  /** The hook stage it runs at (DeploymentLifecycleHookStage; not in the API's hook details). */
  stage: string;
  status: DeploymentLifecycleHookStatus;
  expiresAt?: Date;
  timeoutAction: DeploymentLifecycleHookAction;
}

export interface ServiceDeploymentRecord {
  serviceDeploymentArn: string;
  serviceArn: string;
  clusterName: string;
  serviceName: string;
  strategy: 'BLUE_GREEN' | 'LINEAR' | 'CANARY';
  status: ServiceDeploymentStatus;
  statusReason?: string;
  lifecycleStage?: ServiceDeploymentLifecycleStage;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  stoppedAt?: Date;
  updatedAt: Date;
  /** The service's deployment configuration when the deployment was created. */
  deploymentConfiguration: DeploymentConfiguration;
  sourceRevisionArn?: string;
  targetRevisionArn: string;
  /** ECS deployment ids (DescribeServices `deployments[].id`) of the two revisions. */
  blueDeploymentId?: string;
  greenDeploymentId: string;
  blueTargetGroupArn: string;
  greenTargetGroupArn: string;
  productionListenerRule: string;
  testListenerRule?: string;
  /** Percent of production / test traffic on the target (green) revision. */
  productionWeight: number;
  testWeight: number;
  /** Tasks the green revision should run now (0 until SCALE_UP, and again in a rollback). */
  greenScaled: boolean;
  /** Blue's tasks go once CLEAN_UP starts. */
  blueScaledDown: boolean;
  /** The hooks of the latest stage that had any, with their outcome. */
  lifecycleHookDetails: LifecycleHookExecutionRecord[];
  rollback?: { reason: string; startedAt: Date; serviceRevisionArn?: string };
  circuitBreaker: {
    status: ServiceDeploymentRollbackMonitorsStatus;
    failureCount: number;
    threshold: number;
  };
  /** Handles of scheduled events of the running step, cancelled on rollback or stop. */
  timers: number[];
  /** faults.failLifecycleEvent stages this deployment's Lambda hooks fail at, with the message. */
  hookFailures: { stage: string; message: string | undefined }[];
}

export interface ClusterRecord {
  clusterArn: string;
  clusterName: string;
  status: 'ACTIVE';
  settings: ClusterSetting[];
  tags: EcsTag[];
}

export interface TaskDefinitionRecord {
  /** Exactly what DescribeTaskDefinition returns as `taskDefinition`. */
  taskDefinition: TaskDefinition;
  tags: EcsTag[];
}

export type ServiceStatus = 'ACTIVE' | 'DRAINING' | 'INACTIVE';

export interface ServiceRecord {
  serviceArn: string;
  serviceName: string;
  clusterName: string;
  status: ServiceStatus;
  desiredCount: number;
  launchType?: LaunchType;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  platformVersion?: string;
  loadBalancers: LoadBalancer[];
  serviceRegistries: ServiceRegistry[];
  networkConfiguration?: NetworkConfiguration;
  deploymentConfiguration: DeploymentConfiguration;
  deploymentController: DeploymentController;
  placementConstraints: PlacementConstraint[];
  placementStrategy: PlacementStrategy[];
  healthCheckGracePeriodSeconds?: number;
  schedulingStrategy: SchedulingStrategy;
  roleArn?: string;
  enableECSManagedTags: boolean;
  propagateTags: PropagateTags;
  enableExecuteCommand: boolean;
  createdAt: Date;
  createdBy: string;
  tags: EcsTag[];
  /** ECS deployment controller only; [0] is the PRIMARY deployment. */
  deployments: EcsDeploymentRecord[];
  /** CODE_DEPLOY (and EXTERNAL) controllers only. */
  taskSets: TaskSetRecord[];
  /** Newest first, as DescribeServices returns them. */
  events: ServiceEvent[];
  /** The last deployment that reached COMPLETED: what the circuit breaker rolls back to. */
  lastCompleted?: { id: string; taskDefinition: string };
  /** For "(service x) has reached a steady state." on each transition into steady state. */
  steady: boolean;
  /** Set once a DRAINING service's move to INACTIVE is scheduled. */
  retiring: boolean;
}

export interface EcsDeploymentRecord {
  id: string;
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  taskDefinition: string;
  failedTasks: number;
  createdAt: Date;
  updatedAt: Date;
  launchType?: LaunchType;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  platformVersion?: string;
  networkConfiguration?: NetworkConfiguration;
  rolloutState: DeploymentRolloutState;
  rolloutStateReason: string;
}

export interface TaskSetRecord {
  id: string;
  taskSetArn: string;
  status: 'PRIMARY' | 'ACTIVE' | 'DRAINING';
  taskDefinition: string;
  scale: Scale;
  createdAt: Date;
  updatedAt: Date;
  stabilityStatus: StabilityStatus;
  stabilityStatusAt: Date;
  externalId?: string;
  startedBy?: string;
  launchType?: LaunchType;
  platformVersion?: string;
  networkConfiguration?: NetworkConfiguration;
  loadBalancers: LoadBalancer[];
}

export interface ContainerRecord {
  containerArn: string;
  name: string;
  image: string;
  lastStatus: string;
  exitCode?: number;
  runtimeId?: string;
}

export interface TaskRecord {
  taskArn: string;
  taskId: string;
  clusterName: string;
  /** The service that started it, when one did. */
  serviceName?: string;
  /** The ECS deployment id or task set id the task belongs to. */
  ownerId: string;
  group: string;
  /** A service's tasks: its deployment or task set id; RunTask: the caller's, when given. */
  startedBy?: string;
  taskDefinitionArn: string;
  family: string;
  lastStatus: 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'STOPPING' | 'STOPPED';
  desiredStatus: 'RUNNING' | 'STOPPED';
  createdAt: Date;
  pullStartedAt?: Date;
  pullStoppedAt?: Date;
  startedAt?: Date;
  stoppingAt?: Date;
  stoppedAt?: Date;
  stopCode?: TaskStopCode;
  stoppedReason?: string;
  launchType?: LaunchType;
  platformVersion?: string;
  cpu?: string;
  memory?: string;
  containers: ContainerRecord[];
  /** Set at launch from faults.crashTasks: the task stops with this reason instead of starting. */
  crashReason?: string;
  version: number;
  tags: EcsTag[];
  /** RunTask's overrides (one-off tasks); service tasks have none. */
  overrides?: TaskOverride;
  /** RunTask with a capacity provider strategy: the provider the task was placed with. */
  capacityProviderName?: string;
}

// ---------------------------------------------------------------- ECR

export interface EcrState {
  /** By repository name. */
  repositories: Map<string, RepositoryRecord>;
}

export interface RepositoryRecord {
  repository: Repository;
  tags: EcrTag[];
  /** When the emulator first saw each image digest: the registry API has no push time. */
  firstSeen: Map<string, Date>;
}

// ---------------------------------------------------------------- CodeDeploy

export interface CodeDeployState {
  /** By application name. */
  applications: Map<string, { application: ApplicationInfo; tags: CodeDeployTag[] }>;
  /** By application name, then deployment group name. */
  deploymentGroups: Map<string, Map<string, DeploymentGroupRecord>>;
  /** Built-in and created deployment configurations, by name. */
  deploymentConfigs: Map<string, DeploymentConfigInfo>;
  /** By deployment id, in creation order. */
  deployments: Map<string, CodeDeployDeploymentRecord>;
}

export interface DeploymentGroupRecord {
  /** Stored fields; lastSuccessfulDeployment/lastAttemptedDeployment are derived on read. */
  info: DeploymentGroupInfo;
  /** Which of the pair's two target groups serves production now (0 or 1); a success swaps it. */
  productionTargetGroup: number;
  /** ARNs of the pair's two target groups (the service's own, or made up from the name). */
  targetGroupArns: [string, string];
  lastSuccessfulRevision?: RevisionLocation;
}

export type EcsLifecycleEventName =
  | 'BeforeInstall'
  | 'Install'
  | 'AfterInstall'
  | 'AllowTestTraffic'
  | 'AfterAllowTestTraffic'
  | 'BeforeAllowTraffic'
  | 'AllowTraffic'
  | 'AfterAllowTraffic';

export interface LifecycleEventRecord {
  lifecycleEventName: EcsLifecycleEventName;
  status: LifecycleEventStatus;
  startTime?: Date;
  endTime?: Date;
  diagnostics?: Diagnostics;
}

/** The parts of an ECS AppSpec a deployment acts on. */
export interface EcsAppSpec {
  taskDefinition: string;
  containerName: string;
  containerPort: number;
  /** Lifecycle hook → Lambda function name or ARN, in AppSpec order. */
  hooks: Map<string, string>;
  platformVersion?: string;
  networkConfiguration?: NetworkConfiguration;
}

export interface CodeDeployDeploymentRecord {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  status: DeploymentStatus;
  createTime: Date;
  startTime?: Date;
  completeTime?: Date;
  description?: string;
  creator: 'user' | 'codeDeployRollback';
  revision?: RevisionLocation;
  previousRevision?: RevisionLocation;
  errorInformation?: ErrorInformation;
  rollbackInfo?: RollbackInfo;
  autoRollbackConfiguration: AutoRollbackConfiguration;
  blueGreenDeploymentConfiguration: BlueGreenDeploymentConfiguration;
  instanceTerminationWaitTimeStarted: boolean;
  appSpec?: EcsAppSpec;
  clusterName: string;
  serviceName: string;
  target: {
    targetId: string;
    targetArn: string;
    status: TargetStatus;
    lastUpdatedAt: Date;
    lifecycleEvents: LifecycleEventRecord[];
  };
  /** Task set ids: the original (serving) one and the replacement. */
  blueTaskSetId?: string;
  greenTaskSetId?: string;
  /** Percent of production traffic on the replacement task set. */
  greenTrafficWeight: number;
  /** Index, in the group's target group pair, of the target group serving production when the deployment began. */
  blueTargetGroup: number;
  /** Index into the lifecycle events of the one running (or next to run). */
  step: number;
  /** Handles of scheduled events belonging to the running step, cancelled when it is stopped. */
  timers: number[];
  /** A faults.failLifecycleEvent this deployment will hit. */
  hookFailure?: { hook: string; message: string | undefined };
  /** Replacement tasks that stopped during Install. */
  failedTaskIds: string[];
}

// ---------------------------------------------------------------- IAM

export interface IamState {
  /** By role name. Without `seed.iam`, the roles of the configured credentials' principals, allowed everything. */
  roles: Map<string, IamPrincipalRecord>;
  /** By user name; likewise for credentials whose principal is an IAM user. */
  users: Map<string, IamPrincipalRecord>;
}

/** A policy document as IAM stores it; single values may stand for one-element lists. */
export interface IamPolicyDocument {
  Version?: string;
  /** Named in simulation results (`SourcePolicyId`) when given. */
  Id?: string;
  Statement: IamPolicyStatement | IamPolicyStatement[];
}

export interface IamPolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  /** Trust policies only. */
  Principal?: '*' | Record<string, string | string[]>;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  /** Operator → condition key → value(s). */
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface IamPrincipalRecord {
  kind: 'role' | 'user';
  name: string;
  /** `/` or `/a/b/`. */
  path: string;
  arn: string;
  /** `AROA…` for roles, `AIDA…` for users. */
  id: string;
  createDate: Date;
  /** Inline identity policies, by name. */
  policies: { name: string; document: IamPolicyDocument }[];
  permissionsBoundary?: { arn: string; document: IamPolicyDocument };
  /** Roles only: the trust policy. */
  assumeRolePolicyDocument?: IamPolicyDocument;
}

// ---------------------------------------------------------------- Elastic Load Balancing v2

export interface Elbv2State {
  /** Each map by ARN, in creation order. */
  loadBalancers: Map<string, { loadBalancer: ElbLoadBalancer; tags: Elbv2Tag[] }>;
  listeners: Map<string, { listener: Listener; tags: Elbv2Tag[] }>;
  /** `LoadBalancerArns` is derived on read from the listeners and rules that forward to the group. */
  targetGroups: Map<string, TargetGroupRecord>;
  /** Default rules included (`IsDefault`, priority `default`). */
  rules: Map<string, { rule: Rule; listenerArn: string; tags: Elbv2Tag[] }>;
}

export interface TargetGroupRecord {
  targetGroup: TargetGroup;
  tags: Elbv2Tag[];
  /** Registered targets; a deregistered one stays (draining) until the deregistration delay is over. */
  targets: ElbTargetRecord[];
  /** DescribeTargetGroupAttributes' keys and values (deregistration_delay.timeout_seconds, …). */
  attributes: Record<string, string>;
}

export interface ElbTargetRecord {
  id: string;
  port: number;
  availabilityZone?: string;
  registeredAt: Date;
  deregisteredAt?: Date;
}
