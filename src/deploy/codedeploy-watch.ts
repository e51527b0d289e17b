/**
 * Watches a CodeDeploy blue/green deployment: one call per poll (the deployment target while
 * its lifecycle events move, the deployment for the verdict and the announced waits), a line
 * per change, and a failure explained with the rollback CodeDeploy made followed to its end.
 */
import {
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  ListDeploymentTargetsCommand,
  StopDeploymentCommand,
  type CodeDeployClient,
  type DeploymentInfo,
  type DeploymentOverview,
  type ECSTarget,
  type ECSTaskSet,
  type LifecycleEvent,
} from '@aws-sdk/client-codedeploy';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { Clock } from '../clock.js';
import { errorText } from './aws-errors.js';
import { buildFailure, followCodeDeployRollback, type FollowOptions, readFindings } from './explain.js';
import { type Failure, hookCause, hookFunction } from './failure.js';
import { appSpecTaskDefinition } from './history.js';
import { announcedWaitDue, type Due, onWatchClock } from './poll.js';
import {
  formatDuration,
  lostSight,
  pollLoop,
  Progress,
  resultOf,
  type Verdict,
  type WatchOptions,
  type WatchResult,
} from './watch.js';

const OVERVIEW_KEYS = ['Pending', 'InProgress', 'Ready', 'Succeeded', 'Failed', 'Skipped'] as const;

function overviewText(o: DeploymentOverview | undefined): string {
  const counts = OVERVIEW_KEYS.filter((k) => (o?.[k] ?? 0) > 0).map((k) => `${k} ${o?.[k]}`);
  return counts.length > 0 ? ` (targets: ${counts.join(', ')})` : '';
}

function hookFailure(e: LifecycleEvent): string {
  return [e.diagnostics?.errorCode, e.diagnostics?.message].filter(Boolean).join(': ') || 'no message';
}

function failedEvents(target: ECSTarget | undefined): LifecycleEvent[] {
  return (target?.lifecycleEvents ?? []).filter((e) => e.status === 'Failed');
}

function taskSet(target: ECSTarget, label: 'Blue' | 'Green'): ECSTaskSet | undefined {
  return target.taskSetsInfo?.find((s) => s.taskSetLabel === label);
}

function reportTarget(progress: Progress, target: ECSTarget): void {
  for (const e of target.lifecycleEvents ?? []) {
    // Every event starts Pending; only its progress from there is news.
    if (!e.status || e.status === 'Pending') continue;
    const name = e.lifecycleEventName ?? 'unnamed event';
    const detail = e.status === 'Failed' ? ` - ${hookFailure(e)}` : '';
    progress.report(`event:${name}`, `  ${name}: ${e.status}${detail}`);
  }
  const green = taskSet(target, 'Green');
  const blue = taskSet(target, 'Blue');
  if (green?.trafficWeight !== undefined || blue?.trafficWeight !== undefined) {
    const pct = (s: ECSTaskSet | undefined) => `${Number((s?.trafficWeight ?? 0).toFixed(1))}%`;
    progress.report('traffic', `  traffic: green ${pct(green)} / blue ${pct(blue)}`);
  }
  if (green) {
    const pending = green.pendingCount ? `, ${green.pendingCount} pending` : '';
    progress.report(
      'green',
      `  green tasks: ${green.runningCount ?? 0}/${green.desiredCount ?? 0} running${pending}`,
    );
  }
}

function readyLine(deploymentId: string, info: DeploymentInfo): string {
  const ready = info.blueGreenDeploymentConfiguration?.deploymentReadyOption;
  const wait = ready?.waitTimeInMinutes ? `${ready.waitTimeInMinutes} min` : undefined;
  const how = `ContinueDeployment (aws deploy continue-deployment --deployment-id ${deploymentId} --deployment-wait-type READY_WAIT)`;
  if (ready?.actionOnTimeout === 'STOP_DEPLOYMENT') {
    return `Ready: the green tasks are up; waiting for ${how}.${wait ? ` Remaining ready wait: ${wait}, after which CodeDeploy stops the deployment.` : ''}`;
  }
  return `Ready: the green tasks are up; traffic moves to them${wait ? ` after the ready wait (${wait} remaining)` : ''}, or now with ${how}.`;
}

