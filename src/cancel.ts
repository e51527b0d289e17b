/**
 * Cancellation, in one place. `main` turns SIGINT/SIGTERM into an AbortSignal; every stage
 * boundary calls `throwIfCancelled`, every sleep takes the signal, and the Docker child
 * process is killed on it, so a cancelled run makes no further change.
 */
export class Cancelled extends Error {
  constructor(message = 'The run was cancelled.') {
    super(message);
    this.name = 'Cancelled';
  }
}

/** Throws the signal's reason (a Cancelled) when the run has been cancelled. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof Error ? reason : new Cancelled();
}

/** An AbortController aborted by SIGINT or SIGTERM; `dispose` removes the handlers. */
export function cancelOnSignals(proc: Pick<NodeJS.Process, 'once' | 'off'> = process): {
  signal: AbortSignal;
  dispose(): void;
} {
  const abort = new AbortController();
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((name) => {
    const handler = () =>
      abort.abort(new Cancelled(`The run was cancelled (${name}); no further change is made.`));
    proc.once(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: abort.signal,
    dispose: () => {
      for (const [name, handler] of handlers) proc.off(name, handler);
    },
  };
}
