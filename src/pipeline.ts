/**
 * The pipeline: CodePipeline's Build and Deploy stages in order. Everything that can be
 * checked is checked before the first change in AWS: inputs, files, the service, the
 * deployment group, the repositories, the task definition and the appspec. Only then does
 * it log in, build, push, register and deploy.
 */
import path from 'node:path';
import type { AwsClients } from './aws.js';
import type { Clock } from './clock.js';
import { type Config, imageTags } from './config.js';
import { type WaitForActiveOptions, waitForServiceIdle } from './deploy/active.js';
import { createDeployment, type DeploymentGroupTarget, waitBudgetMs } from './deploy/codedeploy.js';
import { startRollingDeployment } from './deploy/rolling.js';
import { watchCodeDeployDeployment, watchRollingDeployment, type WatchResult } from './deploy/watch.js';
import type { Docker } from './docker.js';
import { createRepository, loginToRegistry } from './ecr.js';
import { buildAndPushImage, hasBuildx } from './image.js';
import type { Log } from './log.js';
import { type FileSystem, type Plan, policyInput, prepareRegistration, validate } from './plan.js';
import { buildPolicy } from './policy.js';
import {
  type CurrentTaskDefinition,
  describePlannedCalls,
  renderDryRunSummary,
  taskDefinitionDiff,
} from './dryrun.js';
import { describeTaskDefinition } from './deploy/service.js';
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { registerTaskDefinition } from './register.js';
import { type RunReport, StageTimer } from './report.js';
import { type AppSpec, renderAppSpec } from './render/appspec.js';
import { renderImageDefinitions, renderImageDetail } from './render/artifacts.js';
import type { ImageAssignment } from './render/taskdef.js';
import { type PreviewPlan, startPreviewDeployment } from './preview/preview.js';

export type { FileSystem } from './plan.js';

export interface PipelineDeps {
  clients: AwsClients;
  docker: Docker;
  log: Log;
  clock: Clock;
  fs: FileSystem;
  setOutput(name: string, value: string): void;
  /** Hands facts to the post step (core.saveState): the registry to log out of, the deployment started, whether it settled. */
  saveState(name: 'registry' | 'deployment' | 'settled', value: string): void;
  signal?: AbortSignal;
  /** Elastic Load Balancing, for routing previews (preview-listener-arn). */
  elbv2?: ElasticLoadBalancingV2Client;
}

/** A deployment that ran and did not succeed: the report says why. */
export class DeploymentFailed extends Error {
  constructor(
    message: string,
    readonly diagnostics: string[],
  ) {
    super(message);
    this.name = 'DeploymentFailed';
  }
}

export async function runPipeline(
  config: Config,
  deps: PipelineDeps,
  timer: StageTimer,
  report: RunReport,
): Promise<void> {
  const { clients, log } = deps;
  const plan = await timer.run(
    'Validate',
    () => validate(config, deps),
    (p) => `mode ${p.mode}`,
  );
  report.mode = plan.mode;
  deps.setOutput('deploy-mode', plan.mode);

  if (config.printPolicy) {
    const policy = plan.policy ?? buildPolicy(await policyInput(config, plan, clients));
    log.info(`Least-privilege IAM policy for this deployment:\n${JSON.stringify(policy, null, 2)}`);
    deps.setOutput('policy', JSON.stringify(policy));
  }

  // The rendered files, and buildx's metadata file, go here.
  await deps.fs.mkdir(config.outputDir);
  const images = await produceImages(config, plan, deps, timer, report);
  const first = report.images[0];
  if (first) {
    deps.setOutput('image-uri', first.imageUri);
    if (first.digest) {
      deps.setOutput('image-digest', first.digest);
      deps.setOutput('image-uri-digest', `${first.imageUri.replace(/:[^:/]+$/, '')}@${first.digest}`);
    }
  }
  deps.setOutput(
    'images',
    JSON.stringify(Object.fromEntries(images.map((i) => [i.containerName, i.imageUri]))),
  );

  const prepared = prepareRegistration(plan, images);
  if (prepared.stripped.length > 0) {
    log.notice(
      `Removed read-only fields from the task definition before registering: ${prepared.stripped.join(', ')}.`,
    );
  }
  for (const c of prepared.coerced) log.notice(`Task definition: ${c}`);
  const out = (name: string) => path.join(config.outputDir, name);
  await deps.fs.writeFile(out('task-definition.json'), JSON.stringify(prepared.input, null, 2) + '\n');
  await deps.fs.writeFile(out('imagedefinitions.json'), renderImageDefinitions(images));
  deps.setOutput('task-definition-path', out('task-definition.json'));
  deps.setOutput('imagedefinitions-path', out('imagedefinitions.json'));
  if (images[0]) {
    await deps.fs.writeFile(out('imageDetail.json'), renderImageDetail(images[0].imageUri));
    deps.setOutput('imagedetail-path', out('imageDetail.json'));
  }

  if (config.dryRun) {
    await timer.run('Dry run', () => showDryRun(config, plan, prepared.input, deps, report));
    return;
  }

  const registered = await timer.run(
    'Register task definition',
    () => registerTaskDefinition(clients.ecs, prepared.input),
    (r) => r.arn,
  );
  report.taskDefinitionArn = registered.arn;
  deps.setOutput('task-definition-arn', registered.arn);

  let watch: (() => Promise<WatchResult>) | undefined;
  if (plan.preview !== undefined) {
    watch = await startPreview(config, plan.preview, registered.arn, deps, timer, report);
  } else if (plan.mode === 'codedeploy') {
    watch = await startCodeDeploy(config, deps, timer, report, {
      group: plan.group as DeploymentGroupTarget,
      appspec: (plan.appspec as { appspec: AppSpec }).appspec,
      taskDefinitionArn: registered.arn,
      record: true,
      rollbackOnTimeout: config.rollbackOnTimeout,
    });
  } else if (plan.mode === 'rolling') {
    watch = await startRollingUpdate(config, deps, timer, report, {
      taskDefinitionArn: registered.arn,
      previousTaskDefinitionArn: plan.service?.taskDefinitionArn,
      waitForIdle: true,
      record: true,
      rollbackOnTimeout: config.rollbackOnTimeout,
    });
  } else {
    timer.skip('Deploy', 'deploy-mode none: task definition registered only');
  }
  await settleDeployment(watch, config, deps, timer, report);
}

