/**
 * ECS-native blue/green, linear and canary deployments on the emulated clock. UpdateService on a
 * service whose `deploymentConfiguration.strategy` is BLUE_GREEN, LINEAR or CANARY creates a
 * service deployment that goes RECONCILE_SERVICE → PRE_SCALE_UP → SCALE_UP → POST_SCALE_UP →
 * TEST_TRAFFIC_SHIFT → POST_TEST_TRAFFIC_SHIFT → PRE_PRODUCTION_TRAFFIC_SHIFT →
 * PRODUCTION_TRAFFIC_SHIFT → POST_PRODUCTION_TRAFFIC_SHIFT → BAKE_TIME → CLEAN_UP → SUCCESSFUL,
 * running lifecycle hooks at their stages, moving the weights of the load balancer's listener
 * rules (as ECS does with its infrastructure role), and rolling back on a failed hook, the
 * circuit breaker, a PAUSE hook's ROLLBACK, or StopServiceDeployment. Both revisions are ECS
 * deployments of the service (DescribeServices: green PRIMARY, blue ACTIVE); their tasks come
 * from the ECS emulator's task machinery, so task faults apply to them.
 */
import type { DeploymentLifecycleHook, ServiceDeploymentLifecycleStage } from '@aws-sdk/client-ecs';
import { circuitBreakerThreshold, type EmulatorContext } from './context.js';
import {
  HOOK_TIMEOUT_DEFAULTS,
  isNativeStrategy,
  productionTrafficSteps,
  ruleWeights,
} from './ecs-native-config.js';
import { NativeDeploymentApi } from './ecs-native-api.js';
import type { EcsEmulator, NativeDeploymentController } from './ecs.js';
import type {
  EcsDeploymentRecord,
  EcsState,
  Elbv2State,
  LifecycleHookExecutionRecord,
  ServiceDeploymentRecord,
  ServiceRecord,
  ServiceRevisionRecord,
} from './state.js';

const MINUTE = 60_000;

/** Statuses of a deployment that still owns its service. */
export const ONGOING = new Set([
  'PENDING',
  'IN_PROGRESS',
  'STOP_REQUESTED',
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
]);

/**
 * Runs a lifecycle hook's Lambda function for real (the demo runtime calls http URLs);
 * CodeDeploy's hook runner fits. Other hooks succeed after `timings.hook`.
 */
export interface NativeHookRunner {
  handles(functionName: string): boolean;
  invoke(
    functionName: string,
    event: {
      deploymentId: string;
      lifecycleEventHookExecutionId: string;
      lifecycleEventName: string;
      /** The event ECS gives a hook Lambda; the runner sends it as the request body. */
      payload?: unknown;
    },
    report: (failure?: string) => void,
  ): void;
}

type Waiting = 'SCALE_UP' | 'CLEAN_UP' | 'ROLLBACK';

export class EcsNativeDeployments implements NativeDeploymentController {
  readonly operations;
  private hookRunner?: NativeHookRunner;
  /** What a PAUSE or Lambda hook resumes when it ends, by hook id. */
  private readonly continuations = new Map<string, () => void>();
  /** What a deployment waits for the service's tasks to do, by deployment ARN. */
  private readonly waiting = new Map<string, Waiting>();
  /** What it resumes once that has happened, by deployment ARN. */
  private readonly waitThen = new Map<string, () => void>();
  readonly serviceFields: NativeDeploymentController['serviceFields'];

  constructor(
    private readonly ctx: EmulatorContext,
    readonly state: EcsState,
    private readonly ecs: EcsEmulator,
    private readonly elbv2: Elbv2State,
  ) {
    const api = new NativeDeploymentApi(state, ecs, {
      stop: (d) => this.requestRollback(d),
      continueHook: (d, hook, action) => this.continueHook(d, hook, action),
      requestedTasks: (d, which) => this.requestedTasks(d, which),
    });
    this.operations = api.operations;
    this.serviceFields = (svc) => api.serviceFields(svc);
  }

