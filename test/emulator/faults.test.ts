import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeClustersCommand,
  ECSServiceException,
  ListClustersCommand,
} from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { clients } from './clients.js';

async function failure(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!outcome) throw new Error('expected the call to fail');
  return outcome;
}

describe('emulator faults', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ manualClock: true, seed: { clusters: ['default'] } });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('throttle: the next N calls get 400 ThrottlingException "Rate exceeded", then calls pass', async () => {
    const { ecs } = clients(emulator);
    emulator.faults.throttle('ListClusters', 2);
    for (let i = 0; i < 2; i++) {
      const e = await failure(ecs.send(new ListClustersCommand({})));
      expect(e).toBeInstanceOf(ECSServiceException);
      expect([e.name, e.message, e.$metadata?.httpStatusCode]).toEqual([
        'ThrottlingException',
        'Rate exceeded',
        400,
      ]);
    }
    await expect(ecs.send(new ListClustersCommand({}))).resolves.toBeDefined();
    // Other operations were never affected.
    emulator.faults.throttle('ListClusters', 1);
    await expect(ecs.send(new DescribeClustersCommand({}))).resolves.toBeDefined();
    emulator.faults.clear();
  });

  it('throttle: the SDK retries throttling the way it does against AWS', async () => {
    const { ecs } = clients(emulator, { maxAttempts: 3 });
    const before = emulator.calls.length;
    emulator.faults.throttle('ListClusters', 2);
    await expect(ecs.send(new ListClustersCommand({}))).resolves.toBeDefined();
    expect(emulator.calls.slice(before).map((c) => [c.operation, c.status, c.errorType])).toEqual([
      ['ListClusters', 400, 'ThrottlingException'],
      ['ListClusters', 400, 'ThrottlingException'],
      ['ListClusters', 200, undefined],
    ]);
  });

  it('serverError: 500 InternalFailure by default, ServiceUnavailable for 503', async () => {
    const { ecs } = clients(emulator);
    emulator.faults.serverError('DescribeClusters', 1);
    const e500 = await failure(ecs.send(new DescribeClustersCommand({})));
    expect([e500.name, e500.$metadata?.httpStatusCode]).toEqual(['InternalFailure', 500]);
    emulator.faults.serverError('DescribeClusters', 1, 503);
    const e503 = await failure(ecs.send(new DescribeClustersCommand({})));
    expect([e503.name, e503.$metadata?.httpStatusCode]).toEqual(['ServiceUnavailable', 503]);
    await expect(ecs.send(new DescribeClustersCommand({}))).resolves.toBeDefined();
    expect(() => emulator.faults.serverError('DescribeClusters', 1, 404)).toThrow(/5xx/);
  });

  it('dropConnection: the socket closes without a response and the call is not processed', async () => {
    const { ecs } = clients(emulator);
    emulator.faults.dropConnection('CreateCluster', 1);
    const e = await failure(ecs.send(new CreateClusterCommand({ clusterName: 'dropped' })));
    expect(e).not.toBeInstanceOf(ECSServiceException);
    expect(emulator.calls.at(-1)).toMatchObject({ operation: 'CreateCluster', status: 0 });
    expect(emulator.state.ecs.clusters.has('dropped')).toBe(false);
    await ecs.send(new CreateClusterCommand({ clusterName: 'dropped' }));
    expect(emulator.state.ecs.clusters.has('dropped')).toBe(true);
  });

  it('loseAnswer: the call is processed, then the socket closes without a response', async () => {
    const { ecs } = clients(emulator, { maxAttempts: 1 });
    emulator.faults.loseAnswer('CreateCluster', 1);
    const e = await failure(ecs.send(new CreateClusterCommand({ clusterName: 'acted' })));
    expect(e).not.toBeInstanceOf(ECSServiceException);
    expect(emulator.calls.at(-1)).toMatchObject({ operation: 'CreateCluster', status: 0 });
    expect(emulator.state.ecs.clusters.has('acted')).toBe(true);
    expect(() => emulator.faults.loseAnswer('CreateCluster', 0)).toThrow(/positive integer/);
  });

  it('latency: delays the next N responses by real milliseconds', async () => {
    const { ecs } = clients(emulator);
    emulator.faults.latency('ListClusters', 300, 1);
    const slow = Date.now();
    await ecs.send(new ListClustersCommand({}));
    expect(Date.now() - slow).toBeGreaterThanOrEqual(290);
    const fast = Date.now();
    await ecs.send(new ListClustersCommand({}));
    expect(Date.now() - fast).toBeLessThan(250);
  });

  it("'*' matches every operation, and clear() removes pending faults", async () => {
    const { ecs } = clients(emulator);
    emulator.faults.throttle('*', 1);
    expect((await failure(ecs.send(new DescribeClustersCommand({})))).name).toBe('ThrottlingException');
    emulator.faults.throttle('*', 5);
    emulator.faults.latency('*', 10_000);
    emulator.faults.clear();
    await expect(ecs.send(new ListClustersCommand({}))).resolves.toBeDefined();
  });

  it('rejects fault arguments that make no sense', () => {
    expect(() => emulator.faults.throttle('ListClusters', 0)).toThrow(/positive integer/);
    expect(() => emulator.faults.latency('ListClusters', -1)).toThrow(/non-negative/);
    expect(() => emulator.faults.failLifecycleEvent('Install' as never)).toThrow(/not an ECS lifecycle hook/);
  });
});

