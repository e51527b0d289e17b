import { describe, expect, it } from '@jest/globals';
import type { Task } from '@aws-sdk/client-ecs';
import {
  isRoutineStop,
  serviceEventLines,
  stoppedTaskLines,
  stoppedTaskReason,
} from '../../../src/deploy/diagnostics.js';

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

describe('serviceEventLines', () => {
  it('keeps the ten newest events since the given time, newest last', () => {
    const events = Array.from({ length: 14 }, (_, i) => ({
      id: `e${i}`,
      createdAt: new Date(T0 + (i - 2) * 1_000),
      message: `m${i}`,
    })).reverse();
    const lines = serviceEventLines(events, new Date(T0));
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe(`service event ${new Date(T0 + 2_000).toISOString()}: m4`);
    expect(lines[9]).toBe(`service event ${new Date(T0 + 11_000).toISOString()}: m13`);
  });

  it('returns nothing without events', () => {
    expect(serviceEventLines(undefined, new Date(T0))).toEqual([]);
  });
});

describe('stoppedTaskReason', () => {
  it('joins the stop code, the reason and what each container said', () => {
    const task: Task = {
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [
        { name: 'web', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' },
        { name: 'sidecar', exitCode: 0 },
      ],
    };
    expect(stoppedTaskReason(task)).toBe(
      'EssentialContainerExited: Essential container in task exited; container web: OutOfMemoryError: Container killed due to memory usage, exit code 137',
    );
  });

  it('says when ECS gave no reason', () => {
    expect(stoppedTaskReason({})).toBe('no reason given');
  });
});

describe('stoppedTaskLines', () => {
  it('counts tasks that stopped for the same reason once', () => {
    const t: Task = { stopCode: 'TaskFailedToStart', stoppedReason: 'boom' };
    expect(stoppedTaskLines([t, t, { stoppedReason: 'other' }])).toEqual([
      '2 stopped tasks: TaskFailedToStart: boom',
      'stopped task: other',
    ]);
  });

  it('shows at most five distinct reasons', () => {
    const tasks = Array.from({ length: 8 }, (_, i) => ({ stoppedReason: `reason ${i}` }));
    expect(stoppedTaskLines(tasks)).toHaveLength(5);
  });

  it.each([
    [
      'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed',
      /execution role .*ecr:GetAuthorizationToken.*kms:Decrypt/,
    ],
    [
      'CannotPullContainerError: pull image manifest has been retried 5 time(s)',
      /image could not be pulled.*repository policy/,
    ],
    ['Essential container in task exited', /application exited: read the container's logs/],
    [
      'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:…)',
      /health check path and port/,
    ],
    ['Task failed container health checks', /health check path and port/],
  ])('adds a hint for %s', (reason, hint) => {
    const lines = stoppedTaskLines([{ stoppedReason: reason }]);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^hint: /);
    expect(lines[1]).toMatch(hint);
  });

  it('adds no hint for an unknown cause', () => {
    expect(stoppedTaskLines([{ stoppedReason: 'Scaling activity initiated by deployment' }])).toEqual([
      'stopped task: Scaling activity initiated by deployment',
    ]);
  });
});

describe('isRoutineStop: tasks the scheduler scaled down explain nothing', () => {
  it.each<[Task, boolean]>([
    [
      {
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: 'Scaling activity initiated by (taskSet ecs-svc/1)',
      },
      true,
    ],
    [
      {
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)',
        containers: [{ name: 'web', exitCode: 137 }],
      },
      false,
    ],
    [
      {
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: 'Task failed ELB health checks in (target-group x)',
      },
      false,
    ],
    [{ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' }, false],
  ])('%j → %s', (task, routine) => {
    expect(isRoutineStop(task)).toBe(routine);
    // A routine stop is left out of the detail; the others are listed (with a hint when one fits).
    expect(stoppedTaskLines([task]).filter((l) => l.startsWith('stopped task'))).toHaveLength(
      routine ? 0 : 1,
    );
  });
});
