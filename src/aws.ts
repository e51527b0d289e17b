/**
 * AWS client construction in one place: region, adaptive retries (throttling bursts and
 * 5xx are absorbed by the SDK), and our user agent. The SDK itself honours
 * AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_ECS, …), which is how the local endpoint is used.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { clientConfig } from './client-config.js';
import { UserError } from './errors.js';

export { USER_AGENT } from './client-config.js';

export interface AwsClients {
  ecr: ECRClient;
  ecs: ECSClient;
  codedeploy: CodeDeployClient;
  sts: STSClient;
  iam: IAMClient;
  /** CloudWatch Logs: a container's awslogs output (one-off tasks, failure diagnostics). */
  logs?: CloudWatchLogsClient;
  /** Elastic Load Balancing, read only: the production listener's address (the `url` output). */
  elbv2?: ElasticLoadBalancingV2Client;
}

export function createClients(region: string, maxRetries: number): AwsClients {
  const common = clientConfig(region, maxRetries);
  return {
    ecr: new ECRClient(common),
    ecs: new ECSClient(common),
    codedeploy: new CodeDeployClient(common),
    sts: new STSClient(common),
    iam: new IAMClient(common),
    logs: new CloudWatchLogsClient(common),
    elbv2: new ElasticLoadBalancingV2Client(common),
  };
}

/** Resolves credentials before the first call, so a missing setup fails with its fix. */
export async function checkCredentials(clients: AwsClients): Promise<void> {
  try {
    await clients.ecs.config.credentials();
  } catch (e) {
    throw new UserError({
      where: 'AWS credentials',
      what: `No AWS credentials could be loaded (${(e as Error).message.split('\n')[0]}).`,
      fix: 'Add aws-actions/configure-aws-credentials before this step (with permissions: id-token: write for OIDC), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
    });
  }
}

/** Turns the SDK's errors for bad credentials into a message with the fix. */
export function explainAwsError(e: unknown): string | undefined {
  const name = (e as { name?: string })?.name ?? '';
  const message = (e as Error)?.message ?? String(e);
  switch (name) {
    case 'InvalidSignatureException':
    case 'SignatureDoesNotMatch':
      return `AWS refused the request signature (${message}). The secret access key does not match the access key id: check the AWS_SECRET_ACCESS_KEY secret, or use OIDC with aws-actions/configure-aws-credentials.`;
    case 'UnrecognizedClientException':
    case 'InvalidClientTokenId':
      return `AWS does not recognise the access key (${message}). Check AWS_ACCESS_KEY_ID, or that the role session is for this account.`;
    case 'ExpiredTokenException':
    case 'ExpiredToken':
      return `The AWS session expired during the run (${message}). A deployment this run started goes on without being watched: check it in the console. Fix: give the role a longer session, role-duration-seconds on aws-actions/configure-aws-credentials (and the role's MaxSessionDuration), longer than wait-for-minutes plus the deployment group's ready and termination waits.`;
    case 'AccessDeniedException':
    case 'AccessDenied':
      return `AWS denied the call: ${message}. Grant the deploying role that permission (see the README's IAM policy).`;
    default:
      return undefined;
  }
}
