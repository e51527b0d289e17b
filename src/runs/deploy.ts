/**
 * The deploy run: CodePipeline's Build and Deploy stages in order. Everything that can be
 * checked is checked before the first change in AWS; only then does it log in, build, push,
 * register and deploy, through the strategy the chooser picked for the service. A one-off
 * task (run-task) gates the deployment, or runs after it succeeded.
 */
import type { Config } from '../config.js';
import type { Plan } from '../plan.js';
import type { AppSpec } from '../render/appspec.js';
import type { RunReport, StageTimer } from '../report.js';
import type { RunDeps } from '../stages/deps.js';
import { outputUrl, settleDeployment, startDeployment, type Watch } from '../stages/deploy.js';
import { showDryRun } from '../stages/dryrun.js';
import { register } from '../stages/register.js';
import { prepareRelease } from '../stages/release.js';
import { cleanRevisions, deployAsIs } from '../stages/revisions.js';
import { Stages } from '../stages/stage.js';
import { runOneOffTask } from '../stages/task.js';

export async function runDeploy(
  config: Config,
  deps: RunDeps,
  timer: StageTimer,
  report: RunReport,
): Promise<void> {
  const stages = new Stages(timer, deps);
  const { plan, taskDefinition } = await prepareRelease(config, deps, stages, report);
  if (config.dryRun) {
    await stages.run('Dry run', () => showDryRun(config, plan, taskDefinition, deps, report));
    return;
  }
  const taskDefinitionArn =
    plan.asIsArn !== undefined
      ? deployAsIs(plan.asIsArn, deps, stages, report)
      : await register(taskDefinition, deps, stages, report);
  if (config.task?.when === 'before') await oneOffTask(config, plan, taskDefinitionArn, deps, stages, report);

  let watch: Watch | undefined;
  if (plan.strategy !== undefined && plan.service !== undefined) {
    watch = await startDeployment(
      plan.strategy,
      {
        cluster: config.cluster,
        service: config.service as string,
        taskDefinitionArn,
        previousTaskDefinitionArn: plan.service.taskDefinitionArn,
        check: plan.check,
        appspec: plan.appspec?.appspec as AppSpec | undefined,
        waitForIdle: true,
      },
      { record: true, rollbackOnTimeout: config.rollbackOnTimeout },
      config,
      deps,
      stages,
      report,
    );
  } else {
    stages.skip('Deploy', 'deploy-mode none: task definition registered only');
  }
  await settleDeployment(watch, config, deps, stages, report);
  if (report.outcome === 'succeeded') {
    const route = plan.group?.info.loadBalancerInfo?.targetGroupPairInfoList?.[0]?.prodTrafficRoute;
    await outputUrl(
      {
        listenerArn: route?.listenerArns?.[0],
        targetGroupArn: plan.service?.service.loadBalancers?.[0]?.targetGroupArn,
      },
      deps,
      report,
    );
  }
  // "After" means after a deployment seen to succeed, not one left unwatched.
  const succeeded = report.outcome === 'succeeded' || report.outcome === 'registered';
  if (config.task?.when === 'after') {
    if (succeeded) await oneOffTask(config, plan, taskDefinitionArn, deps, stages, report);
    else
      stages.skip(
        'One-off task (after the deployment)',
        `the deployment was ${report.outcome ?? 'not watched'}`,
      );
  }
  if (config.revisions.keepRevisions !== undefined) {
    if (succeeded) await cleanRevisions(config, taskDefinitionArn, deps, stages);
    else stages.skip('Old revisions', `the deployment was ${report.outcome ?? 'not watched'}`);
  }
}

function oneOffTask(
  config: Config,
  plan: Plan,
  taskDefinitionArn: string,
  deps: RunDeps,
  stages: Stages,
  report: RunReport,
): Promise<void> {
  const target = {
    cluster: config.cluster,
    region: config.region,
    taskDefinitionArn,
    containers: plan.taskDefinition.containerDefinitions ?? [],
    deployed: plan.containerNames.filter((n) => n !== ''),
    service: plan.service?.service,
  };
  return runOneOffTask(config.task!, target, config, deps, stages, report);
}
