/**
 * Where a load balancer listener sends a service's traffic, read from the emulator's state the
 * way an Application Load Balancer's listener rules would have it: a CodeDeploy deployment
 * splits production traffic between the original and replacement task sets by its traffic
 * weight, and points the test listener at the replacement once AllowTestTraffic has run.
 */
import type { EmulatorState, ServiceRecord, TaskRecord, TaskSetRecord } from '../state.js';

export type ListenerName = 'production' | 'test';

/** One target group a listener forwards to, with its share of requests and its serving tasks. */
export interface Route {
  targetGroupArn?: string;
  /** Percent of the listener's requests. */
  weight: number;
  /** The container that receives the traffic (the load balancer entry's containerName). */
  containerName?: string;
  /** RUNNING tasks that are meant to keep running. */
  tasks: TaskRecord[];
}

/** CodeDeploy statuses of a deployment that still owns the listeners. */
const ACTIVE = new Set(['Created', 'Queued', 'InProgress', 'Baking', 'Ready']);

function serving(state: EmulatorState, ownerIds: ReadonlySet<string>): TaskRecord[] {
  return state.ecs.tasks.filter(
    (t) => ownerIds.has(t.ownerId) && t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING',
  );
}

function taskSetRoute(state: EmulatorState, ts: TaskSetRecord | undefined, weight: number): Route[] {
  if (!ts) return [];
  const lb = ts.loadBalancers[0];
  return [
    {
      targetGroupArn: lb?.targetGroupArn,
      weight,
      containerName: lb?.containerName,
      tasks: serving(state, new Set([ts.id])),
    },
  ];
}

function liveService(state: EmulatorState, cluster: string, service: string): ServiceRecord | undefined {
  return state.ecs.services.find(
    (s) => s.clusterName === cluster && s.serviceName === service && s.status !== 'INACTIVE',
  );
}

/** The target groups `listener` forwards the service's traffic to now; empty when the service does not exist. */
export function listenerRoutes(
  state: EmulatorState,
  cluster: string,
  service: string,
  listener: ListenerName,
): Route[] {
  const svc = liveService(state, cluster, service);
  if (!svc) return [];
  if (svc.deploymentController.type !== 'CODE_DEPLOY' && svc.loadBalancers[0]?.advancedConfiguration) {
    return nativeRoutes(state, svc, listener);
  }
  if (svc.deploymentController.type !== 'CODE_DEPLOY') {
    // A rolling update replaces tasks behind the one target group: old and new serve side by side.
    const lb = svc.loadBalancers[0];
    return [
      {
        targetGroupArn: lb?.targetGroupArn,
        weight: 100,
        containerName: lb?.containerName,
        tasks: serving(state, new Set(svc.deployments.map((d) => d.id))),
      },
    ];
  }
  const taskSet = (id: string | undefined) => svc.taskSets.find((ts) => ts.id === id);
  const deployment = [...state.codedeploy.deployments.values()].find(
    (d) => d.clusterName === cluster && d.serviceName === service && ACTIVE.has(d.status),
  );
  if (!deployment) {
    return taskSetRoute(
      state,
      svc.taskSets.find((ts) => ts.status === 'PRIMARY'),
      100,
    );
  }
  const blue = taskSet(deployment.blueTaskSetId);
  const green = taskSet(deployment.greenTaskSetId);
  if (listener === 'production') {
    return [
      ...taskSetRoute(state, blue, 100 - deployment.greenTrafficWeight),
      ...taskSetRoute(state, green, deployment.greenTrafficWeight),
    ];
  }
  const testRerouted =
    deployment.target.lifecycleEvents.find((e) => e.lifecycleEventName === 'AllowTestTraffic')?.status ===
    'Succeeded';
  // A deployment's AllowTestTraffic points the test listener at the replacement; a rollback's
  // (whose blue is the original task set) points it back.
  const toReplacement = deployment.creator === 'codeDeployRollback' ? !testRerouted : testRerouted;
  return taskSetRoute(state, toReplacement ? green : blue, 100);
}

/**
 * ECS-native blue/green, linear and canary: the listener rule named in the load balancer's
 * advancedConfiguration forwards to the two target groups by the weights ECS writes into it;
 * each target group's tasks are those of the revision that registered in it.
 */
function nativeRoutes(state: EmulatorState, svc: ServiceRecord, listener: ListenerName): Route[] {
  const lb = svc.loadBalancers[0];
  const advanced = lb?.advancedConfiguration;
  const ruleArn =
    listener === 'test'
      ? (advanced?.testListenerRule ?? advanced?.productionListenerRule)
      : advanced?.productionListenerRule;
  const record =
    (ruleArn && state.elbv2.rules.get(ruleArn)) ||
    [...state.elbv2.rules.values()].find((r) => r.listenerArn === ruleArn && r.rule.IsDefault);
  const forward = (record ? (record.rule.Actions ?? []) : []).flatMap((a) =>
    a.Type === 'forward' ? (a.ForwardConfig?.TargetGroups ?? []) : [],
  );
  const total = forward.reduce((sum, t) => sum + (t.Weight ?? 1), 0);
  const tgOf = (deploymentId: string) =>
    state.ecs.serviceRevisions.find((r) => r.ecsDeploymentId === deploymentId)?.targetGroupArn ??
    lb?.targetGroupArn;
  return forward.map((t) => ({
    targetGroupArn: t.TargetGroupArn,
    weight: total > 0 ? ((t.Weight ?? 1) * 100) / total : 0,
    containerName: lb?.containerName,
    tasks: serving(
      state,
      new Set(svc.deployments.filter((d) => tgOf(d.id) === t.TargetGroupArn).map((d) => d.id)),
    ),
  }));
}

/**
 * A weighted choice: `random` in [0, 1) picks one of the routes with a positive weight, each
 * with the chance its weight gives it among them.
 */
export function chooseRoute<T extends { weight: number }>(routes: T[], random: number): T | undefined {
  const viable = routes.filter((r) => r.weight > 0);
  const total = viable.reduce((sum, r) => sum + r.weight, 0);
  let point = random * total;
  for (const route of viable) {
    point -= route.weight;
    if (point < 0) return route;
  }
  return viable.at(-1);
}
