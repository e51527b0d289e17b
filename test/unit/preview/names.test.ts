import { describe, expect, it } from '@jest/globals';
import type { PreviewConfig } from '../../../src/config.js';
import { UserError } from '../../../src/errors.js';
import {
  expandUrl,
  isPreviewTagged,
  previewFamily,
  previewNames,
  targetGroupName,
} from '../../../src/preview/names.js';

const preview = (extra: Partial<PreviewConfig> = {}): PreviewConfig => ({
  action: 'deploy',
  pullRequest: 42,
  ...extra,
});

describe('previewNames', () => {
  it('names everything a preview creates after the base service and the pull request', () => {
    expect(
      previewNames(
        'arn:aws:ecs:us-east-1:123456789012:service/demo/web',
        preview({ domain: 'p.example.com' }),
      ),
    ).toEqual({
      baseService: 'web',
      pullRequest: 42,
      service: 'web-pr-42',
      targetGroup: 'web-pr-42',
      imageTagPrefix: 'pr-42-',
      host: 'pr-42.p.example.com',
      url: 'https://pr-42.p.example.com',
      tags: [
        { key: 'preview-of', value: 'web' },
        { key: 'pull-request', value: '42' },
      ],
      commentMarker: '<!-- ecs-deploy-pipeline:preview:web -->',
    });
  });

  it('takes the URL from the template when the action does not route, or has none', () => {
    expect(previewNames('web', preview({ urlTemplate: 'https://{service}-{number}.x.io/' })).url).toBe(
      'https://web-42.x.io/',
    );
    expect(previewNames('web', preview()).url).toBeUndefined();
  });

  it('refuses a service name ECS could not take with -pr-<N>', () => {
    expect(() => previewNames('s'.repeat(252), preview())).toThrow(UserError);
    expect(() => previewFamily('f'.repeat(252), 42)).toThrow(/task-definition-family|255/);
    expect(previewFamily('example-app', 42)).toBe('example-app-pr-42');
  });
});

describe('targetGroupName', () => {
  it.each([
    ['a short name as it is', 'web', 7, 'web-pr-7'],
    ['exactly 32 characters as it is', 'a'.repeat(26), 12, `${'a'.repeat(26)}-pr-12`],
    ['underscores are not allowed: hashed', 'my_api', 7, /^my-api-[0-9a-f]{6}-pr-7$/],
    [
      'too long: shortened with a hash',
      'a-very-long-service-name-for-payments',
      1234,
      /^a-very-long-servi-[0-9a-f]{6}-pr-1234$/,
    ],
    ['"internal-" is reserved', 'internal-api', 3, /^api-[0-9a-f]{6}-pr-3$/],
  ])('%s', (_name, service, n, expected) => {
    const name = targetGroupName(service, n);
    expect(name).toEqual(typeof expected === 'string' ? expected : expect.stringMatching(expected));
    expect(name.length).toBeLessThanOrEqual(32);
    expect(name).toMatch(/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/);
  });

  it('keeps two long names with a common prefix apart', () => {
    const a = targetGroupName('checkout-service-blue-variant-one', 5);
    const b = targetGroupName('checkout-service-blue-variant-two', 5);
    expect(a).not.toBe(b);
  });
});

describe('expandUrl and isPreviewTagged', () => {
  it('fills every placeholder, escaping the service', () => {
    expect(expandUrl('https://{number}.{service}.x/{number}', 'a b', 5)).toBe('https://5.a%20b.x/5');
    expect(expandUrl(undefined, 'web', 5)).toBeUndefined();
  });

  it.each([
    [
      'ECS tags of this preview',
      [
        { key: 'preview-of', value: 'web' },
        { key: 'pull-request', value: '42' },
      ],
      true,
    ],
    [
      'ELB tags of this preview',
      [
        { Key: 'preview-of', Value: 'web' },
        { Key: 'pull-request', Value: '42' },
      ],
      true,
    ],
    [
      'another pull request',
      [
        { key: 'preview-of', value: 'web' },
        { key: 'pull-request', value: '43' },
      ],
      false,
    ],
    [
      'another service',
      [
        { key: 'preview-of', value: 'api' },
        { key: 'pull-request', value: '42' },
      ],
      false,
    ],
    ['no tags', undefined, false],
  ])('%s', (_name, tags, expected) => {
    expect(isPreviewTagged(tags, { baseService: 'web', pullRequest: 42 })).toBe(expected);
  });
});
