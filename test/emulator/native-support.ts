/** A seeded ECS-native service and ways to watch its service deployments on a manual clock. */
import {
  DescribeServiceDeploymentsCommand,
  type DeploymentConfiguration,
  type ECSClient,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import {
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Emulator, Seed, SeedNativeLoadBalancer } from '../../emulator/index.js';
import { fargateTaskDefinition } from './clients.js';

export const FINAL = ['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'];

/** Cluster `demo`, service `web` on app:1 (2 tasks), app:2 registered; a native load balancer. */
export function nativeWorld(
  deploymentConfiguration: DeploymentConfiguration,
  lb: Partial<SeedNativeLoadBalancer> = {},
  desiredCount = 2,
): Seed {
  return {
    clusters: ['demo'],
    taskDefinitions: [fargateTaskDefinition('app', 'app:v1'), fargateTaskDefinition('app', 'app:v2')],
    services: [
      {
        cluster: 'demo',
        serviceName: 'web',
        taskDefinition: 'app:1',
        desiredCount,
        launchType: 'FARGATE',
        deploymentConfiguration,
        nativeLoadBalancer: { containerName: 'web', containerPort: 8080, ...lb },
      },
    ],
  };
}

export function elbClient(emulator: Emulator): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

/** Target group ARN → weight, as the listener rule forwards now (read with the ELBv2 SDK). */
export async function ruleWeights(
  elb: ElasticLoadBalancingV2Client,
  ruleArn: string,
): Promise<Record<string, number>> {
  const out = await elb.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }));
  const groups = out.Rules?.[0]?.Actions?.[0]?.ForwardConfig?.TargetGroups ?? [];
  return Object.fromEntries(groups.map((g) => [g.TargetGroupArn as string, g.Weight as number]));
}

export async function describe1(ecs: ECSClient, arn: string): Promise<ServiceDeployment> {
  const out = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }));
  return out.serviceDeployments?.[0] as ServiceDeployment;
}

/** One observed state of a service deployment. */
export interface Seen {
  /** Emulated seconds since the trace began. */
  at: number;
  status?: string;
  stage?: string;
  production?: number;
  test?: number;
  hook?: string;
}

function view(d: ServiceDeployment, at: number): Seen {
  const hook = d.lifecycleHookDetails?.at(-1);
  return {
    at,
    status: d.status,
    stage: d.lifecycleStage,
    production: d.targetServiceRevision?.requestedProductionTrafficWeight,
    test: d.targetServiceRevision?.requestedTestTrafficWeight,
    hook: hook && `${hook.targetType}:${hook.status}`,
  };
}

/**
 * Advances the manual clock `stepMs` at a time, describing the deployment through the SDK after
 * each step, until `until` holds (default: a final status) or `limitMs` passed. Returns each
 * change of what was seen.
 */
export async function trace(
  emulator: Emulator,
  ecs: ECSClient,
  arn: string,
  opts: { stepMs?: number; limitMs?: number; until?: (d: ServiceDeployment) => boolean } = {},
): Promise<{ seen: Seen[]; last: ServiceDeployment }> {
  const stepMs = opts.stepMs ?? 1000;
  const until = opts.until ?? ((d: ServiceDeployment) => FINAL.includes(d.status ?? ''));
  const seen: Seen[] = [];
  const key = (s: Seen) => JSON.stringify({ ...s, at: 0 });
  for (let t = 0; t <= (opts.limitMs ?? 60 * 60_000); t += stepMs) {
    const d = await describe1(ecs, arn);
    const now = view(d, t / 1000);
    const prev = seen.at(-1);
    if (!prev || key(prev) !== key(now)) seen.push(now);
    if (until(d)) return { seen, last: d };
    emulator.clock.advance(stepMs);
  }
  throw new Error(`the deployment did not get there in time; seen: ${JSON.stringify(seen)}`);
}

/** The distinct values a field took, in order. */
export function distinct<T>(values: T[]): T[] {
  return values.filter((v, i) => i === 0 || v !== values[i - 1]);
}
