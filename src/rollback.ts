/**
 * Rollback (`rollback: true`): put the service back on the task definition that was live
 * before the current one, through the same deployment path as a deploy (CodeDeploy or a
 * rolling update, watched to the end). When a CodeDeploy deployment is still running, it is
 * stopped with rollback instead: CodeDeploy then returns traffic to the original task set.
 *
 * Where "before" comes from: a rolling update in progress still lists the deployment it is
 * replacing; CodeDeploy keeps the group's deployments and their appspecs; failing both, the
 * family's previous ACTIVE revision.
 */
import {
  BatchGetDeploymentsCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
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
import { checkCredentials } from './aws.js';
import type { Config } from './config.js';
import {
  defaultCodeDeployNames,
  type DeploymentGroupTarget,
  getDeploymentGroup,
  waitBudgetMs,
} from './deploy/codedeploy.js';
import {
  describeTargetService,
  describeTaskDefinition,
  resolveDeployMode,
  type TargetService,
} from './deploy/service.js';
import { watchCodeDeployDeployment, type WatchResult } from './deploy/watch.js';
import { UserError } from './errors.js';
import { type PipelineDeps, settleDeployment, startCodeDeploy, startRollingUpdate } from './pipeline.js';
import { type AppSpec, generateAppSpec, parseAppSpec } from './render/appspec.js';
import type { RunReport, StageTimer } from './report.js';

/** What a rollback does, decided before anything changes. */
export type RollbackPlan =
  | {
      kind: 'stop';
      /** The running CodeDeploy deployment, stopped with rollback. */
      deploymentId: string;
      from?: string;
      to?: string;
      group: DeploymentGroupTarget;
    }
  | {
      kind: 'codedeploy';
      from: string;
      to: string;
      appspec: AppSpec;
      group: DeploymentGroupTarget;
      /** Where `to` was found, for the log. */
      source: string;
    }
  | { kind: 'rolling'; from: string; to: string; source: string };

const ACTIVE_STATUSES: DeploymentStatus[] = ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'];
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

async function familyPrevious(ecs: ECSClient, current: string): Promise<string | undefined> {
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

async function groupDeployments(
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

function noEarlier(service: string, current: string): UserError {
  return new UserError({
    where: 'rollback',
    what: `There is nothing to roll ${service} back to: no earlier successful deployment and no earlier ACTIVE revision of ${shortTaskDefinition(current)} were found.`,
    fix: 'Deploy the version you want with image (or task-definition-arn) instead.',
  });
}

/** Decides the rollback: reads the service, its deployments and history; changes nothing. */
export async function planRollback(
  config: Config,
  clients: { ecs: ECSClient; codedeploy: CodeDeployClient },
): Promise<RollbackPlan> {
  const service = await describeTargetService(clients.ecs, config.cluster, config.service as string);
  const mode = resolveDeployMode(config.deployMode, service);
  const current = service.taskDefinitionArn;
  const name = `${config.cluster}/${service.serviceName}`;
  if (mode === 'rolling') {
    const running = rollingInProgress(service.service);
    const to = running?.to ?? (await familyPrevious(clients.ecs, current));
    if (to === undefined) throw noEarlier(name, current);
    await activeTaskDefinition(clients.ecs, to);
    return running !== undefined
      ? { kind: 'rolling', ...running, source: 'the deployment in progress replaces it' }
      : { kind: 'rolling', from: current, to, source: 'the previous ACTIVE revision of the family' };
  }
  if (mode !== 'codedeploy') throw new Error(`Rollback cannot use deploy mode ${mode}.`);

  const defaults = defaultCodeDeployNames(config.cluster, service.serviceName);
  const group = await getDeploymentGroup(clients.codedeploy, {
    application: config.codedeploy.application ?? defaults.application,
    deploymentGroup: config.codedeploy.deploymentGroup ?? defaults.deploymentGroup,
    deploymentConfigName: config.codedeploy.deploymentConfig,
    cluster: config.cluster,
    service: service.serviceName,
  });
  const active = (await groupDeployments(clients.codedeploy, group, ACTIVE_STATUSES))[0];
  if (active?.deploymentId !== undefined) {
    const from = appSpecTaskDefinition(active.revision?.appSpecContent?.content);
    const original = (service.service.taskSets ?? []).find(
      (ts) => ts.taskDefinition !== from,
    )?.taskDefinition;
    return {
      kind: 'stop',
      deploymentId: active.deploymentId,
      from,
      to: original ?? (current !== from ? current : undefined),
      group,
    };
  }
  const history = previousFromHistory(
    current,
    await groupDeployments(clients.codedeploy, group, ['Succeeded']),
  );
  const to = history?.taskDefinitionArn ?? (await familyPrevious(clients.ecs, current));
  if (to === undefined) throw noEarlier(name, current);
  const taskDefinition = await activeTaskDefinition(clients.ecs, to);
  return {
    kind: 'codedeploy',
    from: current,
    to,
    appspec: (history && historicAppSpec(history)) ?? generatedAppSpec(service, taskDefinition),
    group,
    source: history
      ? `CodeDeploy deployment ${history.deploymentId} deployed it`
      : 'the previous ACTIVE revision of the family',
  };
}

/** The revision to return to; ECS and CodeDeploy deploy only ACTIVE (registered) ones. */
async function activeTaskDefinition(ecs: ECSClient, arn: string): Promise<TaskDefinition> {
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
function historicAppSpec(history: { content: string; deploymentId: string }): AppSpec | undefined {
  try {
    return parseAppSpec(history.content, `the appspec of deployment ${history.deploymentId}`, 'rollback')
      .appspec;
  } catch (err) {
    if (err instanceof UserError) return undefined;
    throw err;
  }
}

/** An appspec for the service's load balancer, as a deploy without codedeploy-appspec makes. */
function generatedAppSpec(service: TargetService, taskDefinition: TaskDefinition): AppSpec {
  const lb = service.service.loadBalancers?.find((l) => l.containerName !== undefined);
  return generateAppSpec({
    taskDefinition: taskDefinition as RegisterTaskDefinitionCommandInput,
    containerName: lb?.containerName,
    containerPort: lb?.containerPort,
    platformVersion: service.service.platformVersion,
  });
}

/**
 * Runs the rollback. A rollback never undoes itself: it is not stopped on timeout nor by the
 * post step when the job is cancelled (that would put back the version being left).
 */
export async function runRollback(
  config: Config,
  deps: PipelineDeps,
  timer: StageTimer,
  report: RunReport,
): Promise<void> {
  const { clients, log } = deps;
  const plan = await timer.run(
    'Validate',
    async () => {
      await checkCredentials(clients);
      return planRollback(config, clients);
    },
    (p) => `${p.kind}: ${shortTaskDefinition(p.from)} → ${shortTaskDefinition(p.to)}`,
  );
  const mode = plan.kind === 'rolling' ? 'rolling' : 'codedeploy';
  report.mode = mode;
  deps.setOutput('deploy-mode', mode);
  const target = `${config.cluster}/${config.service}`;
  const fromTo = `from ${shortTaskDefinition(plan.from)} to ${shortTaskDefinition(plan.to)}`;
  report.extraMarkdown = [
    '### Rollback',
    '',
    '| From | To | How |',
    '| --- | --- | --- |',
    `| \`${plan.from ?? 'unknown'}\` | \`${plan.to ?? 'the original task set'}\` | ${
      plan.kind === 'stop'
        ? `stopped CodeDeploy deployment ${plan.deploymentId} with rollback`
        : `redeployed (${plan.source})`
    } |`,
  ].join('\n');
  if (plan.to !== undefined) {
    report.taskDefinitionArn = plan.to;
    deps.setOutput('task-definition-arn', plan.to);
  }

  let watch: (() => Promise<WatchResult>) | undefined;
  if (plan.kind === 'stop') {
    log.info(
      `CodeDeploy deployment ${plan.deploymentId} is in progress: stopping it with rollback (${fromTo}).`,
    );
    const rollbackId = await timer.run(
      'Stop deployment with rollback',
      async () => {
        const out = await clients.codedeploy.send(
          new StopDeploymentCommand({ deploymentId: plan.deploymentId, autoRollbackEnabled: true }),
        );
        log.info(`StopDeployment: ${out.status ?? ''}${out.statusMessage ? ` - ${out.statusMessage}` : ''}`);
        const info = (
          await clients.codedeploy.send(new GetDeploymentCommand({ deploymentId: plan.deploymentId }))
        ).deploymentInfo;
        return info?.rollbackInfo?.rollbackDeploymentId;
      },
      (id) => (id ? `rollback deployment ${id}` : 'stopped before any traffic moved'),
    );
    if (rollbackId !== undefined) {
      report.codedeployDeploymentId = rollbackId;
      deps.setOutput('codedeploy-deployment-id', rollbackId);
      watch = () =>
        watchCodeDeployDeployment(clients.codedeploy, clients.ecs, {
          deploymentId: rollbackId,
          cluster: config.cluster,
          service: config.service as string,
          timeoutMs: waitBudgetMs(plan.group, config.waitForMinutes),
          pollIntervalMs: config.pollIntervalSeconds * 1000,
          rollbackOnTimeout: false,
          clock: deps.clock,
          log,
          signal: deps.signal,
        });
    }
  } else {
    log.info(`Rolling ${target} back ${fromTo}: ${plan.source}.`);
    watch =
      plan.kind === 'codedeploy'
        ? await startCodeDeploy(config, deps, timer, report, {
            group: plan.group,
            appspec: plan.appspec,
            taskDefinitionArn: plan.to,
            record: false,
            rollbackOnTimeout: false,
            description: `Rollback by ecs-deploy-pipeline from ${shortTaskDefinition(plan.from)} to ${shortTaskDefinition(plan.to)}`,
          })
        : await startRollingUpdate(config, deps, timer, report, {
            taskDefinitionArn: plan.to,
            waitForIdle: false,
            record: false,
            rollbackOnTimeout: false,
          });
  }

  if (watch === undefined) {
    // Stopped before the replacement took traffic: the original task set never stopped serving.
    report.outcome = 'succeeded';
    deps.setOutput('deployment-outcome', 'succeeded');
  } else {
    await settleDeployment(watch, config, deps, timer, report);
  }
  report.message =
    report.outcome === 'started'
      ? `Started rolling ${target} back ${fromTo}.`
      : `Rolled ${target} back ${fromTo}.`;
  log.notice(report.message);
}