/** Starts a watch; undefined when nothing was deployed (deploy-mode none). */
type Watch = () => Promise<WatchResult>;

function watchOptions(config: Config, deps: PipelineDeps, rollbackOnTimeout: boolean) {
  return {
    pollIntervalMs: config.pollIntervalSeconds * 1000,
    rollbackOnTimeout,
    clock: deps.clock,
    log: deps.log,
    signal: deps.signal,
  };
}

/**
 * CreateDeployment of the appspec with `taskDefinitionArn` put in, through the group; waits
 * for another active deployment of the group first, within wait-for-active-deployment-minutes.
 * `record` hands the deployment to the post step, which stops it with rollback on cancel.
 */
export async function startCodeDeploy(
  config: Config,
  deps: PipelineDeps,
  timer: StageTimer,
  report: RunReport,
  opts: {
    group: DeploymentGroupTarget;
    appspec: AppSpec;
    taskDefinitionArn: string;
    record: boolean;
    rollbackOnTimeout: boolean;
    description?: string;
  },
): Promise<Watch> {
  const { clients, log } = deps;
  const { group } = opts;
  const service = config.service as string;
  const rendered = renderAppSpec(opts.appspec, opts.taskDefinitionArn);
  // A rollback comes here without the pipeline's earlier stages.
  await deps.fs.mkdir(config.outputDir);
  const appspecPath = path.join(config.outputDir, 'appspec.yaml');
  await deps.fs.writeFile(appspecPath, rendered.content);
  deps.setOutput('appspec-path', appspecPath);
  const id = await timer.run(
    'CodeDeploy deployment',
    () =>
      createDeployment(clients.codedeploy, {
        application: group.application,
        deploymentGroup: group.deploymentGroup,
        deploymentConfigName: config.codedeploy.deploymentConfig,
        description: opts.description ?? config.codedeploy.description ?? defaultDescription(config),
        appSpecContent: { content: rendered.content, sha256: rendered.sha256 },
        region: config.region,
        waitForActive: waitForActive(config, deps),
      }),
    (d) => d,
  );
  report.codedeployDeploymentId = id;
  deps.setOutput('codedeploy-deployment-id', id);
  if (opts.record) recordDeployment(deps, config, 'codedeploy', id, service);
  log.info(`Started CodeDeploy deployment ${id} (${group.application}/${group.deploymentGroup}).`);
  return () =>
    watchCodeDeployDeployment(clients.codedeploy, clients.ecs, {
      ...watchOptions(config, deps, opts.rollbackOnTimeout),
      deploymentId: id,
      cluster: config.cluster,
      service,
      timeoutMs: waitBudgetMs(group, config.waitForMinutes),
    });
}

/**
 * UpdateService to `taskDefinitionArn`. With `waitForIdle` it first waits for a deployment
 * this run did not start (within wait-for-active-deployment-minutes) instead of superseding it.
 */
