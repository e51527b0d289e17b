/**
 * The paused-hook run (`paused-hook: continue | rollback`): it builds and registers nothing.
 * It finds the service's current ECS-native service deployment waiting at a PAUSE hook
 * (AWAITING_ACTION), answers it with ContinueServiceDeployment, and then watches the
 * deployment as wait-until says. Typically the step of a job gated by a GitHub environment
 * with required reviewers, so production traffic moves only after a person approved.
 */
import type { ServiceDeployment } from '@aws-sdk/client-ecs';
import { checkCredentials } from '../aws.js';
import type { Config } from '../config.js';
import { STRATEGIES } from '../deploy/choose.js';
import {
  awaitingHooks,
  continueHook,
  describeServiceDeployment,
  listServiceDeployments,
} from '../deploy/native.js';
import { describeTargetService } from '../deploy/service.js';
import type { StartedDeployment } from '../deploy/strategy.js';
import { UserError } from '../errors.js';
import type { RunReport, StageTimer } from '../report.js';
import type { RunDeps } from '../stages/deps.js';
import { deployContext, reportStarted, settleDeployment } from '../stages/deploy.js';
import { Stages } from '../stages/stage.js';

/** The service's current service deployment, or the newest one in progress. */
async function currentDeployment(config: Config, deps: RunDeps): Promise<ServiceDeployment | undefined> {
  const { ecs } = deps.clients;
  const service = config.service as string;
  const svc = await describeTargetService(ecs, config.cluster, service);
  let arn = svc.service.currentServiceDeployment;
  if (arn === undefined) {
    const [newest] = await listServiceDeployments(ecs, {
      cluster: config.cluster,
      service,
      status: ['IN_PROGRESS'],
    });
    arn = newest?.serviceDeploymentArn;
  }
  return arn ? describeServiceDeployment(ecs, arn) : undefined;
}

/** ContinueServiceDeployment on the PAUSE hook the deployment waits at; a clear error when none waits. */
async function answerPausedHook(config: Config, deps: RunDeps): Promise<{ arn: string; hookId: string }> {
  const d = await currentDeployment(config, deps);
  const hook = d && awaitingHooks(d)[0];
  if (!d?.serviceDeploymentArn || !hook?.hookId) {
    const state = d
      ? `its current service deployment ${d.serviceDeploymentArn ?? ''} is ${d.status ?? '?'}${d.lifecycleStage ? ` at ${d.lifecycleStage}` : ''}`
      : 'it has no service deployment';
    throw new UserError({
      where: 'paused-hook',
      what: `Nothing of ECS service '${config.service}' in cluster '${config.cluster}' waits at a PAUSE hook: ${state}.`,
      fix: 'Run paused-hook only while a deployment waits at a PAUSE lifecycle hook (the deploying run prints when it does); it may have timed out or been answered already.',
    });
  }
  const action = config.pausedHook === 'rollback' ? 'ROLLBACK' : 'CONTINUE';
  await continueHook(deps.clients.ecs, d.serviceDeploymentArn, hook.hookId, action);
  deps.log.info(
    `ContinueServiceDeployment ${action}: ECS service deployment ${d.serviceDeploymentArn}, PAUSE hook ${hook.hookId} at ${d.lifecycleStage ?? '?'}.`,
  );
  return { arn: d.serviceDeploymentArn, hookId: hook.hookId };
}

export async function runPausedHook(
  config: Config,
  deps: RunDeps,
  timer: StageTimer,
  report: RunReport,
): Promise<void> {
  const stages = new Stages(timer, deps);
  await checkCredentials(deps.clients);
  const strategy = STRATEGIES['ecs-native'];
  const answered = await stages.run(
    config.pausedHook === 'rollback' ? 'Roll back at the PAUSE hook' : 'Continue at the PAUSE hook',
    () => answerPausedHook(config, deps),
    (a) => a.hookId,
  );
  report.mode = strategy.name;
  deps.setOutput('deploy-mode', strategy.name);
  const started: StartedDeployment = {
    strategy: strategy.name,
    id: answered.arn,
    cluster: config.cluster,
    service: config.service as string,
    timeoutMs: config.waitForMinutes * 60_000,
    expectRollback: config.pausedHook === 'rollback',
  };
  reportStarted(deps, report, strategy, started);
  const ctx = deployContext(config, deps);
  // Not recorded for the post step: this run answered a deployment another run started.
  await settleDeployment(
    () => strategy.watch(deps.clients, started, ctx, { rollbackOnTimeout: config.rollbackOnTimeout }),
    config,
    deps,
    stages,
    report,
  );
}
