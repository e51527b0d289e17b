/** A failed run says what it left in AWS (issue 13: half-done work). */
import { describe, expect, it } from '@jest/globals';
import type { Config } from '../../src/config.js';
import { checkBuildxNeeds } from '../../src/image.js';
import { leftBehind, renderSummary, type RunReport } from '../../src/report.js';

const ARN = 'arn:aws:ecs:us-east-1:000000000000:task-definition/example-app:12';
const base: RunReport = {
  ok: false,
  region: 'us-east-1',
  cluster: 'demo',
  service: 'web',
  images: [],
  diagnostics: [],
  stages: [],
};

describe('leftBehind', () => {
  it.each<[string, Partial<RunReport>, string | undefined]>([
    [
      'registered, no deployment',
      { taskDefinitionArn: ARN, registered: true },
      'Left behind: registered example-app:12, not deployed.',
    ],
    [
      'registered and pushed',
      {
        taskDefinitionArn: ARN,
        registered: true,
        images: [
          { container: 'web', imageUri: 'r/app:abc', digest: 'sha256:1' },
          { container: 'side', imageUri: 'r/side:v1' },
        ],
      },
      'Left behind: registered example-app:12, not deployed; pushed r/app:abc.',
    ],
    ['refused before registering', {}, undefined],
    [
      'a deployment was started (the post step owns it)',
      { taskDefinitionArn: ARN, registered: true, ecsDeploymentId: 'ecs-svc/1' },
      undefined,
    ],
    ['a rollback naming an earlier revision (nothing registered)', { taskDefinitionArn: ARN }, undefined],
    ['a succeeded run', { ok: true, taskDefinitionArn: ARN, registered: true }, undefined],
  ])('%s', (_, r, expected) => {
    const text = leftBehind({ ...base, ...r });
    if (expected === undefined) expect(text).toBeUndefined();
    else expect(text).toContain(expected);
  });

  it('is in the job summary', () => {
    expect(renderSummary({ ...base, taskDefinitionArn: ARN, registered: true })).toContain(
      'Left behind: registered example-app:12, not deployed',
    );
  });
});

describe('checkBuildxNeeds: refused before the login and before any repository is created', () => {
  const build = (platforms: string[]): Config['build'] => ({
    platforms,
    cacheFrom: [],
    cacheTo: [],
    provenance: false,
    push: true,
    tags: [],
    shaTag: 'full',
  });
  it.each<[string[], boolean, boolean]>([
    [['linux/amd64', 'linux/arm64'], false, true],
    [['linux/amd64', 'linux/arm64'], true, false],
    [['linux/amd64'], false, false],
    [[], false, false],
  ])('platforms %j, buildx %s: refused %s', (platforms, buildx, refused) => {
    const check = () => checkBuildxNeeds(build(platforms), buildx);
    if (refused) expect(check).toThrow(/needs docker buildx/);
    else expect(check).not.toThrow();
  });
});