export async function startRollingUpdate(
  config: Config,
  deps: PipelineDeps,
  timer: StageTimer,
  report: RunReport,
  opts: {
    taskDefinitionArn: string;
    previousTaskDefinitionArn?: string;
    waitForIdle: boolean;
    record: boolean;
    rollbackOnTimeout: boolean;
  },
): Promise<Watch> {
  const { clients, log } = deps;
  const service = config.service as string;
  const started = await timer.run(
    'ECS rolling deployment',
    async () => {
      if (opts.waitForIdle) {
        await waitForServiceIdle(
          clients.ecs,
          { cluster: config.cluster, service },
          waitForActive(config, deps),
        );
      }
      return startRollingDeployment(clients.ecs, {
        cluster: config.cluster,
        service,
        taskDefinitionArn: opts.taskDefinitionArn,
        forceNewDeployment: config.forceNewDeployment,
        desiredCount: config.desiredCount,
      });
    },
    (d) => d.deploymentId,
  );
  report.ecsDeploymentId = started.deploymentId;
  deps.setOutput('ecs-deployment-id', started.deploymentId);
  if (opts.record) recordDeployment(deps, config, 'rolling', started.deploymentId, service);
  log.info(`Started ECS deployment ${started.deploymentId} on ${config.cluster}/${service}.`);
  return () =>
    watchRollingDeployment(clients.ecs, {
      ...watchOptions(config, deps, opts.rollbackOnTimeout),
      cluster: config.cluster,
      service,
      deploymentId: started.deploymentId,
      previousTaskDefinitionArn: opts.previousTaskDefinitionArn,
      timeoutMs: config.waitForMinutes * 60_000,
    });
}

/** Routes the preview when asked, creates or updates its service, and watches its rollout. */
async function startPreview(
  config: Config,
  plan: PreviewPlan,
  taskDefinitionArn: string,
  deps: PipelineDeps,
  timer: StageTimer,
  report: RunReport,
): Promise<Watch> {
  const { names } = plan;
  const started = await timer.run(
    'Preview service',
    () =>
      startPreviewDeployment({ ecs: deps.clients.ecs, elbv2: deps.elbv2 }, plan, {
        cluster: config.cluster,
        taskDefinitionArn,
        log: deps.log,
      }),
    (s) => `${s.created ? 'created' : 'updated'} ${names.service}, deployment ${s.deploymentId}`,
  );
  report.service = names.service;
  report.ecsDeploymentId = started.deploymentId;
  deps.setOutput('preview-service', names.service);
  deps.setOutput('ecs-deployment-id', started.deploymentId);
  if (names.url !== undefined) deps.setOutput('preview-url', names.url);
  recordDeployment(deps, config, 'rolling', started.deploymentId, names.service);
  return () =>
    watchRollingDeployment(deps.clients.ecs, {
      ...watchOptions(config, deps, config.rollbackOnTimeout),
      cluster: config.cluster,
      service: names.service,
      deploymentId: started.deploymentId,
      // A new service has no earlier revision to return to; its circuit breaker handles failures.
      previousTaskDefinitionArn: started.created ? undefined : plan.existing?.taskDefinition,
      timeoutMs: config.waitForMinutes * 60_000,
    });
}

/** Watches a started deployment to its end (unless told not to) and records the outcome. */
export async function settleDeployment(
  watch: Watch | undefined,
  config: Config,
  deps: PipelineDeps,
  timer: StageTimer,
  report: RunReport,
): Promise<void> {
  if (watch === undefined) {
    report.outcome = 'registered';
  } else if (!config.waitForServiceStability) {
    deps.saveState('settled', 'true');
    timer.skip('Watch', 'wait-for-service-stability is false');
    report.outcome = 'started';
  } else {
    const result = await timer.run('Watch', watch, (r) => `${r.outcome}: ${r.status}`);
    // A watch cut short by cancellation leaves the deployment to the post step to stop.
    if (!deps.signal?.aborted) deps.saveState('settled', 'true');
    report.outcome = result.outcome;
    report.diagnostics.push(...result.diagnostics);
    deps.setOutput('deployment-outcome', result.outcome);
    if (result.outcome !== 'succeeded') {
      throw new DeploymentFailed(result.message, result.diagnostics);
    }
    report.message = result.message;
  }
  if (report.outcome !== 'succeeded') deps.setOutput('deployment-outcome', report.outcome ?? '');
}

/**
 * Builds (and, unless this is a dry run, pushes) every image to build; existing images are
 * taken as they are. A dry run neither logs in nor creates a repository nor pushes.
 */
