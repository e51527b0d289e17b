/**
 * Pull-request previews: `<service>-pr-<N>`, a service of its own next to the base service,
 * with the base service's placement and network settings, one task, the ECS rolling
 * controller with the circuit breaker, and its own task definition family. A deploy goes
 * through the normal pipeline (build, render, register) and ends here, creating or updating
 * the service; a destroy removes everything the deploys created, and is safe to repeat.
 */
import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  type ECRClient,
  type ImageDetail,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import {
  CreateServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  ListTaskDefinitionsCommand,
  type CreateServiceCommandInput,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
  type Service,
} from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Config } from '../config.js';
import { type WaitForActiveOptions, waitUntil } from '../deploy/active.js';
import { isAwsError } from '../deploy/aws-errors.js';
import { startRollingDeployment } from '../deploy/rolling.js';
import type { TargetService } from '../deploy/service.js';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { parseDocument } from '../render/document.js';
import { isPreviewTagged, previewFamily, previewNames, type PreviewNames } from './names.js';
import { ensureRouting, planRouting, type Routing, type RoutingPlan } from './routing.js';

export interface PreviewPlan {
  names: PreviewNames;
  base: TargetService;
  /** The family the preview's `<family>-pr-<N>` comes from. */
  baseFamily: string;
  /** The preview service when it already runs (a synchronize): updated, not created. */
  existing?: Service;
  routing?: RoutingPlan;
}

export interface PreviewPlanDeps {
  ecs: ECSClient;
  elbv2?: ElasticLoadBalancingV2Client;
  log: Log;
  /** For a reopened pull request whose previous preview service is still draining. */
  wait: WaitForActiveOptions;
}

/** The family of a task definition ARN, `…:task-definition/<family>:<revision>`. */
export function familyOfArn(arn: string): string | undefined {
  return /:task-definition\/([^:]+):\d+$/.exec(arn)?.[1];
}

/** The family written in a task definition document (plain or describe-task-definition's wrapped form). */
export function familyOfDocument(doc: unknown): string | undefined {
  const d = doc as { family?: unknown; taskDefinition?: { family?: unknown } } | null;
  const family = d?.taskDefinition?.family ?? d?.family;
  return typeof family === 'string' ? family : undefined;
}

/**
 * Everything the preview deploy needs to know before changing anything: its names, whether
 * its service exists (waiting, within a bound, for one still draining from an earlier
 * destroy), and the load balancer it is routed through.
 */
export async function planPreview(
  config: Config,
  base: TargetService,
  taskDefinition: RegisterTaskDefinitionCommandInput,
  baseFamily: string,
  deps: PreviewPlanDeps,
): Promise<PreviewPlan> {
  const preview = config.preview;
  if (preview === undefined) throw new Error('planPreview needs preview settings.');
  const names = previewNames(base.serviceName, preview);
  const existing = await previewServiceToDeploy(deps.ecs, config.cluster, names, deps.wait);
  let routing: RoutingPlan | undefined;
  if (preview.listenerArn !== undefined) {
    if (deps.elbv2 === undefined) throw new Error('Preview routing needs an Elastic Load Balancing client.');
    const container = servingContainer(base.service, taskDefinition, {
      containerName: config.containers.length === 1 ? config.containers[0]?.name : undefined,
      containerPort: config.containerPort,
    });
    routing = await planRouting(deps.elbv2, {
      listenerArn: preview.listenerArn,
      names,
      containerName: container.name,
      containerPort: container.port,
      awsvpc: taskDefinition.networkMode === 'awsvpc',
      baseTargetGroupArn: base.service.loadBalancers?.find((lb) => lb.targetGroupArn)?.targetGroupArn,
    });
  }
  return { names, base, baseFamily, existing, routing };
}

export async function describePreviewService(
  ecs: ECSClient,
  cluster: string,
  service: string,
): Promise<Service | undefined> {
  const out = await ecs.send(
    new DescribeServicesCommand({ cluster, services: [service], include: ['TAGS'] }),
  );
  return out.services?.[0];
}

/**
 * The ACTIVE preview service to update, or undefined when one is to be created. A service of
 * that name that is still DRAINING blocks the name until it is INACTIVE, so that is waited
 * for; an ACTIVE one that is not this preview's is never touched.
 */
