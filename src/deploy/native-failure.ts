/**
 * A failed ECS-native service deployment, read as its user reads it: which kind of failure
 * (a lifecycle hook, the circuit breaker, alarms, a stop, the timeout), the cause in one
 * sentence, the detail lines (pure); then, with explain.ts's calls, ECS's rollback (in the same
 * service deployment) followed to its end, the stopped tasks of our revision and what
 * production serves after it: the `Failure` the watch hands back.
 */
import type { DeploymentLifecycleHookDetail, ECSClient, ServiceDeployment } from '@aws-sdk/client-ecs';
import { oneLine } from '../safe-text.js';
import {
  buildFailure,
  followNativeRollback,
  type FollowOptions,
  nativeRollbackStatus,
  readFindings,
} from './explain.js';
import { type Failure, type FailureKind, hookCause } from './failure.js';
import { revisionTaskDefinition, shortArn } from './native.js';

/** The lifecycle stage each hook was first seen at, by hook id: the API's hook detail does not name it. */
export type HookStages = ReadonlyMap<string, string>;

/** The hook that ended the deployment: FAILED or TIMED_OUT. */
export function failedHook(d: ServiceDeployment): DeploymentLifecycleHookDetail | undefined {
  return (d.lifecycleHookDetails ?? []).find((h) => h.status === 'FAILED' || h.status === 'TIMED_OUT');
}

const stoppedByRequest = (d: ServiceDeployment) => /StopServiceDeployment/i.test(d.statusReason ?? '');
const replaced = (d: ServiceDeployment) =>
  d.status === 'STOPPED' && /newer service deployment|superseded/i.test(d.statusReason ?? '');

/**
 * Why it failed, most specific first. A stop request ends the hooks that were running as FAILED
 * too, so it is told apart before a failed hook is believed.
 */
export function nativeFailureKind(d: ServiceDeployment, end: 'ended' | 'timeout'): FailureKind {
  if (end === 'timeout') return 'timeout';
  if (d.deploymentCircuitBreaker?.status === 'TRIGGERED') return 'circuit-breaker';
  if ((d.alarms?.triggeredAlarmNames ?? []).length > 0) return 'alarm';
  if (replaced(d)) return 'replaced';
  if (stoppedByRequest(d) || d.status === 'STOPPED') return 'stopped';
  if (failedHook(d)) return 'hook';
  return 'other';
}

/** The stage a hook ran at: as the watch saw it, else the one stage its configuration names, else ECS's reason. */
export function hookStage(d: ServiceDeployment, h: DeploymentLifecycleHookDetail, seen: HookStages): string {
  const watched = seen.get(h.hookId ?? '');
  if (watched) return watched;
  const configured = (d.deploymentConfiguration?.lifecycleHooks ?? []).filter((c) =>
    h.targetType === 'PAUSE' ? c.targetType === 'PAUSE' : c.hookTargetArn === h.targetArn,
  );
  const stages = configured.flatMap((c) => c.lifecycleStages ?? []);
  if (configured.length === 1 && stages.length === 1) return stages[0] as string;
  const said = /at the (\w+) lifecycle stage/.exec(d.statusReason ?? '')?.[1];
  return said ?? d.lifecycleStage ?? 'an unknown stage';
}

/** The Lambda function's name from its ARN (arn:aws:lambda:…:function:NAME[:qualifier]). */
export function lambdaName(arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined;
  return /:function:([^:]+)/.exec(arn)?.[1] ?? arn;
}

/** The hook's own words out of ECS's status reason, without the preamble that names the hook again. */
export function nativeHookMessage(reason: string | undefined): string {
  const text = oneLine(reason ?? '');
  const own = /failed at the \w+ lifecycle stage:\s*(.+)$/.exec(text)?.[1];
  if (own) return own;
  return text.replace(/^Service deployment rolled back because\s*/i, '') || 'the function reported FAILED';
}