  /** Lambda hooks the runner handles run through it from now on. */
  useHookRunner(runner: NativeHookRunner): void {
    this.hookRunner = runner;
  }

  private now(): Date {
    return new Date(this.ctx.scheduler.now());
  }

  private arn(resource: string): string {
    return `arn:aws:ecs:${this.ctx.region}:${this.ctx.accountId}:${resource}`;
  }

  private ongoing(svc: ServiceRecord): ServiceDeploymentRecord | undefined {
    return this.state.serviceDeployments.find(
      (d) => d.serviceArn === svc.serviceArn && ONGOING.has(d.status) && svc.status === 'ACTIVE',
    );
  }

  private serviceOf(d: ServiceDeploymentRecord): ServiceRecord | undefined {
    const svc = this.ecs.findService(d.clusterName, d.serviceName);
    return svc?.status === 'ACTIVE' ? svc : undefined;
  }

  private touch(d: ServiceDeploymentRecord): void {
    d.updatedAt = this.now();
  }

  private schedule(d: ServiceDeploymentRecord, delayMs: number, run: () => void): void {
    d.timers.push(this.ctx.scheduler.after(delayMs, run));
  }

  private cancelTimers(d: ServiceDeploymentRecord): void {
    for (const t of d.timers) this.ctx.scheduler.cancel(t);
    d.timers = [];
  }

  // ------------------------------------------------------------------ revisions

  /** The revision of an ECS deployment, made the first time it is asked for. */
  revisionOf(
    svc: ServiceRecord,
    deployment: EcsDeploymentRecord,
    targetGroupArn: string,
  ): ServiceRevisionRecord {
    const existing = this.state.serviceRevisions.find((r) => r.ecsDeploymentId === deployment.id);
    if (existing) return existing;
    const td = this.ecs.findTaskDefinition(deployment.taskDefinition)?.taskDefinition;
    const lb = svc.loadBalancers[0];
    const revision: ServiceRevisionRecord = {
      serviceRevisionArn: this.arn(
        `service-revision/${svc.clusterName}/${svc.serviceName}/${this.ctx.ids.serviceRevisionId()}`,
      ),
      serviceArn: svc.serviceArn,
      clusterName: svc.clusterName,
      serviceName: svc.serviceName,
      ecsDeploymentId: deployment.id,
      taskDefinition: deployment.taskDefinition,
      launchType: deployment.launchType,
      capacityProviderStrategy: deployment.capacityProviderStrategy,
      platformVersion: deployment.platformVersion,
      loadBalancers: structuredClone(svc.loadBalancers),
      serviceRegistries: structuredClone(svc.serviceRegistries),
      networkConfiguration: structuredClone(deployment.networkConfiguration),
      containerImages: (td?.containerDefinitions ?? []).map((c) => ({
        containerName: c.name,
        image: c.image,
      })),
      createdAt: deployment.createdAt,
      targetGroupArn,
      productionListenerRule: lb?.advancedConfiguration?.productionListenerRule,
    };
    this.state.serviceRevisions.push(revision);
    return revision;
  }

  // ------------------------------------------------------------------ starting

