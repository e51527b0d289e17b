/**
 * ECS-native blue/green, linear and canary deployments (deploymentController ECS with
 * deploymentConfiguration.strategy BLUE_GREEN | LINEAR | CANARY): what a service deployment
 * says (pure: progress lines, verdicts, the reason of a failure) and the calls that find,
 * stop and continue one. The strategy module (strategies/ecs-native.ts) puts them together.
 */
import {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  ListServiceDeploymentsCommand,
  StopServiceDeploymentCommand,
  type DeploymentLifecycleHookDetail,
  type ECSClient,
  type ServiceDeployment,
  type ServiceDeploymentBrief,
} from '@aws-sdk/client-ecs';
import { oneLine } from '../safe-text.js';

/** The strategies ECS runs itself (anything but ROLLING). */
export const NATIVE_STRATEGIES = ['BLUE_GREEN', 'LINEAR', 'CANARY'] as const;

export function isNativeStrategy(strategy: string | undefined): boolean {
  return (NATIVE_STRATEGIES as readonly string[]).includes(strategy ?? '');
}

/** The lifecycle stages a service deployment reports, in the order it passes them. */
export const LIFECYCLE_STAGES = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP',
] as const;

export const FINAL_STATUSES = ['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'];
export const ONGOING_STATUSES = [
  'PENDING',
  'IN_PROGRESS',
  'STOP_REQUESTED',
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
];

export function isFinal(d: ServiceDeployment): boolean {
  return FINAL_STATUSES.includes(d.status ?? '');
}

/** The last part of a service deployment ARN, short enough for a log line. */
export function shortArn(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function pct(n: number | undefined): string {
  return `${Number((n ?? 0).toFixed(1))}%`;
}

/** `traffic: green 30% / blue 70%` from the target revision's requested weights. */
export function trafficLine(d: ServiceDeployment, kind: 'production' | 'test'): string | undefined {
  const t = d.targetServiceRevision;
  const green = kind === 'production' ? t?.requestedProductionTrafficWeight : t?.requestedTestTrafficWeight;
  if (green === undefined) return undefined;
  const label = kind === 'production' ? 'traffic' : 'test traffic';
  return `${label}: green ${pct(green)} / blue ${pct(100 - green)}`;
}

export function hookLine(h: DeploymentLifecycleHookDetail, stage: string | undefined): string {
  const what = h.targetType === 'PAUSE' ? 'PAUSE hook' : `Lambda hook ${oneLine(h.targetArn ?? '')}`;
  const expires = h.status === 'AWAITING_ACTION' || h.status === 'IN_PROGRESS';
  const until =
    expires && h.expiresAt
      ? ` (until ${h.expiresAt.toISOString()}, then ${h.timeoutAction ?? 'ROLLBACK'})`
      : '';
  return `hook ${what} ${oneLine(h.hookId ?? '')} at ${stage ?? 'an unknown stage'}: ${h.status ?? 'UNKNOWN'}${until}`;
}

/** Every line a poll of the deployment may print, by key: a key prints again only when its line changes. */
export function progressLines(d: ServiceDeployment): [string, string][] {
  const lines: [string, string][] = [
    ['status', `service deployment ${shortArn(d.serviceDeploymentArn ?? '')}: ${d.status ?? 'UNKNOWN'}`],
  ];
  if (d.lifecycleStage) lines.push(['stage', `stage: ${d.lifecycleStage}`]);
  for (const kind of ['test', 'production'] as const) {
    const line = trafficLine(d, kind);
    if (line) lines.push([kind, line]);
  }
  for (const h of d.lifecycleHookDetails ?? [])
    lines.push([`hook:${h.hookId}`, hookLine(h, d.lifecycleStage)]);
  const cb = d.deploymentCircuitBreaker;
  if (cb?.failureCount) {
    lines.push([
      'breaker',
      `circuit breaker: ${cb.failureCount}/${cb.threshold ?? '?'} failed tasks (${cb.status})`,
    ]);
  }
  return lines;
}

/** Whether the deployment reached `stage` (or a later one) and is still going forward. */
export function reachedStage(d: ServiceDeployment, stage: string): boolean {
  if (d.status === 'SUCCESSFUL') return true;
  if (d.status !== 'IN_PROGRESS' || !d.lifecycleStage) return false;
  const order = LIFECYCLE_STAGES as readonly string[];
  return order.indexOf(d.lifecycleStage) >= order.indexOf(stage) && order.includes(stage);
}

/** Why a deployment failed, in one sentence: status reason, failed hook, breaker, alarms, rollback. */
export function failureReason(d: ServiceDeployment): string {
  const parts: string[] = [];
  if (d.statusReason) parts.push(oneLine(d.statusReason));
  for (const h of d.lifecycleHookDetails ?? []) {
    if (h.status === 'FAILED' || h.status === 'TIMED_OUT') parts.push(hookLine(h, d.lifecycleStage));
  }
  const cb = d.deploymentCircuitBreaker;
  if (cb?.status === 'TRIGGERED') {
    parts.push(
      `the circuit breaker triggered after ${cb.failureCount ?? '?'} failed tasks (threshold ${cb.threshold ?? '?'})`,
    );
  }
  const alarms = d.alarms?.triggeredAlarmNames ?? [];
  if (alarms.length > 0) parts.push(`alarms in ALARM: ${alarms.map(oneLine).join(', ')}`);
  if (d.rollback?.reason && d.rollback.reason !== d.statusReason) {
    parts.push(`rollback: ${oneLine(d.rollback.reason)}`);
  }
  return parts.length > 0 ? parts.join('; ') : 'ECS gave no reason';
}

export type NativeVerdict =
  | { outcome: 'succeeded'; message: string; early: boolean }
  | { outcome: 'failed' | 'stopped'; message: string };

/**
 * The verdict on our service deployment, or undefined while it goes on. Success only when it
 * is SUCCESSFUL, or (wait-until a stage) once it has reached that stage going forward.
 */
export function nativeVerdict(d: ServiceDeployment, waitUntil: string): NativeVerdict | undefined {
  const name = `ECS service deployment ${d.serviceDeploymentArn ?? ''}`;
  switch (d.status) {
    case 'SUCCESSFUL':
      return { outcome: 'succeeded', message: `${name} succeeded.`, early: false };
    case 'ROLLBACK_SUCCESSFUL':
      return { outcome: 'failed', message: `${name} failed and was rolled back: ${failureReason(d)}.` };
    case 'ROLLBACK_FAILED':
      return {
        outcome: 'failed',
        message: `${name} failed and its rollback failed too: ${failureReason(d)}. Check the service in the ECS console.`,
      };
    case 'STOPPED':
      return { outcome: 'stopped', message: `${name} was stopped: ${failureReason(d)}.` };
  }
  if (waitUntil !== 'complete' && reachedStage(d, waitUntil)) {
    return { outcome: 'succeeded', message: goesOnMessage(d, waitUntil), early: true };
  }
  return undefined;
}

/** What a run that stops waiting early says: it goes on in AWS, and how to follow it. */
export function goesOnMessage(d: ServiceDeployment, waitUntil: string): string {
  const arn = d.serviceDeploymentArn ?? '';
  return `ECS service deployment ${arn} reached ${d.lifecycleStage ?? waitUntil} (wait-until: ${waitUntil}); the run stops waiting here, and the deployment goes on in AWS (not stopped by this job). Follow it with: aws ecs describe-service-deployments --service-deployment-arns ${arn}`;
}

/** The PAUSE hooks of the deployment waiting for ContinueServiceDeployment. */
export function awaitingHooks(d: ServiceDeployment): DeploymentLifecycleHookDetail[] {
  return (d.lifecycleHookDetails ?? []).filter(
    (h) => h.targetType === 'PAUSE' && h.status === 'AWAITING_ACTION',
  );
}

/** What a deployment waiting at a PAUSE hook waits for, and the exact way to continue it. */
export function pausedGuidance(
  d: ServiceDeployment,
  h: DeploymentLifecycleHookDetail,
  target: { cluster: string; service: string; region: string },
): string[] {
  const expires = h.expiresAt
    ? `${h.expiresAt.toISOString()} (then ${h.timeoutAction ?? 'ROLLBACK'})`
    : 'its timeout';
  return [
    `ECS service deployment ${d.serviceDeploymentArn ?? ''} waits at a PAUSE hook (${h.hookId ?? ''}, stage ${d.lifecycleStage ?? '?'}) for someone to continue or roll it back, until ${expires}.`,
    'To continue it from GitHub, run this action again (e.g. in a job gated by an environment with required reviewers):',
    '  - uses: <this action>',
    '    with:',
    `      cluster: ${target.cluster}`,
    `      service: ${target.service}`,
    '      paused-hook: continue   # or: rollback',
    `Or: aws ecs continue-service-deployment --region ${target.region} --service-deployment-arn ${d.serviceDeploymentArn ?? ''} --hook-id ${h.hookId ?? ''} --action CONTINUE`,
  ];
}

// ---------------------------------------------------------------------------------------
// The calls

export async function describeServiceDeployment(
  ecs: ECSClient,
  arn: string,
  signal?: AbortSignal,
): Promise<ServiceDeployment | undefined> {
  const out = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }), {
    abortSignal: signal,
  });
  return out.serviceDeployments?.[0];
}

