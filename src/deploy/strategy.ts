/**
 * The deployment contract. A strategy is one way of moving an ECS service to a registered
 * task definition (CodeDeploy blue/green, an ECS rolling update, and next ECS-native
 * blue/green/linear/canary). Runs and stages talk to a deployment only through this
 * interface; which strategy a service gets is decided once, in `choose.ts`.
 *
 * Every step takes its clients as parameters. Safety is not a strategy's business: the
 * stage around it checks cancellation between steps, records the deployment for the post
 * step before `start` is called, and measures deadlines on the context's monotonic clock.
 */
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { PlannedRun } from '../dryrun.js';
import type { Log } from '../log.js';
import type { AppSpec } from '../render/appspec.js';
import type { DeploymentGroupTarget } from './codedeploy.js';
import type { TargetService } from './service.js';
import type { WatchResult } from './watch.js';

/** The strategies there are; the chooser maps a service to one of these. */
export type StrategyName = 'codedeploy' | 'rolling' | 'ecs-native';

export interface DeployClients {
  ecs: ECSClient;
  codedeploy: CodeDeployClient;
  /** ECS-native: the listener rules and target groups are checked with it (made on demand when absent). */
  elbv2?: ElasticLoadBalancingV2Client;
}

/** What a step may read and where it writes; the signal is the run's cancellation. */
export interface DeployContext {
  config: Config;
  clock: Clock;
  log: Log;
  signal?: AbortSignal;
}

/** What `check` found out about the target, handed back to `start` (each strategy its field). */
export interface TargetCheck {
  /** CodeDeploy: the application and deployment group that deploy to the service. */
  group?: DeploymentGroupTarget;
  /**
   * ECS-native: the longest deregistration delay of the service's target groups (ms), when it
   * could be read: CLEAN_UP ends that long after the source revision's tasks begin draining.
   */
  drainMs?: number;
}

export interface StartRequest {
  cluster: string;
  service: string;
  taskDefinitionArn: string;
  /** What the service ran before, for the watch's diagnostics and a rolling rollback. */
  previousTaskDefinitionArn?: string;
  check: TargetCheck;
  /** CodeDeploy's revision, with the task definition still to be put in. */
  appspec?: AppSpec;
  description?: string;
  /** Wait for a deployment this run did not start before starting ours (a rollback does not). */
  waitForIdle: boolean;
}

/** A deployment in flight, as `watch` needs it. */
export interface StartedDeployment {
  strategy: StrategyName;
  id: string;
  cluster: string;
  service: string;
  /** The watch's budget, on the monotonic clock. */
  timeoutMs: number;
  previousTaskDefinitionArn?: string;
  /** ECS-native: a deployment this run stopped with rollback, whose success is a finished rollback. */
  expectRollback?: boolean;
  /** ECS-native: the check's drainMs, for the watch's prediction of CLEAN_UP's end. */
  drainMs?: number;
}

/**
 * What the post step reads (core.saveState 'deployment'). Written first without `id`, before
 * the call that starts the deployment, so a crash or cancel between the call and its answer
 * still leaves enough to find it: the strategy's `find` looks it up by task definition.
 */
export interface DeploymentRecord {
  kind: StrategyName;
  id?: string;
  cluster: string;
  service: string;
  region: string;
  taskDefinitionArn?: string;
  /** Where a CodeDeploy deployment of the service is found. */
  application?: string;
  deploymentGroup?: string;
  /** When the intent was recorded (wall clock, ISO): a deployment found must be no older. */
  since?: string;
}

/** What a rollback does, decided before anything changes. */
export type RollbackPlan =
  | {
      kind: 'stop';
      /** The running deployment, stopped with rollback. */
      deploymentId: string;
      from?: string;
      to?: string;
      check: TargetCheck;
    }
  | {
      kind: 'redeploy';
      from: string;
      to: string;
      check: TargetCheck;
      /** CodeDeploy: the appspec that deployed `to`, or one made for the service. */
      appspec?: AppSpec;
      /** Where `to` was found, for the log. */
      source: string;
    };

/** After a stop with rollback: the deployment that rolls back, to watch, when there is one. */
export interface Stopped {
  status: string;
  rollback?: StartedDeployment;
}

export interface DeploymentStrategy {
  readonly name: StrategyName;
  /** What one of its deployments is called, in stage names and messages: 'CodeDeploy deployment'. */
  readonly label: string;
  /** The output (and report field) that carries a started deployment's id. */
  readonly idOutput: 'codedeploy-deployment-id' | 'ecs-deployment-id' | 'service-deployment-arn';
  /** What a dry run says this strategy would call (pure). */
  planned(check: TargetCheck, ctx: Pick<DeployContext, 'config'>): PlannedRun['deployment'];
  /** Before any change: what the strategy needs of the target exists and fits. */
  check(clients: DeployClients, service: TargetService, ctx: DeployContext): Promise<TargetCheck>;
  /**
   * Starts a deployment of a registered task definition. Idempotent: a start retried after
   * an unanswered call adopts the deployment the first call started instead of a second one.
   */
  start(clients: DeployClients, request: StartRequest, ctx: DeployContext): Promise<StartedDeployment>;
  /** The files `start` deploys from, with the task definition put in (pure). */
  artifacts(request: StartRequest): Artifact[];
  /** Watches to a verdict: progress lines on the log, the outcome and its diagnostics. */
  watch(
    clients: DeployClients,
    started: StartedDeployment,
    ctx: DeployContext,
    opts: { rollbackOnTimeout: boolean },
  ): Promise<WatchResult>;
  /** Stops a running deployment of the service with rollback (a rollback run's first choice). */
  stop(
    clients: DeployClients,
    deployment: { id: string; cluster: string; service: string; check: TargetCheck },
    ctx: DeployContext,
  ): Promise<Stopped>;
  /** Finds the deployment a record names, also when only its intent was recorded; undefined when gone. */
  find(
    clients: DeployClients,
    record: DeploymentRecord,
  ): Promise<{ id: string; active: boolean; status: string } | undefined>;
  /**
   * The post step, for a deployment the run left unwatched: stop it with rollback (or, where
   * the strategy leaves that to AWS, say what is left running).
   */
  abandon(
    clients: DeployClients,
    record: DeploymentRecord,
    onCancel: 'rollback' | 'leave',
    log: Log,
  ): Promise<void>;
  /** What to roll back to: read only, changes nothing. */
  previous(clients: DeployClients, service: TargetService, ctx: DeployContext): Promise<RollbackPlan>;
}

/** A file a strategy's start deploys from (CodeDeploy's appspec.yaml), written and output first. */
export interface Artifact {
  name: string;
  content: string;
  /** The action output that names the file. */
  output: string;
}