  begin(
    svc: ServiceRecord,
    green: EcsDeploymentRecord,
    previousPrimary: EcsDeploymentRecord | undefined,
  ): void {
    const lb = svc.loadBalancers[0];
    const advanced = lb?.advancedConfiguration;
    const strategy = svc.deploymentConfiguration.strategy;
    if (!lb?.targetGroupArn || !advanced?.alternateTargetGroupArn || !isNativeStrategy(strategy)) return;
    const superseded = this.ongoing(svc);
    const blue = superseded ? this.productionDeployment(svc, superseded) : previousPrimary;
    if (superseded) this.supersede(svc, superseded);
    const pair = [lb.targetGroupArn, advanced.alternateTargetGroupArn];
    const blueRevision = blue && this.revisionOf(svc, blue, this.servingTargetGroup(svc, blue, pair));
    const blueTg = blueRevision?.targetGroupArn ?? lb.targetGroupArn;
    const greenTg = (pair.find((tg) => tg !== blueTg) ?? advanced.alternateTargetGroupArn) as string;
    const greenRevision = this.revisionOf(svc, green, greenTg);
    const now = this.now();
    const config = structuredClone(svc.deploymentConfiguration);
    const breaker = config.deploymentCircuitBreaker;
    const d: ServiceDeploymentRecord = {
      serviceDeploymentArn: this.arn(
        `service-deployment/${svc.clusterName}/${svc.serviceName}/${this.ctx.ids.serviceDeploymentId()}`,
      ),
      serviceArn: svc.serviceArn,
      clusterName: svc.clusterName,
      serviceName: svc.serviceName,
      strategy,
      status: 'PENDING',
      createdAt: now,
      updatedAt: now,
      deploymentConfiguration: config,
      sourceRevisionArn: blueRevision?.serviceRevisionArn,
      targetRevisionArn: greenRevision.serviceRevisionArn,
      blueDeploymentId: blue?.id,
      greenDeploymentId: green.id,
      blueTargetGroupArn: blueTg,
      greenTargetGroupArn: greenTg,
      productionListenerRule: advanced.productionListenerRule as string,
      testListenerRule: advanced.testListenerRule,
      productionWeight: 0,
      testWeight: 0,
      greenScaled: false,
      blueScaledDown: false,
      lifecycleHookDetails: [],
      circuitBreaker: {
        status: breaker?.enable ? 'MONITORING' : 'DISABLED',
        failureCount: 0,
        threshold: circuitBreakerThreshold(svc.desiredCount),
      },
      timers: [],
      hookFailures: [],
    };
    const lambdaStages = (config.lifecycleHooks ?? [])
      .filter((h) => (h.targetType ?? 'AWS_LAMBDA') === 'AWS_LAMBDA')
      .flatMap((h) => h.lifecycleStages ?? []);
    const failure = this.ctx.faults.takeLifecycleFailure(lambdaStages);
    if (failure) d.hookFailures.push({ stage: failure.hook, message: failure.message });
    this.state.serviceDeployments.push(d);
    this.ecs.event(
      svc,
      `(service ${svc.serviceName}) has started a ${strategy} service deployment (deployment ${green.id}).`,
    );
    this.schedule(d, this.ctx.timings.deploymentStart, () => this.start(d));
  }

  /** The ECS deployment that serves production traffic while `d` runs. */
  private productionDeployment(
    svc: ServiceRecord,
    d: ServiceDeploymentRecord,
  ): EcsDeploymentRecord | undefined {
    const id = d.productionWeight >= 100 ? d.greenDeploymentId : d.blueDeploymentId;
    return svc.deployments.find((dep) => dep.id === id);
  }

  /** The target group a deployment serves from: its revision's, else what the production rule forwards to most. */
  private servingTargetGroup(svc: ServiceRecord, deployment: EcsDeploymentRecord, pair: string[]): string {
    const known = this.state.serviceRevisions.find(
      (r) => r.ecsDeploymentId === deployment.id,
    )?.targetGroupArn;
    if (known) return known;
    const rule = svc.loadBalancers[0]?.advancedConfiguration?.productionListenerRule;
    const forward = rule ? this.forwardTargets(rule) : undefined;
    const heaviest = forward
      ?.filter((t) => pair.includes(t.TargetGroupArn ?? ''))
      .sort((a, b) => (b.Weight ?? 1) - (a.Weight ?? 1))[0]?.TargetGroupArn;
    return heaviest ?? (pair[0] as string);
  }

  /** A newer UpdateService replaces a running deployment: it stops, its traffic returns to what served before. */
  private supersede(svc: ServiceRecord, d: ServiceDeploymentRecord): void {
    this.cancelTimers(d);
    this.endHooks(d);
    this.waiting.delete(d.serviceDeploymentArn);
    if (d.productionWeight < 100) this.setWeights(d, 0, 0);
    d.status = 'STOPPED';
    d.statusReason = 'The service deployment was stopped because a newer service deployment started.';
    d.stoppedAt = this.now();
    d.finishedAt = d.stoppedAt;
    this.touch(d);
    this.ecs.event(
      svc,
      `(service ${svc.serviceName}) service deployment ${d.serviceDeploymentArn} was superseded.`,
    );
  }