/** The service's deployments, newest first, optionally created after a time or in given statuses. */
export async function listServiceDeployments(
  ecs: ECSClient,
  q: { cluster: string; service: string; after?: Date; status?: string[] },
): Promise<ServiceDeploymentBrief[]> {
  const out = await ecs.send(
    new ListServiceDeploymentsCommand({
      cluster: q.cluster,
      service: q.service,
      ...(q.after && { createdAt: { after: q.after } }),
      ...(q.status && { status: q.status as never }),
    }),
  );
  return [...(out.serviceDeployments ?? [])].sort(
    (a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0),
  );
}

/** The task definition a service revision runs. */
export async function revisionTaskDefinition(
  ecs: ECSClient,
  revisionArn: string,
): Promise<string | undefined> {
  const out = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [revisionArn] }));
  return out.serviceRevisions?.[0]?.taskDefinition;
}

/**
 * The newest service deployment of the service whose target revision runs `taskDefinitionArn`
 * (created after `after` when given): ours, when the start's answer did not name it or a
 * retried start meets the deployment the first call began.
 */
export async function findByTaskDefinition(
  ecs: ECSClient,
  q: { cluster: string; service: string; taskDefinitionArn: string; after?: Date; status?: string[] },
): Promise<ServiceDeploymentBrief | undefined> {
  for (const brief of await listServiceDeployments(ecs, q)) {
    if (!brief.targetServiceRevisionArn) continue;
    if ((await revisionTaskDefinition(ecs, brief.targetServiceRevisionArn)) === q.taskDefinitionArn)
      return brief;
  }
  return undefined;
}

export async function stopWithRollback(ecs: ECSClient, arn: string): Promise<void> {
  await ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' }));
}

export async function continueHook(
  ecs: ECSClient,
  arn: string,
  hookId: string,
  action: 'CONTINUE' | 'ROLLBACK',
): Promise<void> {
  await ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId, action }));
}