function codeDeployVerdict(
  deploymentId: string,
  info: DeploymentInfo,
  target: ECSTarget | undefined,
): Verdict | undefined {
  const hook = failedEvents(target)[0];
  const cause = hook
    ? `${hook.lifecycleEventName} failed: ${hookFailure(hook)}`
    : (info.errorInformation?.message ?? 'CodeDeploy gave no reason');
  switch (info.status) {
    case 'Succeeded':
      return { outcome: 'succeeded', message: `CodeDeploy deployment ${deploymentId} succeeded.` };
    case 'Failed':
      return { outcome: 'failed', message: `CodeDeploy deployment ${deploymentId} failed: ${cause}` };
    case 'Stopped':
      return { outcome: 'stopped', message: `CodeDeploy deployment ${deploymentId} was stopped: ${cause}` };
    default:
      return undefined;
  }
}

function codeDeployDiagnostics(info: DeploymentInfo | undefined, target: ECSTarget | undefined): string[] {
  const lines: string[] = [];
  const error = info?.errorInformation;
  if (error?.code || error?.message) {
    lines.push(`errorInformation: ${[error.code, error.message].filter(Boolean).join(': ')}`);
  }
  const rollback = info?.rollbackInfo;
  if (rollback?.rollbackMessage || rollback?.rollbackDeploymentId) {
    const id = rollback.rollbackDeploymentId ? ` (rollback deployment ${rollback.rollbackDeploymentId})` : '';
    lines.push(`rollback: ${rollback.rollbackMessage ?? 'started'}${id}`);
  }
  for (const e of failedEvents(target)) {
    // CodeDeploy often repeats its error as the event's message: said once is enough.
    if (!(error?.message && e.diagnostics?.message === error.message)) {
      lines.push(`lifecycle event ${e.lifecycleEventName} failed: ${hookFailure(e)}`);
    }
    const tail = e.diagnostics?.logTail?.trim();
    if (tail) lines.push(`lifecycle event ${e.lifecycleEventName} log tail: ${tail}`);
  }
  return lines;
}

/** What GetDeployment says about the deployment's stage; a new value is a stage change. */
function stageOf(info: DeploymentInfo): string {
  return JSON.stringify([info.status, info.deploymentOverview, info.instanceTerminationWaitTimeStarted]);
}

const ended = (e: LifecycleEvent) => e.status !== 'Pending' && e.status !== 'InProgress';

/**
 * Whether the target has nothing more to tell until GetDeployment moves on: it ended, an event
 * failed, or every lifecycle event ended (what remains is a wait GetDeployment announces).
 * A Ready target is not settled: after ContinueDeployment its events move again.
 */
export function targetSettled(target: ECSTarget | undefined): boolean {
  if (!target) return false;
  if (['Succeeded', 'Failed', 'Skipped'].includes(target.status ?? '')) return true;
  const events = target.lifecycleEvents ?? [];
  return events.some((e) => e.status === 'Failed') || (events.length > 0 && events.every(ended));
}

/**
 * Which one call the next poll makes. GetDeploymentTarget carries what changes while the
 * deployment moves (lifecycle events with their times, traffic weights, green tasks), so it is
 * read while events are pending or running; GetDeployment carries the verdict and the waits
 * CodeDeploy announces (ready wait, termination wait), so it is read before the deployment
 * started and once the target has settled.
 */
export function nextRead(
  info: DeploymentInfo | undefined,
  target: ECSTarget | undefined,
): 'deployment' | 'target' {
  if (info?.status !== 'InProgress' || info.instanceTerminationWaitTimeStarted) return 'deployment';
  return targetSettled(target) ? 'deployment' : 'target';
}

/** When the last lifecycle event ended (AWS's time), as the newest endTime of the target's events. */
function lastEventEnd(target: ECSTarget | undefined): Date | undefined {
  const ends = (target?.lifecycleEvents ?? [])
    .map((e) => e.endTime?.getTime() ?? NaN)
    .filter(Number.isFinite);
  return ends.length > 0 ? new Date(Math.max(...ends)) : undefined;
}

/**
 * When CodeDeploy's next change is due, from the waits it announced: once the termination
 * wait has started (instanceTerminationWaitTimeStarted), Succeeded comes when it ends; a
 * Ready deployment that continues on its own moves on when the ready wait ends. The wait
 * started between `after` (the last poll that saw it not started) and `seenAt`; the last
 * lifecycle event's endTime (AWS's clock, converted to the watch's) narrows that to a moment
 * when it falls inside those bounds, so a runner clock that is off cannot move it outside.
 */
