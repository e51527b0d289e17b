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
import {
  DescribeServicesCommand,
  UpdateServiceCommand,
  type Deployment,
  type ECSClient,
  type Service,
} from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Clock } from '../clock.js';
import type { Log } from '../log.js';
import { errorText, isTransientError } from './aws-errors.js';
import {
  buildFailure,
  followCodeDeployRollback,
  followEcsRollback,
  type FollowOptions,
  readFindings,
} from './explain.js';
import { type Failure, hookCause, hookFunction } from './failure.js';
import { drainWatch } from './drain.js';
import { appSpecTaskDefinition } from './history.js';
import {
  announcedWaitDue,
  cadenceDue,
  type Due,
  inDueWindow,
  nextPollDelay,
  nextQuiet,
  onWatchClock,
} from './poll.js';

export interface WatchOptions {
  timeoutMs: number;
  pollIntervalMs: number;
  rollbackOnTimeout: boolean;
  clock: Clock;
  log: Log;
  signal?: AbortSignal;
}

/** `unknown`: the watch lost sight of the deployment (AWS unreachable); it is still running there. */
export type WatchOutcome = 'succeeded' | 'failed' | 'stopped' | 'timed-out' | 'unknown';

export interface WatchResult {
  outcome: WatchOutcome;
  /** The last status AWS reported: the CodeDeploy status, or our ECS deployment's rolloutState. */
  status: string;
  message: string;
  /** Supporting detail of a failure (lifecycle events, service events that matter, stopped tasks). */
  diagnostics: string[];
  /** What failed and where production is now; every strategy fills it when the outcome is not succeeded. */
  failure?: Failure;
  rollbackRequested: boolean;
  elapsedMs: number;
  polls: number;
}

export interface Verdict {
  outcome: 'succeeded' | 'failed' | 'stopped';
  message: string;
}

type LoopEnd =
  | { kind: 'done'; verdict: Verdict }
  | { kind: 'deadline' }
  | { kind: 'cancelled' }
  | { kind: 'unreachable'; failures: number; why: string };

/**
 * Polls in a row that failed with a server error or no answer at all, each after the SDK's own
 * retries, before the watch stops judging: a storm that long says nothing about the deployment,
 * and waiting it out to the deadline would roll back a deployment nobody saw fail. Throttling
 * is AWS answering, so it never counts.
 */
export const STORM_POLLS = 3;

/** What went wrong with a poll, in words (never the SDK's raw error text). */
export function unreachableText(err: unknown): string {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500)
    return `AWS answered HTTP ${status}${e.name ? ` (${e.name})` : ''}`;
  const code = e?.code ?? (e as { cause?: { code?: string } })?.cause?.code;
  return `the AWS endpoint did not answer${code ? ` (${code})` : e?.name ? ` (${e.name})` : ''}`;
}

function isThrottling(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e?.$metadata?.httpStatusCode === 429 || /Throttl|TooManyRequests|RequestLimitExceeded/.test(e?.name ?? '')
  );
}

/** Prints a line for a key only when its text differs from the last one printed for that key. */
export class Progress {
  private readonly last = new Map<string, string>();
  private changed = false;
  constructor(private readonly log: Log) {}

  report(key: string, line: string): void {
    if (this.last.get(key) === line) return;
    this.last.set(key, line);
    this.log.info(line);
    this.changed = true;
  }

  /** Whether anything was printed since the last call. */
  takeChanged(): boolean {
    const changed = this.changed;
    this.changed = false;
    return changed;
  }
}

const BACKOFF_CAP_FLOOR_MS = 15_000;
/** The longest sleep during a wait AWS announced: a stop or rollback in it is still seen. */
const WAIT_CAP_MS = 30_000;
/** Inside a predicted window the watch polls at most this far apart, whatever the base interval. */
const DENSE_MS = 1_000;

/**
 * Polls until a verdict, the deadline or cancellation; when to poll next is nextPollDelay's
 * (poll.ts): the base interval after a change, ×1.5 per quiet poll up to max(4×interval,
 * 15 s), and densely (≤ 1 s) around a change `due` predicts from what AWS said. No sleep
 * ends past the deadline, and the deadline itself gets one last poll.
 */
