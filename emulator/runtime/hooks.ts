/**
 * Lifecycle hooks as local HTTP endpoints standing in for Lambda functions: an AppSpec hook whose
 * value is `http://127.0.0.1:PORT/...` is POSTed the event CodeDeploy gives a hook Lambda
 * (`{"DeploymentId", "LifecycleEventHookExecutionId"}`) and succeeds when it answers 2xx. An
 * ECS-native lifecycle hook whose hookTargetArn is such a URL is POSTed the event ECS gives a hook
 * Lambda (`{"executionDetails", "executionId", "lifecycleStage", "resourceArn"}`), likewise. Any
 * other address is refused without a request: the runtime talks to 127.0.0.1 only.
 */
import type { HookRunner } from '../codedeploy.js';

export interface HttpHookRunnerOptions {
  /** Real ms a hook may take to answer. */
  timeoutMs: number;
  /** Hands a result to the emulator at the current emulated time. */
  deliver(change: () => void): void;
  onEvent(message: string): void;
}

const MAX_BODY_IN_MESSAGE = 300;

/** An ECS hook Lambda answers `{"hookStatus": "SUCCEEDED" | "FAILED" | "IN_PROGRESS"}`; a 2xx with FAILED fails. */
export function ecsHookFailure(url: string, body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const status =
    typeof parsed === 'object' && parsed !== null
      ? (parsed as { hookStatus?: unknown }).hookStatus
      : undefined;
  return status === 'FAILED'
    ? `${url} answered hookStatus FAILED: ${body.slice(0, MAX_BODY_IN_MESSAGE)}`
    : undefined;
}

export class HttpHookRunner implements HookRunner {
  private readonly inFlight = new Set<AbortController>();
  private stopped = false;

  constructor(private readonly opts: HttpHookRunnerOptions) {}

  handles(functionName: string): boolean {
    return /^https?:\/\//i.test(functionName);
  }

  invoke(
    functionName: string,
    event: {
      deploymentId: string;
      lifecycleEventHookExecutionId: string;
      lifecycleEventName: string;
      /** The request body when given (ECS-native hooks); else CodeDeploy's event. */
      payload?: unknown;
    },
    report: (failure?: string) => void,
  ): void {
    void this.call(functionName, event).then((failure) => {
      if (this.stopped) return;
      this.opts.onEvent(
        `hook ${event.lifecycleEventName} (${functionName}): ${failure === undefined ? 'Succeeded' : `Failed: ${failure}`}`,
      );
      this.opts.deliver(() => report(failure));
    });
  }

  /** Aborts the hooks under way; their results are not delivered. */
  stop(): void {
    this.stopped = true;
    for (const controller of this.inFlight) controller.abort();
  }

  /** Why the hook failed, or undefined when it succeeded. */
  private async call(
    url: string,
    event: { deploymentId: string; lifecycleEventHookExecutionId: string; payload?: unknown },
  ): Promise<string | undefined> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return `${url} is not a URL.`;
    }
    if (target.protocol !== 'http:' || target.hostname !== '127.0.0.1') {
      return `the demo runtime calls hook URLs on http://127.0.0.1 only, and ${url} is elsewhere. Fix: serve the hook on 127.0.0.1, or name a Lambda function.`;
    }
    const controller = new AbortController();
    this.inFlight.add(controller);
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          event.payload ?? {
            DeploymentId: event.deploymentId,
            LifecycleEventHookExecutionId: event.lifecycleEventHookExecutionId,
          },
        ),
        redirect: 'manual',
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(this.opts.timeoutMs)]),
      });
      const body = (await response.text()).trim();
      if (response.status >= 200 && response.status < 300) {
        return event.payload === undefined ? undefined : ecsHookFailure(url, body);
      }
      return `${url} answered HTTP ${response.status}${body ? `: ${body.slice(0, MAX_BODY_IN_MESSAGE)}` : ''}`;
    } catch (error) {
      const e = error as Error;
      if (e.name === 'TimeoutError') return `${url} did not answer within ${this.opts.timeoutMs / 1000} s.`;
      return `${url} could not be called: ${(e.cause as Error | undefined)?.message ?? e.message}`;
    } finally {
      this.inFlight.delete(controller);
    }
  }
}