export function codeDeployDue(
  info: DeploymentInfo,
  bounds: { after: number; seenAt: number; lastEventEnd?: number },
): Due | undefined {
  const config = info.blueGreenDeploymentConfiguration;
  const at = { after: bounds.after, seenAt: bounds.seenAt, startedAt: bounds.lastEventEnd };
  if (info.status === 'InProgress' && info.instanceTerminationWaitTimeStarted) {
    const minutes = config?.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes ?? 0;
    return announcedWaitDue(at, minutes * 60_000) ?? { from: at.seenAt, to: at.seenAt, kind: 'wait' };
  }
  const ready = config?.deploymentReadyOption;
  if (info.status === 'Ready' && ready?.actionOnTimeout === 'CONTINUE_DEPLOYMENT') {
    return announcedWaitDue(at, (ready.waitTimeInMinutes ?? 0) * 60_000);
  }
  return undefined;
}

/** The deployment's one ECS target as last read, and the green task set it named. */
interface TargetState {
  targetId?: string;
  target?: ECSTarget;
  greenTaskSetId?: string;
}

/** The longest the watch goes without reading the deployment itself. */
const DEPLOYMENT_READ_MAX_MS = 60_000;

const TARGET_UNKNOWN = /DeploymentTargetDoesNotExist|InvalidDeploymentTargetId/;

/**
 * Reads the target (lifecycle events, traffic weights, green tasks) and prints what changed.
 * An ECS deployment has exactly one target, the service, whose id is `cluster:service`; only
 * when CodeDeploy does not know that id is it listed.
 */
async function readTarget(
  cd: CodeDeployClient,
  ids: { deploymentId: string; cluster: string; service: string },
  t: TargetState,
  progress: Progress,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { deploymentId } = ids;
  const get = (targetId: string) =>
    cd.send(new GetDeploymentTargetCommand({ deploymentId, targetId }), { abortSignal: signal });
  let got;
  try {
    got = await get(t.targetId ?? `${ids.cluster.replace(/^arn:.*:cluster\//, '')}:${ids.service}`);
  } catch (err) {
    if (t.targetId !== undefined || !TARGET_UNKNOWN.test((err as Error)?.name ?? '')) throw err;
    const listed = await cd.send(new ListDeploymentTargetsCommand({ deploymentId }), { abortSignal: signal });
    t.targetId = listed.targetIds?.[0];
    if (t.targetId === undefined) return;
    got = await get(t.targetId);
  }
  t.targetId = got?.deploymentTarget?.ecsTarget?.targetId ?? t.targetId;
  t.target = got?.deploymentTarget?.ecsTarget ?? t.target;
  if (t.target) {
    reportTarget(progress, t.target);
    t.greenTaskSetId = taskSet(t.target, 'Green')?.identifer ?? t.greenTaskSetId;
  }
}

/**
 * One CodeDeploy poll, one call as a rule (nextRead): the target while its events move, the
 * deployment for the verdict and the waits. The poll that finds the target settled reads the
 * deployment too, so a failure or the start of a wait is judged at once. Keeps what it saw
 * (the deployment, what is due next) for the watch.
 */
function codeDeployPoller(
  cd: CodeDeployClient,
  ids: { deploymentId: string; cluster: string; service: string },
  t: TargetState,
  progress: Progress,
  at: { clock: Clock; signal?: AbortSignal; start: number },
) {
  const { clock, signal } = at;
  const { deploymentId } = ids;
  // What GetDeployment said last time (a stage change is news), and the last poll before the
  // current stage began (a wait that started is bounded by it).
  let [lastSeen, stageBefore, deploymentReadAt]: [string | undefined, number, number] = [
    undefined,
    at.start,
    at.start,
  ];
  const toWatchClock = (d: Date | undefined) => onWatchClock(d, clock.now(), clock.wall());
  const seen: { info?: DeploymentInfo; due?: Due; poll: () => Promise<Verdict | undefined> } = {
    poll: async () => {
      const polledAt = clock.now();
      if (nextRead(seen.info, t.target) === 'target') {
        await readTarget(cd, ids, t, progress, signal);
        // The deployment is read at least once a minute whatever the target shows: a stop
        // that leaves the target's events where they were is still seen.
        const fresh = polledAt - deploymentReadAt < DEPLOYMENT_READ_MAX_MS;
        if (fresh && !targetSettled(t.target) && t.target?.status !== 'Ready') {
          stageBefore = polledAt;
          return undefined;
        }
      }
      const out = await cd.send(new GetDeploymentCommand({ deploymentId }), { abortSignal: signal });
      if (!out.deploymentInfo)
        throw new Error(`GetDeployment returned no deploymentInfo for ${deploymentId}.`);
      const current = out.deploymentInfo;
      [seen.info, deploymentReadAt] = [current, polledAt];
      progress.report(
        'status',
        `CodeDeploy deployment ${deploymentId}: ${current.status ?? 'Unknown'}${overviewText(current.deploymentOverview)}`,
      );
      const changed = stageOf(current) !== lastSeen;
      if (changed) {
        const lastEnd = toWatchClock(lastEventEnd(t.target));
        seen.due =
          codeDeployDue(current, { after: stageBefore, seenAt: polledAt, lastEventEnd: lastEnd }) ?? seen.due;
        lastSeen = stageOf(current);
      }
      stageBefore = polledAt;
      // A failed deployment's target says which event failed, and why: read it once more
      // when the last read is older than the failure.
      // So does a stage change the target's last read predates (a fast deployment may be past
      // its traffic shift at the poll that first sees it started).
      const failed = current.status === 'Failed' || current.status === 'Stopped';
      const started = current.status !== 'Created' && current.status !== 'Queued';
      if (started && (failed || changed) && !targetSettled(t.target)) {
        await readTarget(cd, ids, t, progress, signal);
      }
      if (current.status === 'Ready') progress.report('ready', readyLine(deploymentId, current));
      return codeDeployVerdict(deploymentId, current, t.target);
    },
  };
  return seen;
}

