import { describe, expect, it } from '@jest/globals';
import { type Failure, failureSentence } from '../../src/deploy/failure.js';
import { consoleLinks, formatDuration, renderSummary, type RunReport, StageTimer } from '../../src/report.js';
import { mdText } from '../../src/safe-text.js';

describe('StageTimer', () => {
  it('records results and durations, and rethrows failures', async () => {
    let t = 0;
    const timer = new StageTimer(() => t);
    await timer.run(
      'Build',
      async () => {
        t += 1500;
        return 'img';
      },
      (v) => v,
    );
    await expect(
      timer.run('Register', async () => {
        t += 200;
        throw new Error('ClientException: bad\nmore');
      }),
    ).rejects.toThrow('ClientException');
    timer.skip('Watch', 'not waiting');
    expect(timer.stages).toEqual([
      { name: 'Build', result: 'succeeded', ms: 1500, detail: 'img' },
      { name: 'Register', result: 'failed', ms: 200, detail: 'ClientException: bad' },
      { name: 'Watch', result: 'skipped', ms: 0, detail: 'not waiting' },
    ]);
  });
});

describe('formatDuration', () => {
  it.each([
    [250, '250 ms'],
    [110.95710100000002, '111 ms'],
    [1500, '1.5 s'],
    [61_000, '1 min 1 s'],
    [3_600_000, '60 min 0 s'],
  ])('%d ms', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('renderSummary', () => {
  const arn = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7';
  it('shows stages, images, links and the cause of a failure', () => {
    const md = renderSummary({
      ok: false,
      region: 'us-east-1',
      cluster: 'prod',
      service: 'web',
      mode: 'codedeploy',
      images: [{ container: 'web', imageUri: 'r/app:abc', digest: 'sha256:1' }],
      taskDefinitionArn: arn,
      codedeployDeploymentId: 'd-ABC123',
      outcome: 'failed',
      message: 'Deployment d-ABC123 failed at AfterAllowTestTraffic.',
      diagnostics: ['AfterAllowTestTraffic: smoke test | returned 500'],
      stages: [{ name: 'Watch', result: 'failed', ms: 65_000, detail: 'failed: Failed' }],
    });
    expect(md).toContain('## ❌ ECS deploy failed: prod/web');
    expect(md).toContain('| Watch | ❌ failed | 1 min 5 s | failed: Failed |');
    expect(md).toContain('| web | <code>r/app:abc</code> | <code>sha256:1</code> |');
    expect(md).toContain(
      `[${arn}](https://us-east-1.console.aws.amazon.com/ecs/v2/task-definitions/web/7?region=us-east-1)`,
    );
    expect(md).toContain(
      '[d-ABC123](https://us-east-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-ABC123?region=us-east-1)',
    );
    expect(md).toContain('### What went wrong');
    expect(md).toContain('AfterAllowTestTraffic: smoke test | returned 500');
  });

  it('escapes table cells', () => {
    const md = renderSummary({
      ok: true,
      region: 'us-east-1',
      cluster: 'c',
      images: [],
      diagnostics: [],
      stages: [{ name: 'X', result: 'succeeded', ms: 1, detail: 'a|b\nc' }],
    });
    expect(md).toContain('| X | ✅ succeeded | 1 ms | a&#124;b ⏎ c |');
  });

  it('renders hostile text from inputs and AWS as text: no markup, no HTML, no closing fence', () => {
    const hostile = '<img src=x onerror=alert(1)> [x](https://evil.example) `code` | cell';
    const md = renderSummary({
      ok: false,
      region: 'us-east-1',
      cluster: 'c\n## injected',
      service: 's](https://evil.example)',
      images: [{ container: '<b>web</b>', imageUri: 'r/app:`x`|y', digest: '</code><i>' }],
      message: hostile,
      diagnostics: ['```', 'still inside ```` the block'],
      stages: [{ name: 'Watch', result: 'failed', ms: 1, detail: hostile }],
      ecsDeploymentId: 'ecs-svc/1<script>',
    });
    expect(md).not.toMatch(/<(img|b|i|script)\b/);
    expect(md).not.toMatch(/(^|[^\\])\]\(https:\/\/evil/m);
    expect(md).not.toMatch(/^## injected/m);
    expect(md).toContain(
      '/clusters/c%0A%23%23%20injected/services/s%5D%28https%3A%2F%2Fevil.example%29/health',
    );
    const fence = md.split('\n').find((l) => /^`{3,}$/.test(l));
    expect(fence?.length).toBeGreaterThan(4);
  });

  it('links a service to its console page', () => {
    expect(consoleLinks.service('eu-west-1', 'c', 's')).toBe(
      'https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/c/services/s/health?region=eu-west-1',
    );
  });
});

describe('renderSummary titles', () => {
  it.each([
    [undefined, '## ✅ ECS deploy succeeded: c/s'],
    ['ECS rollback', '## ✅ ECS rollback succeeded: c/s'],
    ['Preview teardown', '## ✅ Preview teardown succeeded: c/s'],
  ])('%s', (action, title) => {
    const md = renderSummary({
      ok: true,
      action,
      region: 'us-east-1',
      cluster: 'c',
      service: 's',
      images: [],
      diagnostics: [],
      stages: [],
    });
    expect(md.split('\n')[0]).toBe(title);
  });
});

describe('renderSummary: a failed deployment reads right', () => {
  const td = (n: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/example-app:${n}`;
  const failure: Failure = {
    kind: 'hook',
    cause: 'The AfterAllowTestTraffic hook example-app-smoke-test failed: GET /health returned 503',
    deployed: td(12),
    previous: td(11),
    production: td(11),
    rollback: {
      by: 'the rollback deployment d-RB1',
      id: 'd-RB1',
      status: 'succeeded',
      taskDefinitionArn: td(11),
    },
    tasks: [],
  };
  const sentence = failureSentence(failure);
  const failed = (over: Partial<RunReport> = {}): RunReport => ({
    ok: false,
    region: 'us-east-1',
    cluster: 'demo',
    service: 'web',
    images: [],
    taskDefinitionArn: td(12),
    outcome: 'failed',
    message: sentence,
    failure,
    diagnostics: ['lifecycle event AfterAllowTestTraffic failed: UnknownError: …'],
    containerLogs: [
      {
        container: 'web',
        taskId: 'abc',
        logGroup: '/ecs/example-app',
        logStream: 'web/web/abc',
        lines: ['Error: <b>boom</b>', '```', '::error::x'],
      },
    ],
    stages: [
      { name: 'Register', result: 'succeeded', ms: 10 },
      { name: 'CodeDeploy deployment', result: 'succeeded', ms: 10, detail: 'd-1' },
      { name: 'Watch', result: 'failed', ms: 10, detail: sentence },
    ],
    ...over,
  });

  it.each<[string, RunReport, string | undefined]>([
    ['rolled back', failed(), '**Production still serves example-app:11 (rolled back).**'],
    [
      'succeeded',
      { ...failed({ ok: true, outcome: 'succeeded', failure: undefined }) },
      '**Production serves example-app:12.**',
    ],
    [
      'a failure without a Failure (e.g. a build error)',
      failed({ failure: undefined, outcome: undefined }),
      undefined,
    ],
  ])('headline: %s', (_n, report, line) => {
    const md = renderSummary(report);
    const third = md.split('\n')[2];
    if (line === undefined) expect(third).not.toMatch(/^\*\*Production/);
    else expect(third).toBe(line);
  });

  it('the Watch of a failed deployment is ❌ with its cause; the cause is said once above the detail', () => {
    const md = renderSummary(failed());
    expect(md).toContain(`| Watch | ❌ failed | 10 ms | ${mdText(sentence)} |`);
    expect(md).toContain('| CodeDeploy deployment | ✅ succeeded |');
    const section = md.slice(md.indexOf('### What went wrong'));
    expect(section.split('\n')[2]).toBe(mdText(sentence));
    // The message equals the sentence: not repeated under the headline.
    expect(md.split(mdText(sentence)).length - 1).toBe(2);
    expect(section).toContain('rollback outcome: the rollback deployment d-RB1 to example-app:11 succeeded');
  });

  it('container logs are fenced and escaped: nothing a container printed becomes markup', () => {
    const md = renderSummary(failed());
    expect(md).toContain('**container web of task abc (/ecs/example-app web/web/abc)**, last 3 lines:');
    const start = md.indexOf('Error: <b>boom</b>');
    expect(start).toBeGreaterThan(0);
    const fence = md.slice(0, start).split('\n').at(-2);
    expect(fence).toBe('````');
  });
});
