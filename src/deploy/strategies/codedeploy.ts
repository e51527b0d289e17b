/**
 * CodeDeploy blue/green (deploymentController CODE_DEPLOY): CreateDeployment of an appspec
 * through the service's deployment group, watched through GetDeployment and the ECS target.
 */
import {
  GetDeploymentCommand,
  StopDeploymentCommand,
  type DeploymentStatus,
} from '@aws-sdk/client-codedeploy';
import type { Log } from '../../log.js';
import { renderAppSpec } from '../../render/appspec.js';
import { waitForActiveOptions } from '../active.js';
import {
  createDeployment,
  defaultCodeDeployNames,
  type DeploymentGroupTarget,
  getDeploymentGroup,
  waitBudgetMs,
} from '../codedeploy.js';
import {
  ACTIVE_STATUSES,
  activeTaskDefinition,
  appSpecTaskDefinition,
  familyPrevious,
  generatedAppSpec,
  groupDeployments,
  historicAppSpec,
  noEarlier,
  previousFromHistory,
} from '../history.js';
import type { DeployClients, DeploymentRecord, DeploymentStrategy, StartRequest } from '../strategy.js';
import { watchCodeDeployDeployment } from '../codedeploy-watch.js';

const ACTIVE = new Set<string>(ACTIVE_STATUSES);

function groupOf(request: { check: { group?: DeploymentGroupTarget } }): DeploymentGroupTarget {
  if (request.check.group === undefined) throw new Error('CodeDeploy: the deployment group was not checked.');
  return request.check.group;
}

function rendered(request: StartRequest): { content: string; sha256: string } {
  if (request.appspec === undefined) throw new Error('CodeDeploy: no appspec to deploy.');
  return renderAppSpec(request.appspec, request.taskDefinitionArn);
}

function defaultDescription(sha: string): string {
  const short = sha ? ` ${sha.slice(0, 7)}` : '';
  return `Deployed by ecs-deploy-pipeline${short}`.slice(0, 512);
}

/** The group's active deployment of `record`'s task definition: the one our start began. */
async function findOurs(clients: DeployClients, record: DeploymentRecord) {
  if (record.id !== undefined) {
    const info = (await clients.codedeploy.send(new GetDeploymentCommand({ deploymentId: record.id })))
      .deploymentInfo;
    const status = info?.status ?? 'unknown';
    return { id: record.id, active: ACTIVE.has(status), status };
  }
  if (record.application === undefined || record.deploymentGroup === undefined) return undefined;
  const since = record.since ? Date.parse(record.since) - 60_000 : 0;
  const active = await groupDeployments(
    clients.codedeploy,
    { application: record.application, deploymentGroup: record.deploymentGroup } as DeploymentGroupTarget,
    ACTIVE_STATUSES,
  );
  const ours = active.find(
    (d) =>
      appSpecTaskDefinition(d.revision?.appSpecContent?.content) === record.taskDefinitionArn &&
      (d.createTime?.getTime() ?? Number.MAX_SAFE_INTEGER) >= since,
  );
  return ours?.deploymentId === undefined
    ? undefined
    : { id: ours.deploymentId, active: true, status: (ours.status as DeploymentStatus) ?? 'unknown' };
}

async function abandon(
  clients: DeployClients,
  record: DeploymentRecord,
  onCancel: 'rollback' | 'leave',
  log: Log,
): Promise<void> {
  const found = await findOurs(clients, record);
  if (found === undefined) {
    log.info(
      `No CodeDeploy deployment of ${record.taskDefinitionArn ?? 'this run'} is running; nothing to stop.`,
    );
    return;
  }
  const { id, status } = found;
  if (!found.active) {
    log.info(`CodeDeploy deployment ${id} is ${status}; nothing to stop.`);
  } else if (onCancel === 'leave') {
    log.warning(
      `The run ended while CodeDeploy deployment ${id} was ${status}; on-cancel is leave, so it goes on without being watched.`,
    );
  } else {
    const out = await clients.codedeploy.send(
      new StopDeploymentCommand({ deploymentId: id, autoRollbackEnabled: true }),
    );
    log.warning(
      `The run ended while CodeDeploy deployment ${id} was ${status}: stopped it with rollback (${out.status ?? ''}${out.statusMessage ? `: ${out.statusMessage}` : ''}). Production stays on the previous version.`,
    );
  }
}

