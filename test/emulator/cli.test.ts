import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';

const TSX = path.resolve('node_modules/.bin/tsx');
const CLI = path.resolve('emulator/cli.ts');

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(TSX, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function waitFor(
  check: () => RegExpMatchArray | null,
  what: string,
  running: Running,
): Promise<RegExpMatchArray> {
  for (let i = 0; i < 200; i++) {
    const match = check();
    if (match) return match;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${what}; stdout: ${running.stdout()} stderr: ${running.stderr()}`);
}

describe('emulator CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'emulator-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a seeded world with credentials from the environment, prints how to use it, stops on SIGTERM', async () => {
    const seed = path.join(dir, 'world.yaml');
    await writeFile(
      seed,
      [
        'clusters: [demo]',
        'taskDefinitions:',
        '  - family: app',
        '    networkMode: awsvpc',
        '    requiresCompatibilities: [FARGATE]',
        "    cpu: '256'",
        "    memory: '512'",
        '    containerDefinitions:',
        '      - { name: web, image: nginx, portMappings: [{ containerPort: 80 }] }',
        'services:',
        '  - { cluster: demo, serviceName: web, taskDefinition: app, desiredCount: 1, launchType: FARGATE }',
      ].join('\n'),
    );
    const running = run(['--port', '0', '--seed', seed, '--speed', '60'], {
      EMULATOR_ACCESS_KEY_ID: 'AKIDCLI',
      EMULATOR_SECRET_ACCESS_KEY: 'cli-secret',
    });
    try {
      const [, url] = await waitFor(
        () => /AWS_ENDPOINT_URL=(http:\/\/127\.0\.0\.1:\d+)/.exec(running.stdout()),
        'URL',
        running,
      );
      expect(running.stdout()).toContain('export AWS_ACCESS_KEY_ID=AKIDCLI');
      expect(running.stdout()).toContain('export AWS_REGION=us-east-1');
      expect(running.stdout()).not.toContain('cli-secret');
      const ecs = new ECSClient({
        endpoint: url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDCLI', secretAccessKey: 'cli-secret' },
        maxAttempts: 1,
      });
      const out = await ecs.send(new DescribeServicesCommand({ cluster: 'demo', services: ['web'] }));
      expect(out.services?.[0]).toMatchObject({ status: 'ACTIVE', runningCount: 1 });
    } finally {
      running.child.kill('SIGTERM');
    }
    expect(await running.exit).toBe(0);
  });

  it('refuses half a key pair with a usage message', async () => {
    const running = run(['--port', '0'], { EMULATOR_ACCESS_KEY_ID: 'AKIDCLI' });
    expect(await running.exit).toBe(2);
    expect(running.stderr()).toMatch(/give both the access key/);
    expect(running.stderr()).toMatch(/Usage: npm run emulator/);
  });
});