/**
 * Watches one CodeDeploy deployment to its end: GetDeployment for the status, and the
 * deployment's ECS target for lifecycle events and traffic weights.
 */
export async function watchCodeDeployDeployment(
  cd: CodeDeployClient,
  ecs: ECSClient,
  opts: WatchOptions & {
    deploymentId: string;
    cluster: string;
    service: string;
    previousTaskDefinitionArn?: string;
  },
): Promise<WatchResult> {
  const { clock, log, signal, deploymentId } = opts;
  const start = clock.now();
  const startedAt = clock.wall();
  const progress = new Progress(log);
  const t: TargetState = {};
  const ids = { deploymentId, cluster: opts.cluster, service: opts.service };
  const seen = codeDeployPoller(cd, ids, t, progress, { clock, signal, start });
  const { end, polls } = await pollLoop(opts, progress, start, seen.poll, () => seen.due);
  const info = seen.info;
  const status = info?.status ?? 'Unknown';
  const result = resultOf(status, () => clock.now() - start, polls);
  if (end.kind === 'cancelled') {
    return result(
      'stopped',
      `Watch cancelled; CodeDeploy deployment ${deploymentId} was left ${status}.`,
      [],
    );
  }
  if (end.kind === 'done' && end.verdict.outcome === 'succeeded') {
    return result('succeeded', end.verdict.message, []);
  }
  const follow = { clock, pollIntervalMs: opts.pollIntervalMs, deadline: start + opts.timeoutMs, signal };
  const since = info?.createTime ?? startedAt;
  const explain = (kind: 'ended' | 'timeout', message: string) =>
    explainCodeDeploy(cd, ecs, {
      ...opts,
      info,
      target: t.target,
      message,
      kind,
      follow,
      since,
      greenTaskSetId: t.greenTaskSetId,
    });
  if (end.kind === 'done') {
    const { details, failure } = await explain('ended', end.verdict.message);
    return { ...result(end.verdict.outcome, end.verdict.message, details), failure };
  }
  if (end.kind === 'unreachable') {
    return result(
      'unknown',
      lostSight(`CodeDeploy deployment ${deploymentId}`, status, end, [
        `aws deploy get-deployment --deployment-id ${deploymentId}`,
      ]),
      [],
    );
  }
  const { message, rollbackRequested } = await stopOnTimeout(cd, opts, status);
  const { details, failure } = await explain('timeout', message);
  return { ...result('timed-out', message, details, rollbackRequested), failure };
}

const HOOK_EVENTS = new Set([
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
]);

async function rollbackIdOf(cd: CodeDeployClient, deploymentId: string, signal?: AbortSignal) {
  try {
    const out = await cd.send(new GetDeploymentCommand({ deploymentId }), { abortSignal: signal });
    return out?.deploymentInfo?.rollbackInfo?.rollbackDeploymentId;
  } catch {
    return undefined;
  }
}