  serviceDeleted(svc: ServiceRecord): void {
    const d = this.ongoing(svc);
    if (!d) return;
    this.cancelTimers(d);
    this.endHooks(d);
    this.waiting.delete(d.serviceDeploymentArn);
    d.status = 'STOPPED';
    d.statusReason = 'The service deployment was stopped because the service was deleted.';
    d.stoppedAt = this.now();
    d.finishedAt = d.stoppedAt;
    this.touch(d);
  }

  private start(d: ServiceDeploymentRecord): void {
    if (d.status !== 'PENDING') return;
    d.status = 'IN_PROGRESS';
    d.startedAt = this.now();
    this.enter(d, 0);
  }

  // ------------------------------------------------------------------ stages

  /** Stage `index` of STAGES begins. */
  private enter(d: ServiceDeploymentRecord, index: number): void {
    if (d.status !== 'IN_PROGRESS') return;
    const stage = STAGES[index];
    if (stage === undefined) return;
    d.lifecycleStage = stage === 'PRE_PRODUCTION_TRAFFIC_SHIFT' ? 'PRODUCTION_TRAFFIC_SHIFT' : stage;
    this.touch(d);
    const next = () => this.enter(d, index + 1);
    const thenHooks = () => this.runHooks(d, stage, next);
    switch (stage) {
      case 'RECONCILE_SERVICE':
        return this.reconcileService(d, thenHooks);
      case 'SCALE_UP':
        d.greenScaled = true;
        return this.waitForTasks(d, 'SCALE_UP', next);
      case 'TEST_TRAFFIC_SHIFT':
        return this.schedule(d, this.ctx.timings.trafficShift, () => {
          this.setWeights(d, d.productionWeight, 100);
          thenHooks();
        });
      case 'PRODUCTION_TRAFFIC_SHIFT':
        return this.shiftProduction(d, productionTrafficSteps(d.deploymentConfiguration), 0, thenHooks);
      case 'BAKE_TIME':
        return this.schedule(d, (d.deploymentConfiguration.bakeTimeInMinutes ?? 0) * MINUTE, next);
      case 'CLEAN_UP':
        d.blueScaledDown = true;
        return this.waitForTasks(d, 'CLEAN_UP', () => this.succeed(d));
      default:
        return thenHooks();
    }
  }

  /** Both target groups must be behind the listener rules, or nothing can move: the deployment rolls back. */
  private reconcileService(d: ServiceDeploymentRecord, next: () => void): void {
    for (const rule of [d.productionListenerRule, d.testListenerRule]) {
      if (rule === undefined) continue;
      const forward = this.forwardTargets(rule);
      if (forward === undefined) {
        return this.rollback(d, `The listener rule ${rule} was not found.`);
      }
      const arns = forward.map((t) => t.TargetGroupArn);
      if (!arns.includes(d.blueTargetGroupArn) || !arns.includes(d.greenTargetGroupArn)) {
        return this.rollback(
          d,
          'Both targetGroup and alternateTargetGroup must be associated with the productionListenerRule or testListenerRule',
        );
      }
    }
    this.setWeights(d, 0, 0);
    next();
  }

  private shiftProduction(
    d: ServiceDeploymentRecord,
    steps: ReturnType<typeof productionTrafficSteps>,
    index: number,
    done: () => void,
  ): void {
    const step = steps[index];
    if (!step) return done();
    this.schedule(d, this.ctx.timings.trafficShift, () => {
      this.setWeights(d, step.weight, d.testWeight);
      if (step.weight >= 100) return done();
      this.schedule(d, step.bakeMinutesAfter * MINUTE, () => this.shiftProduction(d, steps, index + 1, done));
    });
  }