async function produceImages(
  config: Config,
  plan: Plan,
  deps: PipelineDeps,
  timer: StageTimer,
  report: RunReport,
): Promise<ImageAssignment[]> {
  const { clients, log } = deps;
  const images: ImageAssignment[] = [];
  const tags = imageTags(config);
  const building = config.containers.some((c) => c.build !== undefined);
  let buildx = false;
  if (building) {
    if (!config.dryRun) {
      const login = await timer.run(
        'ECR login',
        () => loginToRegistry(clients.ecr, deps.docker, log),
        (l) => l.registry,
      );
      deps.saveState('registry', login.registry);
    }
    buildx = await hasBuildx(deps.docker);
  }
  for (const [i, c] of config.containers.entries()) {
    const name = plan.containerNames[i] as string;
    if (c.build === undefined) {
      images.push({ containerName: name, imageUri: c.image as string });
      report.images.push({ container: name, imageUri: c.image as string });
      continue;
    }
    const spec = c.build;
    const built = await timer.run(
      `Build ${name}`,
      async () => {
        let repo = plan.repositories.get(spec.repository);
        if (repo === undefined && config.dryRun) {
          // Tagged with the bare name: a dry run creates no repository.
          repo = { name: spec.repository, uri: spec.repository, immutable: false };
        } else if (repo === undefined) {
          repo = await createRepository(clients.ecr, spec.repository, log);
          plan.repositories.set(spec.repository, repo);
        }
        return buildAndPushImage(
          {
            ecr: clients.ecr,
            docker: deps.docker,
            log,
            buildx,
            tempDir: config.outputDir,
            readFile: deps.fs.readFile,
          },
          spec,
          repo,
          tags,
          config.dryRun ? { ...config.build, push: false } : config.build,
        );
      },
      (b) => (b.reused ? `reused ${b.imageUri}` : b.imageUri),
    );
    images.push({ containerName: name, imageUri: built.imageUri });
    report.images.push({
      container: name,
      imageUri: built.imageUri,
      digest: built.digest,
      reused: built.reused,
    });
  }
  return images;
}

/** What a real run would change: the task definition diff, the calls, the appspec. */
async function showDryRun(
  config: Config,
  plan: Plan,
  next: RegisterTaskDefinitionCommandInput,
  deps: PipelineDeps,
  report: RunReport,
): Promise<void> {
  let current: CurrentTaskDefinition | undefined;
  if (config.taskDefinition.kind === 'service') {
    current = plan.source.doc as CurrentTaskDefinition;
  } else if (plan.service !== undefined) {
    current = await describeTaskDefinition(deps.clients.ecs, plan.service.taskDefinitionArn);
  }
  const diff = taskDefinitionDiff(current, next);
  const group = plan.group;
  const calls = describePlannedCalls({
    pushes: config.containers.flatMap((c) =>
      c.build === undefined
        ? []
        : [
            {
              repository: c.build.repository,
              tags: imageTags(config),
              createRepository: plan.repositories.get(c.build.repository) === undefined,
            },
          ],
    ),
    taskDefinitionFamily: next.family ?? '',
    deployment:
      plan.mode === 'codedeploy' && group !== undefined
        ? {
            mode: 'codedeploy',
            application: group.application,
            deploymentGroup: group.deploymentGroup,
            deploymentConfigName: config.codedeploy.deploymentConfig ?? group.deploymentConfigName,
          }
        : plan.mode === 'rolling'
          ? {
              mode: 'rolling',
              cluster: config.cluster,
              service: config.service as string,
              forceNewDeployment: config.forceNewDeployment,
              desiredCount: config.desiredCount,
            }
          : { mode: 'none' },
    wait: config.waitForServiceStability,
  });
  deps.log.info(`Dry run: nothing is changed. A real run would make these calls:\n  ${calls.join('\n  ')}`);
  deps.log.info(
    diff === '' ? 'Task definition: no change from the current revision.' : `Task definition diff:\n${diff}`,
  );
  const markdown = renderDryRunSummary({ calls, diff, appspec: plan.appspec?.appspec });
  report.extraMarkdown = markdown;
  report.outcome = 'dry-run';
  deps.setOutput('deployment-outcome', 'dry-run');
}

function waitForActive(config: Config, deps: PipelineDeps): WaitForActiveOptions {
  return {
    timeoutMs: config.waitForActiveDeploymentMinutes * 60_000,
    pollIntervalMs: config.pollIntervalSeconds * 1000,
    clock: deps.clock,
    log: deps.log,
    signal: deps.signal,
  };
}

function recordDeployment(
  deps: PipelineDeps,
  config: Config,
  kind: 'codedeploy' | 'rolling',
  id: string,
  service: string,
): void {
  deps.saveState(
    'deployment',
    JSON.stringify({ kind, id, cluster: config.cluster, service, region: config.region }),
  );
}

function defaultDescription(config: Config): string {
  const sha = config.sha ? ` ${config.sha.slice(0, 7)}` : '';
  return `Deployed by ecs-deploy-pipeline${sha}`.slice(0, 512);
}
