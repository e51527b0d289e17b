/**
 * What every strategy's watch shares: the options and the result, the poll loop (when to poll
 * is poll.ts's), progress lines printed once per change, and the wording of a lost sight.
 * The watches themselves: codedeploy-watch.ts, rolling-watch.ts, native-watch.ts.
 */
import type { Clock } from '../clock.js';
import type { Log } from '../log.js';
import { errorText, isTransientError } from './aws-errors.js';
import type { Failure } from './failure.js';
import { type Due, inDueWindow, nextPollDelay, nextQuiet } from './poll.js';

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
