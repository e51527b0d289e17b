/** The preview, rollback and comment inputs, read and validated by readConfig. */
import { describe, expect, it } from '@jest/globals';
import { imageTags, readConfig } from '../../../src/config.js';
import { UserError } from '../../../src/errors.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const env = {
  GITHUB_WORKSPACE: '/ws',
  GITHUB_SHA: SHA,
  AWS_REGION: 'us-east-1',
  RUNNER_TEMP: '/tmp/runner',
  GITHUB_REPOSITORY: 'octo/app',
  GITHUB_RUN_ID: '77',
  GITHUB_SERVER_URL: 'https://github.example.com/',
  GITHUB_API_URL: 'https://github.example.com/api/v3',
};
const LISTENER =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/previews/50dc6c495c0c9188/f2f7dc8efc522ab2';
const event = { pull_request: { number: 42, head: { sha: 'feedfacefeedfacefeedfacefeedfacefeedface' } } };
const base = { 'ecr-repository': 'app', service: 'web', 'task-definition': 'taskdef.json', cluster: 'demo' };

const read = (inputs: Record<string, string>, ev: unknown = event) =>
  readConfig((name) => inputs[name] ?? '', env, ev);

function problemsOf(inputs: Record<string, string>, ev: unknown = event): string[] {
  try {
    read(inputs, ev);
  } catch (err) {
    if (err instanceof UserError) return err.problems.map((p) => `${p.where}: ${p.what} Fix: ${p.fix}`);
    throw err;
  }
  return [];
}

