/**
 * Amazon ECS: clusters, task definitions, services and their tasks, with the ECS service
 * scheduler's rolling deployments (minimum healthy / maximum percent, circuit breaker and
 * rollback) and, for CODE_DEPLOY services, the task sets CodeDeploy drives.
 */
import type {
  Cluster,
  ContainerDefinition,
  Deployment,
  DeploymentConfiguration,
  Failure,
  LoadBalancer,
  NetworkConfiguration,
  PortMapping,
  Service,
  Tag,
  Task,
  TaskDefinition,
  TaskSet,
} from '@aws-sdk/client-ecs';
import { circuitBreakerThreshold, decodeNextToken, encodeNextToken } from './context.js';
import { checkDeploymentStrategy, checkNativeLoadBalancers, isNativeStrategy } from './ecs-native-config.js';
import type { EmulatorContext, Operation, ServiceEmulator } from './context.js';
import { AwsError, isRecord, optionalNumber, optionalString, optionalStringList } from './errors.js';
import { OneOffTasks } from './ecs-tasks.js';
import type { TaskOutput } from './task-output.js';
import type {
  EcsDeploymentRecord,
  EcsState,
  ServiceRecord,
  TaskDefinitionRecord,
  TaskRecord,
  TaskSetRecord,
} from './state.js';

const STOPPED_TASK_RETENTION_MS = 60 * 60 * 1000;
const MAX_SERVICE_EVENTS = 100;
const NAME_PATTERN = /^[a-zA-Z0-9_-]{1,255}$/;

/** Task-level CPU units → the memory sizes (MiB) Fargate offers with it. */
const FARGATE_MEMORY: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, range(1024, 4096, 1024)],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** RegisterTaskDefinition input members (everything else in the input is not a task definition field). */
const TASK_DEFINITION_INPUT_MEMBERS = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
] as const;

const clientError = (message: string) => new AwsError('ClientException', message);
const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);

/** `"1 vCPU"` / `"1024"` → 1024 CPU units; `"2 GB"` / `"2048"` → 2048 MiB. */
function parseCpu(value: string): number | undefined {
  const vcpu = /^\s*(\d+(?:\.\d+)?)\s*vcpu\s*$/i.exec(value);
  if (vcpu) return Math.round(Number(vcpu[1]) * 1024);
  return /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
}

function parseMemory(value: string): number | undefined {
  const gb = /^\s*(\d+(?:\.\d+)?)\s*gb\s*$/i.exec(value);
  if (gb) return Math.round(Number(gb[1]) * 1024);
  return /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
}

function tagList(value: unknown, member = 'tags'): Tag[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((t) => !isRecord(t) || typeof t.key !== 'string')) {
    throw invalidParameter(`${member} must be a list of {key, value} objects.`);
  }
  return (value as Tag[]).map((t) => ({ key: t.key, value: t.value ?? '' }));
}

function mergeTags(existing: Tag[], added: Tag[]): Tag[] {
  const byKey = new Map(existing.map((t) => [t.key, t]));
  for (const t of added) byKey.set(t.key, t);
  return [...byKey.values()];
}

/** Told, after the scheduler has reacted, which of a service's tasks changed state at this instant. */
type TaskListener = (service: ServiceRecord, changed: TaskRecord[]) => void;

/**
 * Runs tasks for real (the demo runtime: a container per task). Without one, tasks reach RUNNING
 * after `timings.taskStart`; with one, a task reaches RUNNING when the runtime reports it
 * healthy (`runtimeTaskHealthy`) and stops when it reports an exit (`runtimeTaskStopped`).
 * Both calls come later, never from inside `start` or `stop`.
 */
export interface TaskRuntime {
  /** Starts the task's containers. */
  start(task: TaskRecord, taskDefinition: TaskDefinition): void;
  /** The task is stopping: stops its containers. */
  stop(task: TaskRecord): void;
}

/** Why a runtime's task stopped without being asked to. */
export interface RuntimeTaskExit {
  stopCode: 'EssentialContainerExited' | 'TaskFailedToStart';
  stoppedReason: string;
  /** By container name, for the containers that ran and exited. */
  exitCodes?: Record<string, number>;
}

/**
 * Drives ECS-native (BLUE_GREEN, LINEAR, CANARY) deployments (emulator/ecs-native.ts): the
 * service scheduler hands it the services it owns while a native deployment runs.
 */
export interface NativeDeploymentController {
  /** ListServiceDeployments, DescribeServiceDeployments, … */
  readonly operations: Readonly<Record<string, Operation>>;
  /** A native-strategy service started a deployment: `green` is its new PRIMARY, `blue` what ran before. */
  begin(svc: ServiceRecord, green: EcsDeploymentRecord, blue: EcsDeploymentRecord | undefined): void;
  /** Scales the service's revisions while a native deployment owns it; false when none does. */
  reconcile(svc: ServiceRecord): boolean;
  /** A task of `deployment` failed to start; true when a native deployment counted it. */
  taskFailed(svc: ServiceRecord, deployment: EcsDeploymentRecord): boolean;
  /** DeleteService: a native deployment of the service stops. */
  serviceDeleted(svc: ServiceRecord): void;
  /** `currentServiceDeployment` and `currentServiceRevisions` of DescribeServices. */
  serviceFields(svc: ServiceRecord): Pick<Service, 'currentServiceDeployment' | 'currentServiceRevisions'>;
}

/** Operations the native controller serves. */
const NATIVE_OPERATIONS = [
  'ListServiceDeployments',
  'DescribeServiceDeployments',
  'DescribeServiceRevisions',
  'StopServiceDeployment',
  'ContinueServiceDeployment',
] as const;

export class EcsEmulator implements ServiceEmulator {
  readonly service = 'ecs' as const;
  readonly targetPrefix = 'AmazonEC2ContainerServiceV20141113';
  readonly signingNames = ['ecs'] as const;
  readonly operations: Readonly<Record<string, Operation>>;
  private readonly listeners: TaskListener[] = [];
  /** Task definition ARNs that have run successfully somewhere: a family-wide crash fault spares them. */
  private readonly provenTaskDefinitions = new Set<string>();
  /** Task transitions not yet reacted to, per service: all that happen at one instant are handled together. */
  private readonly pendingChanges = new Map<ServiceRecord, TaskRecord[]>();
  private runtime?: TaskRuntime;
  /** RunTask and StopTask (ecs-tasks.ts). */
  private readonly oneOff: OneOffTasks;
  private native?: NativeDeploymentController;
  private deregistrationDelayMs: (targetGroupArn: string) => number | undefined = () => undefined;

  constructor(
    private readonly ctx: EmulatorContext,
    readonly state: EcsState,
    taskOutput?: TaskOutput,
  ) {
    this.oneOff = new OneOffTasks(
      ctx,
      state,
      {
        clusterName: (input) => this.clusterName(input),
        findTaskDefinition: (ref) => this.findTaskDefinition(ref),
        taskArn: (cluster, taskId) => this.arn(`task/${cluster}/${taskId}`),
        launch: (td, cluster, taskId) => this.launch(td, cluster, taskId),
        projectTask: (task, withTags) => this.projectTask(task, withTags),
        stopServiceTask: (task, reason) => {
          this.stopTask(task, reason);
          task.stopCode = 'UserInitiated';
        },
        runtime: () => this.runtime,
      },
      taskOutput,
    );
    this.operations = {
      CreateCluster: (i) => this.createCluster(i),
      DescribeClusters: (i) => this.describeClusters(i),
      ListClusters: (i) => this.listClusters(i),
      RegisterTaskDefinition: (i) => this.registerTaskDefinition(i),
      DescribeTaskDefinition: (i) => this.describeTaskDefinition(i),
      ListTaskDefinitions: (i) => this.listTaskDefinitions(i),
      DeregisterTaskDefinition: (i) => this.deregisterTaskDefinition(i),
      DeleteTaskDefinitions: (i) => this.deleteTaskDefinitions(i),
      CreateService: (i) => this.createService(i),
      UpdateService: (i) => this.updateService(i),
      DescribeServices: (i) => this.describeServices(i),
      DeleteService: (i) => this.deleteService(i),
      ListServices: (i) => this.listServices(i),
      ListTasks: (i) => this.listTasks(i),
      DescribeTasks: (i) => this.describeTasks(i),
      RunTask: (i) => this.oneOff.runTask(i),
      StopTask: (i) => this.oneOff.stopTask(i),
      TagResource: (i) => this.tagResource(i),
      UntagResource: (i) => this.untagResource(i),
      ListTagsForResource: (i) => this.listTagsForResource(i),
      ...Object.fromEntries(
        NATIVE_OPERATIONS.map((name) => [
          name,
          (i: Record<string, unknown>) => this.nativeOperation(name, i),
        ]),
      ),
    };
  }

  /** ECS-native deployments are driven by `controller` from now on. */
  useNativeController(controller: NativeDeploymentController): void {
    this.native = controller;
  }

  /** Where a target group's deregistration delay is read (ELB's), for service tasks behind one. */
  useDeregistrationDelays(delayMs: (targetGroupArn: string) => number | undefined): void {
    this.deregistrationDelayMs = delayMs;
  }

  private nativeOperation(name: string, input: Record<string, unknown>): unknown {
    const operation = this.native?.operations[name];
    if (!operation) throw new AwsError('UnsupportedFeatureException', `${name} is not supported here.`);
    return operation(input);
  }

  /** Called after tasks reach RUNNING or STOPPED (CodeDeploy watches its task sets this way). */
  onTaskChange(listener: TaskListener): void {
    this.listeners.push(listener);
  }

  /** Tasks launched from now on run in `runtime`. */
  useRuntime(runtime: TaskRuntime): void {
    this.runtime = runtime;
  }

  // ------------------------------------------------------------------ names and lookups

  private now(): Date {
    return new Date(this.ctx.scheduler.now());
  }

  private arn(resource: string): string {
    return `arn:aws:ecs:${this.ctx.region}:${this.ctx.accountId}:${resource}`;
  }

