/**
 * Emulated time. Every state machine in the emulator runs on one clock that either follows
 * wall time scaled by a speed factor, or moves only when a test calls `advance`. Nothing runs
 * on a timer: due events are processed, in time order, whenever the emulator is observed
 * (a request arrives, `state` is read, the clock is advanced). That keeps runs deterministic
 * for a given sequence of calls and leaves nothing behind when the emulator stops.
 */

export interface ClockOptions {
  speed?: number;
  manual?: boolean;
  /** Emulated epoch ms at start; defaults to the wall clock so speed 1 matches real time. */
  start?: number;
}

export class EmulatedClock {
  readonly manual: boolean;
  private base: number;
  private realBase: number;
  private factor: number;

  constructor(opts: ClockOptions = {}) {
    const speed = opts.speed ?? 1;
    if (!(speed > 0) || !Number.isFinite(speed))
      throw new RangeError(`clock speed must be a positive number, got ${speed}`);
    this.manual = opts.manual ?? false;
    this.factor = speed;
    this.realBase = Date.now();
    this.base = opts.start ?? this.realBase;
  }

  now(): number {
    if (this.manual) return this.base;
    return Math.floor(this.base + (Date.now() - this.realBase) * this.factor);
  }

  /** Jumps emulated time forward (in either mode). */
  advance(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms))
      throw new RangeError(`clock.advance needs a non-negative number of ms, got ${ms}`);
    this.base += ms;
  }

  get speed(): number {
    return this.factor;
  }

  /** Changing the speed keeps the current emulated time and scales only what follows. */
  set speed(value: number) {
    if (!(value > 0) || !Number.isFinite(value))
      throw new RangeError(`clock speed must be a positive number, got ${value}`);
    const now = this.now();
    this.realBase = Date.now();
    this.base = now;
    this.factor = value;
  }
}

interface ScheduledEvent {
  at: number;
  seq: number;
  run: () => void;
}

/** Events processed in one catch-up beyond this point mean a state machine feeds itself forever. */
const MAX_EVENTS_PER_CATCH_UP = 1_000_000;

/**
 * A discrete-event queue on emulated time. `now()` is the time of the event being processed,
 * or the time of the last catch-up, so state changes carry the moment they were due rather
 * than the moment someone happened to look.
 */
export class Scheduler {
  private queue: ScheduledEvent[] = [];
  private seq = 0;
  private current: number;
  private cancelled = new Set<number>();

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Runs `run` at emulated time `at` (never earlier than now). Returns a handle for `cancel`. */
  at(at: number, run: () => void): number {
    const event: ScheduledEvent = { at: Math.max(at, this.current), seq: ++this.seq, run };
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.queue[mid] as ScheduledEvent;
      if (other.at < event.at || (other.at === event.at && other.seq < event.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, event);
    return event.seq;
  }

  after(delayMs: number, run: () => void): number {
    return this.at(this.current + delayMs, run);
  }

  cancel(handle: number | undefined): void {
    if (handle !== undefined) this.cancelled.add(handle);
  }

  /** Processes every event due at or before `time`, then sets the current time to `time`. */
  runUntil(time: number): void {
    let processed = 0;
    for (;;) {
      const next = this.queue[0];
      if (!next || next.at > time) break;
      this.queue.shift();
      if (this.cancelled.delete(next.seq)) continue;
      this.current = Math.max(this.current, next.at);
      next.run();
      if (++processed > MAX_EVENTS_PER_CATCH_UP) {
        throw new Error(
          `emulator scheduler: more than ${MAX_EVENTS_PER_CATCH_UP} events due at once; a state machine loops`,
        );
      }
    }
    this.current = Math.max(this.current, time);
  }

  clear(): void {
    this.queue = [];
    this.cancelled.clear();
  }
}
