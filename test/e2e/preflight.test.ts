/**
 * Know before you deploy, end to end: the built action's dry run changes nothing and shows
 * the diff; the preflight warns and goes on when the role may not simulate its own policies;
 * verify catches a wrong container port and a deployment group that targets another service.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startEmulator, type Emulator, type Seed } from '../../emulator/index.js';
import { runAction } from './support/action.js';
import { ACCOUNT, awsEnv, CLUSTER, CREDENTIALS, REGION, seed } from './support/world.js';

const workspace = path.resolve('.');
let scratch: string;
let emulator: Emulator;

/** The world, with a deploy role that may do everything but simulate its own policies. */
function world(): Seed {
  const base = seed();
  const roles = (base.iam?.roles ?? []).map((r) =>
    r.name === 'deploy'
      ? {
          ...r,
          policies: [
            {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow' as const, Action: '*', Resource: '*' },
                { Effect: 'Deny' as const, Action: 'iam:SimulatePrincipalPolicy', Resource: '*' },
              ],
            },
          ],
        }
      : r,
  );
  const groups = base.codedeploy?.deploymentGroups ?? [];
  return {
    ...base,
    iam: { ...base.iam, roles },
    codedeploy: {
      ...base.codedeploy,
      applications: [...(base.codedeploy?.applications ?? []), 'AppECS-demo-other'],
      // A group whose name says one service and which targets another.
      // (A service belongs to one group, so the slow service's own group makes way.)
      deploymentGroups: [
        ...groups.filter((g) => g.service !== 'slow'),
        {
          ...(groups[0] as (typeof groups)[number]),
          application: 'AppECS-demo-other',
          name: 'DgpECS-demo-other',
          service: 'slow',
        },
      ],
    },
  };
}

beforeAll(async () => {
  // Inside the workspace (the action refuses files outside it), in the ignored .tmp/.
  await mkdir(path.join(workspace, '.tmp'), { recursive: true });
  scratch = await mkdtemp(path.join(workspace, '.tmp', 'preflight-'));
  emulator = await startEmulator({
    region: REGION,
    accountId: ACCOUNT,
    credentials: [CREDENTIALS],
    speed: 60,
    seed: world(),
    registry: { host: '127.0.0.1:9', username: 'AWS', password: 'unused' },
  });
});

afterAll(async () => {
  await emulator?.stop();
  await rm(scratch, { recursive: true, force: true });
});

const IMAGE = 'public.ecr.aws/docker/library/node:20-alpine';
const blueGreen = (extra: Record<string, string> = {}) => ({
  image: IMAGE,
  'task-definition': 'example-app/task-definition.json',
  cluster: CLUSTER,
  service: 'web',
  'poll-interval-seconds': '1',
  ...extra,
});
const run = (inputs: Record<string, string>) => runAction({ inputs, workspace, env: awsEnv(emulator) });

describe('dry run', () => {
  it('shows the task definition diff, the appspec and the calls, and changes nothing', async () => {
    const before = emulator.mutatingCalls().length;
    const r = await run(blueGreen({ 'dry-run': 'true', 'codedeploy-appspec': 'example-app/appspec.yaml' }));
    expect([r.code, r.errors]).toEqual([0, []]);
    expect(r.outputs['deployment-outcome']).toBe('dry-run');
    expect(emulator.mutatingCalls().slice(before)).toEqual([]);
    // The service runs image 127.0.0.1:5000/example-app:v0 (the world's seed); the diff shows the new one.
    expect(r.summary).toContain('### Dry run: nothing was changed in AWS');
    expect(r.summary).toMatch(
      /```diff[\s\S]*-\s+"image": "127\.0\.0\.1:5000\/example-app:v0"[\s\S]*\+\s+"image": "public\.ecr\.aws/,
    );
    expect(r.summary).toContain('codedeploy:CreateDeployment AppECS-demo-web/DgpECS-demo-web');
    expect(r.summary).toMatch(/```yaml[\s\S]*ContainerName: "web"/);
    expect(r.stdout).toContain('Task definition diff:');
  }, 60_000);
});

describe('preflight', () => {
  it('warns and goes on when the role may not simulate its own policies', async () => {
    const r = await run(blueGreen());
    expect([r.code, r.errors]).toEqual([0, []]);
    const warning = r.stdout.split('\n').find((l) => l.startsWith('::warning') && l.includes('Preflight'));
    expect(warning).toMatch(/Preflight permission check skipped: .*iam:SimulatePrincipalPolicy/);
    expect(r.outputs['deployment-outcome']).toBe('succeeded');
  }, 120_000);

  it('verify: an appspec port the service load balancer does not use stops the run before any change', async () => {
    const appspec = path.join(scratch, 'appspec-9090.yaml');
    // The task definition maps 9090 too, so only the service's load balancer (8080) disagrees.
    const td = JSON.parse(readFileSync(path.join(workspace, 'example-app/task-definition.json'), 'utf8')) as {
      containerDefinitions: { portMappings: unknown[] }[];
    };
    td.containerDefinitions[0]?.portMappings.push({ containerPort: 9090, protocol: 'tcp' });
    const tdFile = path.join(scratch, 'task-definition.json');
    await writeFile(tdFile, JSON.stringify(td, null, 2));
    await writeFile(
      appspec,
      [
        'version: 0.0',
        'Resources:',
        '  - TargetService:',
        '      Type: AWS::ECS::Service',
        '      Properties:',
        '        TaskDefinition: <TASK_DEFINITION>',
        '        LoadBalancerInfo:',
        '          ContainerName: web',
        '          ContainerPort: 9090',
        '',
      ].join('\n'),
    );
    const before = emulator.mutatingCalls().length;
    const r = await run(
      blueGreen({
        'task-definition': path.relative(workspace, tdFile),
        'codedeploy-appspec': path.relative(workspace, appspec),
      }),
    );
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toMatch(/9090/);
    expect(r.errors.join('\n')).toMatch(/8080/);
    expect(emulator.mutatingCalls().slice(before)).toEqual([]);
  }, 60_000);

  it('a deployment group that targets another service stops the run before any change', async () => {
    const before = emulator.mutatingCalls().length;
    const r = await run(
      blueGreen({
        'codedeploy-application': 'AppECS-demo-other',
        'codedeploy-deployment-group': 'DgpECS-demo-other',
      }),
    );
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toMatch(/DgpECS-demo-other/);
    expect(r.errors.join('\n')).toMatch(/slow/);
    expect(emulator.mutatingCalls().slice(before)).toEqual([]);
  }, 60_000);
});
