/**
 * Seeding: a world that already exists before the test starts. Everything is created through
 * the same code paths as the API (so a seed is validated like a request), and services come
 * up already running, their first deployment completed.
 */
import type { EmulatorContext } from './context.js';
import type { CodeDeployEmulator } from './codedeploy.js';
import type { EcrEmulator } from './ecr.js';
import type { EcsEmulator } from './ecs.js';
import { DEREGISTRATION_DELAY, EMULATED_VPC, type Elbv2Emulator, type SeedElbv2 } from './elbv2.js';
import type { IamEmulator, SeedIam } from './iam.js';
import type { ContainerScript } from './task-output.js';
import { AwsError } from './errors.js';
import { seedNativeLoadBalancer, type SeedNativeLoadBalancer } from './seed-native.js';

export interface Seed {
  repositories?: { name: string; imageTagMutability?: 'MUTABLE' | 'IMMUTABLE' }[];
  clusters?: string[];
  /** Registered in order, each in RegisterTaskDefinition input shape. */
  taskDefinitions?: Record<string, unknown>[];
  services?: SeedService[];
  codedeploy?: {
    /** ECS applications. */
    applications?: string[];
    deploymentGroups?: SeedDeploymentGroup[];
  };
  /** Roles and users with their policies; replaces the default allow-everything principals. */
  iam?: SeedIam;
  /** Target groups, then load balancers with their listeners. */
  elbv2?: SeedElbv2;
  /** What containers print and how one-off tasks exit (emulator.scriptContainers). */
  containers?: ContainerScript[];
}

export interface SeedService {
  cluster: string;
  serviceName: string;
  /** family, family:revision or ARN. */
  taskDefinition: string;
  /** Default 1. */
  desiredCount?: number;
  /** Default ECS. */
  deploymentController?: 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL';
  launchType?: string;
  /**
   * A missing targetGroupArn gets a target group created in ELB (ip targets on the container
   * port, no load balancer forwarding to it), whose deregistration delay the service's tasks
   * drain for when they stop: `deregistrationDelaySeconds`, else the emulator's default.
   */
  loadBalancers?: {
    targetGroupArn?: string;
    containerName: string;
    containerPort: number;
    advancedConfiguration?: Record<string, unknown>;
    deregistrationDelaySeconds?: number;
  }[];
  /**
   * For an ECS-native strategy (deploymentConfiguration.strategy BLUE_GREEN, LINEAR, CANARY):
   * creates two target groups, a load balancer with production and test listeners and their
   * listener rules, and makes them the service's `loadBalancers` (with advancedConfiguration),
   * in place of `loadBalancers`.
   */
  nativeLoadBalancer?: SeedNativeLoadBalancer;
  deploymentConfiguration?: unknown;
  /** Default for awsvpc task definitions: one made-up subnet and security group. */
  networkConfiguration?: unknown;
}

export interface SeedDeploymentGroup {
  application: string;
  name: string;
  cluster: string;
  service: string;
  /** Default CodeDeployDefault.ECSAllAtOnce. */
  deploymentConfigName?: string;
  /** deploymentReadyOption.waitTimeInMinutes; default 0. */
  readyWaitMinutes?: number;
  /** deploymentReadyOption.actionOnTimeout; default CONTINUE_DEPLOYMENT. */
  readyAction?: 'CONTINUE_DEPLOYMENT' | 'STOP_DEPLOYMENT';
  /** terminateBlueInstancesOnDeploymentSuccess.terminationWaitTimeInMinutes; default 0. */
  terminationWaitMinutes?: number;
  /** Roll back on DEPLOYMENT_FAILED and DEPLOYMENT_STOP_ON_REQUEST; default false. */
  autoRollback?: boolean;
}

export interface SeedTargets {
  ctx: EmulatorContext;
  ecs: EcsEmulator;
  ecr: EcrEmulator;
  codedeploy: CodeDeployEmulator;
  iam: IamEmulator;
  elbv2: Elbv2Emulator;
}

/** Runs a seeding step, naming the seed entry in any error. */
function seeding<T>(where: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof AwsError) throw new Error(`seed ${where}: ${err.type}: ${err.message}`);
    throw err;
  }
}

/** A made-up but well-formed target group ARN (name at most 32 characters, as ELB requires). */
export function seedTargetGroupArn(
  ctx: EmulatorContext,
  cluster: string,
  service: string,
  index: number,
): string {
  const name = `${cluster}-${service}`
    .slice(0, 28)
    .replace(/[^a-zA-Z0-9-]/g, '-')
    .replace(/-+$/, '');
  return `arn:aws:elasticloadbalancing:${ctx.region}:${ctx.accountId}:targetgroup/${name}-tg${index}/${ctx.ids.hex(16)}`;
}

/** Creates the target group a made-up ARN names (by its name) in ELB; answers its real ARN. */
function seedTargetGroup(
  elbv2: Elbv2Emulator,
  madeUpArn: string,
  opts: { port: number; deregistrationDelaySeconds?: number },
): string {
  const name = /targetgroup\/([^/]+)\//.exec(madeUpArn)?.[1] as string;
  const created = elbv2.operations.CreateTargetGroup({
    Name: name,
    Protocol: 'HTTP',
    Port: String(opts.port),
    VpcId: EMULATED_VPC,
    TargetType: 'ip',
  }) as { TargetGroups: { TargetGroupArn: string }[] };
  const arn = created.TargetGroups[0]?.TargetGroupArn as string;
  if (opts.deregistrationDelaySeconds !== undefined) {
    elbv2.operations.ModifyTargetGroupAttributes({
      TargetGroupArn: arn,
      Attributes: [{ Key: DEREGISTRATION_DELAY, Value: String(opts.deregistrationDelaySeconds) }],
    });
  }
  return arn;
}