export async function pollLoop(
  opts: WatchOptions,
  progress: Progress,
  start: number,
  poll: () => Promise<Verdict | undefined>,
  due: () => Due | undefined = () => undefined,
): Promise<{ end: LoopEnd; polls: number }> {
  const { clock, log, signal, pollIntervalMs } = opts;
  const deadline = start + opts.timeoutMs;
  const cap = Math.max(4 * pollIntervalMs, BACKOFF_CAP_FLOOR_MS);
  let quiet = pollIntervalMs;
  let polls = 0;
  let failures = 0;
  for (;;) {
    if (signal?.aborted) return { end: { kind: 'cancelled' }, polls };
    polls++;
    const polledAt = clock.now();
    try {
      const verdict = await poll();
      failures = 0;
      if (verdict) return { end: { kind: 'done', verdict }, polls };
    } catch (err) {
      if (signal?.aborted) return { end: { kind: 'cancelled' }, polls };
      if (!isTransientError(err)) throw err;
      failures = isThrottling(err) ? 0 : failures + 1;
      const why = unreachableText(err);
      if (failures >= STORM_POLLS) return { end: { kind: 'unreachable', failures, why }, polls };
      log.warning(`Polling failed for now, trying again: ${isThrottling(err) ? errorText(err) : why}`);
    }
    const now = clock.now();
    if (deadline - now <= 0) return { end: { kind: 'deadline' }, polls };
    const base = Math.min(pollIntervalMs, DENSE_MS);
    const expected = due();
    const changed = progress.takeChanged();
    if (changed || !inDueWindow(expected, polledAt, base)) {
      quiet = nextQuiet(quiet, pollIntervalMs, changed, cap);
    }
    const wait = nextPollDelay({
      now,
      base,
      quiet,
      due: expected,
      waitCap: Math.max(WAIT_CAP_MS, pollIntervalMs),
      deadline,
    });
    try {
      await clock.sleep(wait, signal);
    } catch (err) {
      if (signal?.aborted) return { end: { kind: 'cancelled' }, polls };
      throw err;
    }
  }
}

export function formatDuration(ms: number): string {
  return ms >= 60_000 ? `${Number((ms / 60_000).toFixed(1))} min` : `${Math.round(ms / 1000)} s`;
}

// ---------------------------------------------------------------------------------------
// CodeDeploy blue/green

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

// ---------------------------------------------------------------------------------------
// ECS rolling update

function deploymentLine(d: Deployment): string {
  const failed = d.failedTasks ? `, failedTasks ${d.failedTasks}` : '';
  return `ECS deployment ${d.id} (${d.status}): ${d.rolloutState ?? 'no rolloutState'}, running ${d.runningCount ?? 0}/${d.desiredCount ?? 0}, pending ${d.pendingCount ?? 0}${failed}`;
}

/**
 * Our deployment succeeded only once it is PRIMARY and COMPLETED with every task running.
 * The circuit breaker marks it FAILED and starts a new PRIMARY deployment of the previous
 * task definition; once that finishes ours is gone from the list.
 */
function rollingVerdict(svc: Service, deploymentId: string): Verdict | undefined {
  const ours = svc.deployments?.find((d) => d.id === deploymentId);
  const primary = svc.deployments?.find((d) => d.status === 'PRIMARY');
  const rolledBack =
    primary && primary.id !== deploymentId
      ? `; the deployment circuit breaker rolled back to ${primary.taskDefinition} (deployment ${primary.id})`
      : '';
  if (ours?.rolloutState === 'FAILED') {
    return {
      outcome: 'failed',
      message: `ECS deployment ${deploymentId} failed: ${(ours.rolloutStateReason ?? 'no reason given').replace(/\.$/, '')}${rolledBack}.`,
    };
  }
  if (ours?.status === 'PRIMARY') {
    return ours.rolloutState === 'COMPLETED' && ours.runningCount === ours.desiredCount
      ? {
          outcome: 'succeeded',
          message: `ECS deployment ${deploymentId} completed: ${ours.runningCount}/${ours.desiredCount} tasks of ${ours.taskDefinition} running.`,
        }
      : undefined;
  }
  if (!primary) {
    return {
      outcome: 'failed',
      message: `ECS deployment ${deploymentId} is ${ours ? ours.status : 'gone'} and the service has no PRIMARY deployment.`,
    };
  }
  if (!ours) {
    return {
      outcome: 'failed',
      message: `ECS deployment ${deploymentId} is no longer in the service${rolledBack}.`,
    };
  }
  return {
    outcome: 'failed',
    message: `ECS deployment ${deploymentId} was replaced by deployment ${primary.id} of ${primary.taskDefinition} before it completed (another deployment of this service started; a \`concurrency:\` group in the workflow keeps runs apart).`,
  };
}

/** Our deployment runs every task it wants, none pending. */
function allRunning(d: Deployment | undefined): boolean {
  return d !== undefined && (d.runningCount ?? 0) === (d.desiredCount ?? 0) && (d.pendingCount ?? 0) === 0;
}

