/**
 * One-off ECS tasks: RunTask and StopTask. A task started by RunTask belongs to no service; it goes
 * PROVISIONING → PENDING → RUNNING on the emulated clock, prints what its container script says
 * (task-output.ts) while it runs, and stops when an essential container exits, with that
 * container's exit code and "Essential container in task exited", as ECS reports it. With the demo
 * runtime the task is a real container instead, and its real exit code and output count.
 */
import type {
  CapacityProviderStrategyItem,
  Failure,
  NetworkConfiguration,
  Tag,
  Task,
  TaskDefinition,
  TaskOverride,
} from '@aws-sdk/client-ecs';
import type { EmulatorContext } from './context.js';
import { AwsError, isRecord, optionalNumber, optionalString } from './errors.js';
import type { TaskRuntime } from './ecs.js';
import type { EcsState, TaskDefinitionRecord, TaskRecord } from './state.js';
import type { TaskOutput } from './task-output.js';

/** What the one-off task runner needs of the ECS emulator. */
export interface EcsTaskHooks {
  /** The cluster a request names (absent: `default`), or ClusterNotFoundException. */
  clusterName(input: Record<string, unknown>): string;
  findTaskDefinition(ref: string): TaskDefinitionRecord | undefined;
  taskArn(cluster: string, taskId: string): string;
  /** What every new task of a revision starts with: its containers, and why it will crash (if it will). */
  launch(td: TaskDefinition, cluster: string, taskId: string): Pick<TaskRecord, 'containers' | 'crashReason'>;
  projectTask(task: TaskRecord, withTags: boolean): Task;
  /** StopTask on a task a service started: it stops as the scheduler stops tasks, then is replaced. */
  stopServiceTask(task: TaskRecord, reason: string): void;
  runtime(): TaskRuntime | undefined;
}

const MAX_COUNT = 10;
/** What a container that ECS stops (SIGTERM) exits with when it does not handle the signal. */
const STOPPED_EXIT_CODE = 143;
const CAPACITY_PROVIDERS = ['FARGATE', 'FARGATE_SPOT'];

const clientError = (message: string) => new AwsError('ClientException', message);
const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);

function tags(value: unknown): Tag[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((t) => !isRecord(t) || typeof t.key !== 'string')) {
    throw invalidParameter('tags must be a list of {key, value} objects.');
  }
  const list = (value as Tag[]).map((t) => ({ key: t.key, value: t.value ?? '' }));
  if (list.length > 50) throw invalidParameter('The task can have at most 50 tags.');
  if (list.some((t) => /^aws:/i.test(t.key ?? ''))) {
    throw invalidParameter("Tag keys beginning with 'aws:' are reserved for use by AWS.");
  }
  return list;
}

export class OneOffTasks {
  /** clientToken → the request it was first used with and the tasks it started. */
  private readonly tokens = new Map<string, { request: string; taskArns: string[] }>();
  /** Scheduled events of each one-off task still running (lines, exit), cancelled by StopTask. */
  private readonly timers = new Map<string, number[]>();

  constructor(
    private readonly ctx: EmulatorContext,
    private readonly state: EcsState,
    private readonly hooks: EcsTaskHooks,
    private readonly output: TaskOutput | undefined,
  ) {}

  private now(): Date {
    return new Date(this.ctx.scheduler.now());
  }

  runTask(input: Record<string, unknown>): { tasks: Task[]; failures: Failure[] } {
    const cluster = this.hooks.clusterName(input);
    const clientToken = optionalString(input, 'clientToken', 'InvalidParameterException');
    if (clientToken !== undefined && (clientToken.length < 1 || clientToken.length > 64)) {
      throw invalidParameter('clientToken must be from 1 to 64 characters long.');
    }
    // The same token with the same request starts nothing new: the first call's tasks come back.
    const request = JSON.stringify({ ...input, cluster });
    const earlier = clientToken === undefined ? undefined : this.tokens.get(clientToken);
    if (earlier) {
      if (earlier.request !== request) {
        throw new AwsError(
          'ConflictException',
          'The RunTask request could not be processed due to conflicts. The provided clientToken is already in use with a different RunTask request. The resourceIds are the existing task ARNs that are already associated with the clientToken.',
          400,
          { resourceIds: earlier.taskArns },
        );
      }
      return {
        tasks: earlier.taskArns.flatMap((arn) => {
          const task = this.state.tasks.find((t) => t.taskArn === arn);
          return task ? [this.hooks.projectTask(task, false)] : [];
        }),
        failures: [],
      };
    }
    const plan = this.validate(input, cluster);
    const launched = Array.from({ length: plan.count }, () => this.launch(cluster, plan));
    if (clientToken !== undefined) {
      this.tokens.set(clientToken, { request, taskArns: launched.map((t) => t.taskArn) });
    }
    return { tasks: launched.map((t) => this.hooks.projectTask(t, false)), failures: [] };
  }