  clusterArn(name: string): string {
    return this.arn(`cluster/${name}`);
  }

  serviceArn(cluster: string, name: string): string {
    return this.arn(`service/${cluster}/${name}`);
  }

  taskDefinitionArn(family: string, revision: number): string {
    return this.arn(`task-definition/${family}:${revision}`);
  }

  private lastSegment(nameOrArn: string): string {
    return nameOrArn.startsWith('arn:') ? (nameOrArn.split('/').pop() ?? nameOrArn) : nameOrArn;
  }

  /** Cluster name from a `cluster` member (name or ARN; absent means `default`); it must exist. */
  private clusterName(input: Record<string, unknown>): string {
    const value = optionalString(input, 'cluster', 'InvalidParameterException') ?? 'default';
    const name = this.lastSegment(value);
    if (!this.state.clusters.has(name)) throw new AwsError('ClusterNotFoundException', 'Cluster not found.');
    return name;
  }

  /** The cluster a request names (`cluster`, default `default`); ClusterNotFoundException when it does not exist. */
  clusterNameOf(input: Record<string, unknown>): string {
    return this.clusterName(input);
  }

  /** The live (not INACTIVE) service of that name, else the newest record of it. */
  findService(cluster: string, nameOrArn: string): ServiceRecord | undefined {
    const name = this.lastSegment(nameOrArn);
    const matches = this.state.services.filter((s) => s.clusterName === cluster && s.serviceName === name);
    return matches.find((s) => s.status !== 'INACTIVE') ?? matches[matches.length - 1];
  }

  private requireActiveService(input: Record<string, unknown>): ServiceRecord {
    const cluster = this.clusterName(input);
    const ref = optionalString(input, 'service', 'InvalidParameterException');
    if (!ref) throw invalidParameter('service is required.');
    const svc = this.findService(cluster, ref);
    if (!svc) throw new AwsError('ServiceNotFoundException', 'Service not found.');
    if (svc.status !== 'ACTIVE') throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
    return svc;
  }

  /** `family`, `family:revision` or an ARN → the record (family alone: latest ACTIVE revision). */
  findTaskDefinition(ref: string): TaskDefinitionRecord | undefined {
    const m = /^(?:arn:aws[\w-]*:ecs:[^:]+:\d+:task-definition\/)?([a-zA-Z0-9_-]+)(?::(\d+))?$/.exec(ref);
    if (!m) return undefined;
    const revisions = this.state.taskDefinitions.get(m[1] as string) ?? [];
    if (m[2] === undefined) {
      if (ref.startsWith('arn:')) return undefined;
      return [...revisions].reverse().find((r) => r.taskDefinition.status === 'ACTIVE');
    }
    return revisions[Number(m[2]) - 1];
  }

  /** A task definition a service may start tasks from (ACTIVE), or the AWS error. */
  private usableTaskDefinition(ref: string): TaskDefinitionRecord {
    const record = this.findTaskDefinition(ref);
    if (!record || record.taskDefinition.status === 'DELETE_IN_PROGRESS')
      throw clientError('TaskDefinition not found.');
    if (record.taskDefinition.status !== 'ACTIVE') throw invalidParameter('TaskDefinition is inactive');
    return record;
  }

  // ------------------------------------------------------------------ clusters

  createCluster(input: Record<string, unknown>): { cluster: Cluster } {
    const name = optionalString(input, 'clusterName', 'InvalidParameterException') ?? 'default';
    if (!NAME_PATTERN.test(name)) {
      throw invalidParameter(
        'Cluster name can only contain up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.',
      );
    }
    if (!this.state.clusters.has(name)) {
      this.state.clusters.set(name, {
        clusterArn: this.clusterArn(name),
        clusterName: name,
        status: 'ACTIVE',
        settings: Array.isArray(input.settings)
          ? (input.settings as Cluster['settings'] & object)
          : [{ name: 'containerInsights', value: 'disabled' }],
        tags: tagList(input.tags),
      });
    }
    return { cluster: this.projectCluster(name, ['TAGS', 'SETTINGS']) };
  }

