/**
 * A local AWS endpoint for ECR, ECS and CodeDeploy that the real AWS SDK v3 clients talk to
 * unchanged (set AWS_ENDPOINT_URL to `url`). See emulator/README.md for what it emulates.
 */
import { EmulatedClock, Scheduler } from './clock.js';
import { DEFAULT_TIMINGS, type EmulatorContext, type Timings } from './context.js';
export { DEFAULT_TIMINGS, FAILED_TASK_THRESHOLD } from './context.js';
import { CodeDeployEmulator } from './codedeploy.js';
import { EcrEmulator } from './ecr.js';
import { EcsEmulator } from './ecs.js';
import { EcsNativeDeployments } from './ecs-native.js';
import { Elbv2Emulator } from './elbv2.js';
import { IamEmulator } from './iam.js';
import { LogsEmulator } from './logs.js';
import { TaskOutput, type ContainerScript } from './task-output.js';
import { StsEmulator } from './sts.js';
import { FaultInjector, type Faults } from './faults.js';
import { IdGenerator } from './ids.js';
import { RegistryClient, type RegistryConfig } from './registry.js';
import {
  EmulatorServer,
  isMutatingOperation,
  type CallRecord,
  type ModelViolation,
  type ResponseCheck,
} from './server.js';
import { serviceModel } from './model.js';
import { applySeed, type Seed } from './seed.js';
import { startDemoRuntime, type DemoRuntime, type DemoRuntimeOptions } from './runtime/index.js';
import type { EmulatorState } from './state.js';

export type { CallRecord, ModelViolation, ResponseCheck } from './server.js';
export type { ModelProblem } from './validate.js';
export type { Faults, LifecycleHook } from './faults.js';
export type { Timings } from './context.js';
export type { RegistryConfig } from './registry.js';
export type * from './state.js';
export type { Seed, SeedDeploymentGroup, SeedService } from './seed.js';
export type { SeedNativeLoadBalancer } from './seed-native.js';
export type { SeedIam, SeedIamEntity } from './iam.js';
export type { SeedElbv2, SeedLoadBalancer, SeedTargetGroup } from './elbv2.js';
export type { ContainerScript } from './task-output.js';
export type { LogsState, LogGroupRecord, LogStreamRecord, LogEventRecord, LogLine } from './logs.js';
export { defaultPrincipalArn } from './iam.js';
export type { DemoRuntime, DemoRuntimeOptions } from './runtime/index.js';

export interface EmulatorOptions {
  /** 0 (default) picks a free port. The server always binds 127.0.0.1 only. */
  port?: number;
  region?: string;
  accountId?: string;
  /**
   * Key pairs clients may sign with; `principalArn` is who the key belongs to (STS
   * GetCallerIdentity, IAM authorization), default `defaultPrincipalArn(accountId)`.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; principalArn?: string }[];
  /** Emulated time runs this many times faster than real time (default 1). */
  speed?: number;
  /** Emulated time moves only through `clock.advance(ms)`. */
  manualClock?: boolean;
  seed?: Seed;
  /** The real registry (docker-registry / distribution on 127.0.0.1) behind the emulated ECR. */
  registry?: RegistryConfig;
  /** Emulated ms for task start, lifecycle hooks, …; see DEFAULT_TIMINGS. */
  timings?: Partial<Timings>;
  /** Runs tasks as Docker containers behind a local load balancer (see emulator/runtime); off by default. */
  runtime?: DemoRuntimeOptions;
  /**
   * Responses (and error types) the AWS model does not allow: `throw` answers 500
   * InternalFailure naming the problem and records it in `modelViolations`; `record` only
   * records; `off` does neither. Default: EMULATOR_CHECK_RESPONSES, else `throw` under jest
   * (JEST_WORKER_ID set), else `off`.
   */
  checkResponses?: ResponseCheck;
}

export interface ServedService {
  service: string;
  protocol: 'json' | 'query';
  /** The X-Amz-Target prefix (JSON only). */
  target?: string;
  /** The SigV4 service name clients sign with. */
  signingName: string;
  operations: readonly string[];
}

