/** A rolling start retried after a lost answer must not start a second deployment (issue 13). */
import { describe, expect, it } from '@jest/globals';
import { forceNeeded } from '../../src/deploy/strategies/rolling.js';

const A = 'arn:aws:ecs:us-east-1:000000000000:task-definition/app:1';
const B = 'arn:aws:ecs:us-east-1:000000000000:task-definition/app:2';

describe('force-new-deployment is sent only when the revision does not start a deployment by itself', () => {
  it.each<[string, boolean, string | undefined, string, boolean]>([
    ['a new revision: the change starts it, no force (a retried call adopts it)', true, A, B, false],
    ['the same revision: force is what starts it', true, B, B, true],
    ['the running revision unknown: as asked', true, undefined, B, true],
    ['not asked for', false, B, B, false],
  ])('%s', (_, force, previous, arn, expected) => {
    expect(forceNeeded(force, { taskDefinitionArn: arn, previousTaskDefinitionArn: previous })).toBe(
      expected,
    );
  });
});