function hookSentence(d: ServiceDeployment, h: DeploymentLifecycleHookDetail, seen: HookStages): string {
  const stage = hookStage(d, h, seen);
  if (h.targetType === 'PAUSE') {
    return h.status === 'TIMED_OUT'
      ? `The PAUSE hook at ${stage} was not continued before it timed out, so ECS rolled the deployment back`
      : `The PAUSE hook at ${stage} was answered with ROLLBACK (ContinueServiceDeployment)`;
  }
  const fn = lambdaName(h.targetArn);
  if (h.status === 'TIMED_OUT') {
    return `The ${stage} hook ${fn ?? ''} did not answer before its timeout, so ECS rolled the deployment back`;
  }
  return hookCause(stage, fn, nativeHookMessage(d.statusReason ?? d.rollback?.reason));
}

/**
 * The cause in one sentence, or undefined where the stopped tasks say it better (the breaker,
 * an unexplained rollback); `fallback` is said when no task stopped.
 */
export function nativeCause(
  d: ServiceDeployment,
  kind: FailureKind,
  seen: HookStages,
  message: string,
): { cause?: string; fallback: string } {
  const id = shortArn(d.serviceDeploymentArn ?? '');
  const reason = oneLine(d.statusReason ?? d.rollback?.reason ?? 'ECS gave no reason');
  const cb = d.deploymentCircuitBreaker;
  const hook = failedHook(d);
  switch (kind) {
    case 'timeout':
      return { cause: message, fallback: message };
    case 'hook':
      return { cause: hook ? hookSentence(d, hook, seen) : undefined, fallback: message };
    case 'alarm': {
      const names = (d.alarms?.triggeredAlarmNames ?? []).map(oneLine);
      const cause = `The CloudWatch alarm${names.length === 1 ? '' : 's'} ${names.join(', ')} went into ALARM during the deployment, so ECS rolled it back`;
      return { cause, fallback: cause };
    }
    case 'circuit-breaker':
      return {
        fallback: `The circuit breaker rolled the deployment back after ${cb?.failureCount ?? '?'} tasks failed to start (threshold ${cb?.threshold ?? '?'})`,
      };
    case 'replaced': {
      const cause = `ECS service deployment ${id} was replaced by a newer one before it finished (another deployment of this service started; a \`concurrency:\` group in the workflow keeps runs apart)`;
      return { cause, fallback: cause };
    }
    case 'stopped': {
      const cause = stoppedByRequest(d)
        ? `ECS service deployment ${id} was stopped with rollback by a StopServiceDeployment request from outside this run (a rollback run, the console or the CLI)`
        : `ECS service deployment ${id} was stopped: ${reason}`;
      return { cause, fallback: cause };
    }
    default:
      return {
        fallback:
          d.status === 'ROLLBACK_FAILED'
            ? `ECS service deployment ${id} failed and so did its rollback: ${reason}`
            : `ECS rolled service deployment ${id} back: ${reason}`,
      };
  }
}

/** The supporting detail: status and stage, ECS's reason, failed hooks, the breaker, alarms. */
export function nativeDetails(d: ServiceDeployment, seen: HookStages): string[] {
  const stage = d.lifecycleStage ? ` (last stage ${d.lifecycleStage})` : '';
  const lines = [
    `service deployment ${shortArn(d.serviceDeploymentArn ?? '')}: ${d.status ?? 'UNKNOWN'}${stage}`,
  ];
  if (d.statusReason) lines.push(`reason: ${oneLine(d.statusReason)}`);
  if (d.rollback?.reason && d.rollback.reason !== d.statusReason)
    lines.push(`rollback: ${oneLine(d.rollback.reason)}`);
  for (const h of d.lifecycleHookDetails ?? []) {
    if (h.status !== 'FAILED' && h.status !== 'TIMED_OUT') continue;
    const what = h.targetType === 'PAUSE' ? 'PAUSE hook' : `Lambda function ${oneLine(h.targetArn ?? '?')}`;
    lines.push(
      `${h.status === 'FAILED' ? 'failed' : 'timed-out'} hook: ${what} at ${hookStage(d, h, seen)} (hook ${oneLine(h.hookId ?? '?')})`,
    );
  }
  const cb = d.deploymentCircuitBreaker;
  if (cb?.failureCount)
    lines.push(
      `circuit breaker ${cb.status ?? '?'}: ${cb.failureCount} tasks failed, threshold ${cb.threshold ?? '?'}`,
    );
  const alarms = d.alarms?.triggeredAlarmNames ?? [];
  if (alarms.length > 0) lines.push(`alarms in ALARM: ${alarms.map(oneLine).join(', ')}`);
  return lines;
}

