/**
 * Where the demo runtime's load balancer sends an ECS-native service's traffic: it follows the
 * weights ECS writes into the production and test listener rules, each target group served by
 * the revision that registered in it; and hook Lambdas given as local URLs. No Docker.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StopServiceDeploymentCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { HttpHookRunner } from '../../emulator/runtime/hooks.js';
import { listenerRoutes } from '../../emulator/runtime/routing.js';
import { clients } from './clients.js';
import { nativeWorld } from './native-support.js';

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

/** Listener → [weight, task definitions of the RUNNING tasks] per target group. */
function routes(e: Emulator) {
  return Object.fromEntries(
    (['production', 'test'] as const).map((listener) => [
      listener,
      listenerRoutes(e.state, 'demo', 'web', listener).map((r) => [
        r.weight,
        r.tasks.map((t) => t.taskDefinitionArn.split('/').at(-1)).sort(),
      ]),
    ]),
  );
}

function advanceUntil(e: Emulator, done: () => boolean): void {
  for (let s = 0; s < 3600 && !done(); s++) e.clock.advance(1000);
  if (!done()) throw new Error('not reached in an emulated hour');
}

describe('the demo load balancer and ECS-native deployments', () => {
  it('moves production traffic canary-first and test traffic at once, then back on rollback', async () => {
    const e = (emulator = await startEmulator({
      manualClock: true,
      seed: nativeWorld({
        strategy: 'CANARY',
        bakeTimeInMinutes: 5,
        canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 2 },
      }),
    }));
    const v1 = ['app:1', 'app:1'];
    const v2 = ['app:2', 'app:2'];
    expect(routes(e)).toEqual({
      production: [
        [100, v1],
        [0, []],
      ],
      test: [
        [100, v1],
        [0, []],
      ],
    });
    const ecs = clients(e).ecs;
    const out = await ecs.send(
      new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:2' }),
    );
    const arn = out.service?.currentServiceDeployment;
    const d = () => e.state.ecs.serviceDeployments.find((x) => x.serviceDeploymentArn === arn);

    advanceUntil(e, () => d()?.productionWeight === 10);
    expect(routes(e)).toEqual({
      production: [
        [90, v1],
        [10, v2],
      ],
      test: [
        [0, v1],
        [100, v2],
      ],
    });
    advanceUntil(e, () => d()?.lifecycleStage === 'BAKE_TIME');
    expect(routes(e).production).toEqual([
      [0, v1],
      [100, v2],
    ]);
    // A rollback in the bake sends everything back to the blue target group.
    await ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn }));
    advanceUntil(e, () => d()?.status === 'ROLLBACK_SUCCESSFUL');
    expect(routes(e)).toEqual({
      production: [
        [100, v1],
        [0, []],
      ],
      test: [
        [100, v1],
        [0, []],
      ],
    });
  });

  it('after a successful deployment the green target group serves everything', async () => {
    const e = (emulator = await startEmulator({
      manualClock: true,
      seed: nativeWorld({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 }),
    }));
    const ecs = clients(e).ecs;
    const out = await ecs.send(
      new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:2' }),
    );
    const arn = out.service?.currentServiceDeployment;
    advanceUntil(
      e,
      () =>
        e.state.ecs.serviceDeployments.find((x) => x.serviceDeploymentArn === arn)?.status === 'SUCCESSFUL',
    );
    expect(routes(e).production).toEqual([
      [0, []],
      [100, ['app:2', 'app:2']],
    ]);
  });
});

describe('ECS-native Lambda hooks as local HTTP endpoints (demo runtime)', () => {
  it("POSTs ECS's hook event and fails on hookStatus FAILED, succeeds on SUCCEEDED", async () => {
    const bodies: unknown[] = [];
    const answers = ['{"hookStatus":"SUCCEEDED"}', '{"hookStatus":"FAILED"}'];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(answers.shift());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const runner = new HttpHookRunner({
      timeoutMs: 5000,
      deliver: (change) => change(),
      onEvent: () => undefined,
    });
    const invoke = (payload: unknown) =>
      new Promise<string | undefined>((resolve) =>
        runner.invoke(
          url,
          {
            deploymentId: 'sd',
            lifecycleEventHookExecutionId: 'h',
            lifecycleEventName: 'POST_SCALE_UP',
            payload,
          },
          resolve,
        ),
      );
    try {
      const payload = { executionId: 'ecs-lambda-x', lifecycleStage: 'POST_SCALE_UP', resourceArn: 'arn:sd' };
      expect(await invoke(payload)).toBeUndefined();
      expect(await invoke(payload)).toMatch(/answered hookStatus FAILED/);
      expect(bodies).toEqual([payload, payload]);
    } finally {
      runner.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