  /** ECS's checks, in its order, before anything starts. */
  private validate(input: Record<string, unknown>, cluster: string): LaunchPlan {
    const ref = optionalString(input, 'taskDefinition', 'InvalidParameterException');
    if (!ref) throw invalidParameter('taskDefinition can not be blank.');
    const record = this.hooks.findTaskDefinition(ref);
    if (!record || record.taskDefinition.status === 'DELETE_IN_PROGRESS')
      throw clientError('TaskDefinition not found.');
    if (record.taskDefinition.status !== 'ACTIVE') throw clientError('TaskDefinition is inactive');
    const td = record.taskDefinition;
    const count = optionalNumber(input, 'count', 'InvalidParameterException') ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
      throw invalidParameter(`count must be between 1 and ${MAX_COUNT}.`);
    }
    const launchType = optionalString(input, 'launchType', 'InvalidParameterException');
    const strategy = input.capacityProviderStrategy as CapacityProviderStrategyItem[] | undefined;
    const provider = this.capacityProvider(launchType, strategy);
    const effectiveLaunch = provider ? 'FARGATE' : launchType;
    if (effectiveLaunch !== undefined && !['EC2', 'FARGATE', 'EXTERNAL'].includes(effectiveLaunch)) {
      throw invalidParameter(
        `Invalid launchType '${effectiveLaunch}'. Valid values: EC2, FARGATE, EXTERNAL.`,
      );
    }
    if (effectiveLaunch && !td.compatibilities?.includes(effectiveLaunch as 'EC2')) {
      throw invalidParameter(`Task definition does not support launch_type ${effectiveLaunch}.`);
    }
    const network = input.networkConfiguration as NetworkConfiguration | undefined;
    const awsvpc = td.networkMode === 'awsvpc';
    if (awsvpc && !network?.awsvpcConfiguration?.subnets?.length) {
      throw invalidParameter(
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
      );
    }
    if (!awsvpc && network) {
      throw invalidParameter(
        'Network Configuration is not valid for the given networkMode of this task definition.',
      );
    }
    const overrides = this.overrides(input.overrides, record);
    const startedBy = optionalString(input, 'startedBy', 'InvalidParameterException');
    if (startedBy !== undefined && startedBy.length > 128) {
      throw invalidParameter('startedBy can be at most 128 characters long.');
    }
    const propagateTags = optionalString(input, 'propagateTags', 'InvalidParameterException') ?? 'NONE';
    if (!['TASK_DEFINITION', 'SERVICE', 'NONE'].includes(propagateTags)) {
      throw invalidParameter(
        `Invalid propagateTags '${propagateTags}'. Valid values: TASK_DEFINITION, SERVICE, NONE.`,
      );
    }
    const taskTags = [
      ...(propagateTags === 'TASK_DEFINITION' ? record.tags : []),
      ...tags(input.tags),
      ...(input.enableECSManagedTags === true ? [{ key: 'aws:ecs:clusterName', value: cluster }] : []),
    ];
    return {
      record,
      count,
      launchType: effectiveLaunch as TaskRecord['launchType'],
      capacityProviderName: provider,
      overrides,
      startedBy,
      group: optionalString(input, 'group', 'InvalidParameterException') ?? `family:${td.family}`,
      tags: [...new Map(taskTags.map((t) => [t.key, t])).values()],
    };
  }

  private capacityProvider(
    launchType: string | undefined,
    strategy: CapacityProviderStrategyItem[] | undefined,
  ): string | undefined {
    if (strategy === undefined || strategy === null) return undefined;
    if (launchType !== undefined) {
      throw invalidParameter(
        'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.',
      );
    }
    if (!Array.isArray(strategy) || strategy.length === 0) {
      throw invalidParameter('capacityProviderStrategy must list at least one capacity provider.');
    }
    const unknown = strategy.find((s) => !CAPACITY_PROVIDERS.includes(String(s?.capacityProvider)));
    if (unknown) {
      throw invalidParameter(
        `The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again. (${String(unknown.capacityProvider)}; this endpoint offers FARGATE and FARGATE_SPOT)`,
      );
    }
    // With a base, that provider takes the first task; otherwise the heaviest weight.
    const withBase = strategy.find((s) => (s.base ?? 0) > 0);
    const heaviest = [...strategy].sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0))[0];
    return (withBase ?? heaviest)?.capacityProvider;
  }

  private overrides(value: unknown, record: TaskDefinitionRecord): TaskOverride {
    const names = (record.taskDefinition.containerDefinitions ?? []).map((c) => c.name as string);
    if (value === undefined || value === null) {
      return { containerOverrides: names.map((name) => ({ name })), inferenceAcceleratorOverrides: [] };
    }
    if (!isRecord(value)) throw invalidParameter('overrides must be an object.');
    const list = value.containerOverrides ?? [];
    if (!Array.isArray(list)) throw invalidParameter('containerOverrides must be a list.');
    for (const o of list) {
      if (!isRecord(o) || typeof o.name !== 'string')
        throw invalidParameter('Container overrides must name a container.');
      if (!names.includes(o.name)) {
        throw invalidParameter(
          `Override for container named ${o.name} is not a container in the TaskDefinition.`,
        );
      }
      if (
        o.command !== undefined &&
        (!Array.isArray(o.command) || o.command.some((c) => typeof c !== 'string'))
      ) {
        throw invalidParameter(`The command override for container ${o.name} must be a list of strings.`);
      }
      if (
        o.environment !== undefined &&
        (!Array.isArray(o.environment) ||
          o.environment.some((e) => !isRecord(e) || typeof e.name !== 'string'))
      ) {
        throw invalidParameter(
          `The environment override for container ${o.name} must be a list of {name, value}.`,
        );
      }
    }
    return {
      inferenceAcceleratorOverrides: [],
      ...structuredClone(value),
      containerOverrides: structuredClone(list),
    } as TaskOverride;
  }

  private launch(cluster: string, plan: LaunchPlan): TaskRecord {
    const td = plan.record.taskDefinition;
    const taskId = this.ctx.ids.taskId();
    const task: TaskRecord = {
      taskArn: this.hooks.taskArn(cluster, taskId),
      taskId,
      clusterName: cluster,
      ownerId: `run-task/${taskId}`,
      group: plan.group,
      startedBy: plan.startedBy,
      taskDefinitionArn: td.taskDefinitionArn as string,
      family: td.family as string,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      createdAt: this.now(),
      launchType: plan.launchType,
      capacityProviderName: plan.capacityProviderName,
      platformVersion: plan.launchType === 'FARGATE' ? '1.4.0' : undefined,
      cpu: plan.overrides.cpu ?? td.cpu,
      memory: plan.overrides.memory ?? td.memory,
      ...this.hooks.launch(td, cluster, taskId),
      version: 1,
      tags: plan.tags,
      overrides: plan.overrides,
    };
    this.state.tasks.push(task);
    const { taskProvisioning, taskStart } = this.ctx.timings;
    this.later(task, Math.min(taskProvisioning, taskStart), () => {
      if (task.desiredStatus !== 'RUNNING' || task.lastStatus !== 'PROVISIONING') return;
      task.lastStatus = 'PENDING';
      task.pullStartedAt = this.now();
      task.version += 1;
    });
    const runtime = this.hooks.runtime();
    if (runtime && task.crashReason === undefined) {
      runtime.start(task, td);
      return task;
    }
    this.later(task, taskStart, () => {
      if (task.desiredStatus !== 'RUNNING') return;
      if (task.crashReason !== undefined) this.crash(task);
      else this.start(task);
    });
    return task;
  }

  private later(task: TaskRecord, delay: number, run: () => void): void {
    const handles = this.timers.get(task.taskArn) ?? [];
    handles.push(this.ctx.scheduler.after(delay, run));
    this.timers.set(task.taskArn, handles);
  }

  private taskDefinition(task: TaskRecord) {
    return this.hooks.findTaskDefinition(task.taskDefinitionArn)?.taskDefinition;
  }

  /** RUNNING: each container prints its lines over its run, and the first essential one to finish ends the task. */
  private start(task: TaskRecord): void {
    const now = this.now();
    task.lastStatus = 'RUNNING';
    task.pullStartedAt ??= now;
    task.pullStoppedAt = now;
    task.startedAt = now;
    task.version += 1;
    const td = this.taskDefinition(task);
    if (!td) return;
    let end: number | undefined;
    for (const c of task.containers) {
      c.lastStatus = 'RUNNING';
      c.runtimeId = `${task.taskId}-${this.ctx.ids.hex(10)}`;
      const behaviour = this.output?.behaviour(task, td, c.name) ?? {
        lines: [],
        exitCode: 0,
        durationMs: 5000,
      };
      this.output?.write(task, td, c.name, []);
      behaviour.lines.forEach((message, i) => {
        const at = Math.floor((i * behaviour.durationMs) / Math.max(1, behaviour.lines.length));
        this.later(task, at, () =>
          this.output?.write(task, td, c.name, [{ timestamp: this.ctx.scheduler.now(), message }]),
        );
      });
      this.later(task, behaviour.durationMs, () => {
        if (c.lastStatus !== 'RUNNING') return;
        c.lastStatus = 'STOPPED';
        c.exitCode = behaviour.exitCode;
        task.version += 1;
      });
      const essential = td.containerDefinitions?.find((d) => d.name === c.name)?.essential !== false;
      if (essential) end = Math.min(end ?? Infinity, behaviour.durationMs);
    }
    // After the containers' own exits at the same instant, so the essential one's code is recorded.
    if (end !== undefined) this.later(task, end, () => this.essentialExited(task));
  }

  private essentialExited(task: TaskRecord): void {
    if (task.desiredStatus !== 'RUNNING') return;
    this.stopNow(task, 'EssentialContainerExited', 'Essential container in task exited');
  }

  /** faults.crashTasks: the essential container exits before the task is RUNNING, printing its lines first. */
  private crash(task: TaskRecord): void {
    const td = this.taskDefinition(task);
    const now = this.ctx.scheduler.now();
    for (const c of task.containers) {
      const behaviour = td && this.output?.behaviour(task, td, c.name);
      if (td && behaviour) {
        const lines = behaviour.lines.map((message, i) => ({
          message,
          timestamp: now - (behaviour.lines.length - i),
        }));
        this.output?.write(task, td, c.name, lines);
      }
      c.exitCode = behaviour && behaviour.exitCode !== 0 ? behaviour.exitCode : 1;
    }
    task.pullStartedAt ??= this.now();
    task.pullStoppedAt = this.now();
    this.stopNow(task, 'EssentialContainerExited', task.crashReason as string);
  }

  /** STOPPED at once; containers still running were stopped along with the task. */
  private stopNow(task: TaskRecord, stopCode: TaskRecord['stopCode'], reason: string): void {
    const now = this.now();
    this.cancelTimers(task);
    task.lastStatus = 'STOPPED';
    task.desiredStatus = 'STOPPED';
    task.stoppingAt = now;
    task.stoppedAt = now;
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.version += 1;
    for (const c of task.containers) {
      if (c.lastStatus === 'RUNNING') c.exitCode = STOPPED_EXIT_CODE;
      c.lastStatus = 'STOPPED';
    }
  }

  private cancelTimers(task: TaskRecord): void {
    for (const handle of this.timers.get(task.taskArn) ?? []) this.ctx.scheduler.cancel(handle);
    this.timers.delete(task.taskArn);
  }

  stopTask(input: Record<string, unknown>): { task: Task } {
    const cluster = this.hooks.clusterName(input);
    const ref = optionalString(input, 'task', 'InvalidParameterException');
    if (!ref) throw invalidParameter('task can not be blank.');
    const reason = optionalString(input, 'reason', 'InvalidParameterException');
    if (reason !== undefined && reason.length > 255)
      throw invalidParameter('reason can be at most 255 characters long.');
    const id = ref.startsWith('arn:') ? (ref.split('/').pop() as string) : ref;
    const task = this.state.tasks.find((t) => t.clusterName === cluster && t.taskId === id);
    if (!task) throw invalidParameter('The referenced task was not found.');
    const why = reason ?? 'Task stopped by user';
    if (task.desiredStatus === 'RUNNING') {
      if (task.serviceName !== undefined) this.hooks.stopServiceTask(task, why);
      else this.stopOneOff(task, why);
    }
    return { task: this.hooks.projectTask(task, false) };
  }

  private stopOneOff(task: TaskRecord, reason: string): void {
    const wasRunning = task.lastStatus === 'RUNNING';
    this.cancelTimers(task);
    task.desiredStatus = 'STOPPED';
    task.lastStatus = 'STOPPING';
    task.stoppingAt = this.now();
    task.stopCode = 'UserInitiated';
    task.stoppedReason = reason;
    task.version += 1;
    this.hooks.runtime()?.stop(task);
    this.ctx.scheduler.after(wasRunning ? this.ctx.timings.taskStop : 0, () => {
      task.lastStatus = 'STOPPED';
      task.stoppedAt = this.now();
      task.version += 1;
      for (const c of task.containers) {
        if (c.lastStatus === 'RUNNING') c.exitCode = STOPPED_EXIT_CODE;
        c.lastStatus = 'STOPPED';
      }
    });
  }
}

interface LaunchPlan {
  record: TaskDefinitionRecord;
  count: number;
  launchType: TaskRecord['launchType'];
  capacityProviderName?: string;
  overrides: TaskOverride;
  startedBy?: string;
  group: string;
  tags: Tag[];
}