function defaultResponseCheck(): ResponseCheck {
  const env = process.env.EMULATOR_CHECK_RESPONSES;
  if (env === 'off' || env === 'record' || env === 'throw') return env;
  return process.env.JEST_WORKER_ID !== undefined ? 'throw' : 'off';
}

export interface Emulator {
  /** `http://127.0.0.1:PORT`: the value for AWS_ENDPOINT_URL. */
  url: string;
  port: number;
  /** Every request with an ECS, ECR or CodeDeploy target, in order of arrival. */
  calls: CallRecord[];
  /** What the endpoint serves, from its own dispatch tables: each service's protocol and operations. */
  served: readonly ServedService[];
  /** Responses that broke the AWS model (see EmulatorOptions.checkResponses), in order. */
  modelViolations: ModelViolation[];
  /** The calls whose operation changes state (Create*, Update*, Delete*, …), successful or not. */
  mutatingCalls(): CallRecord[];
  faults: Faults;
  clock: { now(): number; advance(ms: number): void; speed: number };
  seed(seed: Seed): void;
  /**
   * What containers print (into their awslogs streams) and, for one-off tasks, how they exit;
   * see ContainerScript. Also `seed.containers`. The newest matching script wins.
   */
  scriptContainers(...scripts: ContainerScript[]): void;
  /** The state, brought up to the current emulated time on each read. */
  readonly state: EmulatorState;
  /** With `opts.runtime`: its run id and load balancer URLs. */
  runtime?: DemoRuntime;
  /**
   * Closes the server and drops every pending delay; nothing keeps running afterwards. With
   * checkResponses `throw`, then rejects when any response broke the model.
   */
  stop(): Promise<void>;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '000000000000';
  if (!/^\d{12}$/.test(accountId)) throw new RangeError(`accountId must be 12 digits, got '${accountId}'`);
  const credentials = new Map(
    (opts.credentials ?? [{ accessKeyId: 'test', secretAccessKey: 'test' }]).map((c) => [
      c.accessKeyId,
      c.secretAccessKey,
    ]),
  );
  const clock = new EmulatedClock({ speed: opts.speed, manual: opts.manualClock });
  const scheduler = new Scheduler(clock.now());
  const faults = new FaultInjector();
  const ctx: EmulatorContext = {
    region,
    accountId,
    scheduler,
    ids: new IdGenerator(),
    faults,
    timings: { ...DEFAULT_TIMINGS, ...opts.timings },
  };
  const state: EmulatorState = {
    ecs: {
      clusters: new Map(),
      taskDefinitions: new Map(),
      services: [],
      tasks: [],
      serviceDeployments: [],
      serviceRevisions: [],
    },
    ecr: { repositories: new Map() },
    codedeploy: {
      applications: new Map(),
      deploymentGroups: new Map(),
      deploymentConfigs: new Map(),
      deployments: new Map(),
    },
    iam: { roles: new Map(), users: new Map() },
    elbv2: { loadBalancers: new Map(), listeners: new Map(), targetGroups: new Map(), rules: new Map() },
    logs: { groups: new Map() },
  };
  const logs = new LogsEmulator(ctx, state.logs);
  const taskOutput = new TaskOutput(ctx, logs);
  const ecs = new EcsEmulator(ctx, state.ecs, taskOutput);
  ecs.onTaskChange((_svc, changed) =>
    taskOutput.serviceTasksChanged(changed, (arn) => ecs.findTaskDefinition(arn)?.taskDefinition),
  );
  const ecr = new EcrEmulator(ctx, state.ecr, opts.registry ? new RegistryClient(opts.registry) : undefined);
  const codedeploy = new CodeDeployEmulator(ctx, state.codedeploy, ecs);
  const principals = new Map(
    (opts.credentials ?? []).flatMap((c) =>
      c.principalArn ? [[c.accessKeyId, c.principalArn] as const] : [],
    ),
  );
  const iam = new IamEmulator(ctx, state.iam, principals, state);
  const elbv2 = new Elbv2Emulator(ctx, state.elbv2);
  const native = new EcsNativeDeployments(ctx, state.ecs, ecs, state.elbv2);
  ecs.useNativeController(native);
  ecs.useDeregistrationDelays((arn) => elbv2.deregistrationDelayMs(arn));
  const catchUp = () => scheduler.runUntil(clock.now());
  const calls: CallRecord[] = [];
  const modelViolations: ModelViolation[] = [];
  const checkResponses = opts.checkResponses ?? defaultResponseCheck();
  const services = [ecs, ecr, codedeploy, logs];
  const queryServices = [new StsEmulator(iam), iam, elbv2];
  // Every served service has a model, loaded now: a new service without one fails here.
  for (const s of [...services, ...queryServices]) serviceModel(s.service);
  const server = new EmulatorServer({
    port: opts.port ?? 0,
    region,
    credentials,
    services,
    queryServices,
    authorize: (accessKeyId, service, operation, input) =>
      iam.authorize(accessKeyId, service, operation, input),
    faults,
    calls,
    catchUp,
    checkResponses,
    violations: modelViolations,
  });
  const port = await server.listen();