  private waitForTasks(d: ServiceDeploymentRecord, what: Waiting, then: () => void): void {
    this.waiting.set(d.serviceDeploymentArn, what);
    this.waitThen.set(d.serviceDeploymentArn, then);
    const svc = this.serviceOf(d);
    if (svc) this.ecs.reconcile(svc);
  }

  private succeed(d: ServiceDeploymentRecord): void {
    const svc = this.serviceOf(d);
    const green = svc?.deployments.find((dep) => dep.id === d.greenDeploymentId);
    d.status = 'SUCCESSFUL';
    d.statusReason = undefined;
    d.finishedAt = this.now();
    if (d.circuitBreaker.status === 'MONITORING') d.circuitBreaker.status = 'MONITORING_COMPLETE';
    this.touch(d);
    if (svc && green) this.ecs.completeDeployment(svc, green);
  }

  // ------------------------------------------------------------------ hooks

  private runHooks(d: ServiceDeploymentRecord, stage: Stage, next: () => void): void {
    const hooks = (d.deploymentConfiguration.lifecycleHooks ?? []).filter((h) =>
      (h.lifecycleStages as string[] | undefined)?.includes(stage),
    );
    if (hooks.length === 0) return next();
    d.lifecycleHookDetails = [];
    const run = (i: number): void => {
      const hook = hooks[i];
      if (!hook) return next();
      this.runHook(d, stage, hook, () => run(i + 1));
    };
    run(0);
  }

  private runHook(
    d: ServiceDeploymentRecord,
    stage: Stage,
    hook: DeploymentLifecycleHook,
    next: () => void,
  ): void {
    const targetType = hook.targetType ?? 'AWS_LAMBDA';
    const timeout = { ...HOOK_TIMEOUT_DEFAULTS, ...hook.timeoutConfiguration };
    const exec: LifecycleHookExecutionRecord = {
      hookId: this.ctx.ids.hookId(targetType),
      targetType,
      targetArn: hook.hookTargetArn,
      stage,
      status: targetType === 'PAUSE' ? 'AWAITING_ACTION' : 'IN_PROGRESS',
      expiresAt: new Date(this.ctx.scheduler.now() + timeout.timeoutInMinutes * MINUTE),
      timeoutAction: timeout.action,
    };
    d.lifecycleHookDetails.push(exec);
    this.touch(d);
    this.continuations.set(exec.hookId, next);
    this.schedule(d, timeout.timeoutInMinutes * MINUTE, () => this.hookTimedOut(d, exec));
    if (targetType === 'AWS_LAMBDA') this.invokeLambda(d, exec, hook);
  }

  private invokeLambda(
    d: ServiceDeploymentRecord,
    exec: LifecycleHookExecutionRecord,
    hook: DeploymentLifecycleHook,
  ): void {
    const fn = hook.hookTargetArn as string;
    const injected = d.hookFailures.find((f) => f.stage === exec.stage);
    const settle = (failure: string | undefined) => {
      if (d.status !== 'IN_PROGRESS' || exec.status !== 'IN_PROGRESS') return;
      if (failure === undefined) return this.finishHook(d, exec, 'SUCCEEDED');
      exec.status = 'FAILED';
      this.continuations.delete(exec.hookId);
      this.rollback(
        d,
        `Service deployment rolled back because the lifecycle hook ${fn} failed at the ${exec.stage} lifecycle stage: ${failure}`,
      );
    };
    if (!injected && this.hookRunner?.handles(fn)) {
      const event = {
        deploymentId: d.serviceDeploymentArn,
        lifecycleEventHookExecutionId: exec.hookId,
        lifecycleEventName: exec.stage,
        payload: this.lambdaEvent(d, exec),
      };
      return this.hookRunner.invoke(fn, event, settle);
    }
    this.schedule(d, this.ctx.timings.hook, () =>
      settle(injected ? (injected.message ?? 'the function returned hookStatus FAILED.') : undefined),
    );
  }