/** Watches the deployment an UpdateService started, by its id, with DescribeServices. */
export async function watchRollingDeployment(
  ecs: ECSClient,
  opts: WatchOptions & {
    cluster: string;
    service: string;
    deploymentId: string;
    previousTaskDefinitionArn?: string;
    /** Reads the target group's deregistration delay, to poll right after the old tasks drain. */
    elb?: ElasticLoadBalancingV2Client;
  },
): Promise<WatchResult> {
  const { clock, log, signal, cluster, service, deploymentId } = opts;
  const start = clock.now();
  const startedAt = clock.wall();
  const progress = new Progress(log);
  let ours: Deployment | undefined;
  let primary: Deployment | undefined;
  // ECS's own timestamps, so a skewed runner clock cannot hide or repeat events.
  const since = () => ours?.createdAt ?? startedAt;

  // When our deployment's counts last changed (watch clock): its steps (tasks starting,
  // failing, draining) keep a cadence, so the next one is predicted from them.
  const changes: number[] = [];
  let lastState: string | undefined;
  // Behind a load balancer the old tasks stop once the target group's delay is over (drain.ts).
  const drain = drainWatch({ elb: opts.elb, service, clock, log, signal });

  const poll = async (): Promise<Verdict | undefined> => {
    const polledAt = clock.now();
    const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }), {
      abortSignal: signal,
    });
    const svc = out.services?.[0];
    if (!svc || svc.status !== 'ACTIVE') {
      return {
        outcome: 'failed',
        message: `ECS service '${service}' ${svc ? `became ${svc.status}` : 'no longer exists'} in cluster '${cluster}', so deployment ${deploymentId} cannot complete.`,
      };
    }
    ours = svc.deployments?.find((d) => d.id === deploymentId) ?? ours;
    primary = svc.deployments?.find((d) => d.status === 'PRIMARY') ?? primary;
    if (ours) progress.report('deployment', deploymentLine(ours));
    const state = ours && deploymentLine(ours);
    if (lastState !== undefined && state !== lastState) changes.push(polledAt);
    lastState = state;
    const from = since().getTime();
    const events = (svc.events ?? [])
      .filter((e) => e.createdAt !== undefined && e.createdAt.getTime() >= from)
      .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
    for (const e of events) progress.report(`event:${e.id ?? e.createdAt?.toISOString()}`, `  ${e.message}`);
    const verdict = rollingVerdict(svc, deploymentId);
    if (!verdict) await drain.observe(svc, from, allRunning(ours));
    return verdict;
  };

  const due = () => drain.due() ?? cadenceDue(changes.slice(-2));
  const { end, polls } = await pollLoop(opts, progress, start, poll, due);
  const status = ours?.rolloutState ?? 'UNKNOWN';
  const result = resultOf(status, () => clock.now() - start, polls);
  if (end.kind === 'cancelled') {
    return result('stopped', `Watch cancelled; ECS deployment ${deploymentId} was left ${status}.`, []);
  }
  if (end.kind === 'done' && end.verdict.outcome === 'succeeded') {
    return result('succeeded', end.verdict.message, []);
  }
  const follow: FollowOptions = {
    clock,
    pollIntervalMs: opts.pollIntervalMs,
    deadline: start + opts.timeoutMs,
    signal,
  };
  const explain = (message: string, kind: 'ended' | 'timeout', rollbackId?: string) =>
    explainRolling(ecs, { ...opts, ours, primary, since: since(), follow }, message, kind, rollbackId);
  if (end.kind === 'done') {
    const { details, failure } = await explain(end.verdict.message, 'ended');
    return { ...result(end.verdict.outcome, end.verdict.message, details), failure };
  }
  if (end.kind === 'unreachable') {
    const follow = `aws ecs describe-services --cluster ${cluster} --services ${service}`;
    const after =
      'The post step reports its state; ECS goes on with it (its circuit breaker, when enabled, rolls back a failure).';
    return result('unknown', lostSight(`ECS deployment ${deploymentId}`, status, end, [follow], after), []);
  }
  const { message, rollbackRequested, rollbackId } = await rollBackOnTimeout(ecs, opts, ours, status);
  const { details, failure } = await explain(message, 'timeout', rollbackId);
  return { ...result('timed-out', message, details, rollbackRequested), failure };
}

