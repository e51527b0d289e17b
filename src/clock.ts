/**
 * Time as a parameter. Watch loops take a Clock so unit tests can drive them with a scripted
 * clock. `now()` is a monotonic reading (performance.now): every deadline and duration is
 * measured with it, so a wall-clock jump (NTP, a suspended runner) can neither end a watch
 * early nor stretch it. `wall()` is what a person reads (timestamps, "events since").
 */
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Milliseconds on a monotonic scale; only differences mean anything. */
  now(): number;
  /** The wall-clock time, for messages and AWS timestamps; never for deadlines. */
  wall(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Monotonic milliseconds, for timers that are not handed a Clock (stage timings). */
export const monotonicNow = (): number => performance.now();

export const systemClock: Clock = {
  now: monotonicNow,
  wall: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