describe('preview inputs', () => {
  it('reads the pull request from the event, and leaves previews off by default', () => {
    expect(read(base).preview).toBeUndefined();
    expect(read(base).rollback).toBe(false);
    expect(read({ ...base, preview: 'deploy' }).preview).toEqual({
      action: 'deploy',
      pullRequest: 42,
      headSha: event.pull_request.head.sha,
      listenerArn: undefined,
      domain: undefined,
      urlTemplate: undefined,
    });
  });

  it.each([
    ['pull-request-number overrides the event', { 'pull-request-number': '7' }, event, { pullRequest: 7 }],
    [
      'a number without an event (workflow_dispatch)',
      { 'pull-request-number': '9' },
      undefined,
      { pullRequest: 9 },
    ],
    [
      'routing through a listener, domain lower-cased',
      { 'preview-listener-arn': LISTENER, 'preview-domain': 'Preview.Example.com' },
      event,
      { listenerArn: LISTENER, domain: 'preview.example.com' },
    ],
    [
      'a URL template',
      { 'preview-url': 'https://{service}-{number}.example.com' },
      event,
      { urlTemplate: 'https://{service}-{number}.example.com' },
    ],
  ])('%s', (_name, inputs, ev, expected) => {
    expect(read({ ...base, preview: 'deploy', ...inputs }, ev).preview).toMatchObject(expected);
  });

  it.each([
    [
      'an unknown preview action',
      { preview: 'create' },
      event,
      /^preview: "create" is not one of deploy, destroy/,
    ],
    [
      'no pull request anywhere',
      { preview: 'deploy' },
      { push: {} },
      /^pull-request-number: .*no pull_request.*Fix: .*pull-request-number/,
    ],
    [
      'a pull request number that is not one',
      { preview: 'destroy', 'pull-request-number': '0' },
      event,
      /^pull-request-number: "0" is not a pull request number/,
    ],
    [
      'a listener without a domain',
      { preview: 'deploy', 'preview-listener-arn': LISTENER },
      event,
      /^preview-domain: preview-listener-arn is set without preview-domain/,
    ],
    [
      'a domain without a listener',
      { preview: 'deploy', 'preview-domain': 'p.example.com' },
      event,
      /^preview-listener-arn: preview-domain is set without/,
    ],
    [
      'a target group ARN as the listener',
      {
        preview: 'deploy',
        'preview-domain': 'p.example.com',
        'preview-listener-arn': 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1',
      },
      event,
      /^preview-listener-arn: .* is not an Application Load Balancer listener ARN/,
    ],
    [
      'a domain with a scheme',
      { preview: 'deploy', 'preview-domain': 'https://p.example.com', 'preview-listener-arn': LISTENER },
      event,
      /^preview-domain: .* is not a domain name/,
    ],
    [
      'a URL template with an unknown placeholder',
      { preview: 'deploy', 'preview-url': 'https://{branch}.example.com' },
      event,
      /^preview-url: .*unknown placeholder\(s\) \{branch\}/,
    ],
    [
      'a URL template that is not a URL',
      { preview: 'deploy', 'preview-url': 'pr-{number}' },
      event,
      /^preview-url: .* is not an http\(s\) URL/,
    ],
    [
      'a URL template and a listener',
      {
        preview: 'deploy',
        'preview-url': 'https://x.example.com',
        'preview-listener-arn': LISTENER,
        'preview-domain': 'p.example.com',
      },
      event,
      /^preview-url: preview-url is set together with preview-listener-arn/,
    ],
    [
      'no base service',
      { preview: 'deploy', service: '' },
      event,
      /^service: preview: deploy needs the base service/,
    ],
    [
      'deploy-mode codedeploy',
      { preview: 'deploy', 'deploy-mode': 'codedeploy' },
      event,
      /^deploy-mode: deploy-mode is codedeploy, but a preview is its own service/,
    ],
    [
      'extra tags on a preview image',
      { preview: 'deploy', tags: 'latest' },
      event,
      /^tags: tags \(latest\) is set for a preview, whose image is tagged only pr-42-<commit>/,
    ],
    [
      'a dry run of a preview',
      { preview: 'deploy', 'dry-run': 'true' },
      event,
      /^dry-run: .*preview: deploy, which has no dry run/,
    ],
    [
      'preview and rollback together',
      { preview: 'deploy', rollback: 'true' },
      event,
      /^rollback: rollback is true together with preview: deploy/,
    ],
  ])('refuses %s', (_name, inputs, ev, message) => {
    expect(problemsOf({ ...base, ...inputs }, ev)).toContainEqual(expect.stringMatching(message));
  });

  it('tags a preview image pr-<number>-<sha> only, in the sha-tag form(s)', () => {
    expect(imageTags(read({ ...base, preview: 'deploy' }))).toEqual([`pr-42-${SHA}`]);
    expect(imageTags(read({ ...base, preview: 'deploy', 'sha-tag': 'both' }))).toEqual([
      `pr-42-${SHA}`,
      `pr-42-${SHA.slice(0, 7)}`,
    ]);
  });

  it('a destroy builds nothing: the repository only says where the image tags are', () => {
    const c = read({ ...base, preview: 'destroy' });
    expect(c.containers).toEqual([
      { name: undefined, build: expect.objectContaining({ repository: 'app' }) },
    ]);
    // Without a repository a destroy needs none, and GITHUB_SHA is not needed either.
    const bare = readConfig(
      (n) => ({ service: 'web', preview: 'destroy', 'pull-request-number': '3' })[n] ?? '',
      { GITHUB_WORKSPACE: '/ws', AWS_REGION: 'us-east-1' },
    );
    expect(bare.containers).toEqual([]);
    expect(bare.preview).toMatchObject({ action: 'destroy', pullRequest: 3 });
  });

  it('reads where the comment goes, with the token and without trailing slashes', () => {
    expect(read({ ...base, preview: 'deploy', 'github-token': 'ghs_secret' }).github).toEqual({
      token: 'ghs_secret',
      apiUrl: 'https://github.example.com/api/v3',
      serverUrl: 'https://github.example.com',
      repository: 'octo/app',
      runId: '77',
    });
    expect(
      readConfig((n) => base[n as keyof typeof base] ?? '', { AWS_REGION: 'us-east-1', GITHUB_SHA: SHA })
        .github,
    ).toMatchObject({
      token: undefined,
      apiUrl: 'https://api.github.com',
      serverUrl: 'https://github.com',
    });
  });
});

describe('rollback input', () => {
  it('needs only the service: build and task definition inputs are not used', () => {
    const c = read({ ...base, rollback: 'true' });
    expect(c).toMatchObject({ rollback: true, containers: [] });
    expect(read({ service: 'web', rollback: 'true' }).containers).toEqual([]);
  });

  it.each([
    [
      'an image to deploy',
      { image: '127.0.0.1:5000/app:v1' },
      /^image: rollback is true, and image names what to deploy/,
    ],
    [
      'containers to deploy',
      { containers: 'web: 127.0.0.1:5000/app:v1' },
      /^containers: rollback is true, and containers names/,
    ],
    ['no service', { service: '' }, /^service: rollback is true but no service is named/],
    ['deploy-mode none', { 'deploy-mode': 'none' }, /^deploy-mode: rollback is true but deploy-mode is none/],
    ['a dry run', { 'dry-run': 'true' }, /^dry-run: dry-run is true together with rollback/],
    ['a word that is not a boolean', { rollback: 'yes' }, /^rollback: "yes" is not a boolean/],
  ])('refuses %s', (_name, inputs, message) => {
    expect(problemsOf({ ...base, rollback: 'true', ...inputs })).toContainEqual(
      expect.stringMatching(message),
    );
  });
});
