/**
 * Where "before" comes from, for a rollback: a rolling update in progress still lists the
 * deployment it is replacing; CodeDeploy keeps the group's deployments and their appspecs;
 * failing both, the family's previous ACTIVE revision. Read only; the strategies use it.
 */
import {
  BatchGetDeploymentsCommand,
  ListDeploymentsCommand,
  type CodeDeployClient,
  type DeploymentInfo,
  type DeploymentStatus,
} from '@aws-sdk/client-codedeploy';
import {
  ListTaskDefinitionsCommand,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { type AppSpec, generateAppSpec, parseAppSpec } from '../render/appspec.js';
import type { DeploymentGroupTarget } from './codedeploy.js';
import { describeTaskDefinition, type TargetService } from './service.js';

export const ACTIVE_STATUSES: DeploymentStatus[] = ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'];
/** How far back the CodeDeploy history is read. */
const HISTORY_LIMIT = 200;

/** The TaskDefinition an ECS appspec (YAML or JSON, as CodeDeploy keeps it) deploys. */
export function appSpecTaskDefinition(content: string | undefined): string | undefined {
  if (content === undefined) return undefined;
  try {
    const doc = parseYaml(content) as {
      Resources?: { TargetService?: { Properties?: { TaskDefinition?: unknown } } }[];
    };
    const arn = doc?.Resources?.[0]?.TargetService?.Properties?.TaskDefinition;
    return typeof arn === 'string' ? arn : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The newest successful deployment of another task definition than `current`: what was live
 * before it. Deployments are ordered by their own creation time, not the listing's order.
 */
export function previousFromHistory(
  current: string,
  deployments: DeploymentInfo[],
): { taskDefinitionArn: string; content: string; deploymentId: string } | undefined {
  const newestFirst = [...deployments]
    .filter((d) => d.status === 'Succeeded')
    .sort((a, b) => (b.createTime?.getTime() ?? 0) - (a.createTime?.getTime() ?? 0));
  for (const d of newestFirst) {
    const content = d.revision?.appSpecContent?.content;
    const arn = appSpecTaskDefinition(content);
    if (arn !== undefined && arn !== current && content !== undefined && d.deploymentId !== undefined) {
      return { taskDefinitionArn: arn, content, deploymentId: d.deploymentId };
    }
  }
  return undefined;
}

/**
 * A rolling update still in progress lists the deployment it replaces (ACTIVE) next to its
 * own (PRIMARY): that one's task definition was live before.
 */
export function rollingInProgress(service: Service): { from: string; to: string } | undefined {
  const deployments = service.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if (primary?.taskDefinition === undefined || primary.rolloutState === 'COMPLETED') return undefined;
  const before = deployments
    .filter(
      (d) =>
        d.status === 'ACTIVE' &&
        d.taskDefinition !== undefined &&
        d.taskDefinition !== primary.taskDefinition,
    )
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0];
  return before?.taskDefinition === undefined
    ? undefined
    : { from: primary.taskDefinition, to: before.taskDefinition };
}

function revisionOf(arn: string): { family: string; revision: number } | undefined {
  const m = /:task-definition\/([^:]+):(\d+)$/.exec(arn);
  return m ? { family: m[1] as string, revision: Number(m[2]) } : undefined;
}

/** The highest ACTIVE revision of `current`'s family below it. */
export function previousRevision(current: string, activeArns: string[]): string | undefined {
  const cur = revisionOf(current);
  if (cur === undefined) return undefined;
  let best: { arn: string; revision: number } | undefined;
  for (const arn of activeArns) {
    const r = revisionOf(arn);
    if (
      r?.family === cur.family &&
      r.revision < cur.revision &&
      (best === undefined || r.revision > best.revision)
    ) {
      best = { arn, revision: r.revision };
    }
  }
  return best?.arn;
}

/** `family:revision` of an ARN, for messages. */
export function shortTaskDefinition(arn: string | undefined): string {
  return arn === undefined ? 'unknown' : arn.replace(/^.*:task-definition\//, '');
}

export async function familyPrevious(ecs: ECSClient, current: string): Promise<string | undefined> {
  const cur = revisionOf(current);
  if (cur === undefined) return undefined;
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: cur.family, status: 'ACTIVE', sort: 'DESC', nextToken }),
    );
    arns.push(...(out.taskDefinitionArns ?? []));
    nextToken = out.nextToken;
  } while (nextToken !== undefined && previousRevision(current, arns) === undefined);
  return previousRevision(current, arns);
}

export async function groupDeployments(
  cd: CodeDeployClient,
  group: DeploymentGroupTarget,
  statuses: DeploymentStatus[],
): Promise<DeploymentInfo[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await cd.send(
      new ListDeploymentsCommand({
        applicationName: group.application,
        deploymentGroupName: group.deploymentGroup,
        includeOnlyStatuses: statuses,
        nextToken,
      }),
    );
    ids.push(...(out.deployments ?? []));
    nextToken = out.nextToken;
  } while (nextToken !== undefined && ids.length < HISTORY_LIMIT);
  const infos: DeploymentInfo[] = [];
  for (let i = 0; i < Math.min(ids.length, HISTORY_LIMIT); i += 25) {
    const out = await cd.send(new BatchGetDeploymentsCommand({ deploymentIds: ids.slice(i, i + 25) }));
    infos.push(...(out.deploymentsInfo ?? []));
  }
  return infos;
}

export function noEarlier(service: string, current: string): UserError {
  return new UserError({
    where: 'rollback',
    what: `There is nothing to roll ${service} back to: no earlier successful deployment and no earlier ACTIVE revision of ${shortTaskDefinition(current)} were found.`,
    fix: 'Deploy the version you want with image (or task-definition-arn) instead.',
  });
}

/** The revision to return to; ECS and CodeDeploy deploy only ACTIVE (registered) ones. */
export async function activeTaskDefinition(ecs: ECSClient, arn: string): Promise<TaskDefinition> {
  const { taskDefinition } = await describeTaskDefinition(ecs, arn);
  if (taskDefinition.status !== 'ACTIVE') {
    throw new UserError({
      where: 'rollback',
      what: `${shortTaskDefinition(arn)}, the task definition to roll back to, is ${taskDefinition.status}, and ECS deploys only ACTIVE revisions.`,
      fix: 'Deploy that version again from its image (image input), which registers a new revision.',
    });
  }
  return taskDefinition;
}

/** The appspec that deployed it then, hooks included; undefined when it no longer parses. */
export function historicAppSpec(history: { content: string; deploymentId: string }): AppSpec | undefined {
  try {
    return parseAppSpec(history.content, `the appspec of deployment ${history.deploymentId}`, 'rollback')
      .appspec;
  } catch (err) {
    if (err instanceof UserError) return undefined;
    throw err;
  }
}

/** An appspec for the service's load balancer, as a deploy without codedeploy-appspec makes. */
export function generatedAppSpec(service: TargetService, taskDefinition: TaskDefinition): AppSpec {
  const lb = service.service.loadBalancers?.find((l) => l.containerName !== undefined);
  return generateAppSpec({
    taskDefinition: taskDefinition as RegisterTaskDefinitionCommandInput,
    containerName: lb?.containerName,
    containerPort: lb?.containerPort,
    platformVersion: service.service.platformVersion,
  });
}
