import type { Clock } from '../../../src/clock.js';

/** Virtual time for watch loops: sleep records the delay and advances `now` at once. */
/** Sleeps of every ScriptedClock so far: a script steps once per poll, and a poll ends in a sleep. */
export const allSleeps = { count: 0 };

export class ScriptedClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(
    public t = Date.UTC(2025, 0, 15, 12, 0, 0),
    private readonly onSleep?: (count: number) => void,
  ) {}

  now(): number {
    return this.t;
  }

  wall(): Date {
    return new Date(this.t);
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    allSleeps.count++;
    this.onSleep?.(this.sleeps.length);
    if (signal?.aborted) throw signal.reason;
    this.t += ms;
  }
}

/** An error shaped like one the SDK throws after its own retries gave up. */
export function sdkError(name: string, message: string, httpStatusCode: number): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}
