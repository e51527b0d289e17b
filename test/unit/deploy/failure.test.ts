import { describe, expect, it } from '@jest/globals';
import {
  type Failure,
  failureSentence,
  hookCause,
  hookFunction,
  isRoutineEvent,
  productionHeadline,
  tasksCause,
} from '../../../src/deploy/failure.js';

const td = (n: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/example-app:${n}`;

describe('isRoutineEvent: routine progress is left out of a failure’s detail', () => {
  it.each([
    ['(service web) has started 2 tasks: (task a) (task b).', true],
    ['(service web) registered 2 targets in (target-group arn:…/green)', true],
    ['(service web) deregistered 1 targets in (target-group arn:…/blue)', true],
    ['(service web) has reached a steady state.', true],
    ['(service web) has stopped 2 running tasks: (task a) (task b).', true],
    ['(service web) has begun draining connections on 2 tasks.', true],
    ['(service web) (deployment ecs-svc/1) deployment completed.', true],
    ['(service web) (deployment ecs-svc/2) deployment failed: tasks failed to start.', false],
    ['(service web) rolling back to deployment ecs-svc/1.', false],
    ['(service web) is unable to consistently start tasks successfully.', false],
    ['(service web) (task a) failed container health checks.', false],
    [
      '(service web) was unable to place a task because no container instance met all of its requirements.',
      false,
    ],
  ])('%s → routine %s', (message, routine) => expect(isRoutineEvent(message)).toBe(routine));
});

describe('the one-sentence cause per failure kind', () => {
  const base = { previous: td(11), deployed: td(12), tasks: [] };
  it.each<[string, Failure, string]>([
    [
      'a failed hook, rolled back',
      {
        ...base,
        kind: 'hook',
        cause: hookCause(
          'AfterAllowTestTraffic',
          'example-app-smoke-test',
          'The deployment failed because a specified lifecycle event hook failed: AfterAllowTestTraffic (example-app-smoke-test). GET /health returned 503',
        ),
        production: td(11),
        rollback: {
          by: 'the rollback deployment d-RB1',
          id: 'd-RB1',
          status: 'succeeded',
          taskDefinitionArn: td(11),
        },
      },
      'The AfterAllowTestTraffic hook example-app-smoke-test failed: GET /health returned 503; production still serves example-app:11; the rollback deployment d-RB1 to example-app:11 succeeded.',
    ],
    [
      'crashing tasks, circuit breaker rollback',
      {
        ...base,
        kind: 'circuit-breaker',
        cause: tasksCause(
          td(12),
          'EssentialContainerExited: Essential container in task exited; container web: exit code 1',
          3,
        ),
        production: td(11),
        rollback: {
          by: "the circuit breaker's rollback (ECS deployment ecs-svc/9)",
          status: 'succeeded',
          taskDefinitionArn: td(11),
        },
      },
      "3 new tasks of example-app:12 stopped: EssentialContainerExited: Essential container in task exited; container web: exit code 1; production still serves example-app:11; the circuit breaker's rollback (ECS deployment ecs-svc/9) to example-app:11 succeeded.",
    ],
    [
      'a timeout whose rollback was still running',
      {
        ...base,
        kind: 'timeout',
        cause:
          'CodeDeploy deployment d-X did not finish within 30 min (last status InProgress). Stopped it with rollback.',
        production: td(12),
        rollback: { by: 'the rollback deployment d-RB2', status: 'in-progress', taskDefinitionArn: td(11) },
      },
      'CodeDeploy deployment d-X did not finish within 30 min (last status InProgress). Stopped it with rollback; production serves example-app:12, the new revision; the rollback deployment d-RB2 to example-app:11 was still running when the wait ended.',
    ],
    [
      'a failure without rollback, production unknown',
      {
        ...base,
        kind: 'other',
        cause: 'ECS deployment ecs-svc/3 is gone and the service has no PRIMARY deployment.',
      },
      'ECS deployment ecs-svc/3 is gone and the service has no PRIMARY deployment.',
    ],
    [
      'a failed rollback',
      {
        ...base,
        kind: 'hook',
        cause: hookCause('BeforeInstall', undefined, 'timed out'),
        production: td(10),
        rollback: { by: 'the rollback deployment d-RB3', status: 'failed' },
      },
      'The BeforeInstall hook failed: timed out; production serves example-app:10; the rollback deployment d-RB3 failed too: check the service in the console.',
    ],
  ])('%s', (_name, failure, sentence) => expect(failureSentence(failure)).toBe(sentence));
});

describe('productionHeadline: the state production is in now', () => {
  const f = (over: Partial<Failure>): Failure => ({
    kind: 'hook',
    cause: 'x',
    previous: td(11),
    deployed: td(12),
    tasks: [],
    ...over,
  });
  it.each<[string, boolean, Failure | undefined, string | undefined]>([
    ['success', true, undefined, 'Production serves example-app:12.'],
    [
      'rolled back',
      false,
      f({ production: td(11), rollback: { by: 'r', status: 'succeeded' } }),
      'Production still serves example-app:11 (rolled back).',
    ],
    ['never moved', false, f({ production: td(11) }), 'Production still serves example-app:11.'],
    [
      'rollback running',
      false,
      f({ production: td(12), rollback: { by: 'r', status: 'in-progress', taskDefinitionArn: td(11) } }),
      'Production is being rolled back to example-app:11; the rollback had not ended when the wait did.',
    ],
    ['unknown', false, f({}), 'Production state unknown: check the service in the console.'],
    [
      'a preview',
      false,
      f({ production: td(11), subject: 'the preview' }),
      'The preview still serves example-app:11.',
    ],
  ])('%s', (_n, ok, failure, text) => expect(productionHeadline(ok, failure, td(12))).toBe(text));
});

describe('hookFunction and hookCause', () => {
  it.each([
    [
      "Hooks:\n  - AfterAllowTestTraffic: 'example-app-smoke-test'\n",
      'AfterAllowTestTraffic',
      'example-app-smoke-test',
    ],
    [
      '{"Hooks":[{"BeforeInstall":"arn:aws:lambda:us-east-1:1:function:pre"}]}',
      'BeforeInstall',
      'arn:aws:lambda:us-east-1:1:function:pre',
    ],
    ['Hooks:\n  - BeforeInstall: a\n', 'AfterInstall', undefined],
  ])('%j, %s → %s', (appSpec, event, fn) => expect(hookFunction(appSpec, event)).toBe(fn));

  it('keeps the hook’s own words without CodeDeploy’s preamble', () => {
    expect(
      hookCause(
        'AfterInstall',
        'fn',
        'The deployment failed because a specified lifecycle event hook failed: AfterInstall (fn). boom',
      ),
    ).toBe('The AfterInstall hook fn failed: boom');
    expect(hookCause('AfterInstall', undefined, undefined)).toBe('The AfterInstall hook failed: no message');
  });
});
