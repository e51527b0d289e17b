/**
 * The preview comment, written through the real Octokit to a local stand-in for the GitHub
 * API (test/support/github.ts), so paging, auth headers and the marker lookup are real.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { GitHubConfig } from '../../../src/config.js';
import { MemoryLog } from '../../../src/log.js';
import {
  postPreviewComment,
  previewCommentInput,
  renderPreviewComment,
  runUrl,
  type PreviewCommentInput,
} from '../../../src/preview/comment.js';
import { previewNames } from '../../../src/preview/names.js';
import { startFakeGitHub, type FakeGitHub } from '../../support/github.js';

const TOKEN = 'ghs_unit_test_token_0123456789';
const names = previewNames('web', { action: 'deploy', pullRequest: 7, domain: 'preview.example.com' });
const deployed: PreviewCommentInput = {
  state: 'deployed',
  names,
  cluster: 'demo',
  commit: 'feedfacefeedfacefeedfacefeedfacefeedface',
  image: '127.0.0.1:5000/app:pr-7-abc',
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/app-pr-7:3',
  url: names.url,
  runUrl: 'https://github.com/octo/app/actions/runs/1',
};

let github: FakeGitHub;
let log: MemoryLog;
beforeAll(async () => {
  github = await startFakeGitHub({ token: TOKEN });
});
afterAll(async () => {
  await github.stop();
});
beforeEach(() => {
  github.comments.clear();
  github.requests.length = 0;
  log = new MemoryLog();
});

const config = (extra: Partial<GitHubConfig> = {}): GitHubConfig => ({
  token: TOKEN,
  apiUrl: github.url,
  serverUrl: 'https://github.com',
  repository: 'octo/app',
  runId: '1',
  ...extra,
});

describe('renderPreviewComment', () => {
  it('starts with the marker and shows status, URL, commit, image, task definition and run', () => {
    const body = renderPreviewComment(deployed);
    expect(body.split('\n')[0]).toBe('<!-- ecs-deploy-pipeline:preview:web -->');
    expect(body).toContain('### ✅ Preview of <code>web</code> is live');
    expect(body).toContain('| URL | [https://pr-7.preview.example.com](https://pr-7.preview.example.com/) |');
    expect(body).toContain('| Commit | <code>feedfacefeed</code> |');
    expect(body).toContain('| Image | <code>127.0.0.1:5000/app:pr-7-abc</code> |');
    expect(body).toContain('| Task definition | <code>app-pr-7:3</code> |');
    expect(body).toContain('| Service | <code>demo/web-pr-7</code> |');
    expect(body).toContain('| Run | [workflow run](https://github.com/octo/app/actions/runs/1) |');
  });

  it.each([
    [
      'a failure, with why and no URL',
      { state: 'failed', message: 'ECS deployment | failed' },
      ['❌', 'ECS deployment &#124; failed'],
      ['| URL |'],
    ],
    [
      'a destroy, with what went',
      { state: 'destroyed', removed: ['service demo/web-pr-7', '2 image tag(s) pr-7-*'] },
      ['🗑️ Preview of <code>web</code> is gone', 'removed: service demo/web-pr-7; 2 image tag(s) pr-7-\\*'],
      ['| Image |'],
    ],
    ['a destroy of nothing', { state: 'destroyed', removed: [] }, ['nothing left to remove'], []],
  ] as const)('renders %s', (_name, change, contains, lacks) => {
    const body = renderPreviewComment({ ...deployed, ...change } as PreviewCommentInput);
    for (const text of contains) expect(body).toContain(text);
    for (const text of lacks) expect(body).not.toContain(text);
  });

  it('builds the input from the run: head commit, first image, outcome', () => {
    const input = previewCommentInput(
      {
        preview: { action: 'deploy', pullRequest: 7, headSha: 'head' },
        cluster: 'demo',
        sha: 'merge',
        github: config(),
      },
      names,
      {
        ok: false,
        images: [{ container: 'web', imageUri: 'img' }],
        taskDefinitionArn: 'arn',
        message: 'boom',
      },
    );
    expect(input).toMatchObject({
      state: 'failed',
      commit: 'head',
      image: 'img',
      message: 'boom',
      runUrl: `https://github.com/octo/app/actions/runs/1`,
    });
    expect(runUrl(config({ runId: undefined }))).toBeUndefined();
  });
});

describe('postPreviewComment', () => {
  it('creates one comment, then edits that same comment in place', async () => {
    await postPreviewComment(config(), 7, deployed, log);
    await postPreviewComment(config(), 7, { ...deployed, image: '127.0.0.1:5000/app:pr-7-def' }, log);
    const comments = github.comments.get('octo/app#7') ?? [];
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain('pr-7-def');
    expect(github.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`).sort()).toEqual([
      'GET /repos/octo/app/issues/7/comments',
      'GET /repos/octo/app/issues/7/comments',
      'GET /user',
      'GET /user',
      `PATCH /repos/octo/app/issues/comments/${comments[0]?.id}`,
      'POST /repos/octo/app/issues/7/comments',
    ]);
    expect(github.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true);
    expect(log.text()).toMatch(/Commented on pull request #7[\s\S]*Updated the comment on pull request #7/);
  });

  it('finds its comment past the first page, among others, and leaves other services’ comments alone', async () => {
    const others = Array.from({ length: 120 }, (_, i) => ({
      id: i + 1,
      body: i === 5 ? '<!-- ecs-deploy-pipeline:preview:api -->\nthe api preview' : `comment ${i}`,
      user: { login: 'someone' },
      created_at: '',
      updated_at: '',
    }));
    github.comments.set('octo/app#7', [
      ...others,
      {
        id: 500,
        body: `${names.commentMarker}\nold`,
        user: { login: 'github-actions[bot]' },
        created_at: '',
        updated_at: '',
      },
    ]);
    await postPreviewComment(config(), 7, deployed, log);
    const comments = github.comments.get('octo/app#7') ?? [];
    expect(comments).toHaveLength(121);
    expect(comments.find((c) => c.id === 500)?.body).toContain('is live');
    expect(comments[5]?.body).toBe('<!-- ecs-deploy-pipeline:preview:api -->\nthe api preview');
  });

  it.each([
    ['another user pasted the marker', { login: 'mallory' }, `${names.commentMarker}\nfake`],
    [
      'our bot wrote the marker mid-text (quoted in a reply)',
      { login: 'github-actions[bot]' },
      `> quote\n${names.commentMarker}`,
    ],
  ])('never edits a comment that is not ours: %s', async (_name, user, body) => {
    github.comments.set('octo/app#7', [{ id: 9, body, user, created_at: '', updated_at: '' }]);
    await postPreviewComment(config(), 7, deployed, log);
    const comments = github.comments.get('octo/app#7') ?? [];
    expect(comments.find((c) => c.id === 9)?.body).toBe(body);
    expect(comments).toHaveLength(2);
    expect(github.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('renders hostile text from the pull request and AWS as text', () => {
    const body = renderPreviewComment({
      ...deployed,
      state: 'failed',
      url: 'javascript:alert(1)',
      image: 'img`</code><img src=x onerror=alert(1)>',
      message: '<script>x</script> [click](https://evil.example) | cell\n## heading',
    });
    expect(body).not.toMatch(/<(script|img)\b/);
    expect(body).not.toMatch(/(^|[^\\])\]\(https:\/\/evil/m);
    expect(body).not.toMatch(/^## heading/m);
    expect(body).not.toContain('javascript:');
  });

  it('turns a refusal into a warning without the token', async () => {
    github.refuse(403, `Resource not accessible by integration (token ${TOKEN})`);
    await postPreviewComment(config(), 7, deployed, log);
    expect(log.text()).toMatch(
      /warning: Could not comment on pull request #7 \(403: Resource not accessible by integration/,
    );
    expect(log.text()).toContain('pull-requests: write');
    expect(log.text()).not.toContain(TOKEN);
  });

  it('warns and calls nothing without a token', async () => {
    await postPreviewComment(config({ token: undefined }), 7, deployed, log);
    expect(github.requests).toEqual([]);
    expect(log.text()).toMatch(/warning: The pull request was not commented on: github-token is empty/);
  });
});