describe('emulator call log', () => {
  it('records every call in order, with its input, outcome and signer; mutatingCalls() keeps the changes', async () => {
    const emulator = await startEmulator({ manualClock: true });
    try {
      const { ecs } = clients(emulator);
      await ecs.send(new CreateClusterCommand({ clusterName: 'logged' }));
      await ecs.send(new DescribeClustersCommand({ clusters: ['logged'] }));
      await failure(
        ecs.send(
          new CreateServiceCommand({
            cluster: 'logged',
            serviceName: 's',
            taskDefinition: 'none:1',
            desiredCount: 1,
          }),
        ),
      );
      expect(
        emulator.calls.map((c) => [c.service, c.operation, c.status, c.errorType, c.accessKeyId]),
      ).toEqual([
        ['ecs', 'CreateCluster', 200, undefined, 'test'],
        ['ecs', 'DescribeClusters', 200, undefined, 'test'],
        ['ecs', 'CreateService', 400, 'ClientException', 'test'],
      ]);
      expect(emulator.calls[0]?.input).toEqual({ clusterName: 'logged' });
      expect(emulator.calls[0]?.at).toBeGreaterThan(Date.now() - 60_000);
      expect(emulator.mutatingCalls().map((c) => c.operation)).toEqual(['CreateCluster', 'CreateService']);
    } finally {
      await emulator.stop();
    }
  });
});

describe('emulator clock and lifecycle', () => {
  it('manual clock: time moves only with advance()', async () => {
    const emulator = await startEmulator({ manualClock: true });
    try {
      const t0 = emulator.clock.now();
      await new Promise((r) => setTimeout(r, 20));
      expect(emulator.clock.now()).toBe(t0);
      emulator.clock.advance(90_000);
      expect(emulator.clock.now()).toBe(t0 + 90_000);
      expect(() => emulator.clock.advance(-1)).toThrow(RangeError);
    } finally {
      await emulator.stop();
    }
  });

  it('speed factor: emulated time runs faster than real time, and can be changed', async () => {
    const emulator = await startEmulator({ speed: 1000 });
    try {
      expect(emulator.clock.speed).toBe(1000);
      const t0 = emulator.clock.now();
      await new Promise((r) => setTimeout(r, 50));
      expect(emulator.clock.now() - t0).toBeGreaterThanOrEqual(40_000);
      emulator.clock.speed = 1;
      const t1 = emulator.clock.now();
      await new Promise((r) => setTimeout(r, 50));
      expect(emulator.clock.now() - t1).toBeLessThan(1_000);
    } finally {
      await emulator.stop();
    }
  });

  it('stop() closes the port, releases delayed calls, and leaves nothing running', async () => {
    const emulator = await startEmulator({ manualClock: true });
    emulator.faults.latency('ListClusters', 60_000);
    const pending = clients(emulator)
      .ecs.send(new ListClustersCommand({}))
      .then(
        () => 'answered',
        () => 'failed',
      );
    await new Promise((r) => setTimeout(r, 50));
    await emulator.stop();
    expect(await pending).toBe('failed');
    const refused = await fetch(emulator.url).then(
      () => 'connected',
      () => 'refused',
    );
    expect(refused).toBe('refused');
  });

  it('binds 127.0.0.1 on the requested port', async () => {
    const first = await startEmulator();
    try {
      expect(first.url).toBe(`http://127.0.0.1:${first.port}`);
      const second = await startEmulator({ port: first.port }).then(
        (e) => e,
        (e: unknown) => e as Error,
      );
      expect((second as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    } finally {
      await first.stop();
    }
  });
});
