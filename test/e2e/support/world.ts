/**
 * The world an end-to-end test deploys into: the local AWS endpoint seeded with a cluster,
 * a CODE_DEPLOY service with its deployment group, a rolling service with a circuit
 * breaker, and the example app's ECR repository backed by the real registry.
 */
import { readFileSync } from 'node:fs';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DescribeServicesCommand, ECSClient, type DeploymentConfiguration } from '@aws-sdk/client-ecs';
import path from 'node:path';
import { startEmulator, type Emulator, type Seed } from '../../../emulator/index.js';
import type { DockerEnv } from '../../support/docker.js';

export const REGION = 'us-east-1';
export const CLUSTER = 'demo';
/** The account example-app/task-definition.json names its roles in; start the endpoint with it. */
export const ACCOUNT = '123456789012';
export const CREDENTIALS = { accessKeyId: 'AKIDE2ETEST', secretAccessKey: 'e2e-secret-key' };

export const exampleTaskDefinition = (): Record<string, unknown> =>
  JSON.parse(readFileSync(path.resolve('example-app/task-definition.json'), 'utf8')) as Record<
    string,
    unknown
  >;

/** The example task definition with a concrete image, as the account had it before this run. */
export function liveTaskDefinition(family: string, image: string): Record<string, unknown> {
  const td = exampleTaskDefinition();
  const containers = (td.containerDefinitions as Record<string, unknown>[]).map((c) => ({ ...c, image }));
  return { ...td, family, containerDefinitions: containers };
}

export function seed(image = '127.0.0.1:5000/example-app:v0'): Seed {
  return {
    repositories: [{ name: 'example-app', imageTagMutability: 'MUTABLE' }],
    clusters: [CLUSTER],
    taskDefinitions: [
      liveTaskDefinition('example-app', image),
      liveTaskDefinition('example-rolling', image),
      liveTaskDefinition('example-slow', image),
    ],
    services: [
      {
        cluster: CLUSTER,
        serviceName: 'web',
        taskDefinition: 'example-app',
        desiredCount: 2,
        deploymentController: 'CODE_DEPLOY',
        launchType: 'FARGATE',
        loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
      },
      {
        cluster: CLUSTER,
        serviceName: 'slow',
        taskDefinition: 'example-slow',
        desiredCount: 1,
        deploymentController: 'CODE_DEPLOY',
        launchType: 'FARGATE',
        loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
      },
      {
        cluster: CLUSTER,
        serviceName: 'rolling',
        taskDefinition: 'example-rolling',
        desiredCount: 2,
        deploymentController: 'ECS',
        launchType: 'FARGATE',
        // Behind a target group, as most rolling services are: old tasks drain for its delay.
        loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
        deploymentConfiguration: {
          deploymentCircuitBreaker: { enable: true, rollback: true },
          maximumPercent: 200,
          minimumHealthyPercent: 100,
        },
      },
    ],
    iam: {
      roles: [
        // The role the action runs as (the endpoint's default caller), and the task roles the
        // example task definition names, which the preflight checks exist.
        {
          name: 'deploy',
          policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
        },
        { name: 'example-app-execution-role' },
        { name: 'example-app-task-role' },
      ],
    },
    codedeploy: {
      applications: ['AppECS-demo-web', 'AppECS-demo-slow'],
      deploymentGroups: [
        {
          application: 'AppECS-demo-web',
          name: 'DgpECS-demo-web',
          cluster: CLUSTER,
          service: 'web',
          deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
          readyWaitMinutes: 0,
          terminationWaitMinutes: 1,
          autoRollback: true,
        },
        {
          application: 'AppECS-demo-slow',
          name: 'DgpECS-demo-slow',
          cluster: CLUSTER,
          service: 'slow',
          deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
          readyWaitMinutes: 0,
          terminationWaitMinutes: 0,
          autoRollback: true,
        },
      ],
    },
  };
}

/** An ECS-native service (BLUE_GREEN, LINEAR or CANARY) of its own family, behind its own load balancer. */
export function nativeService(
  name: string,
  deploymentConfiguration: DeploymentConfiguration,
): NonNullable<Seed['services']>[number] {
  return {
    cluster: CLUSTER,
    serviceName: name,
    taskDefinition: name,
    desiredCount: 2,
    launchType: 'FARGATE',
    deploymentConfiguration,
    nativeLoadBalancer: { containerName: 'web', containerPort: 8080 },
  };
}

/** The world's seed with ECS-native services added, each with a task definition family named after it. */
export function withNativeServices(
  base: Seed,
  services: [string, DeploymentConfiguration][],
  image = '127.0.0.1:5000/example-app:v0',
): Seed {
  return {
    ...base,
    taskDefinitions: [
      ...(base.taskDefinitions ?? []),
      ...services.map(([name]) => liveTaskDefinition(name, image)),
    ],
    services: [...(base.services ?? []), ...services.map(([name, config]) => nativeService(name, config))],
  };
}

/** A Lambda lifecycle hook of an ECS-native service, and the role ECS invokes it with. */
export const HOOK_LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:smoke-test';
export const HOOK_ROLE = 'arn:aws:iam::123456789012:role/ecs-hook-invoker';

/** ECS-native blue/green with the Lambda hook after test traffic (a smoke test), then the bake. */
export function hookedBlueGreen(bakeTimeInMinutes = 1): DeploymentConfiguration {
  return {
    strategy: 'BLUE_GREEN',
    bakeTimeInMinutes,
    lifecycleHooks: [
      {
        targetType: 'AWS_LAMBDA',
        hookTargetArn: HOOK_LAMBDA,
        roleArn: HOOK_ROLE,
        lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'],
      },
    ],
  };
}

export async function startWorld(
  docker: DockerEnv | undefined,
  speed = 60,
  worldSeed: Seed = seed(),
): Promise<Emulator> {
  return startEmulator({
    region: REGION,
    accountId: ACCOUNT,
    credentials: [CREDENTIALS],
    speed,
    seed: worldSeed,
    // Without Docker, a closed loopback port: repository URIs must never name a host off this
    // machine, or a docker login would look it up.
    registry: docker
      ? { host: docker.registryHost, username: docker.registryUser, password: docker.registryPassword }
      : { host: '127.0.0.1:9', username: 'AWS', password: 'unused' },
  });
}

/** The environment a workflow step has after aws-actions/configure-aws-credentials. */
export function awsEnv(emulator: Emulator): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: emulator.url,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  };
}

/** Real SDK clients pointed at the endpoint, for checking its state as a user would. */
export function sdk(emulator: Emulator) {
  const config = { endpoint: emulator.url, region: REGION, credentials: CREDENTIALS };
  return { ecs: new ECSClient(config), codedeploy: new CodeDeployClient(config) };
}

export async function serviceState(emulator: Emulator, service: string) {
  const out = await sdk(emulator).ecs.send(
    new DescribeServicesCommand({ cluster: CLUSTER, services: [service] }),
  );
  return out.services?.[0];
}

/** What the runner shows: `::add-mask::` commands are consumed by the runner, not printed. */
export function visible(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
}