  /** The event ECS passes a hook Lambda function. */
  private lambdaEvent(d: ServiceDeploymentRecord, exec: LifecycleHookExecutionRecord): unknown {
    const weights = (green: number) => ({
      [d.blueTargetGroupArn]: 100 - green,
      [d.greenTargetGroupArn]: green,
    });
    return {
      executionDetails: {
        testTrafficWeights: weights(d.testWeight),
        productionTrafficWeights: weights(d.productionWeight),
        serviceArn: d.serviceArn,
        targetServiceRevisionArn: d.targetRevisionArn,
      },
      executionId: exec.hookId,
      lifecycleStage: exec.stage,
      resourceArn: d.serviceDeploymentArn,
    };
  }

  private finishHook(
    d: ServiceDeploymentRecord,
    exec: LifecycleHookExecutionRecord,
    status: 'SUCCEEDED' | 'TIMED_OUT',
  ): void {
    exec.status = status;
    this.touch(d);
    const next = this.continuations.get(exec.hookId);
    this.continuations.delete(exec.hookId);
    next?.();
  }

  private hookTimedOut(d: ServiceDeploymentRecord, exec: LifecycleHookExecutionRecord): void {
    if (d.status !== 'IN_PROGRESS' || (exec.status !== 'IN_PROGRESS' && exec.status !== 'AWAITING_ACTION'))
      return;
    if (exec.timeoutAction === 'CONTINUE') return this.finishHook(d, exec, 'TIMED_OUT');
    exec.status = 'TIMED_OUT';
    this.continuations.delete(exec.hookId);
    this.rollback(
      d,
      `Service deployment rolled back because the ${exec.targetType} lifecycle hook ${exec.hookId} at the ${exec.stage} lifecycle stage timed out (timeoutConfiguration.action ROLLBACK).`,
    );
  }

  /** ContinueServiceDeployment: the API checked that the hook awaits action. */
  private continueHook(
    d: ServiceDeploymentRecord,
    exec: LifecycleHookExecutionRecord,
    action: 'CONTINUE' | 'ROLLBACK',
  ): void {
    if (action === 'CONTINUE') return this.finishHook(d, exec, 'SUCCEEDED');
    exec.status = 'FAILED';
    this.continuations.delete(exec.hookId);
    this.rollback(
      d,
      `Service deployment rolled back because ContinueServiceDeployment asked for ROLLBACK at the lifecycle hook ${exec.hookId} (${exec.stage}).`,
    );
  }

  /** Hooks still running when the deployment stops end without a result: FAILED. */
  private endHooks(d: ServiceDeploymentRecord): void {
    for (const exec of d.lifecycleHookDetails) {
      this.continuations.delete(exec.hookId);
      if (exec.status === 'IN_PROGRESS' || exec.status === 'AWAITING_ACTION') exec.status = 'FAILED';
    }
  }

  // ------------------------------------------------------------------ rollback

  /** StopServiceDeployment(ROLLBACK): the API checked that the deployment is PENDING or IN_PROGRESS. */
  private requestRollback(d: ServiceDeploymentRecord): void {
    this.cancelTimers(d);
    this.endHooks(d);
    this.waiting.delete(d.serviceDeploymentArn);
    d.status = 'ROLLBACK_REQUESTED';
    this.touch(d);
    this.schedule(d, this.ctx.timings.deploymentStart, () =>
      this.rollback(d, 'Service deployment rolled back because of a StopServiceDeployment request.'),
    );
  }

