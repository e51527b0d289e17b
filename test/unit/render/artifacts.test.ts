import { describe, expect, it } from '@jest/globals';
import { UserError } from '../../../src/errors.js';
import { renderImageDefinitions, renderImageDetail } from '../../../src/render/artifacts.js';

const URI = '123456789012.dkr.ecr.us-east-1.amazonaws.com/web:abc123';

describe('renderImageDefinitions', () => {
  it.each([
    [
      'one container',
      [{ containerName: 'web', imageUri: URI }],
      `[\n  {\n    "name": "web",\n    "imageUri": "${URI}"\n  }\n]\n`,
    ],
    [
      'several containers, in the order given',
      [
        { containerName: 'worker', imageUri: 'repo/worker:1' },
        { containerName: 'web', imageUri: 'repo/web:1' },
      ],
      '[\n  {\n    "name": "worker",\n    "imageUri": "repo/worker:1"\n  },\n  {\n    "name": "web",\n    "imageUri": "repo/web:1"\n  }\n]\n',
    ],
  ])('writes CodePipeline’s format for %s', (_, images, expected) => {
    const content = renderImageDefinitions(images);
    expect(content).toBe(expected);
    expect(JSON.parse(content)).toEqual(images.map((i) => ({ name: i.containerName, imageUri: i.imageUri })));
  });

  it.each([
    [
      'a container listed twice',
      [
        { containerName: 'web', imageUri: 'a' },
        { containerName: 'web', imageUri: 'b' },
      ],
      /Container "web" is listed twice/,
    ],
    ['no container', [], /No container image was given/],
    [
      'a file over 100 KB',
      Array.from({ length: 60 }, (_, i) => ({
        containerName: `c${i}`,
        imageUri: `repo/x:${'t'.repeat(1700)}`,
      })),
      /imagedefinitions.json would be \d+ bytes; CodePipeline accepts at most 100 KB \(102400 bytes\)/,
    ],
  ])('refuses %s', (_, images, what) => {
    let error: unknown;
    try {
      renderImageDefinitions(images);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    const [problem] = (error as UserError).problems;
    expect(problem!.where).toBe('containers');
    expect(problem!.what).toMatch(what);
  });

  it('accepts a file of just under 100 KB', () => {
    const images = [{ containerName: 'web', imageUri: 'x'.repeat(100 * 1024 - 64) }];
    expect(Buffer.byteLength(renderImageDefinitions(images))).toBeLessThanOrEqual(100 * 1024);
  });
});

describe('renderImageDetail', () => {
  it('writes the CodeDeployToECS input format', () => {
    expect(renderImageDetail(URI)).toBe(`{\n  "ImageURI": "${URI}"\n}\n`);
  });

  it('escapes what JSON must escape', () => {
    expect(JSON.parse(renderImageDetail('repo/x:"tag"\\'))).toEqual({ ImageURI: 'repo/x:"tag"\\' });
  });
});