  let runtime: DemoRuntime | undefined;
  if (opts.runtime) {
    try {
      runtime = await startDemoRuntime(opts.runtime, {
        ecs,
        codedeploy,
        native,
        observe: () => {
          catchUp();
          return state;
        },
        external: (change) => {
          catchUp();
          change();
          catchUp();
        },
        containerOutput: (taskArn, containerName, lines) => {
          const task = state.ecs.tasks.find((t) => t.taskArn === taskArn);
          const td = task && ecs.findTaskDefinition(task.taskDefinitionArn)?.taskDefinition;
          if (!task || !td) return;
          // Docker's real times, on the emulated clock: as long before emulated now as they were before real now.
          const now = clock.now();
          const emulated = (realTime: number) =>
            clock.manual ? now : Math.min(now, Math.floor(now - (Date.now() - realTime) * clock.speed));
          taskOutput.write(
            task,
            td,
            containerName,
            lines.map((l) => ({ timestamp: emulated(l.realTime), message: l.message })),
          );
        },
      });
      taskOutput.realContainers = true;
    } catch (err) {
      await server.close();
      throw err;
    }
  }

  const seed = (world: Seed) => {
    catchUp();
    // Before the services start, so their first tasks already print what the scripts say.
    if (world.containers) taskOutput.script(...world.containers);
    applySeed(world, { ctx, ecs, ecr, codedeploy, iam, elbv2 });
  };
  if (opts.seed) {
    try {
      seed(opts.seed);
    } catch (err) {
      await runtime?.stop();
      await server.close();
      throw err;
    }
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    modelViolations,
    served: [
      ...services.map((s) => ({
        service: s.service,
        protocol: 'json' as const,
        target: s.targetPrefix,
        signingName: s.signingNames[0] as string,
        operations: Object.keys(s.operations),
      })),
      ...queryServices.map((s) => ({
        service: s.service,
        protocol: 'query' as const,
        signingName: s.signingName,
        operations: Object.keys(s.operations),
      })),
    ],
    mutatingCalls: () => calls.filter((c) => isMutatingOperation(c.operation)),
    faults,
    clock: {
      now: () => clock.now(),
      advance: (ms: number) => {
        clock.advance(ms);
        catchUp();
      },
      get speed() {
        return clock.speed;
      },
      set speed(value: number) {
        clock.speed = value;
      },
    },
    seed,
    scriptContainers: (...scripts) => taskOutput.script(...scripts),
    get state() {
      catchUp();
      return state;
    },
    runtime,
    stop: async () => {
      await runtime?.stop();
      scheduler.clear();
      await server.close();
      // A client may have tolerated the 500 a broken response became (retried, polled on):
      // the run still fails here, after everything is closed.
      if (checkResponses === 'throw' && modelViolations.length > 0) {
        const list = modelViolations
          .slice(0, 10)
          .map((v) => `${v.service} ${v.operation}: ${v.problems.map((p) => p.message).join('; ')}`);
        throw new Error(`The local endpoint sent responses that break the AWS model:\n${list.join('\n')}`);
      }
    },
  };
}