  /**
   * Traffic returns to the source revision, then the target revision's tasks stop. Without a
   * source revision (the service's first) there is nothing to return to: ROLLBACK_FAILED.
   */
  private rollback(d: ServiceDeploymentRecord, reason: string): void {
    this.cancelTimers(d);
    this.endHooks(d);
    this.waiting.delete(d.serviceDeploymentArn);
    const now = this.now();
    const svc = this.serviceOf(d);
    d.status = 'ROLLBACK_IN_PROGRESS';
    d.statusReason = reason;
    d.rollback = { reason, startedAt: now, serviceRevisionArn: d.sourceRevisionArn };
    if (d.circuitBreaker.status === 'MONITORING') d.circuitBreaker.status = 'MONITORING_COMPLETE';
    this.touch(d);
    const blue = svc?.deployments.find((dep) => dep.id === d.blueDeploymentId);
    const green = svc?.deployments.find((dep) => dep.id === d.greenDeploymentId);
    if (svc && green) {
      green.status = 'ACTIVE';
      green.rolloutState = 'FAILED';
      green.rolloutStateReason = reason;
      green.updatedAt = now;
      this.ecs.event(
        svc,
        `(service ${svc.serviceName}) (deployment ${green.id}) deployment failed: ${reason}`,
      );
    }
    if (!svc || !blue) {
      d.status = 'ROLLBACK_FAILED';
      d.statusReason = `${reason} The rollback failed: there is no earlier service revision to return to.`;
      d.finishedAt = now;
      return;
    }
    blue.status = 'PRIMARY';
    blue.updatedAt = now;
    svc.deployments = [blue, ...svc.deployments.filter((dep) => dep !== blue)];
    this.ecs.event(svc, `(service ${svc.serviceName}) rolling back to deployment ${blue.id}.`);
    const moved = d.productionWeight > 0 || d.testWeight > 0;
    this.schedule(d, moved ? this.ctx.timings.trafficShift : 0, () => {
      this.setWeights(d, 0, 0);
      d.greenScaled = false;
      d.blueScaledDown = false;
      this.waitForTasks(d, 'ROLLBACK', () => this.rolledBack(d));
    });
  }

  private rolledBack(d: ServiceDeploymentRecord): void {
    d.status = 'ROLLBACK_SUCCESSFUL';
    d.finishedAt = this.now();
    this.touch(d);
    const svc = this.serviceOf(d);
    const blue = svc?.deployments.find((dep) => dep.id === d.blueDeploymentId);
    if (svc && blue) {
      svc.deployments = [blue];
      blue.rolloutState = 'COMPLETED';
    }
  }

  // ------------------------------------------------------------------ the service scheduler's part

  /** How many tasks the source or target revision is meant to run now. */
  private requestedTasks(d: ServiceDeploymentRecord, which: 'blue' | 'green'): number {
    const svc = this.serviceOf(d);
    if (!svc || !ONGOING.has(d.status)) {
      if (!svc) return 0;
      const serving = d.status === 'SUCCESSFUL' ? d.greenDeploymentId : d.blueDeploymentId;
      const id = which === 'blue' ? d.blueDeploymentId : d.greenDeploymentId;
      return id === serving && svc.deployments.some((dep) => dep.id === id) ? svc.desiredCount : 0;
    }
    if (which === 'green') return d.greenScaled ? svc.desiredCount : 0;
    return d.blueScaledDown ? 0 : svc.desiredCount;
  }

  reconcile(svc: ServiceRecord): boolean {
    const d = this.ongoing(svc);
    if (!d) return false;
    const reason = `Scaling activity initiated by (service deployment ${d.serviceDeploymentArn})`;
    for (const dep of [...svc.deployments]) {
      const target =
        dep.id === d.blueDeploymentId
          ? this.requestedTasks(d, 'blue')
          : dep.id === d.greenDeploymentId
            ? this.requestedTasks(d, 'green')
            : 0;
      this.ecs.scaleDeployment(svc, dep, target, reason);
    }
    const live = this.ecs.liveTasks(svc);
    svc.deployments = svc.deployments.filter(
      (dep) =>
        dep.id === d.blueDeploymentId ||
        dep.id === d.greenDeploymentId ||
        live.some((t) => t.ownerId === dep.id),
    );
    this.checkWaiting(svc, d);
    return true;
  }