async function previewServiceToDeploy(
  ecs: ECSClient,
  cluster: string,
  names: PreviewNames,
  wait: WaitForActiveOptions,
): Promise<Service | undefined> {
  let svc = await describePreviewService(ecs, cluster, names.service);
  if (svc?.status === 'DRAINING') {
    const minutes = Math.round((wait.timeoutMs / 60_000) * 10) / 10;
    wait.log.info(
      `Service ${cluster}/${names.service} from an earlier preview is still DRAINING; a new one can be created once it is INACTIVE (waiting up to ${minutes} min).`,
    );
    const done = await waitUntil(
      async () => {
        svc = await describePreviewService(ecs, cluster, names.service);
        return svc?.status === 'DRAINING' ? undefined : `${names.service} is ${svc?.status ?? 'gone'}`;
      },
      wait.clock.now() + wait.timeoutMs,
      wait,
    );
    if (done === undefined) {
      throw new UserError({
        where: 'preview',
        what: `Service ${cluster}/${names.service}, deleted by an earlier destroy of this preview, is still DRAINING after ${minutes} min, and ECS creates no service of the same name until it is INACTIVE.`,
        fix: 'Re-run the job once its tasks have stopped (the ECS console shows them), or raise wait-for-active-deployment-minutes.',
      });
    }
  }
  if (svc?.status !== 'ACTIVE') return undefined;
  if (!isPreviewTagged(svc.tags, names)) {
    throw new UserError({
      where: 'service',
      what: `Service ${cluster}/${names.service} exists and is not a preview of ${names.baseService} (it lacks the tags preview-of=${names.baseService}, pull-request=${names.pullRequest}), so it is not changed.`,
      fix: `Rename or delete that service; previews are named <service>-pr-<number>.`,
    });
  }
  return svc;
}

/**
 * The container and port the load balancer sends the preview's traffic to: the base
 * service's own load balancer entry, else the inputs, else the only container with a port.
 */
export function servingContainer(
  base: Service,
  taskDefinition: RegisterTaskDefinitionCommandInput,
  opts: { containerName?: string; containerPort?: number },
): { name: string; port: number } {
  const containers = taskDefinition.containerDefinitions ?? [];
  const portsOf = (name: string | undefined) =>
    (containers.find((c) => c.name === name)?.portMappings ?? [])
      .map((p) => p.containerPort)
      .filter((p): p is number => typeof p === 'number');
  const fromBase = base.loadBalancers?.find((lb) => lb.containerName !== undefined);
  const name = fromBase?.containerName ?? opts.containerName;
  const port = fromBase?.containerPort ?? opts.containerPort;
  if (name !== undefined) {
    const ports = portsOf(name);
    const chosen = port ?? ports[0];
    if (chosen !== undefined && ports.includes(chosen)) return { name, port: chosen };
    throw new UserError({
      where: port === undefined ? 'container-name' : 'container-port',
      what: `Container ${name} of the preview's task definition ${ports.length > 0 ? `maps ports ${ports.join(', ')}, not ${port}` : 'has no port mappings'}, so the load balancer has nothing to send the preview's traffic to.`,
      fix: 'Set container-name and container-port to the container and port that serve HTTP.',
    });
  }
  const serving = containers.filter((c) => (c.portMappings ?? []).some((p) => p.containerPort !== undefined));
  const only = serving.length === 1 ? serving[0] : undefined;
  const onlyPort = only?.portMappings?.find((p) => p.containerPort !== undefined)?.containerPort;
  if (only?.name !== undefined && onlyPort !== undefined) return { name: only.name, port: onlyPort };
  throw new UserError({
    where: 'container-name',
    what: `The preview's load balancer target cannot be chosen: ${serving.length === 0 ? 'no container maps a port' : `${serving.length} containers map ports (${serving.map((c) => c.name).join(', ')})`}.`,
    fix: 'Set container-name and container-port to the container and port that serve HTTP.',
  });
}

/**
 * CreateService for the preview: the base service's launch type or capacity provider
 * strategy, platform version, network configuration and placement; one task; the ECS
 * rolling controller with the circuit breaker rolling back a broken image. No service
 * registries: the preview must not take the base service's names.
 */
