/**
 * Deploy and watch, through whichever strategy the chooser picked. The safety rules live
 * here, once for every strategy: the post step's record is written before the call that
 * starts the deployment (intent: strategy, service, task definition) and completed with the
 * id after; the watch runs under the run's cancellation and monotonic clock.
 */
import path from 'node:path';
import type { Config } from '../config.js';
import type {
  DeployContext,
  DeploymentRecord,
  DeploymentStrategy,
  StartedDeployment,
  StartRequest,
} from '../deploy/strategy.js';
import { readContainerLogs } from '../deploy/container-logs.js';
import { failureSentence } from '../deploy/failure.js';
import { deploymentUrl } from '../deploy/url.js';
import { errorText, isAwsError } from '../deploy/aws-errors.js';
import type { WatchResult } from '../deploy/watch.js';
import { containerLogText, detailLines, logsDeniedNotice, type RunReport } from '../report.js';
import { inertLines } from '../safe-text.js';
import { DeploymentFailed, type RunDeps } from './deps.js';
import type { Stages } from './stage.js';

/** Starts the watch of a started deployment; undefined when nothing was deployed. */
export type Watch = () => Promise<WatchResult>;

export function deployContext(config: Config, deps: RunDeps): DeployContext {
  return { config, clock: deps.clock, log: deps.log, signal: deps.signal };
}

/** Hands the deployment to the post step (core.saveState), which stops it on cancel. */
export function recordDeployment(deps: RunDeps, record: DeploymentRecord): void {
  deps.saveState('deployment', JSON.stringify(record));
}

/** The deployment's id in the report and the output the strategy names. */
export function reportStarted(
  deps: RunDeps,
  report: RunReport,
  strategy: DeploymentStrategy,
  started: StartedDeployment,
): void {
  if (strategy.idOutput === 'codedeploy-deployment-id') report.codedeployDeploymentId = started.id;
  else if (strategy.idOutput === 'service-deployment-arn') report.serviceDeploymentArn = started.id;
  else report.ecsDeploymentId = started.id;
  deps.setOutput(strategy.idOutput, started.id);
}

/**
 * Starts a deployment of a registered task definition through `strategy`. With `record`,
 * the post step learns of it before the start call is made (see DeploymentRecord).
 */
export async function startDeployment(
  strategy: DeploymentStrategy,
  request: StartRequest,
  opts: { record: boolean; rollbackOnTimeout: boolean },
  config: Config,
  deps: RunDeps,
  stages: Stages,
  report: RunReport,
): Promise<Watch> {
  const ctx = deployContext(config, deps);
  const artifacts = strategy.artifacts(request);
  if (artifacts.length > 0) await deps.fs.mkdir(config.outputDir);
  for (const a of artifacts) {
    const file = path.join(config.outputDir, a.name);
    await deps.fs.writeFile(file, a.content);
    deps.setOutput(a.output, file);
  }
  const intent: DeploymentRecord = {
    kind: strategy.name,
    cluster: request.cluster,
    service: request.service,
    region: config.region,
    taskDefinitionArn: request.taskDefinitionArn,
    application: request.check.group?.application,
    deploymentGroup: request.check.group?.deploymentGroup,
    since: deps.clock.wall().toISOString(),
  };
  const started = await stages.run(
    strategy.label,
    async () => {
      if (opts.record) recordDeployment(deps, intent);
      return strategy.start(deps.clients, request, ctx);
    },
    (d) => d.id,
  );
  reportStarted(deps, report, strategy, started);
  if (opts.record) recordDeployment(deps, { ...intent, id: started.id });
  return () => strategy.watch(deps.clients, started, ctx, { rollbackOnTimeout: opts.rollbackOnTimeout });
}

