/**
 * ECS-native blue/green, linear and canary (deploymentController ECS with
 * deploymentConfiguration.strategy BLUE_GREEN | LINEAR | CANARY): UpdateService starts a
 * service deployment that ECS carries through its lifecycle stages and hooks; we watch OUR
 * service deployment with DescribeServiceDeployments and stop it with
 * StopServiceDeployment(ROLLBACK).
 */
import { UserError } from '../../errors.js';
import { createElbClient } from '../../preview/routing.js';
import { waitForActiveOptions, waitForServiceIdle } from '../active.js';
import { deregistrationDelayOrNone } from '../drain.js';
import { activeTaskDefinition, familyPrevious, noEarlier } from '../history.js';
import { loadBalancerProblems, nativeTargetGroups, serviceProblems } from '../native-check.js';
import { watchNativeDeployment } from '../native-watch.js';
import {
  describeServiceDeployment,
  findByTaskDefinition,
  isFinal,
  ONGOING_STATUSES,
  revisionTaskDefinition,
  stopWithRollback,
} from '../native.js';
import { startRollingDeployment } from '../rolling.js';
import type {
  DeployClients,
  DeploymentRecord,
  DeploymentStrategy,
  StartedDeployment,
  TargetCheck,
} from '../strategy.js';

const SKEW_MS = 5_000;

function sinceOf(record: DeploymentRecord): Date | undefined {
  return record.since ? new Date(Date.parse(record.since) - SKEW_MS) : undefined;
}

/** Our service deployment: by ARN, or (intent only) the newest whose target runs our task definition. */
async function find(clients: DeployClients, record: DeploymentRecord) {
  let arn = record.id;
  if (arn === undefined) {
    if (record.taskDefinitionArn === undefined) return undefined;
    const brief = await findByTaskDefinition(clients.ecs, {
      cluster: record.cluster,
      service: record.service,
      taskDefinitionArn: record.taskDefinitionArn,
      after: sinceOf(record),
    });
    arn = brief?.serviceDeploymentArn;
  }
  const d = arn ? await describeServiceDeployment(clients.ecs, arn) : undefined;
  if (!d?.serviceDeploymentArn) return undefined;
  return { id: d.serviceDeploymentArn, active: !isFinal(d), status: d.status ?? 'UNKNOWN' };
}

/** A start retried after an unanswered call: the deployment of our task definition still going on. */
async function adoptable(
  clients: DeployClients,
  target: { cluster: string; service: string },
  taskDefinitionArn: string,
) {
  const brief = await findByTaskDefinition(clients.ecs, {
    ...target,
    taskDefinitionArn,
    status: ONGOING_STATUSES,
  });
  return brief?.serviceDeploymentArn;
}

async function startNative(
  clients: DeployClients,
  request: Parameters<DeploymentStrategy['start']>[1],
  ctx: Parameters<DeploymentStrategy['start']>[2],
): Promise<string> {
  const { config, log } = ctx;
  const target = { cluster: request.cluster, service: request.service };
  const adopted = await adoptable(clients, target, request.taskDefinitionArn);
  if (adopted) {
    log.info(
      `ECS service deployment ${adopted} of ${request.taskDefinitionArn} is already under way: watching it (no second one).`,
    );
    return adopted;
  }
  if (request.waitForIdle) await waitForServiceIdle(clients.ecs, target, waitForActiveOptions(config, ctx));
  const before = new Date(ctx.clock.wall().getTime() - SKEW_MS);
  const { service } = await startRollingDeployment(clients.ecs, {
    ...target,
    taskDefinitionArn: request.taskDefinitionArn,
    forceNewDeployment: config.forceNewDeployment,
    desiredCount: config.desiredCount,
  });
  const current = service.currentServiceDeployment;
  if (current) return current;
  // Not every answer names it: the newest service deployment of our task definition since the call.
  const brief = await findByTaskDefinition(clients.ecs, {
    ...target,
    taskDefinitionArn: request.taskDefinitionArn,
    after: before,
  });
  if (!brief?.serviceDeploymentArn) {
    throw new Error(
      `UpdateService on '${request.service}' started no service deployment of ${request.taskDefinitionArn} that ListServiceDeployments shows.`,
    );
  }
  return brief.serviceDeploymentArn;
}

function started(
  arn: string,
  request: { cluster: string; service: string; previousTaskDefinitionArn?: string; check: TargetCheck },
  timeoutMs: number,
): StartedDeployment {
  return {
    strategy: 'ecs-native',
    id: arn,
    cluster: request.cluster,
    service: request.service,
    timeoutMs,
    previousTaskDefinitionArn: request.previousTaskDefinitionArn,
    drainMs: request.check.drainMs,
  };
}

