/**
 * The preview deploy run: the deploy's stages, but the registered task definition goes to
 * the pull request's own service (routed when asked), created or updated, and watched as a
 * rolling update.
 */
import type { Config } from '../config.js';
import type { DeploymentStrategy } from '../deploy/strategy.js';
import { startPreviewDeployment, type PreviewPlan } from '../preview/preview.js';
import type { RunReport, StageTimer } from '../report.js';
import type { RunDeps } from '../stages/deps.js';
import { deployContext, recordDeployment, settleDeployment, type Watch } from '../stages/deploy.js';
import { showDryRun } from '../stages/dryrun.js';
import { register } from '../stages/register.js';
import { prepareRelease } from '../stages/release.js';
import { Stages } from '../stages/stage.js';

export async function runPreview(
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
  const taskDefinitionArn = await register(taskDefinition, deps, stages, report);
  const watch =
    plan.preview === undefined || plan.strategy === undefined
      ? undefined
      : await startPreview(config, plan.preview, plan.strategy, taskDefinitionArn, deps, stages, report);
  await settleDeployment(watch, config, deps, stages, report);
}

/** Routes the preview when asked, creates or updates its service, and watches its rollout. */
async function startPreview(
  config: Config,
  plan: PreviewPlan,
  strategy: DeploymentStrategy,
  taskDefinitionArn: string,
  deps: RunDeps,
  stages: Stages,
  report: RunReport,
): Promise<Watch> {
  const { names } = plan;
  const intent = {
    kind: strategy.name,
    cluster: config.cluster,
    service: names.service,
    region: config.region,
    taskDefinitionArn,
    since: deps.clock.wall().toISOString(),
  };
  const started = await stages.run(
    'Preview service',
    () => {
      recordDeployment(deps, intent);
      return startPreviewDeployment({ ecs: deps.clients.ecs, elbv2: deps.elbv2 }, plan, {
        cluster: config.cluster,
        taskDefinitionArn,
        log: deps.log,
      });
    },
    (s) => `${s.created ? 'created' : 'updated'} ${names.service}, deployment ${s.deploymentId}`,
  );
  report.service = names.service;
  report.ecsDeploymentId = started.deploymentId;
  deps.setOutput('preview-service', names.service);
  deps.setOutput('ecs-deployment-id', started.deploymentId);
  if (names.url !== undefined) {
    deps.setOutput('preview-url', names.url);
    // The same address as the `url` output, for the job's `environment: url`.
    deps.setOutput('url', names.url);
  }
  recordDeployment(deps, { ...intent, id: started.deploymentId });
  const deployment = {
    strategy: strategy.name,
    id: started.deploymentId,
    cluster: config.cluster,
    service: names.service,
    timeoutMs: config.waitForMinutes * 60_000,
    // A new service has no earlier revision to return to; its circuit breaker handles failures.
    previousTaskDefinitionArn: started.created ? undefined : plan.existing?.taskDefinition,
  };
  const ctx = deployContext(config, deps);
  return () => strategy.watch(deps.clients, deployment, ctx, { rollbackOnTimeout: config.rollbackOnTimeout });
}