/** A rolling deployment's Failure: ECS's findings, the rollback (circuit breaker's or ours) followed to its end. */
async function explainRolling(
  ecs: ECSClient,
  p: {
    cluster: string;
    service: string;
    deploymentId: string;
    previousTaskDefinitionArn?: string;
    ours?: Deployment;
    primary?: Deployment;
    since: Date;
    follow: FollowOptions;
  },
  message: string,
  kind: 'ended' | 'timeout',
  rollbackId?: string,
): Promise<{ details: string[]; failure: Failure }> {
  const { cluster, service, ours, follow } = p;
  const findings = await readFindings(ecs, {
    cluster,
    service,
    since: p.since,
    taskDefinitionArn: ours?.taskDefinition,
    signal: follow.signal,
  });
  // The circuit breaker's rollback: a PRIMARY deployment of the previous revision that replaced
  // ours once ours FAILED (read again: ECS may start it just after; and between two polls it
  // may already have dropped ours). Another run's deployment is not mistaken for it.
  const now = kind === 'ended' ? await serviceNow(ecs, cluster, service) : undefined;
  const primary = now?.deployments?.find((d) => d.status === 'PRIMARY') ?? p.primary;
  const stillOurs = now !== undefined ? now.deployments?.find((d) => d.id === p.deploymentId) : ours;
  const previous = p.previousTaskDefinitionArn;
  const breaker =
    kind === 'ended' &&
    primary !== undefined &&
    primary.id !== p.deploymentId &&
    (stillOurs === undefined || stillOurs.rolloutState === 'FAILED') &&
    (previous !== undefined
      ? primary.taskDefinition === previous
      : now?.deploymentConfiguration?.deploymentCircuitBreaker?.rollback === true);
  const followId = rollbackId ?? (breaker ? primary?.id : undefined);
  const by = `${breaker ? "the circuit breaker's rollback" : 'the rollback'} (ECS deployment ${followId})`;
  const rollback =
    followId === undefined
      ? undefined
      : await followEcsRollback(ecs, { cluster, service, deploymentId: followId, by }, follow);
  const failure = await buildFailure(ecs, {
    kind: kind === 'timeout' ? 'timeout' : breaker ? 'circuit-breaker' : 'other',
    cause: kind === 'timeout' ? message : undefined,
    fallback: message,
    findings,
    deployed: ours?.taskDefinition,
    previous: p.previousTaskDefinitionArn ?? rollback?.taskDefinitionArn,
    rollback,
    target: { cluster, service, signal: follow.signal },
  });
  return { details: findings.lines, failure };
}

async function serviceNow(ecs: ECSClient, cluster: string, service: string) {
  try {
    return (await ecs.send(new DescribeServicesCommand({ cluster, services: [service] })))?.services?.[0];
  } catch {
    return undefined;
  }
}

/** Past the deadline: UpdateService back to the previous task definition when rollback-on-timeout is on. */
async function rollBackOnTimeout(
  ecs: ECSClient,
  opts: WatchOptions & {
    cluster: string;
    service: string;
    deploymentId: string;
    previousTaskDefinitionArn?: string;
  },
  ours: Deployment | undefined,
  status: string,
): Promise<{ message: string; rollbackRequested: boolean; rollbackId?: string }> {
  const { cluster, service, deploymentId } = opts;
  const counts = ours ? `, running ${ours.runningCount ?? 0}/${ours.desiredCount ?? 0}` : '';
  const message = `ECS deployment ${deploymentId} did not complete within ${formatDuration(opts.timeoutMs)} (last rolloutState ${status}${counts}).`;
  const previous = opts.previousTaskDefinitionArn;
  if (!opts.rollbackOnTimeout) {
    return {
      message: `${message} The deployment continues in ECS: rollback on timeout is off.`,
      rollbackRequested: false,
    };
  }
  if (!previous) {
    return {
      message: `${message} No previous task definition is known, so nothing was rolled back; the deployment continues in ECS.`,
      rollbackRequested: false,
    };
  }
  try {
    const out = await ecs.send(new UpdateServiceCommand({ cluster, service, taskDefinition: previous }));
    const rollbackId = out.service?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
    return {
      message: `${message} Rolled the service back to ${previous} (UpdateService).`,
      rollbackRequested: true,
      rollbackId,
    };
  } catch (err) {
    return {
      message: `${message} Rolling back to ${previous} failed (${errorText(err)}); the deployment continues in ECS.`,
      rollbackRequested: false,
    };
  }
}

/**
 * The watch lost sight of a deployment: it is still running in AWS, this run does not judge
 * it, and the post step decides (stop with rollback under on-cancel: rollback).
 */
export function lostSight(
  what: string,
  status: string,
  end: { failures: number; why: string },
  follow: string[],
  after = 'The post step stops it with rollback (on-cancel: rollback) or leaves it running (on-cancel: leave).',
): string {
  return `Lost sight of ${what}: ${end.failures} polls in a row failed (${end.why}). It is still running in AWS (last seen ${status}); this run did not see it succeed or fail. Follow it with \`${follow.join('` or `')}\` or in the AWS console. ${after}`;
}

/** Builds the watch's results for one deployment, with the status and counts they share. */
export function resultOf(status: string, elapsedMs: () => number, polls: number) {
  return (
    outcome: WatchOutcome,
    message: string,
    diagnostics: string[],
    rollbackRequested = false,
  ): WatchResult => ({
    outcome,
    status,
    message,
    diagnostics,
    rollbackRequested,
    elapsedMs: elapsedMs(),
    polls,
  });
}
