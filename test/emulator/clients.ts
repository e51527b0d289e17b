/** Real AWS SDK clients pointed at an emulator, as the action builds them. */
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient, type RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import type { Emulator } from '../../emulator/index.js';

export interface ClientOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  maxAttempts?: number;
}

export function clients(emulator: Emulator, opts: ClientOptions = {}) {
  const config = {
    endpoint: emulator.url,
    region: opts.region ?? 'us-east-1',
    credentials: { accessKeyId: opts.accessKeyId ?? 'test', secretAccessKey: opts.secretAccessKey ?? 'test' },
    maxAttempts: opts.maxAttempts ?? 1,
  };
  return { ecs: new ECSClient(config), ecr: new ECRClient(config), codedeploy: new CodeDeployClient(config) };
}

/** A Fargate task definition in RegisterTaskDefinition input shape. */
export function fargateTaskDefinition(
  family: string,
  image = 'nginx:1',
  extra: Partial<RegisterTaskDefinitionCommandInput> = {},
): RegisterTaskDefinitionCommandInput & Record<string, unknown> {
  return {
    family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    executionRoleArn: 'arn:aws:iam::000000000000:role/ecsTaskExecutionRole',
    containerDefinitions: [
      {
        name: 'web',
        image,
        essential: true,
        portMappings: [{ containerPort: 8080, protocol: 'tcp' }],
      },
    ],
    ...extra,
  };
}

export const awsvpc = {
  awsvpcConfiguration: {
    subnets: ['subnet-1'],
    securityGroups: ['sg-1'],
    assignPublicIp: 'DISABLED' as const,
  },
};