/** The task definitions of the deployment's revisions: what it deployed, what served before, what it rolls back to. */
export interface NativeRevisions {
  target?: string;
  source?: string;
  rollbackTo?: string;
}

/**
 * What production serves, from the service deployment itself: during a blue/green deployment
 * both revisions run and the service's PRIMARY deployment is the new one before any traffic
 * moved. Undefined where only the service can tell (STOPPED); `{}` when nobody can (a failed
 * rollback, traffic split between the two).
 */
export function nativeProduction(
  d: ServiceDeployment,
  r: NativeRevisions,
): { taskDefinitionArn?: string } | undefined {
  switch (d.status) {
    case 'ROLLBACK_SUCCESSFUL':
      return { taskDefinitionArn: r.rollbackTo ?? r.source };
    case 'SUCCESSFUL':
      return { taskDefinitionArn: r.target };
    case 'ROLLBACK_FAILED':
      return {};
    case 'STOPPED':
      return undefined;
  }
  const weight = d.targetServiceRevision?.requestedProductionTrafficWeight ?? 0;
  if (weight <= 0) return { taskDefinitionArn: r.source };
  return weight >= 100 ? { taskDefinitionArn: r.target } : {};
}

async function revisions(ecs: ECSClient, d: ServiceDeployment): Promise<NativeRevisions> {
  const read = async (arn: string | undefined) => {
    if (arn === undefined) return undefined;
    try {
      return await revisionTaskDefinition(ecs, arn);
    } catch {
      return undefined;
    }
  };
  const source = await read(d.sourceServiceRevisions?.[0]?.arn);
  const back = d.rollback?.serviceRevisionArn;
  return {
    target: await read(d.targetServiceRevision?.arn),
    source,
    rollbackTo: back === undefined || back === d.sourceServiceRevisions?.[0]?.arn ? source : await read(back),
  };
}

export interface NativeExplainQuery {
  cluster: string;
  service: string;
  /** The deployment as the watch last saw it. */
  last: ServiceDeployment;
  /** 'timeout': the wait ran out (and `rollbackRequested` says whether we stopped it with rollback). */
  end: 'ended' | 'timeout';
  message: string;
  rollbackRequested: boolean;
  hookStages: HookStages;
  /** What the start knew: the task definitions deployed and served before, when the revisions cannot be read. */
  taskDefinitionArn?: string;
  previousTaskDefinitionArn?: string;
  since: Date;
  follow: FollowOptions;
}

/** The Failure of an ECS-native deployment: its rollback followed to its end, the stopped tasks, production now. */
export async function explainNative(
  ecs: ECSClient,
  q: NativeExplainQuery,
): Promise<{ details: string[]; failure: Failure }> {
  const rollingBack = nativeRollbackStatus(q.last) !== undefined || q.rollbackRequested;
  const d = rollingBack ? await followNativeRollback(ecs, q.last, q.follow) : q.last;
  const kind = nativeFailureKind(d, q.end);
  const revs = await revisions(ecs, d);
  const deployed = revs.target ?? q.taskDefinitionArn;
  const previous = revs.source ?? q.previousTaskDefinitionArn;
  const findings = await readFindings(ecs, {
    cluster: q.cluster,
    service: q.service,
    since: d.createdAt ?? q.since,
    taskDefinitionArn: deployed,
    signal: q.follow.signal,
  });
  const status = nativeRollbackStatus(d);
  const rollback = status && {
    by: kind === 'circuit-breaker' ? "the circuit breaker's rollback" : 'the rollback',
    id: d.serviceDeploymentArn,
    status,
    taskDefinitionArn: revs.rollbackTo ?? previous,
  };
  const failure = await buildFailure(ecs, {
    kind,
    ...nativeCause(d, kind, q.hookStages, q.message),
    findings,
    deployed,
    previous,
    rollback,
    production: nativeProduction(d, { ...revs, source: previous, target: deployed }),
    target: { cluster: q.cluster, service: q.service, signal: q.follow.signal },
  });
  // ECS repeats the deployment's reason as a service event: said once is enough.
  const reason = d.statusReason;
  const events = findings.lines.filter(
    (l) => !(reason && l.startsWith('service event ') && l.includes(reason)),
  );
  return { details: [...nativeDetails(d, q.hookStages), ...events], failure };
}