  private projectCluster(name: string, include: string[] = []): Cluster {
    const record = this.state.clusters.get(name);
    if (!record) throw new AwsError('ClusterNotFoundException', 'Cluster not found.');
    const tasks = this.state.tasks.filter((t) => t.clusterName === name);
    return {
      clusterArn: record.clusterArn,
      clusterName: record.clusterName,
      status: record.status,
      registeredContainerInstancesCount: 0,
      runningTasksCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
      pendingTasksCount: tasks.filter((t) => t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING')
        .length,
      activeServicesCount: this.state.services.filter((s) => s.clusterName === name && s.status === 'ACTIVE')
        .length,
      statistics: [],
      tags: include.includes('TAGS') ? record.tags : [],
      settings: include.includes('SETTINGS') ? record.settings : undefined,
      capacityProviders: [],
      defaultCapacityProviderStrategy: [],
    };
  }

  private describeClusters(input: Record<string, unknown>): { clusters: Cluster[]; failures: Failure[] } {
    const refs = optionalStringList(input, 'clusters', 'InvalidParameterException') ?? ['default'];
    const include = optionalStringList(input, 'include', 'InvalidParameterException') ?? [];
    const clusters: Cluster[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const name = this.lastSegment(ref);
      if (this.state.clusters.has(name)) clusters.push(this.projectCluster(name, include));
      else failures.push({ arn: ref.startsWith('arn:') ? ref : this.clusterArn(name), reason: 'MISSING' });
    }
    return { clusters, failures };
  }

  private listClusters(input: Record<string, unknown>): { clusterArns: string[]; nextToken?: string } {
    return this.page(
      [...this.state.clusters.values()].map((c) => c.clusterArn),
      input,
      (clusterArns, nextToken) => ({ clusterArns, nextToken }),
    );
  }

  /** A page of a List* result; `defaultSize` is the operation's default maxResults. */
  private page<T, R>(
    items: T[],
    input: Record<string, unknown>,
    build: (items: T[], nextToken?: string) => R,
    defaultSize = 100,
  ): R {
    const offset = decodeNextToken(input.nextToken);
    if (offset === undefined) throw invalidParameter('Invalid nextToken.');
    const max = optionalNumber(input, 'maxResults', 'InvalidParameterException') ?? defaultSize;
    if (max < 1 || max > 100) throw invalidParameter('maxResults must be between 1 and 100.');
    const slice = items.slice(offset, offset + max);
    return build(slice, offset + max < items.length ? encodeNextToken(offset + max) : undefined);
  }

  // ------------------------------------------------------------------ task definitions

  registerTaskDefinition(input: Record<string, unknown>): { taskDefinition: TaskDefinition; tags: Tag[] } {
    const family = input.family;
    if (typeof family !== 'string' || family === '') throw clientError('Family is required.');
    if (!NAME_PATTERN.test(family)) {
      throw clientError(
        'Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.',
      );
    }
    const definition: Record<string, unknown> = {};
    for (const member of TASK_DEFINITION_INPUT_MEMBERS) {
      if (input[member] !== undefined && input[member] !== null)
        definition[member] = structuredClone(input[member]);
    }
    const networkMode = optionalString(input, 'networkMode', 'ClientException');
    if (networkMode !== undefined && !['bridge', 'host', 'awsvpc', 'none'].includes(networkMode)) {
      throw clientError(`Invalid networkMode '${networkMode}'. Valid values: bridge, host, awsvpc, none.`);
    }
    const containers = this.validateContainers(input.containerDefinitions, networkMode);

    const requires = optionalStringList(input, 'requiresCompatibilities', 'ClientException') ?? [];
    const cpuText = optionalString(input, 'cpu', 'ClientException');
    const memoryText = optionalString(input, 'memory', 'ClientException');
    const cpu = cpuText === undefined ? undefined : parseCpu(cpuText);
    const memory = memoryText === undefined ? undefined : parseMemory(memoryText);
    if (cpuText !== undefined && cpu === undefined) throw clientError("Invalid 'cpu' setting for task.");
    if (memoryText !== undefined && memory === undefined)
      throw clientError("Invalid 'memory' setting for task.");
    const fargateFits =
      networkMode === 'awsvpc' &&
      cpu !== undefined &&
      memory !== undefined &&
      (FARGATE_MEMORY.get(cpu)?.includes(memory) ?? false);
    if (requires.includes('FARGATE')) {
      if (networkMode !== 'awsvpc') throw clientError('Fargate only supports network mode ‘awsvpc’.');
      if (cpu === undefined) throw clientError("Fargate requires that 'cpu' be defined at the task level.");
      if (memory === undefined)
        throw clientError("Fargate requires that 'memory' be defined at the task level.");
      if (!fargateFits) {
        throw clientError(
          `No Fargate configuration exists for given values: ${cpu} CPU, ${memory} memory. See the Amazon ECS documentation for the valid values.`,
        );
      }
    }
    if (memory === undefined) {
      for (const c of containers) {
        if (c.memory === undefined && c.memoryReservation === undefined) {
          throw clientError(
            `Invalid setting for container '${c.name}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
          );
        }
      }
    }

    const revisions = this.state.taskDefinitions.get(family) ?? [];
    const revision = revisions.length + 1;
    const compatibilities = [
      'EC2',
      ...(fargateFits ? ['FARGATE'] : []),
      ...(networkMode !== 'awsvpc' ? ['EXTERNAL'] : []),
    ];
    const taskDefinition: TaskDefinition = {
      taskDefinitionArn: this.taskDefinitionArn(family, revision),
      ...(definition as TaskDefinition),
      containerDefinitions: containers,
      family,
      revision,
      volumes: (definition.volumes as TaskDefinition['volumes']) ?? [],
      status: 'ACTIVE',
      requiresAttributes: this.requiresAttributes(definition, containers).map((name) => ({ name })),
      placementConstraints: (definition.placementConstraints as TaskDefinition['placementConstraints']) ?? [],
      compatibilities: compatibilities as TaskDefinition['compatibilities'],
      requiresCompatibilities: requires as TaskDefinition['requiresCompatibilities'],
      ...(cpu !== undefined ? { cpu: String(cpu) } : {}),
      ...(memory !== undefined ? { memory: String(memory) } : {}),
      registeredAt: this.now(),
      registeredBy: `arn:aws:iam::${this.ctx.accountId}:root`,
    };
    const tags = tagList(input.tags);
    revisions.push({ taskDefinition, tags });
    this.state.taskDefinitions.set(family, revisions);
    return { taskDefinition: structuredClone(taskDefinition), tags: structuredClone(tags) };
  }

  private validateContainers(value: unknown, networkMode: string | undefined): ContainerDefinition[] {
    if (!Array.isArray(value) || value.length === 0) {
      throw clientError('Container list cannot be empty.');
    }
    const names = new Set<string>();
    return value.map((raw): ContainerDefinition => {
      if (!isRecord(raw)) throw clientError('Container definitions must be objects.');
      const c = structuredClone(raw) as ContainerDefinition & Record<string, unknown>;
      if (typeof c.name !== 'string' || c.name === '')
        throw clientError('Container.name should not be null or empty.');
      if (typeof c.image !== 'string' || c.image === '')
        throw clientError('Container.image should not be null or empty.');
      if (!NAME_PATTERN.test(c.name)) {
        throw clientError(
          `Container name '${c.name}' is invalid. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.`,
        );
      }
      if (names.has(c.name))
        throw clientError(`Duplicate container name '${c.name}' in the task definition.`);
      names.add(c.name);
      const portMappings = (Array.isArray(c.portMappings) ? c.portMappings : []).map((pm): PortMapping => {
        if (!isRecord(pm)) throw clientError(`Invalid port mapping in container '${c.name}'.`);
        const mapping = { ...pm } as PortMapping;
        if (mapping.containerPort !== undefined) {
          if (networkMode === 'awsvpc' || networkMode === 'host') {
            if (mapping.hostPort !== undefined && mapping.hostPort !== mapping.containerPort) {
              throw clientError(
                `When networkMode=${networkMode}, the host ports and container ports in port mappings must match.`,
              );
            }
            mapping.hostPort = mapping.containerPort;
          }
        }
        mapping.protocol ??= 'tcp';
        return mapping;
      });
      return {
        ...c,
        cpu: c.cpu ?? 0,
        portMappings,
        essential: c.essential ?? true,
        environment: c.environment ?? [],
        mountPoints: c.mountPoints ?? [],
        volumesFrom: c.volumesFrom ?? [],
        systemControls: c.systemControls ?? [],
      };
    });
  }

  /** The agent capabilities AWS derives from a task definition's content. */
  private requiresAttributes(
    definition: Record<string, unknown>,
    containers: ContainerDefinition[],
  ): string[] {
    const names = new Set(['com.amazonaws.ecs.capability.docker-remote-api.1.18']);
    if (definition.networkMode === 'awsvpc') names.add('ecs.capability.task-eni');
    if (definition.taskRoleArn) names.add('com.amazonaws.ecs.capability.task-iam-role');
    for (const c of containers) {
      if (/\.dkr\.ecr\./.test(c.image ?? '')) {
        names.add('com.amazonaws.ecs.capability.ecr-auth');
        if (definition.executionRoleArn) names.add('ecs.capability.execution-role-ecr-pull');
      }
      if (c.logConfiguration?.logDriver === 'awslogs') {
        names.add('com.amazonaws.ecs.capability.logging-driver.awslogs');
        names.add('com.amazonaws.ecs.capability.docker-remote-api.1.19');
        if (definition.executionRoleArn) names.add('ecs.capability.execution-role-awslogs');
      }
      if (c.healthCheck) {
        names.add('ecs.capability.container-health-check');
        names.add('com.amazonaws.ecs.capability.docker-remote-api.1.24');
      }
      if (c.secrets?.length) names.add('ecs.capability.secrets.ssm.environment-variables');
    }
    return [...names];
  }

  private describeTaskDefinition(input: Record<string, unknown>): {
    taskDefinition: TaskDefinition;
    tags?: Tag[];
  } {
    const ref = optionalString(input, 'taskDefinition', 'ClientException');
    if (!ref) throw clientError('taskDefinition is required.');
    const record = this.findTaskDefinition(ref);
    if (!record) throw clientError('Unable to describe task definition.');
    const include = optionalStringList(input, 'include', 'InvalidParameterException') ?? [];
    return {
      taskDefinition: structuredClone(record.taskDefinition),
      ...(include.includes('TAGS') ? { tags: structuredClone(record.tags) } : {}),
    };
  }

  private listTaskDefinitions(input: Record<string, unknown>): {
    taskDefinitionArns: string[];
    nextToken?: string;
  } {
    const family = optionalString(input, 'familyPrefix', 'InvalidParameterException');
    const status = optionalString(input, 'status', 'InvalidParameterException') ?? 'ACTIVE';
    const sort = optionalString(input, 'sort', 'InvalidParameterException') ?? 'ASC';
    if (!['ACTIVE', 'INACTIVE', 'DELETE_IN_PROGRESS'].includes(status))
      throw invalidParameter(`Invalid status '${status}'.`);
    if (sort !== 'ASC' && sort !== 'DESC') throw invalidParameter(`Invalid sort '${sort}'.`);
    const families = [...this.state.taskDefinitions.keys()].sort();
    const arns: string[] = [];
    for (const name of families) {
      if (family !== undefined && name !== family) continue;
      for (const r of this.state.taskDefinitions.get(name) ?? []) {
        if (r.taskDefinition.status === status) arns.push(r.taskDefinition.taskDefinitionArn as string);
      }
    }
    if (sort === 'DESC') arns.reverse();
    return this.page(arns, input, (taskDefinitionArns, nextToken) => ({ taskDefinitionArns, nextToken }));
  }

  private deregisterTaskDefinition(input: Record<string, unknown>): { taskDefinition: TaskDefinition } {
    const ref = optionalString(input, 'taskDefinition', 'ClientException');
    if (!ref) throw clientError('taskDefinition is required.');
    if (!/:\d+$/.test(ref)) {
      throw clientError(
        `Invalid revision number. Specify the task definition as family:revision or a full ARN: ${ref}`,
      );
    }
    const record = this.findTaskDefinition(ref);
    if (!record || record.taskDefinition.status === 'DELETE_IN_PROGRESS') {
      throw clientError('The specified task definition does not exist.');
    }
    if (record.taskDefinition.status === 'ACTIVE') {
      record.taskDefinition.status = 'INACTIVE';
      record.taskDefinition.deregisteredAt = this.now();
    }
    return { taskDefinition: structuredClone(record.taskDefinition) };
  }

  private deleteTaskDefinitions(input: Record<string, unknown>): {
    taskDefinitions: TaskDefinition[];
    failures: Failure[];
  } {
    const refs = optionalStringList(input, 'taskDefinitions', 'InvalidParameterException');
    if (!refs || refs.length === 0) throw invalidParameter('taskDefinitions is required.');
    if (refs.length > 10) throw invalidParameter('You can specify a maximum of 10 task definitions.');
    const taskDefinitions: TaskDefinition[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const record = /:\d+$/.test(ref) ? this.findTaskDefinition(ref) : undefined;
      const arn = ref.startsWith('arn:') ? ref : this.arn(`task-definition/${ref}`);
      if (!record) {
        failures.push({ arn, reason: 'The specified task definition does not exist.' });
      } else if (record.taskDefinition.status === 'ACTIVE') {
        failures.push({
          arn,
          reason:
            'The specified task definition is still in ACTIVE status. Please deregister the target and try again.',
        });
      } else {
        if (record.taskDefinition.status === 'INACTIVE') {
          record.taskDefinition.status = 'DELETE_IN_PROGRESS';
          record.taskDefinition.deleteRequestedAt = this.now();
        }
        taskDefinitions.push(structuredClone(record.taskDefinition));
      }
    }
    return { taskDefinitions, failures };
  }

  // ------------------------------------------------------------------ services

  createService(input: Record<string, unknown>): { service: Service } {
    const cluster = this.clusterName(input);
    const name = optionalString(input, 'serviceName', 'InvalidParameterException');
    if (!name) throw invalidParameter('serviceName is required.');
    if (!NAME_PATTERN.test(name)) {
      throw invalidParameter(
        'Service name can only contain up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.',
      );
    }
    const existing = this.findService(cluster, name);
    if (existing && existing.status !== 'INACTIVE')
      throw invalidParameter('Creation of service was not idempotent.');

    const controllerInput = isRecord(input.deploymentController) ? input.deploymentController : {};
    const controller = (controllerInput.type as string | undefined) ?? 'ECS';
    if (!['ECS', 'CODE_DEPLOY', 'EXTERNAL'].includes(controller)) {
      throw invalidParameter(
        `Invalid deploymentController type '${controller}'. Valid values: ECS, CODE_DEPLOY, EXTERNAL.`,
      );
    }
    const schedulingStrategy = (optionalString(input, 'schedulingStrategy', 'InvalidParameterException') ??
      'REPLICA') as ServiceRecord['schedulingStrategy'];
    if (schedulingStrategy !== 'REPLICA')
      throw invalidParameter('Only the REPLICA scheduling strategy is emulated.');
    const desiredCount = optionalNumber(input, 'desiredCount', 'InvalidParameterException');
    if (desiredCount === undefined) {
      throw invalidParameter(
        'desiredCount is required when schedulingStrategy is REPLICA or is not specified.',
      );
    }
    if (!Number.isInteger(desiredCount) || desiredCount < 0)
      throw invalidParameter('desiredCount must be a non-negative integer.');

    const tdRef = optionalString(input, 'taskDefinition', 'InvalidParameterException');
    if (!tdRef && controller !== 'EXTERNAL') throw invalidParameter('TaskDefinition is required.');
    const td = tdRef ? this.usableTaskDefinition(tdRef) : undefined;
    const launchType = optionalString(
      input,
      'launchType',
      'InvalidParameterException',
    ) as ServiceRecord['launchType'];
    if (td)
      this.checkLaunchCompatibility(
        td,
        launchType,
        input.networkConfiguration as NetworkConfiguration | undefined,
      );
    const loadBalancers = this.loadBalancers(input.loadBalancers, td);

    const deploymentConfiguration = this.deploymentConfiguration(input.deploymentConfiguration, controller, {
      maximumPercent: 200,
      minimumHealthyPercent: 100,
      ...(controller === 'ECS' ? { deploymentCircuitBreaker: { enable: false, rollback: false } } : {}),
    });
    checkNativeLoadBalancers(deploymentConfiguration.strategy, loadBalancers);
    const now = this.now();
    const svc: ServiceRecord = {
      serviceArn: this.serviceArn(cluster, name),
      serviceName: name,
      clusterName: cluster,
      status: 'ACTIVE',
      desiredCount,
      launchType,
      capacityProviderStrategy: input.capacityProviderStrategy as ServiceRecord['capacityProviderStrategy'],
      platformVersion:
        optionalString(input, 'platformVersion', 'InvalidParameterException') ??
        (launchType === 'FARGATE' ? 'LATEST' : undefined),
      loadBalancers,
      serviceRegistries: Array.isArray(input.serviceRegistries)
        ? (input.serviceRegistries as ServiceRecord['serviceRegistries'])
        : [],
      networkConfiguration: input.networkConfiguration as NetworkConfiguration | undefined,
      deploymentConfiguration,
      deploymentController: { type: controller as 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL' },
      placementConstraints: Array.isArray(input.placementConstraints)
        ? (input.placementConstraints as ServiceRecord['placementConstraints'])
        : [],
      placementStrategy: Array.isArray(input.placementStrategy)
        ? (input.placementStrategy as ServiceRecord['placementStrategy'])
        : [],
      healthCheckGracePeriodSeconds: optionalNumber(
        input,
        'healthCheckGracePeriodSeconds',
        'InvalidParameterException',
      ),
      schedulingStrategy,
      roleArn: optionalString(input, 'role', 'InvalidParameterException'),
      enableECSManagedTags: input.enableECSManagedTags === true,
      propagateTags: (optionalString(input, 'propagateTags', 'InvalidParameterException') ??
        'NONE') as ServiceRecord['propagateTags'],
      enableExecuteCommand: input.enableExecuteCommand === true,
      createdAt: now,
      createdBy: `arn:aws:iam::${this.ctx.accountId}:root`,
      tags: tagList(input.tags),
      deployments: [],
      taskSets: [],
      events: [],
      steady: false,
      retiring: false,
    };
    this.state.services.push(svc);
    if (td && controller === 'ECS') this.startDeployment(svc, td.taskDefinition.taskDefinitionArn as string);
    if (td && controller === 'CODE_DEPLOY') {
      this.createTaskSet(svc, td.taskDefinition.taskDefinitionArn as string, { status: 'PRIMARY' });
    }
    this.reconcile(svc);
    return { service: this.projectService(svc) };
  }

  private checkLaunchCompatibility(
    td: TaskDefinitionRecord,
    launchType: string | undefined,
    networkConfiguration: NetworkConfiguration | undefined,
  ): void {
    if (launchType !== undefined && !['EC2', 'FARGATE', 'EXTERNAL'].includes(launchType)) {
      throw invalidParameter(`Invalid launchType '${launchType}'. Valid values: EC2, FARGATE, EXTERNAL.`);
    }
    if (launchType && !td.taskDefinition.compatibilities?.includes(launchType as 'EC2')) {
      throw invalidParameter(`Task definition does not support launch_type ${launchType}.`);
    }
    const awsvpc = td.taskDefinition.networkMode === 'awsvpc';
    const subnets = networkConfiguration?.awsvpcConfiguration?.subnets;
    if (awsvpc && (!subnets || subnets.length === 0)) {
      throw invalidParameter(
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
      );
    }
    if (!awsvpc && networkConfiguration) {
      throw invalidParameter(
        'Network Configuration is not valid for the given networkMode of this task definition.',
      );
    }
  }

  private loadBalancers(value: unknown, td: TaskDefinitionRecord | undefined): LoadBalancer[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw invalidParameter('loadBalancers must be a list.');
    return value.map((raw): LoadBalancer => {
      if (!isRecord(raw)) throw invalidParameter('loadBalancers entries must be objects.');
      const lb = { ...raw } as LoadBalancer;
      if (td && lb.containerName !== undefined) {
        const container = td.taskDefinition.containerDefinitions?.find((c) => c.name === lb.containerName);
        if (!container)
          throw invalidParameter(`The container ${lb.containerName} does not exist in the task definition.`);
        if (!container.portMappings?.some((p) => p.containerPort === lb.containerPort)) {
          throw invalidParameter(
            `The container ${lb.containerName} did not have a container port ${lb.containerPort} defined.`,
          );
        }
      }
      return lb;
    });
  }

  private deploymentConfiguration(
    value: unknown,
    controller: string,
    base: DeploymentConfiguration,
  ): DeploymentConfiguration {
    if (value === undefined || value === null) return base;
    if (!isRecord(value)) throw invalidParameter('deploymentConfiguration must be an object.');
    const update = value as DeploymentConfiguration;
    if (update.deploymentCircuitBreaker && controller !== 'ECS') {
      throw invalidParameter(
        'Deployment circuit breaker is only supported for services using the ECS deployment controller.',
      );
    }
    for (const member of ['maximumPercent', 'minimumHealthyPercent'] as const) {
      const v = update[member];
      if (v !== undefined && (!Number.isInteger(v) || v < 0))
        throw invalidParameter(`${member} must be a non-negative integer.`);
    }
    const merged: DeploymentConfiguration = { ...base, ...structuredClone(update) };
    if ((merged.maximumPercent ?? 200) < (merged.minimumHealthyPercent ?? 100)) {
      throw invalidParameter('maximumPercent must be greater than or equal to minimumHealthyPercent.');
    }
    return checkDeploymentStrategy(merged, controller);
  }

  private updateService(input: Record<string, unknown>): { service: Service } {
    const svc = this.requireActiveService(input);
    const codeDeploy = svc.deploymentController.type === 'CODE_DEPLOY';
    const tdRef = optionalString(input, 'taskDefinition', 'InvalidParameterException');
    const current = this.currentTaskDefinition(svc);
    const td = tdRef ? this.findTaskDefinition(tdRef) : undefined;
    const tdChanged = tdRef !== undefined && td?.taskDefinition.taskDefinitionArn !== current;
    const networkConfiguration = input.networkConfiguration as NetworkConfiguration | undefined;
    const networkChanged =
      networkConfiguration !== undefined &&
      JSON.stringify(networkConfiguration) !== JSON.stringify(svc.networkConfiguration);
    const platformVersion = optionalString(input, 'platformVersion', 'InvalidParameterException');
    const platformChanged = platformVersion !== undefined && platformVersion !== svc.platformVersion;
    const force = input.forceNewDeployment === true;

    if (codeDeploy) {
      if (tdChanged) {
        throw invalidParameter(
          'Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.',
        );
      }
      if (networkChanged || platformChanged) {
        throw invalidParameter(
          'Unable to update network parameters on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.',
        );
      }
      if (force) {
        throw invalidParameter(
          'Unable to force a new deployment on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.',
        );
      }
    }
    const newTd = tdChanged ? this.usableTaskDefinition(tdRef as string) : undefined;
    if (newTd || networkChanged) {
      this.checkLaunchCompatibility(
        newTd ?? (this.findTaskDefinition(current ?? '') as TaskDefinitionRecord),
        svc.launchType,
        networkConfiguration ?? svc.networkConfiguration,
      );
    }
    const desiredCount = optionalNumber(input, 'desiredCount', 'InvalidParameterException');
    if (desiredCount !== undefined && (!Number.isInteger(desiredCount) || desiredCount < 0)) {
      throw invalidParameter('desiredCount must be a non-negative integer.');
    }
    const deploymentConfiguration = this.deploymentConfiguration(
      input.deploymentConfiguration,
      svc.deploymentController.type ?? 'ECS',
      svc.deploymentConfiguration,
    );
    const loadBalancers =
      input.loadBalancers !== undefined
        ? this.loadBalancers(input.loadBalancers, newTd ?? this.findTaskDefinition(current ?? ''))
        : undefined;
    checkNativeLoadBalancers(deploymentConfiguration.strategy, loadBalancers ?? svc.loadBalancers);

    if (desiredCount !== undefined) svc.desiredCount = desiredCount;
    svc.deploymentConfiguration = deploymentConfiguration;
    if (networkConfiguration) svc.networkConfiguration = networkConfiguration;
    if (platformVersion !== undefined) svc.platformVersion = platformVersion;
    if (loadBalancers) svc.loadBalancers = loadBalancers;
    const healthCheck = optionalNumber(input, 'healthCheckGracePeriodSeconds', 'InvalidParameterException');
    if (healthCheck !== undefined) svc.healthCheckGracePeriodSeconds = healthCheck;
    if (typeof input.enableExecuteCommand === 'boolean')
      svc.enableExecuteCommand = input.enableExecuteCommand;
    if (typeof input.enableECSManagedTags === 'boolean')
      svc.enableECSManagedTags = input.enableECSManagedTags;
    if (typeof input.propagateTags === 'string')
      svc.propagateTags = input.propagateTags as ServiceRecord['propagateTags'];
    if (Array.isArray(input.placementConstraints))
      svc.placementConstraints = input.placementConstraints as ServiceRecord['placementConstraints'];
    if (Array.isArray(input.placementStrategy))
      svc.placementStrategy = input.placementStrategy as ServiceRecord['placementStrategy'];

    if (!codeDeploy && (newTd || force || networkChanged || platformChanged)) {
      const blue = svc.deployments[0];
      const green = this.startDeployment(
        svc,
        (newTd?.taskDefinition.taskDefinitionArn as string | undefined) ?? (current as string),
      );
      if (this.native && isNativeStrategy(svc.deploymentConfiguration.strategy))
        this.native.begin(svc, green, blue);
    }
    this.reconcile(svc);
    return { service: this.projectService(svc) };
  }

  /** The task definition the service runs: its PRIMARY deployment's or PRIMARY task set's. */
  currentTaskDefinition(svc: ServiceRecord): string | undefined {
    if (svc.deploymentController.type === 'ECS') return svc.deployments[0]?.taskDefinition;
    return svc.taskSets.find((t) => t.status === 'PRIMARY')?.taskDefinition;
  }

  private deleteService(input: Record<string, unknown>): { service: Service } {
    const cluster = this.clusterName(input);
    const ref = optionalString(input, 'service', 'InvalidParameterException');
    if (!ref) throw invalidParameter('service is required.');
    const svc = this.findService(cluster, ref);
    if (!svc) throw new AwsError('ServiceNotFoundException', 'Service not found.');
    if (svc.status !== 'ACTIVE') throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
    if (svc.desiredCount > 0 && input.force !== true) {
      throw invalidParameter('The service cannot be stopped while it is scaled above 0.');
    }
    this.native?.serviceDeleted(svc);
    svc.status = 'DRAINING';
    svc.desiredCount = 0;
    this.reconcile(svc);
    return { service: this.projectService(svc) };
  }

  private describeServices(input: Record<string, unknown>): { services: Service[]; failures: Failure[] } {
    const cluster = this.clusterName(input);
    const refs = optionalStringList(input, 'services', 'InvalidParameterException');
    if (!refs || refs.length === 0) throw invalidParameter('services is required.');
    if (refs.length > 10) throw invalidParameter('You can specify a maximum of 10 services.');
    const include = optionalStringList(input, 'include', 'InvalidParameterException') ?? [];
    const services: Service[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const svc = this.findService(cluster, ref);
      if (svc) services.push(this.projectService(svc, include.includes('TAGS')));
      else
        failures.push({
          arn: ref.startsWith('arn:') ? ref : this.serviceArn(cluster, ref),
          reason: 'MISSING',
        });
    }
    return { services, failures };
  }

  private listServices(input: Record<string, unknown>): { serviceArns: string[]; nextToken?: string } {
    const cluster = this.clusterName(input);
    const launchType = optionalString(input, 'launchType', 'InvalidParameterException');
    const arns = this.state.services
      .filter((s) => s.clusterName === cluster && s.status !== 'INACTIVE')
      .filter((s) => launchType === undefined || s.launchType === launchType)
      .map((s) => s.serviceArn);
    return this.page(arns, input, (serviceArns, nextToken) => ({ serviceArns, nextToken }), 10);
  }

  projectService(svc: ServiceRecord, withTags = false): Service {
    const tasks = this.liveTasks(svc);
    const ecs = svc.deploymentController.type === 'ECS';
    return structuredClone({
      serviceArn: svc.serviceArn,
      serviceName: svc.serviceName,
      clusterArn: this.clusterArn(svc.clusterName),
      loadBalancers: svc.loadBalancers,
      serviceRegistries: svc.serviceRegistries,
      status: svc.status,
      desiredCount: svc.desiredCount,
      runningCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
      pendingCount: tasks.filter((t) => t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING').length,
      launchType: svc.launchType,
      capacityProviderStrategy: svc.capacityProviderStrategy,
      platformVersion: svc.platformVersion,
      platformFamily: svc.launchType === 'FARGATE' ? 'Linux' : undefined,
      taskDefinition: this.currentTaskDefinition(svc),
      deploymentConfiguration: svc.deploymentConfiguration,
      ...(ecs ? {} : { taskSets: svc.taskSets.map((ts) => this.projectTaskSet(svc, ts)) }),
      deployments: ecs ? svc.deployments.map((d) => this.projectDeployment(svc, d)) : [],
      roleArn: svc.roleArn,
      events: svc.events,
      createdAt: svc.createdAt,
      placementConstraints: svc.placementConstraints,
      placementStrategy: svc.placementStrategy,
      networkConfiguration: svc.networkConfiguration,
      healthCheckGracePeriodSeconds: svc.healthCheckGracePeriodSeconds,
      schedulingStrategy: svc.schedulingStrategy,
      deploymentController: svc.deploymentController,
      ...(ecs && this.native ? this.native.serviceFields(svc) : {}),
      ...(withTags ? { tags: svc.tags } : {}),
      createdBy: svc.createdBy,
      enableECSManagedTags: svc.enableECSManagedTags,
      propagateTags: svc.propagateTags,
      enableExecuteCommand: svc.enableExecuteCommand,
      availabilityZoneRebalancing: 'DISABLED',
    } satisfies Service);
  }

  private projectDeployment(svc: ServiceRecord, d: EcsDeploymentRecord): Deployment {
    const own = this.liveTasks(svc).filter((t) => t.ownerId === d.id);
    return {
      id: d.id,
      status: d.status,
      taskDefinition: d.taskDefinition,
      desiredCount:
        d.status === 'PRIMARY' ? svc.desiredCount : own.filter((t) => t.desiredStatus === 'RUNNING').length,
      pendingCount: own.filter((t) => t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING').length,
      runningCount: own.filter((t) => t.lastStatus === 'RUNNING').length,
      failedTasks: d.failedTasks,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
      launchType: d.launchType,
      capacityProviderStrategy: d.capacityProviderStrategy,
      platformVersion: d.platformVersion,
      platformFamily: d.launchType === 'FARGATE' ? 'Linux' : undefined,
      networkConfiguration: d.networkConfiguration,
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason,
    };
  }

  projectTaskSet(svc: ServiceRecord, ts: TaskSetRecord): TaskSet {
    const own = this.liveTasks(svc).filter((t) => t.ownerId === ts.id);
    return {
      id: ts.id,
      taskSetArn: ts.taskSetArn,
      serviceArn: svc.serviceArn,
      clusterArn: this.clusterArn(svc.clusterName),
      startedBy: ts.startedBy,
      externalId: ts.externalId,
      status: ts.status,
      taskDefinition: ts.taskDefinition,
      computedDesiredCount: this.taskSetDesiredCount(svc, ts),
      pendingCount: own.filter((t) => t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING').length,
      runningCount: own.filter((t) => t.lastStatus === 'RUNNING').length,
      createdAt: ts.createdAt,
      updatedAt: ts.updatedAt,
      launchType: ts.launchType,
      platformVersion: ts.platformVersion,
      platformFamily: ts.launchType === 'FARGATE' ? 'Linux' : undefined,
      networkConfiguration: ts.networkConfiguration,
      loadBalancers: ts.loadBalancers,
      serviceRegistries: [],
      scale: ts.scale,
      stabilityStatus: ts.stabilityStatus,
      stabilityStatusAt: ts.stabilityStatusAt,
      tags: [],
    };
  }

  // ------------------------------------------------------------------ deployments and task sets

  startDeployment(svc: ServiceRecord, taskDefinition: string): EcsDeploymentRecord {
    const now = this.now();
    const id = this.ctx.ids.ecsDeploymentId();
    for (const d of svc.deployments) {
      if (d.status === 'PRIMARY') {
        d.status = 'ACTIVE';
        d.updatedAt = now;
      }
    }
    const deployment: EcsDeploymentRecord = {
      id,
      status: 'PRIMARY',
      taskDefinition,
      failedTasks: 0,
      createdAt: now,
      updatedAt: now,
      launchType: svc.launchType,
      capacityProviderStrategy: svc.capacityProviderStrategy,
      platformVersion: svc.platformVersion,
      networkConfiguration: svc.networkConfiguration,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: `ECS deployment ${id} in progress.`,
    };
    svc.deployments.unshift(deployment);
    svc.steady = false;
    return deployment;
  }

  /** CodeDeploy's CreateTaskSet: a task set scaled to the service's desired count. */
  createTaskSet(
    svc: ServiceRecord,
    taskDefinition: string,
    opts: {
      status?: 'PRIMARY' | 'ACTIVE';
      externalId?: string;
      startedBy?: string;
      networkConfiguration?: NetworkConfiguration;
      platformVersion?: string;
      loadBalancers?: LoadBalancer[];
    },
  ): TaskSetRecord {
    const now = this.now();
    const id = this.ctx.ids.ecsDeploymentId();
    const ts: TaskSetRecord = {
      id,
      taskSetArn: this.arn(`task-set/${svc.clusterName}/${svc.serviceName}/${id}`),
      status: opts.status ?? 'ACTIVE',
      taskDefinition,
      scale: { value: 100, unit: 'PERCENT' },
      createdAt: now,
      updatedAt: now,
      stabilityStatus: 'STABILIZING',
      stabilityStatusAt: now,
      externalId: opts.externalId,
      startedBy: opts.startedBy,
      launchType: svc.launchType,
      platformVersion: opts.platformVersion ?? svc.platformVersion,
      networkConfiguration: opts.networkConfiguration ?? svc.networkConfiguration,
      loadBalancers: opts.loadBalancers ?? svc.loadBalancers,
    };
    svc.taskSets.push(ts);
    svc.steady = false;
    this.reconcile(svc);
    return ts;
  }

  /** DeleteTaskSet: the task set drains its tasks and disappears once they stopped. */
  deleteTaskSet(svc: ServiceRecord, id: string): void {
    const ts = svc.taskSets.find((t) => t.id === id);
    if (!ts || ts.status === 'DRAINING') return;
    ts.status = 'DRAINING';
    ts.updatedAt = this.now();
    svc.steady = false;
    this.reconcile(svc);
  }

  /** UpdateServicePrimaryTaskSet: the service now reports that task set's task definition and target groups. */
  setPrimaryTaskSet(svc: ServiceRecord, id: string): void {
    const now = this.now();
    for (const ts of svc.taskSets) {
      if (ts.id === id && ts.status !== 'PRIMARY') {
        ts.status = 'PRIMARY';
        ts.updatedAt = now;
        svc.loadBalancers = structuredClone(ts.loadBalancers);
      } else if (ts.id !== id && ts.status === 'PRIMARY') {
        ts.status = 'ACTIVE';
        ts.updatedAt = now;
      }
    }
  }

  taskSetDesiredCount(svc: ServiceRecord, ts: TaskSetRecord): number {
    if (ts.status === 'DRAINING') return 0;
    return Math.ceil((svc.desiredCount * (ts.scale.value ?? 100)) / 100);
  }

  /** The tasks of a service that have not stopped yet. */
  liveTasks(svc: ServiceRecord): TaskRecord[] {
    const owners = new Set([...svc.deployments.map((d) => d.id), ...svc.taskSets.map((ts) => ts.id)]);
    return this.state.tasks.filter((t) => t.lastStatus !== 'STOPPED' && owners.has(t.ownerId));
  }

  /**
   * Launches or stops tasks of one deployment until `count` are meant to run (ECS-native
   * deployments keep two revisions running side by side). Tasks that never started go first.
   */
  scaleDeployment(svc: ServiceRecord, deployment: EcsDeploymentRecord, count: number, reason: string): void {
    const live = this.liveTasks(svc).filter(
      (t) => t.ownerId === deployment.id && t.desiredStatus === 'RUNNING',
    );
    if (live.length > count) {
      const ordered = [
        ...live.filter((t) => t.lastStatus !== 'RUNNING'),
        ...live.filter((t) => t.lastStatus === 'RUNNING'),
      ];
      this.stopTasks(svc, ordered.slice(0, live.length - count), reason);
    } else if (live.length < count) {
      this.launchTasks(svc, deployment.id, deployment.taskDefinition, count - live.length, deployment.id);
    }
  }

  /**
   * Deployment and task set ids are unique, and a service keeps each one until its last task
   * has stopped, so a task's owner id identifies its service.
   */
  private serviceOf(task: TaskRecord): ServiceRecord | undefined {
    return this.state.services.find(
      (s) =>
        s.deployments.some((d) => d.id === task.ownerId) || s.taskSets.some((ts) => ts.id === task.ownerId),
    );
  }

  // ------------------------------------------------------------------ the service scheduler

  /** Brings a service's tasks toward what its deployments or task sets want. Idempotent. */
  reconcile(svc: ServiceRecord): void {
    if (svc.status === 'INACTIVE') return;
    const tasks = this.liveTasks(svc);
    if (svc.status === 'DRAINING') {
      this.stopTasks(
        svc,
        tasks.filter((t) => t.desiredStatus === 'RUNNING'),
        'Service deleted.',
      );
      if (tasks.length === 0 && !svc.retiring) {
        svc.retiring = true;
        this.ctx.scheduler.after(this.ctx.timings.serviceDrain, () => {
          svc.status = 'INACTIVE';
          svc.deployments = [];
          svc.taskSets = [];
        });
      }
      return;
    }
    if (svc.deploymentController.type !== 'ECS') this.reconcileTaskSets(svc, tasks);
    else if (!this.native?.reconcile(svc)) this.reconcileDeployments(svc, tasks);
    this.noteSteadyState(svc);
  }

  private reconcileDeployments(svc: ServiceRecord, tasks: TaskRecord[]): void {
    const primary = svc.deployments[0];
    if (!primary) return;
    const desired = svc.desiredCount;
    const maximumPercent = svc.deploymentConfiguration.maximumPercent ?? 200;
    const minimumHealthyPercent = svc.deploymentConfiguration.minimumHealthyPercent ?? 100;
    const maxTasks = Math.floor((desired * maximumPercent) / 100);
    const minHealthy = Math.ceil((desired * minimumHealthyPercent) / 100);
    const isRunning = (t: TaskRecord) => t.lastStatus === 'RUNNING';
    const live = tasks.filter((t) => t.desiredStatus === 'RUNNING');
    const primaryLive = live.filter((t) => t.ownerId === primary.id);
    const oldLive = live.filter((t) => t.ownerId !== primary.id);

    // Old tasks that never started serve nobody; running ones go as far as minimum healthy allows.
    const toStop = oldLive.filter((t) => !isRunning(t));
    let healthy = live.filter(isRunning).length;
    for (const t of oldLive.filter(isRunning)) {
      if (healthy - 1 < minHealthy) break;
      toStop.push(t);
      healthy -= 1;
    }
    const surplus = primaryLive.length - desired;
    if (surplus > 0) {
      toStop.push(
        ...[...primaryLive.filter((t) => !isRunning(t)), ...primaryLive.filter(isRunning)].slice(0, surplus),
      );
    }
    this.stopTasks(svc, toStop, `Scaling activity initiated by (deployment ${primary.id})`);

    // A deployment whose circuit breaker tripped launches nothing more.
    if (primary.rolloutState !== 'FAILED') {
      const occupying = tasks.length;
      const room = Math.min(
        desired - Math.min(primaryLive.length, desired),
        Math.max(0, maxTasks - occupying),
      );
      if (room > 0) this.launchTasks(svc, primary.id, primary.taskDefinition, room, primary.id);
    }

    const remaining = this.liveTasks(svc);
    const primaryTasks = remaining.filter((t) => t.ownerId === primary.id);
    if (
      primary.rolloutState === 'IN_PROGRESS' &&
      primaryTasks.length === desired &&
      primaryTasks.every((t) => isRunning(t) && t.desiredStatus === 'RUNNING') &&
      remaining.every((t) => t.ownerId === primary.id)
    ) {
      this.completeDeployment(svc, primary);
    }
  }

  /** The deployment is COMPLETED and the only one left; `completeDeployment` is also how a native deployment ends. */
  completeDeployment(svc: ServiceRecord, primary: EcsDeploymentRecord): void {
    primary.rolloutState = 'COMPLETED';
    primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`;
    primary.updatedAt = this.now();
    svc.deployments = [primary];
    svc.lastCompleted = { id: primary.id, taskDefinition: primary.taskDefinition };
    this.provenTaskDefinitions.add(primary.taskDefinition);
    this.event(svc, `(service ${svc.serviceName}) (deployment ${primary.id}) deployment completed.`);
  }

  private reconcileTaskSets(svc: ServiceRecord, tasks: TaskRecord[]): void {
    const now = this.now();
    for (const ts of [...svc.taskSets]) {
      const own = tasks.filter((t) => t.ownerId === ts.id);
      const live = own.filter((t) => t.desiredStatus === 'RUNNING');
      const reason = `Scaling activity initiated by (taskSet ${ts.id})`;
      if (ts.status === 'DRAINING') {
        this.stopTasks(svc, live, reason, ts.id);
        if (own.length === 0) svc.taskSets = svc.taskSets.filter((t) => t !== ts);
        continue;
      }
      const target = this.taskSetDesiredCount(svc, ts);
      if (live.length > target) {
        const ordered = [
          ...live.filter((t) => t.lastStatus !== 'RUNNING'),
          ...live.filter((t) => t.lastStatus === 'RUNNING'),
        ];
        this.stopTasks(svc, ordered.slice(0, live.length - target), reason, ts.id);
      } else if (live.length < target) {
        this.launchTasks(svc, ts.id, ts.taskDefinition, target - live.length, ts.id, ts.id);
      }
      const current = this.liveTasks(svc).filter((t) => t.ownerId === ts.id);
      const stable =
        current.length === target &&
        current.every((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING');
      const status = stable ? 'STEADY_STATE' : 'STABILIZING';
      if (ts.stabilityStatus !== status) {
        ts.stabilityStatus = status;
        ts.stabilityStatusAt = now;
        ts.updatedAt = now;
      }
      if (stable && ts.status === 'PRIMARY') this.provenTaskDefinitions.add(ts.taskDefinition);
    }
  }

  private noteSteadyState(svc: ServiceRecord): void {
    const tasks = this.liveTasks(svc);
    const running = tasks.filter((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING').length;
    const steady =
      running === svc.desiredCount &&
      tasks.length === running &&
      (svc.deploymentController.type === 'ECS'
        ? svc.deployments.length === 1 && svc.deployments[0]?.rolloutState === 'COMPLETED'
        : svc.taskSets.length === 1 && svc.taskSets[0]?.stabilityStatus === 'STEADY_STATE');
    if (steady && !svc.steady) this.event(svc, `(service ${svc.serviceName}) has reached a steady state.`);
    svc.steady = steady;
  }

  event(svc: ServiceRecord, message: string): void {
    svc.events.unshift({ id: this.ctx.ids.uuid(), createdAt: this.now(), message });
    if (svc.events.length > MAX_SERVICE_EVENTS) svc.events.length = MAX_SERVICE_EVENTS;
  }

  private serviceLabel(svc: ServiceRecord, taskSetId?: string): string {
    return taskSetId ? `(service ${svc.serviceName}, taskSet ${taskSetId})` : `(service ${svc.serviceName})`;
  }

  // ------------------------------------------------------------------ tasks

  private launchTasks(
    svc: ServiceRecord,
    ownerId: string,
    taskDefinitionArn: string,
    count: number,
    startedBy: string,
    taskSetId?: string,
  ): void {
    const td = this.findTaskDefinition(taskDefinitionArn)?.taskDefinition;
    if (!td) return;
    const launched: TaskRecord[] = [];
    for (let i = 0; i < count; i++) launched.push(this.launchTask(svc, ownerId, td, startedBy));
    this.event(
      svc,
      `${this.serviceLabel(svc, taskSetId)} has started ${launched.length} tasks: ${launched.map((t) => `(task ${t.taskId})`).join(' ')}.`,
    );
  }

  /**
   * What every new task of `td` starts with, a service's or a one-off: its containers PENDING,
   * and why it will crash (a family-wide crash fault spares revisions that have run successfully).
   */
  private launch(
    td: TaskDefinition,
    cluster: string,
    taskId: string,
  ): Pick<TaskRecord, 'containers' | 'crashReason'> {
    return {
      containers: (td.containerDefinitions ?? []).map((c) => ({
        containerArn: this.arn(`container/${cluster}/${taskId}/${this.ctx.ids.uuid()}`),
        name: c.name as string,
        image: c.image as string,
        lastStatus: 'PENDING',
      })),
      crashReason: this.ctx.faults.crashReason(
        td.family as string,
        td.revision as number,
        this.provenTaskDefinitions.has(td.taskDefinitionArn as string),
      ),
    };
  }
  private launchTask(svc: ServiceRecord, ownerId: string, td: TaskDefinition, startedBy: string): TaskRecord {
    const now = this.now();
    const taskId = this.ctx.ids.taskId();
    const taskArn = this.arn(`task/${svc.clusterName}/${taskId}`);
    const task: TaskRecord = {
      taskArn,
      taskId,
      clusterName: svc.clusterName,
      serviceName: svc.serviceName,
      ownerId,
      group: `service:${svc.serviceName}`,
      startedBy,
      taskDefinitionArn: td.taskDefinitionArn as string,
      family: td.family as string,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      createdAt: now,
      launchType: svc.launchType,
      platformVersion: svc.launchType === 'FARGATE' ? '1.4.0' : undefined,
      cpu: td.cpu,
      memory: td.memory,
      ...this.launch(td, svc.clusterName, taskId),
      version: 1,
      tags: svc.propagateTags === 'SERVICE' ? svc.tags : [],
    };
    this.state.tasks.push(task);
    const { taskProvisioning, taskStart } = this.ctx.timings;
    this.ctx.scheduler.after(Math.min(taskProvisioning, taskStart), () => {
      if (task.desiredStatus !== 'RUNNING' || task.lastStatus !== 'PROVISIONING') return;
      task.lastStatus = 'PENDING';
      task.pullStartedAt = this.now();
      task.version += 1;
    });
    // An injected crash needs no container: the fault decides the outcome, on the emulated clock.
    if (this.runtime && task.crashReason === undefined) {
      this.runtime.start(task, td);
      return task;
    }
    this.ctx.scheduler.after(taskStart, () => {
      if (task.desiredStatus !== 'RUNNING' || task.lastStatus === 'RUNNING') return;
      if (task.crashReason !== undefined) this.crashTask(task);
      else this.startTask(task);
    });
    return task;
  }

  /**
   * For seeding a world that already runs: the service's pending tasks start now, healthy,
   * and its first deployment completes. Tasks in a runtime start when their containers answer.
   */
  startPendingTasksNow(svc: ServiceRecord): void {
    if (this.runtime) return;
    for (const task of this.liveTasks(svc)) {
      if (task.lastStatus === 'RUNNING' || task.desiredStatus !== 'RUNNING') continue;
      task.crashReason = undefined;
      this.startTask(task);
    }
  }

  private startTask(task: TaskRecord): void {
    const now = this.now();
    task.lastStatus = 'RUNNING';
    task.pullStartedAt ??= now;
    task.pullStoppedAt = now;
    task.startedAt = now;
    task.version += 1;
    for (const c of task.containers) {
      c.lastStatus = 'RUNNING';
      c.runtimeId ??= `${task.taskId}-${this.ctx.ids.hex(10)}`;
    }
    this.taskChanged(task);
  }

  /** The essential container exits before the task reaches RUNNING. */
  private crashTask(task: TaskRecord): void {
    this.failLaunch(task, 'EssentialContainerExited', task.crashReason as string, () => 1);
  }

  /** The task stops before reaching RUNNING; it counts as a failed launch of its deployment. */
  private failLaunch(
    task: TaskRecord,
    stopCode: RuntimeTaskExit['stopCode'],
    reason: string,
    exitCode: (container: string) => number | undefined,
  ): void {
    const now = this.now();
    task.pullStartedAt ??= now;
    task.pullStoppedAt = now;
    this.stopAtOnce(task, stopCode, reason, exitCode);
    const svc = this.serviceOf(task);
    if (svc) this.recordFailedTask(svc, task);
  }

  /** The task's essential container is gone: the task is STOPPED now, with nothing to drain. */
  private stopAtOnce(
    task: TaskRecord,
    stopCode: RuntimeTaskExit['stopCode'],
    reason: string,
    exitCode: (container: string) => number | undefined,
  ): void {
    const now = this.now();
    task.lastStatus = 'STOPPED';
    task.desiredStatus = 'STOPPED';
    task.stoppingAt = now;
    task.stoppedAt = now;
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.version += 1;
    for (const c of task.containers) {
      c.lastStatus = 'STOPPED';
      c.exitCode = exitCode(c.name);
    }
    this.taskChanged(task);
  }

  private runtimeTask(taskArn: string): TaskRecord | undefined {
    return this.state.tasks.find((t) => t.taskArn === taskArn);
  }

  /** The runtime's containers for the task answer their health check: the task is RUNNING now. */
  runtimeTaskHealthy(taskArn: string, runtimeIds: Record<string, string>): void {
    const task = this.runtimeTask(taskArn);
    if (!task || task.desiredStatus !== 'RUNNING' || task.lastStatus === 'RUNNING') return;
    for (const c of task.containers) c.runtimeId = runtimeIds[c.name] ?? c.runtimeId;
    this.startTask(task);
  }

  /**
   * An essential container of the runtime's task exited, or never started. Before RUNNING that is
   * a failed launch (circuit breaker, CodeDeploy Install); after, the task stops and the service
   * scheduler replaces it. A task already asked to stop stops on its own schedule.
   */
  runtimeTaskStopped(taskArn: string, exit: RuntimeTaskExit): void {
    const task = this.runtimeTask(taskArn);
    if (!task || task.desiredStatus !== 'RUNNING') return;
    const exitCode = (name: string) => exit.exitCodes?.[name];
    if (task.lastStatus === 'RUNNING') this.stopAtOnce(task, exit.stopCode, exit.stoppedReason, exitCode);
    else this.failLaunch(task, exit.stopCode, exit.stoppedReason, exitCode);
  }

  private recordFailedTask(svc: ServiceRecord, task: TaskRecord): void {
    const deployment = svc.deployments.find((d) => d.id === task.ownerId);
    if (!deployment) return;
    deployment.failedTasks += 1;
    deployment.updatedAt = this.now();
    if (this.native?.taskFailed(svc, deployment)) return;
    if (deployment !== svc.deployments[0] || deployment.rolloutState !== 'IN_PROGRESS') return;
    const breaker = svc.deploymentConfiguration.deploymentCircuitBreaker;
    const threshold = circuitBreakerThreshold(svc.desiredCount);
    if (breaker?.enable && deployment.failedTasks >= threshold) {
      this.tripCircuitBreaker(svc, deployment, breaker.rollback === true);
    } else if (!breaker?.enable && deployment.failedTasks === threshold) {
      this.event(
        svc,
        `(service ${svc.serviceName}) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.`,
      );
    }
  }

  private tripCircuitBreaker(svc: ServiceRecord, failed: EcsDeploymentRecord, rollback: boolean): void {
    failed.rolloutState = 'FAILED';
    failed.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
    failed.updatedAt = this.now();
    this.event(
      svc,
      `(service ${svc.serviceName}) (deployment ${failed.id}) deployment failed: tasks failed to start.`,
    );
    const target = svc.lastCompleted;
    // Rolling back onto the task definition that just failed (a failed rollback) would loop.
    if (!rollback || !target || target.taskDefinition === failed.taskDefinition) return;
    this.startDeployment(svc, target.taskDefinition);
    this.event(svc, `(service ${svc.serviceName}) rolling back to deployment ${target.id}.`);
  }

  /** A task set registers its tasks in its own target groups (CodeDeploy's replacement uses the pair's other one). */
  private loadBalancersOf(svc: ServiceRecord, taskSetId: string | undefined): LoadBalancer[] {
    return svc.taskSets.find((ts) => ts.id === taskSetId)?.loadBalancers ?? svc.loadBalancers;
  }

  private stopTasks(svc: ServiceRecord, tasks: TaskRecord[], reason: string, taskSetId?: string): void {
    const running = tasks.filter((t) => t.lastStatus === 'RUNNING');
    for (const t of tasks) this.stopTask(t, reason);
    if (running.length === 0) return;
    const ids = running.map((t) => `(task ${t.taskId})`).join(' ');
    this.event(
      svc,
      `${this.serviceLabel(svc, taskSetId)} has stopped ${running.length} running tasks: ${ids}.`,
    );
    for (const lb of this.loadBalancersOf(svc, taskSetId)) {
      if (!lb.targetGroupArn) continue;
      this.event(
        svc,
        `(service ${svc.serviceName}) has begun draining connections on ${running.length} tasks.`,
      );
      this.event(
        svc,
        `(service ${svc.serviceName}) deregistered ${running.length} targets in (target-group ${lb.targetGroupArn})`,
      );
    }
  }

  /**
   * How long a RUNNING task takes to stop: a service task behind a load balancer drains for its
   * target groups' deregistration delay (the longest; ELB's attribute, as in AWS), any other
   * task (or one whose group ELB does not have) for `timings.taskStop`.
   */
  private stopDelay(task: TaskRecord): number {
    const svc = this.serviceOf(task);
    if (!svc) return this.ctx.timings.taskStop;
    const taskSetId = svc.taskSets.some((ts) => ts.id === task.ownerId) ? task.ownerId : undefined;
    const delays = this.loadBalancersOf(svc, taskSetId).flatMap((lb) => {
      const delay = lb.targetGroupArn ? this.deregistrationDelayMs(lb.targetGroupArn) : undefined;
      return delay === undefined ? [] : [delay];
    });
    return delays.length > 0 ? Math.max(...delays) : this.ctx.timings.taskStop;
  }

  private stopTask(task: TaskRecord, reason: string): void {
    if (task.desiredStatus === 'STOPPED') return;
    const wasRunning = task.lastStatus === 'RUNNING';
    task.desiredStatus = 'STOPPED';
    task.lastStatus = 'STOPPING';
    task.stoppingAt = this.now();
    task.stopCode = 'ServiceSchedulerInitiated';
    task.stoppedReason = reason;
    task.version += 1;
    this.runtime?.stop(task);
    this.ctx.scheduler.after(wasRunning ? this.stopDelay(task) : 0, () => {
      const now = this.now();
      task.lastStatus = 'STOPPED';
      task.stoppedAt = now;
      task.version += 1;
      for (const c of task.containers) {
        if (c.lastStatus === 'RUNNING') c.exitCode = 0;
        c.lastStatus = 'STOPPED';
      }
      this.taskChanged(task);
    });
  }

  /**
   * The service scheduler reacts once to everything that happened to a service's tasks at this
   * emulated instant, so simultaneous transitions read as one, the way ECS batches them
   * ("has started 2 tasks", "registered 2 targets").
   */
  private taskChanged(task: TaskRecord): void {
    const svc = this.serviceOf(task);
    if (!svc) return;
    const pending = this.pendingChanges.get(svc);
    if (pending) {
      pending.push(task);
      return;
    }
    this.pendingChanges.set(svc, [task]);
    this.ctx.scheduler.after(0, () => {
      const changed = this.pendingChanges.get(svc) ?? [];
      this.pendingChanges.delete(svc);
      const startedByOwner = new Map<string, number>();
      for (const t of changed) {
        if (t.lastStatus === 'RUNNING')
          startedByOwner.set(t.ownerId, (startedByOwner.get(t.ownerId) ?? 0) + 1);
      }
      for (const [owner, started] of startedByOwner) {
        const taskSetId = svc.taskSets.some((ts) => ts.id === owner) ? owner : undefined;
        for (const lb of this.loadBalancersOf(svc, taskSetId)) {
          if (!lb.targetGroupArn) continue;
          this.event(
            svc,
            `(service ${svc.serviceName}) registered ${started} targets in (target-group ${lb.targetGroupArn})`,
          );
        }
      }
      this.reconcile(svc);
      for (const listener of this.listeners) listener(svc, changed);
    });
  }

  /** Stopped tasks stay visible for an hour, as in ECS. */
  private pruneStoppedTasks(): void {
    const horizon = this.ctx.scheduler.now() - STOPPED_TASK_RETENTION_MS;
    this.state.tasks = this.state.tasks.filter(
      (t) => t.lastStatus !== 'STOPPED' || (t.stoppedAt?.getTime() ?? 0) > horizon,
    );
  }

  private listTasks(input: Record<string, unknown>): { taskArns: string[]; nextToken?: string } {
    const cluster = this.clusterName(input);
    this.pruneStoppedTasks();
    const serviceName = optionalString(input, 'serviceName', 'InvalidParameterException');
    if (serviceName !== undefined && !this.findService(cluster, serviceName)) {
      throw new AwsError('ServiceNotFoundException', 'Service not found.');
    }
    const desiredStatus = optionalString(input, 'desiredStatus', 'InvalidParameterException') ?? 'RUNNING';
    if (!['RUNNING', 'PENDING', 'STOPPED'].includes(desiredStatus)) {
      throw invalidParameter(
        `Invalid desiredStatus '${desiredStatus}'. Valid values: RUNNING, PENDING, STOPPED.`,
      );
    }
    const family = optionalString(input, 'family', 'InvalidParameterException');
    const startedBy = optionalString(input, 'startedBy', 'InvalidParameterException');
    const launchType = optionalString(input, 'launchType', 'InvalidParameterException');
    const name = serviceName === undefined ? undefined : this.lastSegment(serviceName);
    const arns = this.state.tasks
      .filter((t) => t.clusterName === cluster)
      .filter((t) => name === undefined || t.serviceName === name)
      .filter((t) =>
        desiredStatus === 'PENDING'
          ? t.desiredStatus === 'RUNNING' && t.lastStatus !== 'RUNNING'
          : t.desiredStatus === desiredStatus,
      )
      .filter((t) => family === undefined || t.family === family)
      .filter((t) => startedBy === undefined || t.startedBy === startedBy)
      .filter((t) => launchType === undefined || t.launchType === launchType)
      .map((t) => t.taskArn);
    return this.page(arns, input, (taskArns, nextToken) => ({ taskArns, nextToken }));
  }

  private describeTasks(input: Record<string, unknown>): { tasks: Task[]; failures: Failure[] } {
    const cluster = this.clusterName(input);
    this.pruneStoppedTasks();
    const refs = optionalStringList(input, 'tasks', 'InvalidParameterException');
    if (!refs || refs.length === 0) throw invalidParameter('Tasks cannot be empty.');
    if (refs.length > 100) throw invalidParameter('You can specify a maximum of 100 tasks.');
    const include = optionalStringList(input, 'include', 'InvalidParameterException') ?? [];
    const tasks: Task[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const id = this.lastSegment(ref);
      const task = this.state.tasks.find((t) => t.clusterName === cluster && t.taskId === id);
      if (task) tasks.push(this.projectTask(task, include.includes('TAGS')));
      else
        failures.push({
          arn: ref.startsWith('arn:') ? ref : this.arn(`task/${cluster}/${id}`),
          reason: 'MISSING',
        });
    }
    return { tasks, failures };
  }

  private projectTask(task: TaskRecord, withTags: boolean): Task {
    return structuredClone({
      attachments: [],
      attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
      availabilityZone: `${this.ctx.region}a`,
      clusterArn: this.clusterArn(task.clusterName),
      connectivity: task.lastStatus === 'RUNNING' ? 'CONNECTED' : undefined,
      connectivityAt: task.startedAt,
      containers: task.containers.map((c) => ({
        containerArn: c.containerArn,
        taskArn: task.taskArn,
        name: c.name,
        image: c.image,
        runtimeId: c.runtimeId,
        lastStatus: c.lastStatus,
        exitCode: c.exitCode,
        networkBindings: [],
        networkInterfaces: [],
        healthStatus: 'UNKNOWN',
      })),
      cpu: task.cpu,
      createdAt: task.createdAt,
      desiredStatus: task.desiredStatus,
      enableExecuteCommand: false,
      executionStoppedAt: task.stoppedAt,
      group: task.group,
      healthStatus: 'UNKNOWN',
      lastStatus: task.lastStatus,
      launchType: task.launchType,
      memory: task.memory,
      overrides: task.overrides ?? {
        containerOverrides: task.containers.map((c) => ({ name: c.name })),
        inferenceAcceleratorOverrides: [],
      },
      capacityProviderName: task.capacityProviderName,
      platformVersion: task.platformVersion,
      platformFamily: task.launchType === 'FARGATE' ? 'Linux' : undefined,
      pullStartedAt: task.pullStartedAt,
      pullStoppedAt: task.pullStoppedAt,
      startedAt: task.startedAt,
      startedBy: task.startedBy,
      stopCode: task.stopCode,
      stoppedAt: task.stoppedAt,
      stoppedReason: task.stoppedReason,
      stoppingAt: task.stoppingAt,
      tags: withTags ? task.tags : [],
      taskArn: task.taskArn,
      taskDefinitionArn: task.taskDefinitionArn,
      version: task.version,
    } satisfies Task);
  }

  // ------------------------------------------------------------------ tags

  /** The tag list of the resource an ARN names, or the AWS error. */
  private taggable(
    input: Record<string, unknown>,
    operation: 'TagResource' | 'UntagResource' | 'ListTagsForResource',
  ): { tags: Tag[]; set(tags: Tag[]): void } {
    const arn = optionalString(input, 'resourceArn', 'InvalidParameterException');
    if (!arn) throw invalidParameter('resourceArn is required.');
    const m = /^arn:aws[\w-]*:ecs:([^:]+):(\d+):([a-z-]+)\/(.+)$/.exec(arn);
    if (!m || m[1] !== this.ctx.region || m[2] !== this.ctx.accountId)
      throw invalidParameter(`Invalid resource ARN: ${arn}`);
    const [kind, rest] = [m[3] as string, m[4] as string];
    const parts = rest.split('/');
    // The model lists ResourceNotFoundException for TagResource/UntagResource only;
    // ListTagsForResource answers a missing resource as an invalid parameter.
    const missing = () =>
      operation === 'ListTagsForResource'
        ? invalidParameter(`The specified resource ${arn} could not be found.`)
        : new AwsError('ResourceNotFoundException', `The specified resource ${arn} could not be found.`);
    const holder = (record: { tags: Tag[] } | undefined) => {
      if (!record) throw missing();
      return { tags: record.tags, set: (tags: Tag[]) => (record.tags = tags) };
    };
    if (kind === 'cluster') {
      const cluster = this.state.clusters.get(rest);
      if (!cluster) throw new AwsError('ClusterNotFoundException', 'Cluster not found.');
      return holder(cluster);
    }
    if (kind === 'service' && parts.length === 2) {
      return holder(this.findService(parts[0] as string, parts[1] as string));
    }
    if (kind === 'task' && parts.length === 2) {
      return holder(this.state.tasks.find((t) => t.clusterName === parts[0] && t.taskId === parts[1]));
    }
    if (kind === 'task-definition') return holder(this.findTaskDefinition(arn));
    throw invalidParameter(`Tagging is not supported for resource ${arn}`);
  }

  private tagResource(input: Record<string, unknown>): Record<string, never> {
    const target = this.taggable(input, 'TagResource');
    target.set(mergeTags(target.tags, tagList(input.tags)));
    return {};
  }

  private untagResource(input: Record<string, unknown>): Record<string, never> {
    const target = this.taggable(input, 'UntagResource');
    const keys = optionalStringList(input, 'tagKeys', 'InvalidParameterException') ?? [];
    target.set(target.tags.filter((t) => !keys.includes(t.key as string)));
    return {};
  }

  private listTagsForResource(input: Record<string, unknown>): { tags: Tag[] } {
    return { tags: structuredClone(this.taggable(input, 'ListTagsForResource').tags) };
  }
}