/** What CodeDeploy and ECS say about a failed CodeDeploy deployment: the detail lines and the Failure. */
async function explainCodeDeploy(
  cd: CodeDeployClient,
  ecs: ECSClient,
  p: Omit<Parameters<typeof codeDeployFailure>[2], 'findings'> & { since: Date; greenTaskSetId?: string },
): Promise<{ details: string[]; failure: Failure }> {
  const findings = await readFindings(ecs, {
    cluster: p.cluster,
    service: p.service,
    since: p.since,
    greenTaskSetId: p.greenTaskSetId,
    signal: p.follow.signal,
  });
  const failure = await codeDeployFailure(cd, ecs, { ...p, findings });
  return { details: [...codeDeployDiagnostics(p.info, p.target), ...findings.lines], failure };
}

/** The Failure of a CodeDeploy deployment: the failed hook first, the rollback followed to its end. */
async function codeDeployFailure(
  cd: CodeDeployClient,
  ecs: ECSClient,
  p: {
    deploymentId: string;
    cluster: string;
    service: string;
    previousTaskDefinitionArn?: string;
    info: DeploymentInfo | undefined;
    target: ECSTarget | undefined;
    message: string;
    kind: 'ended' | 'timeout';
    findings: Awaited<ReturnType<typeof readFindings>>;
    follow: FollowOptions;
  },
): Promise<Failure> {
  const failed = failedEvents(p.target)[0];
  const appSpec = p.info?.revision?.appSpecContent?.content;
  // Install, AllowTestTraffic and AllowTraffic are CodeDeploy's own steps, not hooks: their
  // failure is explained by what ECS says about the tasks.
  const hook = failed && HOOK_EVENTS.has(failed.lifecycleEventName ?? '') ? failed : undefined;
  const event = hook?.lifecycleEventName;
  const cause =
    p.kind === 'timeout'
      ? p.message
      : event
        ? hookCause(event, hookFunction(appSpec, event), hook?.diagnostics?.message)
        : p.info?.status === 'Stopped'
          ? p.message
          : undefined;
  // The rollback deployment appears on the failed deployment once CodeDeploy starts it.
  let rollbackId = p.info?.rollbackInfo?.rollbackDeploymentId;
  if (rollbackId === undefined) {
    rollbackId = await rollbackIdOf(cd, p.deploymentId, p.follow.signal);
  }
  const rollback =
    rollbackId === undefined
      ? undefined
      : await followCodeDeployRollback(cd, rollbackId, p.previousTaskDefinitionArn, p.follow);
  return buildFailure(ecs, {
    kind:
      p.kind === 'timeout' ? 'timeout' : event ? 'hook' : p.info?.status === 'Stopped' ? 'stopped' : 'other',
    cause,
    fallback:
      failed && !hook && p.kind !== 'timeout'
        ? `CodeDeploy's ${failed.lifecycleEventName} step failed: ${hookFailure(failed)}`
        : p.message,
    findings: p.findings,
    deployed: appSpecTaskDefinition(appSpec),
    previous: p.previousTaskDefinitionArn ?? rollback?.taskDefinitionArn,
    rollback,
    target: { cluster: p.cluster, service: p.service, signal: p.follow.signal },
    // A rollback that succeeded routes production back to its revision's task definition.
    production:
      rollback?.status === 'succeeded' && rollback.taskDefinitionArn !== undefined
        ? { taskDefinitionArn: rollback.taskDefinitionArn }
        : undefined,
  });
}

/** Past the deadline: StopDeployment with rollback when rollback-on-timeout is on; the message says what happened. */
async function stopOnTimeout(
  cd: CodeDeployClient,
  opts: WatchOptions & { deploymentId: string },
  status: string,
): Promise<{ message: string; rollbackRequested: boolean }> {
  const { deploymentId } = opts;
  const message = `CodeDeploy deployment ${deploymentId} did not finish within ${formatDuration(opts.timeoutMs)} (last status ${status}).`;
  if (!opts.rollbackOnTimeout) {
    return {
      message: `${message} It keeps running in CodeDeploy: rollback on timeout is off.`,
      rollbackRequested: false,
    };
  }
  try {
    const stopped = await cd.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }));
    return {
      message: `${message} Stopped it with rollback (StopDeployment: ${stopped.status ?? 'requested'}${stopped.statusMessage ? `, ${stopped.statusMessage}` : ''}).`,
      rollbackRequested: true,
    };
  } catch (err) {
    return {
      message: `${message} StopDeployment with rollback failed (${errorText(err)}), so the deployment keeps running until CodeDeploy's own timeouts end it.`,
      rollbackRequested: false,
    };
  }
}