export function applySeed(seed: Seed, { ctx, ecs, ecr, codedeploy, iam, elbv2 }: SeedTargets): void {
  for (const repo of seed.repositories ?? []) {
    seeding(`repositories '${repo.name}'`, () =>
      ecr.createRepository({ repositoryName: repo.name, imageTagMutability: repo.imageTagMutability }),
    );
  }
  for (const name of seed.clusters ?? []) {
    seeding(`clusters '${name}'`, () => ecs.createCluster({ clusterName: name }));
  }
  (seed.taskDefinitions ?? []).forEach((td, i) => {
    seeding(`taskDefinitions[${i}] (${String(td.family)})`, () => ecs.registerTaskDefinition(td));
  });
  for (const s of seed.services ?? []) {
    seeding(`services '${s.serviceName}'`, () => {
      const td = ecs.findTaskDefinition(s.taskDefinition);
      const awsvpc = td?.taskDefinition.networkMode === 'awsvpc';
      const networkConfiguration =
        s.networkConfiguration ??
        (awsvpc
          ? {
              awsvpcConfiguration: {
                subnets: ['subnet-0e0000000000000a1'],
                securityGroups: ['sg-0e0000000000000a1'],
                assignPublicIp: 'DISABLED',
              },
            }
          : undefined);
      ecs.createService({
        cluster: s.cluster,
        serviceName: s.serviceName,
        taskDefinition: s.taskDefinition,
        desiredCount: s.desiredCount ?? 1,
        deploymentController: { type: s.deploymentController ?? 'ECS' },
        launchType: s.launchType,
        loadBalancers: s.nativeLoadBalancer
          ? [seedNativeLoadBalancer(ctx, elbv2, s.serviceName, s.nativeLoadBalancer).loadBalancer]
          : s.loadBalancers?.map(({ deregistrationDelaySeconds, ...lb }) => ({
              ...lb,
              targetGroupArn:
                lb.targetGroupArn ??
                seedTargetGroup(elbv2, seedTargetGroupArn(ctx, s.cluster, s.serviceName, 1), {
                  port: lb.containerPort,
                  deregistrationDelaySeconds,
                }),
            })),
        deploymentConfiguration: s.deploymentConfiguration,
        networkConfiguration,
      });
      const svc = ecs.findService(s.cluster, s.serviceName);
      if (svc) ecs.startPendingTasksNow(svc);
    });
  }
  seedCodeDeploy(seed, { ctx, ecs, ecr, codedeploy, iam, elbv2 });
  if (seed.iam) iam.seed(seed.iam, seeding);
  if (seed.elbv2) elbv2.seed(seed.elbv2, seeding);
}

function seedCodeDeploy(seed: Seed, { ctx, ecs, codedeploy }: SeedTargets): void {
  for (const name of seed.codedeploy?.applications ?? []) {
    seeding(`codedeploy.applications '${name}'`, () =>
      codedeploy.createApplication({ applicationName: name, computePlatform: 'ECS' }),
    );
  }
  for (const g of seed.codedeploy?.deploymentGroups ?? []) {
    seeding(`codedeploy.deploymentGroups '${g.name}'`, () => {
      const svc = ecs.findService(g.cluster, g.service);
      const production =
        svc?.loadBalancers.find((lb) => lb.targetGroupArn)?.targetGroupArn ??
        seedTargetGroupArn(ctx, g.cluster, g.service, 1);
      const first = /targetgroup\/([^/]+)\//.exec(production)?.[1] ?? `${g.service}-tg1`;
      const second = first.endsWith('tg1') ? `${first.slice(0, -1)}2` : `${first.slice(0, 30)}-2`;
      const loadBalancer = `${g.cluster}-${g.service}`.slice(0, 32).replace(/-+$/, '');
      const listener = () =>
        `arn:aws:elasticloadbalancing:${ctx.region}:${ctx.accountId}:listener/app/${loadBalancer}/${ctx.ids.hex(16)}/${ctx.ids.hex(16)}`;
      const autoRollbackEvents = ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'];
      codedeploy.createDeploymentGroup({
        applicationName: g.application,
        deploymentGroupName: g.name,
        serviceRoleArn: `arn:aws:iam::${ctx.accountId}:role/ecsCodeDeployRole`,
        deploymentConfigName: g.deploymentConfigName ?? 'CodeDeployDefault.ECSAllAtOnce',
        ecsServices: [{ clusterName: g.cluster, serviceName: g.service }],
        deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
        blueGreenDeploymentConfiguration: {
          deploymentReadyOption: {
            actionOnTimeout: g.readyAction ?? 'CONTINUE_DEPLOYMENT',
            waitTimeInMinutes: g.readyWaitMinutes ?? 0,
          },
          terminateBlueInstancesOnDeploymentSuccess: {
            action: 'TERMINATE',
            terminationWaitTimeInMinutes: g.terminationWaitMinutes ?? 0,
          },
        },
        autoRollbackConfiguration: g.autoRollback
          ? { enabled: true, events: autoRollbackEvents }
          : { enabled: false, events: [] },
        loadBalancerInfo: {
          targetGroupPairInfoList: [
            {
              targetGroups: [{ name: first }, { name: second }],
              prodTrafficRoute: { listenerArns: [listener()] },
              testTrafficRoute: { listenerArns: [listener()] },
            },
          ],
        },
      });
    });
  }
}
