/**
 * Fault injection. Request faults are keyed by operation name (`DescribeServices`, or `*` for
 * every operation) and consumed one per matching call; behaviour faults change what the
 * emulated services do (a lifecycle hook fails, tasks of a family crash).
 */
import { HOOK_STAGES } from './ecs-native-config.js';

export type LifecycleHook =
  'BeforeInstall' | 'AfterInstall' | 'AfterAllowTestTraffic' | 'BeforeAllowTraffic' | 'AfterAllowTraffic';

export const LIFECYCLE_HOOKS: readonly LifecycleHook[] = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
];

export interface Faults {
  /** The next `count` calls of `operation` get HTTP 400 `ThrottlingException` "Rate exceeded". */
  throttle(operation: string, count: number): void;
  /** The next `count` calls get a server error: 500 `InternalFailure`, or 503 (and other 5xx) `ServiceUnavailable`. */
  serverError(operation: string, count: number, status?: number): void;
  /**
   * The next `count` calls are refused as signed with an expired session: 400
   * `ExpiredTokenException` "The security token included in the request is expired", as when a
   * role session ends during a long wait.
   */
  expireToken(operation: string, count: number): void;
  /** The next `count` calls are not processed: the connection is destroyed without a response. */
  dropConnection(operation: string, count: number): void;
  /**
   * The next `count` calls are processed, then the connection is destroyed without a response:
   * the change happened, and the client never learns it (it retries, or gives up).
   */
  loseAnswer(operation: string, count: number): void;
  /** Delays the response of the next `count` calls (all calls when omitted) by `ms` real milliseconds. */
  latency(operation: string, ms: number, count?: number): void;
  /**
   * The next CodeDeploy deployment whose AppSpec names `hook` fails at that lifecycle event; or,
   * given an ECS lifecycle stage (`POST_SCALE_UP`, …), the next ECS-native service deployment
   * with an AWS_LAMBDA hook at that stage: the hook reports FAILED.
   */
  failLifecycleEvent(hook: LifecycleHook | EcsHookStage, message?: string): void;
  /**
   * Tasks launched from now on stop before reaching RUNNING, with stopCode
   * EssentialContainerExited and exit code 1. `family` crashes every revision of the family
   * except those that have already run successfully (a COMPLETED deployment or a steady PRIMARY
   * task set): the new image is broken, the last good one still works, so a rollback recovers.
   * `family:revision` crashes exactly that revision, proven or not.
   */
  crashTasks(taskDefinitionFamily: string, reason?: string): void;
  clear(): void;
}

/** ECS-native lifecycle hook stages (DeploymentLifecycleHookStage). */
export type EcsHookStage = (typeof HOOK_STAGES)[number];

export type RequestFault =
  | { kind: 'throttle' }
  | { kind: 'serverError'; status: number }
  | { kind: 'drop' }
  | { kind: 'loseAnswer' }
  | { kind: 'expiredToken' };

interface Counted<T> {
  operation: string;
  remaining: number;
  fault: T;
}

const DEFAULT_CRASH_REASON = 'Essential container in task exited';

function checkCount(what: string, count: number): void {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`faults.${what}: count must be a positive integer, got ${count}`);
}

export class FaultInjector implements Faults {
  private requestFaults: Counted<RequestFault>[] = [];
  private latencies: Counted<number>[] = [];
  private lifecycleFailures: { hook: LifecycleHook | EcsHookStage; message: string | undefined }[] = [];
  private crashingFamilies = new Map<string, string>();

  throttle(operation: string, count: number): void {
    checkCount('throttle', count);
    this.requestFaults.push({ operation, remaining: count, fault: { kind: 'throttle' } });
  }

  serverError(operation: string, count: number, status = 500): void {
    checkCount('serverError', count);
    if (!Number.isInteger(status) || status < 500 || status > 599) {
      throw new RangeError(`faults.serverError: status must be a 5xx HTTP status, got ${status}`);
    }
    this.requestFaults.push({ operation, remaining: count, fault: { kind: 'serverError', status } });
  }

  expireToken(operation: string, count: number): void {
    checkCount('expireToken', count);
    this.requestFaults.push({ operation, remaining: count, fault: { kind: 'expiredToken' } });
  }

  dropConnection(operation: string, count: number): void {
    checkCount('dropConnection', count);
    this.requestFaults.push({ operation, remaining: count, fault: { kind: 'drop' } });
  }

  loseAnswer(operation: string, count: number): void {
    checkCount('loseAnswer', count);
    this.requestFaults.push({ operation, remaining: count, fault: { kind: 'loseAnswer' } });
  }

  latency(operation: string, ms: number, count?: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms))
      throw new RangeError(`faults.latency: ms must be a non-negative number, got ${ms}`);
    if (count !== undefined) checkCount('latency', count);
    this.latencies.push({ operation, remaining: count ?? Infinity, fault: ms });
  }

  failLifecycleEvent(hook: LifecycleHook | EcsHookStage, message?: string): void {
    if (!LIFECYCLE_HOOKS.includes(hook as LifecycleHook) && !HOOK_STAGES.includes(hook as EcsHookStage)) {
      throw new RangeError(
        `faults.failLifecycleEvent: '${hook}' is not an ECS lifecycle hook (CodeDeploy: ${LIFECYCLE_HOOKS.join(', ')}; ECS-native stages: ${HOOK_STAGES.join(', ')})`,
      );
    }
    this.lifecycleFailures.push({ hook, message });
  }

  crashTasks(taskDefinitionFamily: string, reason = DEFAULT_CRASH_REASON): void {
    this.crashingFamilies.set(taskDefinitionFamily, reason);
  }

  clear(): void {
    this.requestFaults = [];
    this.latencies = [];
    this.lifecycleFailures = [];
    this.crashingFamilies.clear();
  }

  /** Consumes and returns the request fault for this call, if any. */
  takeRequestFault(operation: string): RequestFault | undefined {
    return take(this.requestFaults, operation);
  }

  /** Consumes and returns the delay for this call in ms (0 when none). */
  takeLatency(operation: string): number {
    return take(this.latencies, operation) ?? 0;
  }

  /**
   * For a deployment that runs these hooks: the first pending hook failure it would hit, taken
   * off the list so it affects only this deployment.
   */
  takeLifecycleFailure(
    hooks: Iterable<string>,
  ): { hook: LifecycleHook | EcsHookStage; message: string | undefined } | undefined {
    const names = new Set(hooks);
    const index = this.lifecycleFailures.findIndex((f) => names.has(f.hook));
    if (index < 0) return undefined;
    return this.lifecycleFailures.splice(index, 1)[0];
  }

  /** Why a task of this revision crashes, if it does; `proven`: the revision has already run successfully. */
  crashReason(family: string, revision: number, proven: boolean): string | undefined {
    return (
      this.crashingFamilies.get(`${family}:${revision}`) ??
      (proven ? undefined : this.crashingFamilies.get(family))
    );
  }
}

function take<T>(list: Counted<T>[], operation: string): T | undefined {
  const index = list.findIndex((f) => f.operation === operation || f.operation === '*');
  if (index < 0) return undefined;
  const entry = list[index] as Counted<T>;
  entry.remaining -= 1;
  if (entry.remaining <= 0) list.splice(index, 1);
  return entry.fault;
}