export const ecsNativeStrategy: DeploymentStrategy = {
  name: 'ecs-native',
  label: 'ECS service deployment',
  idOutput: 'service-deployment-arn',

  planned: (_check, { config }) => ({
    mode: 'ecs-native',
    cluster: config.cluster,
    service: config.service as string,
    waitUntil: config.waitUntil,
  }),

  async check(clients, service, ctx) {
    const problems = serviceProblems(service.service);
    const lb = service.service.loadBalancers?.[0];
    if (problems.length > 0 || !lb) throw new UserError(problems);
    const elb = clients.elbv2 ?? createElbClient(ctx.config.region, ctx.config.maxRetries);
    problems.push(...(await loadBalancerProblems(elb, lb)));
    if (problems.length > 0) throw new UserError(problems);
    // How long the service's tasks drain when they leave a target group (the longer of the
    // two), read once before the start: the watch predicts CLEAN_UP's end without calls of its own.
    return { drainMs: await deregistrationDelayOrNone(elb, nativeTargetGroups(lb), ctx.log, ctx.signal) };
  },

  artifacts: () => [],

  async start(clients, request, ctx) {
    const arn = await startNative(clients, request, ctx);
    ctx.log.info(`Started ECS service deployment ${arn} on ${request.cluster}/${request.service}.`);
    return started(arn, request, ctx.config.waitForMinutes * 60_000);
  },

  watch(clients, deployment, ctx, opts) {
    return watchNativeDeployment(clients.ecs, {
      cluster: deployment.cluster,
      service: deployment.service,
      region: ctx.config.region,
      arn: deployment.id,
      waitUntil: deployment.expectRollback ? 'complete' : ctx.config.waitUntil,
      expectRollback: deployment.expectRollback,
      previousTaskDefinitionArn: deployment.previousTaskDefinitionArn,
      drainMs: deployment.drainMs,
      timeoutMs: deployment.timeoutMs,
      pollIntervalMs: ctx.config.pollIntervalSeconds * 1000,
      rollbackOnTimeout: opts.rollbackOnTimeout,
      clock: ctx.clock,
      log: ctx.log,
      signal: ctx.signal,
    });
  },

  async stop(clients, deployment, ctx) {
    await stopWithRollback(clients.ecs, deployment.id);
    const rollback = {
      ...started(deployment.id, deployment, ctx.config.waitForMinutes * 60_000),
      expectRollback: true,
    };
    return { status: 'ROLLBACK_REQUESTED', rollback };
  },

  find,

  async abandon(clients, record, onCancel, log) {
    const found = await find(clients, record);
    const name = `ECS service deployment ${found?.id ?? record.id ?? `of ${record.taskDefinitionArn}`} of ${record.cluster}/${record.service}`;
    if (!found?.active) {
      log.info(`${name} ${found ? `already ended (${found.status})` : 'was not found'}; nothing to stop.`);
    } else if (onCancel === 'leave') {
      log.warning(
        `The run ended before ${name} finished; it is left running (${found.status}) as on-cancel: leave asks.`,
      );
    } else {
      await stopWithRollback(clients.ecs, found.id);
      log.warning(
        `The run ended before ${name} finished: stopped it with rollback (StopServiceDeployment stopType ROLLBACK); ECS moves traffic back to the earlier revision.`,
      );
    }
  },

  async previous(clients, service, ctx) {
    const arn = service.service.currentServiceDeployment;
    const d = arn ? await describeServiceDeployment(clients.ecs, arn) : undefined;
    if (d?.serviceDeploymentArn && (d.status === 'PENDING' || d.status === 'IN_PROGRESS')) {
      const to = d.sourceServiceRevisions?.[0]?.arn;
      const from = d.targetServiceRevision?.arn;
      return {
        kind: 'stop',
        deploymentId: d.serviceDeploymentArn,
        from: from && (await revisionTaskDefinition(clients.ecs, from)),
        to: to && (await revisionTaskDefinition(clients.ecs, to)),
        check: {},
      };
    }
    const current = service.taskDefinitionArn;
    const to = await familyPrevious(clients.ecs, current);
    if (to === undefined) throw noEarlier(`${ctx.config.cluster}/${service.serviceName}`, current);
    await activeTaskDefinition(clients.ecs, to);
    return {
      kind: 'redeploy',
      from: current,
      to,
      check: {},
      source: 'the previous ACTIVE revision of the family',
    };
  },
};