export const codedeployStrategy: DeploymentStrategy = {
  name: 'codedeploy',
  label: 'CodeDeploy deployment',
  idOutput: 'codedeploy-deployment-id',

  planned(check, { config }) {
    const group = groupOf({ check });
    return {
      mode: 'codedeploy',
      application: group.application,
      deploymentGroup: group.deploymentGroup,
      deploymentConfigName: config.codedeploy.deploymentConfig ?? group.deploymentConfigName,
    };
  },

  async check(clients, service, { config }) {
    const defaults = defaultCodeDeployNames(config.cluster, service.serviceName);
    const group = await getDeploymentGroup(clients.codedeploy, {
      application: config.codedeploy.application ?? defaults.application,
      deploymentGroup: config.codedeploy.deploymentGroup ?? defaults.deploymentGroup,
      deploymentConfigName: config.codedeploy.deploymentConfig,
      cluster: config.cluster,
      service: service.serviceName,
    });
    return { group };
  },

  artifacts(request) {
    return [{ name: 'appspec.yaml', content: rendered(request).content, output: 'appspec-path' }];
  },

  async start(clients, request, ctx) {
    const { config } = ctx;
    const group = groupOf(request);
    const id = await createDeployment(clients.codedeploy, {
      application: group.application,
      deploymentGroup: group.deploymentGroup,
      deploymentConfigName: config.codedeploy.deploymentConfig,
      description: request.description ?? config.codedeploy.description ?? defaultDescription(config.sha),
      appSpecContent: rendered(request),
      region: config.region,
      waitForActive: waitForActiveOptions(config, ctx),
      isOurs: async (active) => {
        const info = (await clients.codedeploy.send(new GetDeploymentCommand({ deploymentId: active })))
          .deploymentInfo;
        const adopted =
          ACTIVE.has(info?.status ?? '') &&
          appSpecTaskDefinition(info?.revision?.appSpecContent?.content) === request.taskDefinitionArn;
        if (adopted)
          ctx.log.info(
            `CodeDeploy deployment ${active} of this task definition is already running: adopted it.`,
          );
        return adopted;
      },
    });
    ctx.log.info(`Started CodeDeploy deployment ${id} (${group.application}/${group.deploymentGroup}).`);
    return {
      strategy: 'codedeploy',
      id,
      cluster: request.cluster,
      service: request.service,
      timeoutMs: waitBudgetMs(group, config.waitForMinutes),
      previousTaskDefinitionArn: request.previousTaskDefinitionArn,
    };
  },

  watch(clients, started, ctx, opts) {
    return watchCodeDeployDeployment(clients.codedeploy, clients.ecs, {
      deploymentId: started.id,
      cluster: started.cluster,
      service: started.service,
      previousTaskDefinitionArn: started.previousTaskDefinitionArn,
      timeoutMs: started.timeoutMs,
      pollIntervalMs: ctx.config.pollIntervalSeconds * 1000,
      rollbackOnTimeout: opts.rollbackOnTimeout,
      clock: ctx.clock,
      log: ctx.log,
      signal: ctx.signal,
    });
  },

  async stop(clients, deployment, { config, log }) {
    const deploymentId = deployment.id;
    const out = await clients.codedeploy.send(
      new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }),
    );
    log.info(`StopDeployment: ${out.status ?? ''}${out.statusMessage ? ` - ${out.statusMessage}` : ''}`);
    const info = (await clients.codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo;
    const id = info?.rollbackInfo?.rollbackDeploymentId;
    const rollback =
      id === undefined
        ? undefined
        : {
            strategy: 'codedeploy' as const,
            id,
            cluster: deployment.cluster,
            service: deployment.service,
            timeoutMs: waitBudgetMs(groupOf(deployment), config.waitForMinutes),
          };
    return { status: out.status ?? '', rollback };
  },

  find: findOurs,
  abandon,

  async previous(clients, service, ctx) {
    const check = await codedeployStrategy.check(clients, service, ctx);
    const group = groupOf({ check });
    const current = service.taskDefinitionArn;
    const active = (await groupDeployments(clients.codedeploy, group, ACTIVE_STATUSES))[0];
    if (active?.deploymentId !== undefined) {
      const from = appSpecTaskDefinition(active.revision?.appSpecContent?.content);
      const original = (service.service.taskSets ?? []).find(
        (ts) => ts.taskDefinition !== from,
      )?.taskDefinition;
      const to = original ?? (current !== from ? current : undefined);
      return { kind: 'stop', deploymentId: active.deploymentId, from, to, check };
    }
    const history = previousFromHistory(
      current,
      await groupDeployments(clients.codedeploy, group, ['Succeeded']),
    );
    const to = history?.taskDefinitionArn ?? (await familyPrevious(clients.ecs, current));
    if (to === undefined) throw noEarlier(`${ctx.config.cluster}/${service.serviceName}`, current);
    const taskDefinition = await activeTaskDefinition(clients.ecs, to);
    return {
      kind: 'redeploy',
      from: current,
      to,
      check,
      appspec: (history && historicAppSpec(history)) ?? generatedAppSpec(service, taskDefinition),
      source: history
        ? `CodeDeploy deployment ${history.deploymentId} deployed it`
        : 'the previous ACTIVE revision of the family',
    };
  },
};
