/**
 * When to poll next: a pure function of what the watch knows. Every poll costs an AWS call
 * (CodeDeploy and IAM have account-wide rate limits), and every second between the change
 * and the poll that sees it is lag. So: poll densely where a change is due, sparsely between.
 *
 * - Right after a change, poll at the base interval: changes come in runs (a task set up,
 *   then test traffic, then the hook); each quiet poll waits ×1.5 longer, up to a cap.
 * - When AWS told us when the next change is due (a termination or ready wait that started,
 *   a linear or canary step, the task cadence ECS's own timestamps show), sleep until just
 *   before the window opens, at most `waitCap` at a time (so a stop or rollback during a
 *   long wait is still seen), then poll at the base interval until the window is over.
 * - Never past the deadline: the deadline gets one last poll.
 */
export interface PollKnowledge {
  /** Now, on the watch's clock (ms). */
  now: number;
  /** The densest interval (poll-interval-seconds), ms. */
  base: number;
  /** The quiet back-off's current interval: base after a change, ×1.5 per quiet poll, capped. */
  quiet: number;
  /**
   * The next change AWS's own numbers predict, between `from` and `to` (watch clock, ms).
   * `wait`: AWS announced a wait (termination, ready, step bake), nothing is due before it
   * ends, so the watch may sleep up to `waitCap`; `cadence`: an estimate from past changes,
   * which only makes polls denser near it.
   */
  due?: Due;
  /** The longest sleep while an announced wait runs, ms. */
  waitCap: number;
  /** The watch's deadline (watch clock, ms). */
  deadline: number;
}

export interface Due {
  from: number;
  to: number;
  kind: 'wait' | 'cadence';
}

export const BACKOFF_FACTOR = 1.5;

/** Milliseconds to sleep before the next poll (0 when the deadline has come). */
export function nextPollDelay(k: PollKnowledge): number {
  const remaining = k.deadline - k.now;
  if (remaining <= 0) return 0;
  return Math.max(0, Math.min(remaining, delay(k)));
}

/**
 * Whether `now` lies in the window where `due` makes polls dense (from a base interval before
 * it opens to two after it closes). Dense polls there are not quiet polls: they do not grow
 * the back-off, so a wrong prediction falls back to the back-off where it was.
 */
export function inDueWindow(due: Due | undefined, now: number, base: number): boolean {
  return due !== undefined && now >= due.from - base && now <= due.to + 2 * base;
}

function delay(k: PollKnowledge): number {
  const { due } = k;
  // Past the window (plus two base intervals of grace) the prediction was wrong: quiet polling.
  if (due === undefined || k.now > due.to + 2 * k.base) return k.quiet;
  // The window opens one base interval early, so a poll lands on or just after the change.
  const opens = due.from - k.base;
  if (k.now >= opens) return Math.min(k.base, k.quiet);
  const gap = opens - k.now;
  return due.kind === 'wait' ? Math.min(gap, Math.max(k.quiet, k.waitCap)) : Math.min(gap, k.quiet);
}

/** The quiet back-off: base right after a change, else ×1.5, up to the cap. */
export function nextQuiet(current: number, base: number, changed: boolean, cap: number): number {
  return changed ? base : Math.min(current * BACKOFF_FACTOR, cap);
}

/**
 * The next change, predicted from the moments the last changes happened (AWS timestamps
 * converted to the watch clock): steps of a rolling deployment (tasks starting, failing,
 * draining) come at roughly the same cadence, so the next is due one step after the last,
 * give or take a quarter step. Undefined with fewer than two changes to learn from.
 */
export function cadenceDue(changes: number[]): Due | undefined {
  if (changes.length < 2) return undefined;
  const sorted = [...changes].sort((a, b) => a - b);
  const steps = sorted.slice(1).map((t, i) => t - (sorted[i] as number));
  const step = steps.at(-1) as number;
  if (step <= 0) return undefined;
  const last = sorted.at(-1) as number;
  return { from: last + step * 0.75, to: last + step * 1.25, kind: 'cadence' };
}

/**
 * A wait AWS announced (a termination wait, a ready wait, a step bake) that started between
 * two polls: it ends between the first poll's time plus the wait and the second's plus the wait.
 */
export function waitDue(startedAfter: number, seenAt: number, waitMs: number): Due | undefined {
  if (!(waitMs > 0)) return undefined;
  return { from: startedAfter + waitMs, to: seenAt + waitMs, kind: 'wait' };
}

/**
 * A wait AWS announced, timed from the moment AWS says it started (an event's endTime, a
 * deployment's updatedAt, converted to the watch clock) when that moment lies between the
 * last poll that saw it not started (`after`, give or take a second of clock skew) and the
 * poll that saw it (`seenAt`); otherwise between those two polls, as waitDue. A runner clock
 * that is off AWS's cannot move the window outside what the polls saw.
 */
export function announcedWaitDue(
  bounds: { after: number; seenAt: number; startedAt?: number },
  waitMs: number,
): Due | undefined {
  if (!(waitMs > 0)) return undefined;
  const began = trustedStart(bounds);
  if (began !== undefined) return { from: began + waitMs, to: began + waitMs + 2_000, kind: 'wait' };
  return waitDue(bounds.after, bounds.seenAt, waitMs);
}

/** AWS's start time of a wait when it lies between the polls that bound it (a second of skew allowed). */
export function trustedStart(bounds: {
  after: number;
  seenAt: number;
  startedAt?: number;
}): number | undefined {
  const { after, seenAt, startedAt } = bounds;
  return startedAt !== undefined && startedAt >= after - 1_000 && startedAt <= seenAt ? startedAt : undefined;
}

/** An AWS timestamp on the watch's monotonic clock, from one reading of both clocks. */
export function onWatchClock(at: Date | undefined, now: number, wall: Date): number | undefined {
  return at === undefined ? undefined : now - (wall.getTime() - at.getTime());
}
