/**
 * ECS rolling update (deploymentController ECS): UpdateService to the new task definition,
 * watched through the service's deployments. ECS's circuit breaker, when enabled, rolls a
 * failure back; the post step leaves a running update to it.
 */
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { waitForActiveOptions, waitForServiceIdle } from '../active.js';
import { activeTaskDefinition, familyPrevious, noEarlier, rollingInProgress } from '../history.js';
import { startRollingDeployment } from '../rolling.js';
import type { DeployClients, DeploymentRecord, DeploymentStrategy } from '../strategy.js';
import { watchRollingDeployment } from '../rolling-watch.js';

async function describe(clients: DeployClients, record: { cluster: string; service: string }) {
  return (
    await clients.ecs.send(
      new DescribeServicesCommand({ cluster: record.cluster, services: [record.service] }),
    )
  ).services?.[0];
}

/** Our deployment: by id, or (intent only) the PRIMARY one running our task definition. */
async function find(clients: DeployClients, record: DeploymentRecord) {
  const svc = await describe(clients, record);
  const ours = svc?.deployments?.find((d) =>
    record.id !== undefined
      ? d.id === record.id
      : d.status === 'PRIMARY' && d.taskDefinition === record.taskDefinitionArn,
  );
  if (ours?.id === undefined) return undefined;
  return { id: ours.id, active: ours.rolloutState === 'IN_PROGRESS', status: ours.rolloutState ?? 'unknown' };
}

/** force-new-deployment matters only when the service already runs this revision (or it is not known). */
export function forceNeeded(
  force: boolean,
  request: { taskDefinitionArn: string; previousTaskDefinitionArn?: string },
): boolean {
  return (
    force && (request.previousTaskDefinitionArn ?? request.taskDefinitionArn) === request.taskDefinitionArn
  );
}

export const rollingStrategy: DeploymentStrategy = {
  name: 'rolling',
  label: 'ECS rolling deployment',
  idOutput: 'ecs-deployment-id',

  planned: (_check, { config }) => ({
    mode: 'rolling',
    cluster: config.cluster,
    service: config.service as string,
    forceNewDeployment: config.forceNewDeployment,
    desiredCount: config.desiredCount,
  }),

  // UpdateService needs nothing beyond the service, which was described already.
  check: async () => ({}),

  artifacts: () => [],

  async start(clients, request, ctx) {
    const { config } = ctx;
    const target = { cluster: request.cluster, service: request.service };
    if (request.waitForIdle) await waitForServiceIdle(clients.ecs, target, waitForActiveOptions(config, ctx));
    // UpdateService to a task definition the PRIMARY deployment already runs returns that
    // deployment (unless a new one is forced): an SDK retry after a lost answer adopts it.
    // A new task definition starts a deployment by itself, so force-new-deployment is sent
    // only when the revision is unchanged: a forced call retried would start a second one.
    const started = await startRollingDeployment(clients.ecs, {
      ...target,
      taskDefinitionArn: request.taskDefinitionArn,
      forceNewDeployment: forceNeeded(config.forceNewDeployment, request),
      desiredCount: config.desiredCount,
      propagateTags: config.revisions?.servicePropagateTags,
    });
    ctx.log.info(`Started ECS deployment ${started.deploymentId} on ${request.cluster}/${request.service}.`);
    return {
      strategy: 'rolling',
      id: started.deploymentId,
      ...target,
      timeoutMs: config.waitForMinutes * 60_000,
      previousTaskDefinitionArn: request.previousTaskDefinitionArn,
    };
  },

  watch(clients, started, ctx, opts) {
    return watchRollingDeployment(clients.ecs, {
      cluster: started.cluster,
      service: started.service,
      deploymentId: started.id,
      previousTaskDefinitionArn: started.previousTaskDefinitionArn,
      elb: clients.elbv2,
      timeoutMs: started.timeoutMs,
      pollIntervalMs: ctx.config.pollIntervalSeconds * 1000,
      rollbackOnTimeout: opts.rollbackOnTimeout,
      clock: ctx.clock,
      log: ctx.log,
      signal: ctx.signal,
    });
  },

  async stop() {
    // ECS has no StopDeployment with rollback for a rolling update; a rollback redeploys.
    throw new Error('An ECS rolling update is rolled back by redeploying the previous task definition.');
  },

  find,

  async abandon(clients, record, _onCancel, log) {
    const svc = await describe(clients, record);
    const ours = svc?.deployments?.find((x) =>
      record.id !== undefined
        ? x.id === record.id
        : x.status === 'PRIMARY' && x.taskDefinition === record.taskDefinitionArn,
    );
    const summary = ours
      ? `${ours.status} ${ours.rolloutState ?? ''}, ${ours.runningCount ?? 0}/${ours.desiredCount ?? 0} tasks running`
      : 'no longer among the service deployments (replaced or rolled back)';
    log.warning(
      `The run ended before ECS deployment ${record.id ?? ours?.id ?? `of ${record.taskDefinitionArn}`} of ${record.cluster}/${record.service} finished; it is left as it is: ${summary}. ECS goes on with it (its circuit breaker, when enabled, rolls back a failure).`,
    );
  },

  async previous(clients, service, ctx) {
    const current = service.taskDefinitionArn;
    const running = rollingInProgress(service.service);
    const to = running?.to ?? (await familyPrevious(clients.ecs, current));
    if (to === undefined) throw noEarlier(`${ctx.config.cluster}/${service.serviceName}`, current);
    await activeTaskDefinition(clients.ecs, to);
    return running !== undefined
      ? { kind: 'redeploy', ...running, check: {}, source: 'the deployment in progress replaces it' }
      : {
          kind: 'redeploy',
          from: current,
          to,
          check: {},
          source: 'the previous ACTIVE revision of the family',
        };
  },
};
