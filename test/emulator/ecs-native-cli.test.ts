/**
 * The AWS CLI (v1 or v2: `E2E_AWS_CLI`, else `aws` on PATH) watching and stopping an ECS-native
 * deployment on the local endpoint, the way a user rehearsing by hand would. Every call names
 * --endpoint-url and --region. No Docker: the emulator runs on its manual clock.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEmulator, type Emulator, type ServiceDeploymentRecord } from '../../emulator/index.js';
import { awsCli, awsCliAvailable } from '../support/aws-cli.js';
import { nativeWorld } from './native-support.js';

const REGION = 'us-east-1';
const available = await awsCliAvailable('the ECS-native AWS CLI tests');
const withCli = available ? describe : describe.skip;

let emulator: Emulator;
beforeAll(async () => {
  if (!available) return;
  emulator = await startEmulator({
    manualClock: true,
    seed: nativeWorld({
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 10,
      lifecycleHooks: [
        {
          targetType: 'PAUSE',
          lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'],
          timeoutConfiguration: { timeoutInMinutes: 60, action: 'ROLLBACK' },
        },
      ],
    }),
  });
});
afterAll(async () => {
  await emulator?.stop();
});

async function aws(args: string[]): Promise<Record<string, unknown>> {
  const to = { endpoint: emulator.url, region: REGION, accessKeyId: 'test', secretAccessKey: 'test' };
  return ((await awsCli(args, to)) ?? {}) as Record<string, unknown>;
}

interface CliDeployment {
  status: string;
  lifecycleStage?: string;
  statusReason?: string;
  lifecycleHookDetails?: { hookId: string; status: string; targetType: string }[];
  targetServiceRevision: { requestedProductionTrafficWeight: number; requestedTestTrafficWeight: number };
  rollback?: { reason: string };
}

async function describeCli(arn: string): Promise<CliDeployment> {
  const out = await aws(['ecs', 'describe-service-deployments', '--service-deployment-arns', arn]);
  return (out.serviceDeployments as CliDeployment[])[0] as CliDeployment;
}

/**
 * Advances the emulated clock a second at a time until the deployment is there (read from the
 * emulator's state: a CLI call per second would take minutes), then describes it with the CLI.
 */
async function until(arn: string, done: (d: ServiceDeploymentRecord) => boolean): Promise<CliDeployment> {
  const record = () => emulator.state.ecs.serviceDeployments.find((d) => d.serviceDeploymentArn === arn);
  for (let s = 0; s < 3600 && !done(record() as ServiceDeploymentRecord); s++) emulator.clock.advance(1000);
  return describeCli(arn);
}

withCli('the AWS CLI and ECS-native deployments', () => {
  it('describe-service-deployments follows a deployment; continue- and stop-service-deployment act on it', async () => {
    const updated = await aws([
      'ecs',
      'update-service',
      '--cluster',
      'demo',
      '--service',
      'web',
      '--task-definition',
      'app:2',
    ]);
    const listed = await aws(['ecs', 'list-service-deployments', '--cluster', 'demo', '--service', 'web']);
    const arn = (listed.serviceDeployments as { serviceDeploymentArn: string; status: string }[])[0]
      ?.serviceDeploymentArn as string;
    expect(arn).toMatch(/:service-deployment\/demo\/web\//);
    // Older CLIs drop members their model lacks (currentServiceDeployment came in 2024): compare when present.
    const current = (updated.service as { currentServiceDeployment?: string }).currentServiceDeployment;
    if (current !== undefined) expect(current).toBe(arn);

    const paused = await until(arn, (d) => d.lifecycleHookDetails[0]?.status === 'AWAITING_ACTION');
    expect(paused).toMatchObject({ status: 'IN_PROGRESS', lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' });
    expect(paused.targetServiceRevision.requestedTestTrafficWeight).toBe(100);
    const hookId = paused.lifecycleHookDetails?.[0]?.hookId as string;
    await aws([
      'ecs',
      'continue-service-deployment',
      '--service-deployment-arn',
      arn,
      '--hook-id',
      hookId,
      '--action',
      'CONTINUE',
    ]);

    const baking = await until(arn, (d) => d.lifecycleStage === 'BAKE_TIME');
    expect(baking.targetServiceRevision.requestedProductionTrafficWeight).toBe(100);
    const stopped = await aws([
      'ecs',
      'stop-service-deployment',
      '--service-deployment-arn',
      arn,
      '--stop-type',
      'ROLLBACK',
    ]);
    expect(stopped).toEqual({ serviceDeploymentArn: arn });
    const rolledBack = await until(arn, (d) => d.status === 'ROLLBACK_SUCCESSFUL');
    expect(rolledBack.rollback?.reason).toMatch(/StopServiceDeployment/);
    expect(rolledBack.targetServiceRevision.requestedProductionTrafficWeight).toBe(0);

    // A finished deployment cannot be stopped: the CLI reports ECS's ConflictException.
    const again = aws([
      'ecs',
      'stop-service-deployment',
      '--service-deployment-arn',
      arn,
      '--stop-type',
      'ROLLBACK',
    ]);
    await expect(again).rejects.toThrow(/ConflictException/);
  }, 120_000);
});