export function previewServiceInput(
  base: Service,
  names: PreviewNames,
  opts: {
    cluster: string;
    taskDefinitionArn: string;
    loadBalancer?: { targetGroupArn: string; containerName: string; containerPort: number };
  },
): CreateServiceCommandInput {
  const strategy = base.capacityProviderStrategy ?? [];
  const input: CreateServiceCommandInput = {
    cluster: opts.cluster,
    serviceName: names.service,
    taskDefinition: opts.taskDefinitionArn,
    desiredCount: 1,
    deploymentController: { type: 'ECS' },
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    propagateTags: 'SERVICE',
    enableECSManagedTags: true,
    tags: names.tags,
  };
  if (strategy.length > 0) input.capacityProviderStrategy = strategy;
  else if (base.launchType !== undefined) input.launchType = base.launchType;
  if (base.platformVersion !== undefined) input.platformVersion = base.platformVersion;
  if (base.networkConfiguration !== undefined) input.networkConfiguration = base.networkConfiguration;
  if ((base.placementConstraints ?? []).length > 0) input.placementConstraints = base.placementConstraints;
  if ((base.placementStrategy ?? []).length > 0) input.placementStrategy = base.placementStrategy;
  if (opts.loadBalancer !== undefined) {
    input.loadBalancers = [opts.loadBalancer];
    if (base.healthCheckGracePeriodSeconds !== undefined) {
      input.healthCheckGracePeriodSeconds = base.healthCheckGracePeriodSeconds;
    }
  }
  return input;
}

export interface PreviewStarted {
  deploymentId: string;
  /** Whether the service was created by this run (else updated). */
  created: boolean;
  routing?: Routing;
}

/** Routes the preview (when asked) and creates or updates its service with the registered task definition. */
export async function startPreviewDeployment(
  clients: { ecs: ECSClient; elbv2?: ElasticLoadBalancingV2Client },
  plan: PreviewPlan,
  opts: { cluster: string; taskDefinitionArn: string; log: Log },
): Promise<PreviewStarted> {
  const { names } = plan;
  let routing: Routing | undefined;
  if (plan.routing !== undefined) {
    if (clients.elbv2 === undefined)
      throw new Error('Preview routing needs an Elastic Load Balancing client.');
    routing = await ensureRouting(clients.elbv2, plan.routing, names, opts.log);
  }
  if (plan.existing !== undefined) {
    const started = await startRollingDeployment(clients.ecs, {
      cluster: opts.cluster,
      service: names.service,
      taskDefinitionArn: opts.taskDefinitionArn,
      forceNewDeployment: false,
      desiredCount: 1,
    });
    return { deploymentId: started.deploymentId, created: false, routing };
  }
  const input = previewServiceInput(plan.base.service, names, {
    cluster: opts.cluster,
    taskDefinitionArn: opts.taskDefinitionArn,
    loadBalancer:
      routing && plan.routing
        ? {
            targetGroupArn: routing.targetGroupArn,
            containerName: plan.routing.containerName,
            containerPort: plan.routing.containerPort,
          }
        : undefined,
  });
  let out;
  try {
    out = await clients.ecs.send(new CreateServiceCommand(input));
  } catch (err) {
    if (isAwsError(err, 'InvalidParameterException') && /idempotent/i.test(err.message)) {
      throw new UserError({
        where: 'preview',
        what: `ECS refused to create service ${opts.cluster}/${names.service}: a service of that name is still ACTIVE or DRAINING (${err.message}).`,
        fix: 'Another run may be deploying or destroying this preview: give preview jobs a `concurrency:` group per pull request, and re-run.',
      });
    }
    throw err;
  }
  const primary = out.service?.deployments?.find((d) => d.status === 'PRIMARY');
  if (primary?.id === undefined) {
    throw new Error(`CreateService of ${names.service} returned no PRIMARY deployment.`);
  }
  opts.log.info(
    `Created service ${opts.cluster}/${names.service} (preview of ${names.baseService} for pull request #${names.pullRequest}).`,
  );
  return { deploymentId: primary.id, created: true, routing };
}

// ---------------------------------------------------------------------------------------
// Destroy

export interface DestroyResult {
  names: PreviewNames;
  /** One line per kind of thing removed, for the summary and the comment. */
  removed: string[];
}

export interface FamilyDeps {
  ecs: ECSClient;
  log: Log;
  readFile(file: string): Promise<string>;
}

/**
 * The preview's task definition families: the one its service ran, and the one a deploy
 * with these inputs registers (so revisions left by a failed deploy are found too).
 */
export async function previewFamilies(
  config: Config,
  deps: FamilyDeps,
  names: PreviewNames,
  svc: Service | undefined,
): Promise<string[]> {
  const families = new Set<string>();
  const running = svc?.taskDefinition ? familyOfArn(svc.taskDefinition) : undefined;
  if (running !== undefined) families.add(running);
  const base = await baseFamily(config, deps);
  if (base !== undefined) families.add(previewFamily(base, names.pullRequest));
  return [...families];
}

