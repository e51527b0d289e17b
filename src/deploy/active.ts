/**
 * Another deployment is already running: a second workflow run, a manual deploy, or a
 * rollback. A rolling update started on top of another supersedes it mid-flight, so we wait
 * for it, within a bound, and then deploy; or fail naming it. (CodeDeploy's one-deployment-
 * per-group rule is handled the same way in codedeploy.ts.)
 */
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import type { Clock } from '../clock.js';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { isTransientError } from './aws-errors.js';

export interface WaitForActiveOptions {
  /** How long to wait for the other deployment; 0 fails at once. */
  timeoutMs: number;
  pollIntervalMs: number;
  clock: Clock;
  log: Log;
  signal?: AbortSignal;
}

/**
 * Before a rolling update: waits while the service has a deployment IN_PROGRESS that this
 * run did not start, so ours does not supersede it halfway.
 */
export async function waitForServiceIdle(
  ecs: ECSClient,
  target: { cluster: string; service: string },
  opts: WaitForActiveOptions,
): Promise<void> {
  const deadline = opts.clock.now() + opts.timeoutMs;
  const inProgress = async (): Promise<string | undefined> => {
    const svc = (
      await ecs.send(new DescribeServicesCommand({ cluster: target.cluster, services: [target.service] }))
    ).services?.[0];
    return svc?.deployments?.find((d) => d.rolloutState === 'IN_PROGRESS')?.id;
  };
  const first = await inProgress();
  if (first === undefined) return;
  if (opts.timeoutMs <= 0) throw serviceBusy(first);
  opts.log.info(
    `Service ${target.cluster}/${target.service} is busy with deployment ${first}; waiting for it to finish.`,
  );
  const done = await waitUntil(
    async () => ((await inProgress()) === undefined ? 'idle' : undefined),
    deadline,
    opts,
  );
  if (done === undefined) throw serviceBusy((await inProgress()) ?? first);

  function serviceBusy(id: string): UserError {
    return new UserError({
      where: 'service',
      what: `Service ${target.cluster}/${target.service} has a deployment in progress (${id}) that this run did not start${opts.timeoutMs > 0 ? `, still running after ${Math.round(opts.timeoutMs / 60_000)} min of waiting` : ''}.`,
      fix: 'Let it finish, or raise wait-for-active-deployment-minutes; give the workflow job a `concurrency:` group so runs queue.',
    });
  }
}

/** Polls `check` until it returns a value or the deadline passes (undefined). */
export async function waitUntil(
  check: () => Promise<string | undefined>,
  deadline: number,
  opts: WaitForActiveOptions,
): Promise<string | undefined> {
  while (opts.clock.now() < deadline) {
    await opts.clock.sleep(
      Math.min(opts.pollIntervalMs, Math.max(0, deadline - opts.clock.now())),
      opts.signal,
    );
    try {
      const result = await check();
      if (result !== undefined) {
        opts.log.info(result === 'idle' ? 'The other deployment has finished.' : `Deployment ${result}.`);
        return result;
      }
    } catch (err) {
      if (!isTransientError(err)) throw err;
      opts.log.warning(
        `Checking the other deployment failed for now (${(err as Error).name}); trying again.`,
      );
    }
  }
  return undefined;
}

/** wait-for-active-deployment-minutes and poll-interval-seconds, as the waits take them. */
export function waitForActiveOptions(
  config: { waitForActiveDeploymentMinutes: number; pollIntervalSeconds: number },
  ctx: { clock: Clock; log: Log; signal?: AbortSignal },
): WaitForActiveOptions {
  return {
    timeoutMs: config.waitForActiveDeploymentMinutes * 60_000,
    pollIntervalMs: config.pollIntervalSeconds * 1000,
    clock: ctx.clock,
    log: ctx.log,
    signal: ctx.signal,
  };
}