/** Watches a started deployment to its end (unless told not to) and records the outcome. */
export async function settleDeployment(
  watch: Watch | undefined,
  config: Config,
  deps: RunDeps,
  stages: Stages,
  report: RunReport,
): Promise<void> {
  if (watch === undefined) {
    report.outcome = 'registered';
  } else if (!config.waitForServiceStability) {
    deps.saveState('settled', 'true');
    stages.skip('Watch', 'wait-for-service-stability is false');
    report.outcome = 'started';
  } else {
    const result = await watchStage(watch, stages);
    // A watch cut short by cancellation, or one that lost sight of the deployment (AWS
    // unreachable), leaves it to the post step to stop.
    if (!deps.signal?.aborted && result.outcome !== 'unknown') deps.saveState('settled', 'true');
    report.outcome = result.outcome;
    deps.setOutput('deployment-outcome', result.outcome);
    if (result.outcome !== 'succeeded') await failDeployment(result, config, deps, report);
    report.message = result.message;
  }
  if (report.outcome !== 'succeeded') deps.setOutput('deployment-outcome', report.outcome ?? '');
}

/** The Watch stage: ✅ only when the deployment succeeded; a failed one is ❌ with its cause. */
async function watchStage(watch: Watch, stages: Stages): Promise<WatchResult> {
  let result: WatchResult | undefined;
  try {
    return await stages.run(
      'Watch',
      async () => {
        result = await watch();
        if (result.outcome !== 'succeeded') {
          // The stage row names the cause; the headline and "What went wrong" say the rest.
          throw new Error(result.failure?.cause ?? result.message);
        }
        return result;
      },
      (r) => `${r.outcome}: ${r.status}`,
    );
  } catch (e) {
    if (result === undefined) throw e;
    return result;
  }
}

/**
 * A deployment that did not succeed: its detail and its containers' last lines in log groups
 * and the report, then the one error (the cause first) for main to annotate.
 */
async function failDeployment(
  result: WatchResult,
  config: Config,
  deps: RunDeps,
  report: RunReport,
): Promise<never> {
  const failure =
    result.failure && config.preview !== undefined
      ? { ...result.failure, subject: 'the preview' }
      : result.failure;
  const sentence = failure ? failureSentence(failure) : result.message;
  report.failure = failure;
  report.diagnostics.push(...result.diagnostics);
  const logs =
    failure && deps.clients.logs
      ? await readContainerLogs(
          { ecs: deps.clients.ecs, logs: deps.clients.logs },
          failure.tasks,
          config.containerLogLines,
          deps.signal,
        ).catch(() => undefined)
      : undefined;
  report.containerLogs = logs?.logs;
  const group = deps.group ?? ((_name: string, fn: () => Promise<void>) => fn());
  const details = detailLines(result, failure);
  if (details.length > 0) {
    await group('What went wrong', async () => deps.log.info(inertLines(details.join('\n'))));
  }
  if (logs !== undefined && logs.logs.length + logs.notes.length > 0) {
    await group('Container logs', async () => deps.log.info(inertLines(containerLogText(logs).join('\n'))));
  }
  if (logs !== undefined && logs.denied.length > 0) deps.log.notice(logsDeniedNotice(logs.denied));
  throw new DeploymentFailed(sentence, result.diagnostics, failure);
}

/**
 * The `url` output: where the deployed version answers. Read after a successful deployment;
 * a target without a load balancer has none, and a failed read is a notice, never the run's error.
 */
export async function outputUrl(
  target: { listenerArn?: string; targetGroupArn?: string; url?: string },
  deps: RunDeps,
  report: RunReport,
): Promise<void> {
  let url = target.url;
  const elb = deps.elbv2 ?? deps.clients.elbv2;
  if (url === undefined && elb !== undefined) {
    try {
      url = await deploymentUrl(elb, target);
    } catch (err) {
      // Denied: say which permission gives the URL; anything else (no such target group) is no URL.
      if (isAwsError(err, 'AccessDenied', 'AccessDeniedException')) {
        deps.log.notice(
          `No url output: reading the load balancer was denied (${errorText(err)}). Grant elasticloadbalancing:DescribeListeners, DescribeLoadBalancers and DescribeTargetGroups to get it.`,
        );
      } else deps.log.debug(`No url output: ${errorText(err)}`);
    }
  }
  if (url === undefined) return;
  report.url = url;
  deps.setOutput('url', url);
}