async function baseFamily(config: Config, deps: FamilyDeps): Promise<string | undefined> {
  if (config.taskDefinitionFamily !== undefined) return config.taskDefinitionFamily;
  const source = config.taskDefinition;
  switch (source.kind) {
    case 'family':
      return source.family;
    case 'arn':
      return familyOfArn(source.arn);
    case 'file': {
      let text: string;
      try {
        text = await deps.readFile(source.path);
      } catch {
        deps.log.warning(
          `${source.path} cannot be read, so its family's preview revisions are not looked for.`,
        );
        return undefined;
      }
      return familyOfDocument(parseDocument(text, source.path, 'task-definition').value);
    }
    case 'service': {
      const base = (
        await deps.ecs.send(
          new DescribeServicesCommand({ cluster: config.cluster, services: [config.service as string] }),
        )
      ).services?.[0];
      return base?.taskDefinition ? familyOfArn(base.taskDefinition) : undefined;
    }
  }
}

async function listRevisions(
  ecs: ECSClient,
  family: string,
  status: 'ACTIVE' | 'INACTIVE',
): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status, nextToken }));
    arns.push(...(out.taskDefinitionArns ?? []));
    nextToken = out.nextToken;
  } while (nextToken !== undefined);
  // familyPrefix matches the exact family in ECS; the filter keeps that true whatever answers.
  return arns.filter((arn) => familyOfArn(arn) === family);
}

/** Deregisters every ACTIVE revision, then deletes every INACTIVE one (ECS deletes only those). */
export async function deleteFamilies(ecs: ECSClient, families: string[], log: Log): Promise<number> {
  let deleted = 0;
  for (const family of families) {
    for (const arn of await listRevisions(ecs, family, 'ACTIVE')) {
      await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    }
    const inactive = await listRevisions(ecs, family, 'INACTIVE');
    for (let i = 0; i < inactive.length; i += 10) {
      const out = await ecs.send(
        new DeleteTaskDefinitionsCommand({ taskDefinitions: inactive.slice(i, i + 10) }),
      );
      deleted += out.taskDefinitions?.length ?? 0;
      for (const f of out.failures ?? []) {
        log.warning(
          `Task definition ${f.arn} was not deleted: ${f.reason}${f.detail ? ` (${f.detail})` : ''}.`,
        );
      }
    }
  }
  return deleted;
}

/**
 * What to send BatchDeleteImage for the tags starting with `prefix`. An image whose every
 * tag is the preview's is deleted by digest (ECR deletes an image with its last tag anyway);
 * an image that also carries other tags loses only the preview's, and stays for them.
 */
export function previewImageDeletions(images: ImageDetail[], prefix: string): ImageIdentifier[] {
  const ids: ImageIdentifier[] = [];
  const digests = new Set<string>();
  for (const image of images) {
    const tags = image.imageTags ?? [];
    const ours = tags.filter((t) => t.startsWith(prefix));
    if (ours.length === 0) continue;
    if (ours.length === tags.length && image.imageDigest !== undefined) {
      if (!digests.has(image.imageDigest)) ids.push({ imageDigest: image.imageDigest });
      digests.add(image.imageDigest);
    } else {
      ids.push(...ours.map((imageTag) => ({ imageTag })));
    }
  }
  return ids;
}

/** Deletes the preview's image tags from one repository; returns how many tags went. */
export async function deletePreviewImages(
  ecr: ECRClient,
  repository: string,
  prefix: string,
  log: Log,
): Promise<number> {
  const images: ImageDetail[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const out = await ecr.send(
        new DescribeImagesCommand({
          repositoryName: repository,
          filter: { tagStatus: 'TAGGED' },
          maxResults: 1000,
          nextToken,
        }),
      );
      images.push(...(out.imageDetails ?? []));
      nextToken = out.nextToken;
    } while (nextToken !== undefined);
  } catch (err) {
    if (!isAwsError(err, 'RepositoryNotFoundException')) throw err;
    log.info(`ECR repository ${repository} does not exist; no image tags to delete there.`);
    return 0;
  }
  const ids = previewImageDeletions(images, prefix);
  const tagCount = images.flatMap((i) => i.imageTags ?? []).filter((t) => t.startsWith(prefix)).length;
  for (let i = 0; i < ids.length; i += 100) {
    const out = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: repository, imageIds: ids.slice(i, i + 100) }),
    );
    for (const f of out.failures ?? []) {
      if (f.failureCode === 'ImageNotFound') continue;
      log.warning(
        `ECR did not delete ${f.imageId?.imageTag ?? f.imageId?.imageDigest} from ${repository}: ${f.failureCode} ${f.failureReason ?? ''}`.trim(),
      );
    }
  }
  if (tagCount > 0) log.info(`Deleted ${tagCount} image tag(s) ${prefix}* from ${repository}.`);
  return tagCount;
}