  /** Whether what a deployment waits for has happened; it resumes from the event queue, not from inside reconcile. */
  private checkWaiting(svc: ServiceRecord, d: ServiceDeploymentRecord): void {
    const what = this.waiting.get(d.serviceDeploymentArn);
    if (what === undefined) return;
    const live = this.ecs.liveTasks(svc);
    const of = (id: string | undefined) => live.filter((t) => t.ownerId === id);
    const green = of(d.greenDeploymentId);
    const done =
      what === 'SCALE_UP'
        ? green.length === svc.desiredCount &&
          green.every((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING')
        : of(what === 'CLEAN_UP' ? d.blueDeploymentId : d.greenDeploymentId).length === 0;
    if (!done) return;
    this.waiting.delete(d.serviceDeploymentArn);
    const then = this.waitThen.get(d.serviceDeploymentArn);
    this.waitThen.delete(d.serviceDeploymentArn);
    if (then) this.schedule(d, 0, then);
  }

  taskFailed(svc: ServiceRecord, deployment: EcsDeploymentRecord): boolean {
    const d = this.ongoing(svc);
    if (!d || (deployment.id !== d.greenDeploymentId && deployment.id !== d.blueDeploymentId)) return false;
    // Once the breaker is no longer watching (tripped, or the deployment ended) the count stands.
    if (deployment.id !== d.greenDeploymentId || d.circuitBreaker.status !== 'MONITORING') return true;
    d.circuitBreaker.failureCount = deployment.failedTasks;
    this.touch(d);
    if (
      d.status === 'IN_PROGRESS' &&
      d.circuitBreaker.status === 'MONITORING' &&
      d.circuitBreaker.failureCount >= d.circuitBreaker.threshold
    ) {
      d.circuitBreaker.status = 'TRIGGERED';
      this.rollback(
        d,
        `Service deployment rolled back because the circuit breaker threshold was exceeded: ${d.circuitBreaker.failureCount} tasks failed to start.`,
      );
    }
    return true;
  }

  // ------------------------------------------------------------------ listener rules

  /** The weighted target groups a listener rule (or an NLB listener's default rule) forwards to. */
  private forwardTargets(ruleOrListener: string): { TargetGroupArn?: string; Weight?: number }[] | undefined {
    const record =
      this.elbv2.rules.get(ruleOrListener) ??
      [...this.elbv2.rules.values()].find((r) => r.listenerArn === ruleOrListener && r.rule.IsDefault);
    if (!record) return undefined;
    return (record.rule.Actions ?? []).flatMap((a) =>
      a.Type !== 'forward'
        ? []
        : (a.ForwardConfig?.TargetGroups ??
          (a.TargetGroupArn ? [{ TargetGroupArn: a.TargetGroupArn, Weight: 1 }] : [])),
    );
  }

  /** Green's share of production and test traffic, written to the listener rules' forward weights. */
  private setWeights(d: ServiceDeploymentRecord, production: number, test: number): void {
    d.productionWeight = production;
    d.testWeight = test;
    this.touch(d);
    this.writeRule(d, d.productionListenerRule, production);
    if (d.testListenerRule) this.writeRule(d, d.testListenerRule, test);
  }

  private writeRule(d: ServiceDeploymentRecord, ruleOrListener: string, greenPercent: number): void {
    const targets = this.forwardTargets(ruleOrListener);
    if (!targets) return;
    const weights = ruleWeights(greenPercent);
    for (const t of targets) {
      if (t.TargetGroupArn === d.blueTargetGroupArn) t.Weight = weights.blue;
      else if (t.TargetGroupArn === d.greenTargetGroupArn) t.Weight = weights.green;
    }
  }
}

/**
 * A deployment's stages, in order; hooks run at those that HOOK_STAGES names. The model's
 * ServiceDeploymentLifecycleStage has no PRE_PRODUCTION_TRAFFIC_SHIFT (it is a hook stage
 * only): while its hooks run, the deployment reports PRODUCTION_TRAFFIC_SHIFT, traffic unmoved.
 */
type Stage = ServiceDeploymentLifecycleStage | 'PRE_PRODUCTION_TRAFFIC_SHIFT';
const STAGES: readonly Stage[] = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP',
];
