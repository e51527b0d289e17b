/**
 * The run's safety rules, on the real pieces: deadlines on the monotonic clock (a wall-clock
 * jump does not end a watch), cancellation through SIGINT/SIGTERM, and a running Docker
 * command killed on cancel.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { EventEmitter } from 'node:events';
import { Cancelled, cancelOnSignals, throwIfCancelled } from '../../src/cancel.js';
import { systemClock } from '../../src/clock.js';
import { waitUntil } from '../../src/deploy/active.js';
import { watchRollingDeployment } from '../../src/deploy/rolling-watch.js';
import { dockerCli } from '../../src/docker.js';
import { MemoryLog } from '../../src/log.js';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

afterEach(() => {
  jest.restoreAllMocks();
  ecsMock.reset();
});

/** Date.now (and new Date()) a year ahead after the first reading: an NTP step, a resumed VM. */
function wallClockJumps(): void {
  const real = Date.now.bind(Date);
  let calls = 0;
  jest.spyOn(Date, 'now').mockImplementation(() => real() + (calls++ > 0 ? 365 * 86_400_000 : 0));
}

describe('deadlines use the monotonic clock', () => {
  it("systemClock.now does not follow Date.now's jump", () => {
    wallClockJumps();
    const a = systemClock.now();
    Date.now();
    const b = systemClock.now();
    expect(Date.now() - a).toBeGreaterThan(86_400_000);
    expect(b - a).toBeLessThan(1_000);
  });

  it('a watch is not timed out by a wall-clock jump', async () => {
    let polls = 0;
    ecsMock.on(DescribeServicesCommand).callsFake(() => {
      polls++;
      if (polls === 2) wallClockJumps();
      const rolloutState = polls >= 4 ? 'COMPLETED' : 'IN_PROGRESS';
      return {
        services: [
          {
            serviceName: 'web',
            status: 'ACTIVE',
            deployments: [
              {
                id: 'ecs-svc/1',
                status: 'PRIMARY',
                taskDefinition: 'td:2',
                rolloutState,
                desiredCount: 1,
                runningCount: 1,
              },
            ],
            events: [],
          },
        ],
      };
    });
    const result = await watchRollingDeployment(ecs, {
      cluster: 'prod',
      service: 'web',
      deploymentId: 'ecs-svc/1',
      timeoutMs: 60_000,
      pollIntervalMs: 5,
      rollbackOnTimeout: false,
      clock: systemClock,
      log: new MemoryLog(),
    });
    expect(polls).toBeGreaterThanOrEqual(4);
    expect(result.outcome).toBe('succeeded');
    expect(result.elapsedMs).toBeLessThan(60_000);
  });

  it('a wait for another deployment is not cut short by a wall-clock jump', async () => {
    let checks = 0;
    const start = systemClock.now();
    const done = await waitUntil(
      async () => {
        checks++;
        if (checks === 1) wallClockJumps();
        return checks >= 3 ? 'idle' : undefined;
      },
      start + 60_000,
      { timeoutMs: 60_000, pollIntervalMs: 5, clock: systemClock, log: new MemoryLog() },
    );
    expect(done).toBe('idle');
    expect(checks).toBe(3);
  });
});

describe('cancellation', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s aborts the run with a Cancelled that names it', (name) => {
    const proc = new EventEmitter();
    const cancel = cancelOnSignals(proc as unknown as NodeJS.Process);
    expect(() => throwIfCancelled(cancel.signal)).not.toThrow();
    proc.emit(name);
    expect(cancel.signal.aborted).toBe(true);
    expect(() => throwIfCancelled(cancel.signal)).toThrow(Cancelled);
    expect(() => throwIfCancelled(cancel.signal)).toThrow(new RegExp(`cancelled \\(${name}\\)`));
    cancel.dispose();
    expect(proc.listenerCount('SIGINT') + proc.listenerCount('SIGTERM')).toBe(0);
  });

  it('kills a running command (as `docker build`) at once, and refuses the next one', async () => {
    const abort = new AbortController();
    // node stands in for docker: a command that would run for a minute.
    const runner = dockerCli(process.execPath, abort.signal);
    const started = Date.now();
    const running = runner.run(['-e', 'setTimeout(() => {}, 60000)'], { silent: true });
    setTimeout(() => abort.abort(new Cancelled('The run was cancelled (SIGTERM).')), 200);
    await expect(running).rejects.toBeInstanceOf(Cancelled);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(runner.run(['-e', ''], { silent: true })).rejects.toBeInstanceOf(Cancelled);
  });

  it('passes stdin, output and the exit code through when not cancelled', async () => {
    const runner = dockerCli(process.execPath);
    const r = await runner.run(
      [
        '-e',
        'process.stdin.on("data", (d) => { process.stdout.write(String(d).toUpperCase()); process.exit(3); })',
      ],
      { silent: true, input: 'secret' },
    );
    expect(r).toEqual({ exitCode: 3, stdout: 'SECRET', stderr: '' });
  });
});
