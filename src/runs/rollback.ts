/**
 * The rollback run (`rollback: true`): put the service back on the task definition that was
 * live before the current one, through the same strategy a deploy uses, watched to the end.
 * When the strategy has a deployment running that it can stop with rollback (CodeDeploy),
 * it is stopped instead. A rollback never undoes itself: it is not stopped on timeout nor by
 * the post step when the job is cancelled (that would put back the version being left).
 */
import { checkCredentials } from '../aws.js';
import type { Config } from '../config.js';
import { chooseStrategy } from '../deploy/choose.js';
import { shortTaskDefinition } from '../deploy/history.js';
import { describeTargetService } from '../deploy/service.js';
import type { DeployClients, DeploymentStrategy, RollbackPlan } from '../deploy/strategy.js';
import type { RunReport, StageTimer } from '../report.js';
import type { RunDeps } from '../stages/deps.js';
import {
  deployContext,
  reportStarted,
  settleDeployment,
  startDeployment,
  type Watch,
} from '../stages/deploy.js';
import { Stages } from '../stages/stage.js';

export { shortTaskDefinition };

/** Decides the rollback: reads the service, its deployments and history; changes nothing. */
export async function planRollback(
  config: Config,
  clients: DeployClients,
  ctx: Omit<ReturnType<typeof deployContext>, 'config'>,
): Promise<{ strategy: DeploymentStrategy; plan: RollbackPlan }> {
  const service = await describeTargetService(clients.ecs, config.cluster, config.service as string);
  const strategy = chooseStrategy(config.deployMode, service);
  if (strategy === undefined) throw new Error('Rollback cannot use deploy mode none.');
  return { strategy, plan: await strategy.previous(clients, service, { ...ctx, config }) };
}

function summaryTable(strategy: DeploymentStrategy, plan: RollbackPlan): string {
  return [
    '### Rollback',
    '',
    '| From | To | How |',
    '| --- | --- | --- |',
    `| \`${plan.from ?? 'unknown'}\` | \`${plan.to ?? 'the original task set'}\` | ${
      plan.kind === 'stop'
        ? `stopped ${strategy.label} ${plan.deploymentId} with rollback`
        : `redeployed (${plan.source})`
    } |`,
  ].join('\n');
}

export async function runRollback(
  config: Config,
  deps: RunDeps,
  timer: StageTimer,
  report: RunReport,
): Promise<void> {
  const stages = new Stages(timer, deps);
  const { strategy, plan } = await stages.run(
    'Validate',
    async () => {
      await checkCredentials(deps.clients);
      return planRollback(config, deps.clients, deps);
    },
    (p) =>
      `${p.plan.kind === 'stop' ? 'stop' : p.strategy.name}: ${shortTaskDefinition(p.plan.from)} → ${shortTaskDefinition(p.plan.to)}`,
  );
  report.mode = strategy.name;
  deps.setOutput('deploy-mode', strategy.name);
  const target = `${config.cluster}/${config.service}`;
  const fromTo = `from ${shortTaskDefinition(plan.from)} to ${shortTaskDefinition(plan.to)}`;
  report.extraMarkdown = summaryTable(strategy, plan);
  if (plan.to !== undefined) {
    report.taskDefinitionArn = plan.to;
    deps.setOutput('task-definition-arn', plan.to);
  }
  const watch =
    plan.kind === 'stop'
      ? await stopWithRollback(strategy, plan, fromTo, config, deps, stages, report)
      : await redeploy(strategy, plan, fromTo, config, deps, stages, report);
  if (watch === undefined) {
    // Stopped before the replacement took traffic: the original task set never stopped serving.
    report.outcome = 'succeeded';
    deps.setOutput('deployment-outcome', 'succeeded');
  } else {
    await settleDeployment(watch, config, deps, stages, report);
  }
  report.message =
    report.outcome === 'started'
      ? `Started rolling ${target} back ${fromTo}.`
      : `Rolled ${target} back ${fromTo}.`;
  deps.log.notice(report.message);
}

/** The running deployment stopped with rollback; the rollback deployment it makes, watched. */
async function stopWithRollback(
  strategy: DeploymentStrategy,
  plan: Extract<RollbackPlan, { kind: 'stop' }>,
  fromTo: string,
  config: Config,
  deps: RunDeps,
  stages: Stages,
  report: RunReport,
): Promise<Watch | undefined> {
  deps.log.info(
    `${strategy.label} ${plan.deploymentId} is in progress: stopping it with rollback (${fromTo}).`,
  );
  const ctx = deployContext(config, deps);
  const deployment = {
    id: plan.deploymentId,
    cluster: config.cluster,
    service: config.service as string,
    check: plan.check,
  };
  const stopped = await stages.run(
    'Stop deployment with rollback',
    () => strategy.stop(deps.clients, deployment, ctx),
    (s) => (s.rollback ? `rollback deployment ${s.rollback.id}` : 'stopped before any traffic moved'),
  );
  const rollback = stopped.rollback;
  if (rollback === undefined) return undefined;
  reportStarted(deps, report, strategy, rollback);
  return () => strategy.watch(deps.clients, rollback, ctx, { rollbackOnTimeout: false });
}

/** The earlier task definition deployed again through the strategy; not recorded for the post step. */
async function redeploy(
  strategy: DeploymentStrategy,
  plan: Extract<RollbackPlan, { kind: 'redeploy' }>,
  fromTo: string,
  config: Config,
  deps: RunDeps,
  stages: Stages,
  report: RunReport,
): Promise<Watch> {
  deps.log.info(`Rolling ${config.cluster}/${config.service} back ${fromTo}: ${plan.source}.`);
  return startDeployment(
    strategy,
    {
      cluster: config.cluster,
      service: config.service as string,
      taskDefinitionArn: plan.to,
      check: plan.check,
      appspec: plan.appspec,
      description: `Rollback by ecs-deploy-pipeline from ${shortTaskDefinition(plan.from)} to ${shortTaskDefinition(plan.to)}`,
      waitForIdle: false,
    },
    { record: false, rollbackOnTimeout: false },
    config,
    deps,
    stages,
    report,
  );
}
