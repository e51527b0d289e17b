/**
 * Hostile input (issue 13): line breaks in single-line inputs, the event payload read lazily,
 * containers' build args checked like build-args, secret-looking build args, docker's output
 * made inert line by line.
 */
import { describe, expect, it } from '@jest/globals';
import { secretLookingBuildArgs } from '../../src/build-args.js';
import { type EventSource, readConfig } from '../../src/config.js';
import { inertWriter } from '../../src/docker.js';
import { UserError } from '../../src/errors.js';
import { INPUTS } from '../../src/inputs.js';

const env = { GITHUB_WORKSPACE: '/ws', GITHUB_SHA: 'a'.repeat(40), AWS_REGION: 'us-east-1' };
const base = { image: '127.0.0.1:5000/app:v1', service: 'web', 'task-definition': 'taskdef.json' };

function problemsOf(inputs: Record<string, string>, event?: unknown) {
  try {
    readConfig((n) => inputs[n] ?? '', env, event);
  } catch (e) {
    if (e instanceof UserError) return e.problems;
    throw e;
  }
  return [];
}

describe('single-line inputs refuse line breaks, naming the input', () => {
  const singleLine = INPUTS.filter((s) => !['list', 'lines'].includes(s.kind) && !s.multiline).map(
    (s) => s.name,
  );

  it('every input but containers, the description, lists and lines is single-line', () => {
    expect(singleLine).toEqual(
      expect.arrayContaining(['cluster', 'service', 'container-name', 'aws-region']),
    );
    expect(singleLine).not.toContain('containers');
    expect(singleLine).not.toContain('build-args');
  });

  it.each(singleLine.map((name) => [name]))('%s', (name) => {
    const problems = problemsOf({ ...base, [name]: 'demo\n::add-mask::x' });
    expect(problems[0]).toMatchObject({
      where: name,
      what: `The value spans 2 lines; ${name} is a single line.`,
      fix: expect.stringContaining(`Write ${name} on one line`),
    });
    // The value itself is never repeated, so no line of it reaches the log.
    expect(problems.map((p) => `${p.what} ${p.fix}`).join('\n')).not.toContain('add-mask');
  });

  it('a cluster ARN followed by a command on the next line (the ARN pattern is anchored at its start only)', () => {
    const problems = problemsOf({
      ...base,
      cluster: 'arn:aws:ecs:us-east-1:000000000000:cluster/x\n::add-mask::y',
    });
    expect(problems[0]?.where).toBe('cluster');
  });

  it('a carriage return alone counts', () => {
    expect(problemsOf({ ...base, service: 'web\r::warning::x' })[0]?.where).toBe('service');
  });
});

describe('the event payload is read only when a preview needs it', () => {
  const broken: EventSource = () => ({ problem: 'GITHUB_EVENT_PATH (/e.json): Unexpected token' });

  it('a deploy never reads it', () => {
    let reads = 0;
    expect(
      problemsOf(base, () => {
        reads++;
        return broken();
      }),
    ).toEqual([]);
    expect(reads).toBe(0);
  });

  it('a preview with pull-request-number does not fail on it', () => {
    expect(
      problemsOf({ ...base, preview: 'destroy', 'pull-request-number': '7', image: '' }, broken),
    ).toEqual([]);
  });

  it('a preview without pull-request-number names the input and why the payload was unreadable', () => {
    const [p] = problemsOf({ ...base, preview: 'destroy', image: '' }, broken);
    expect(p).toMatchObject({
      where: 'pull-request-number',
      what: expect.stringContaining('the event payload could not be read: GITHUB_EVENT_PATH (/e.json)'),
      fix: expect.stringContaining('set pull-request-number'),
    });
  });

  it.each([
    ['zero', 0],
    ['negative', -3],
    ['fractional', 1.5],
    ['unsafe', 2 ** 60],
    ['a string', '12'],
  ])('a pull_request.number that is %s is refused', (_, number) => {
    const [p] = problemsOf({ ...base, preview: 'destroy', image: '' }, { pull_request: { number } });
    expect(p?.where).toBe('pull-request-number');
  });

  it.each(['0', '-1', '1e3', '9007199254740993', ' 4'])('pull-request-number %j is refused', (n) => {
    const [p] = problemsOf({ ...base, preview: 'destroy', image: '', 'pull-request-number': n });
    expect(p?.where).toBe('pull-request-number');
  });
});

describe('containers: build-args are checked as build-args is', () => {
  const containers = (args: string) => `web:\n  context: .\n  repository: app\n  build-args: ${args}\n`;
  it.each([
    ['not NAME=value', '["no-equals"]', 'web.build-args[0] is not one NAME=value line.'],
    ['a name starting with a digit', '["1X=y"]', 'web.build-args[0] is not one NAME=value line.'],
    ['a mapping item', '[{A: b}]', 'web.build-args[0] is a object, not one NAME=value line.'],
    ['a number', '[42]', 'web.build-args[0] is a number, not one NAME=value line.'],
    ['a value with a line break', '["A=x\\n::add-mask::y"]', 'web.build-args[0] is not one NAME=value line.'],
    ['a string, not a list', 'A=b', 'web.build-args must be a list of NAME=value.'],
  ])('%s', (_, args, what) => {
    const problems = problemsOf({
      ...base,
      image: '',
      'task-definition': 'taskdef.json',
      containers: containers(args),
    });
    expect(problems).toContainEqual(expect.objectContaining({ where: 'containers', what }));
  });

  it('good ones pass', () => {
    expect(problemsOf({ ...base, image: '', containers: containers('["A=1", "B_2=x=y", "C="]') })).toEqual(
      [],
    );
  });
});

describe('secret-looking build args get a warning pointing to BuildKit secrets', () => {
  it.each([
    ['NPM_TOKEN=abc', 'its name'],
    ['DB_PASSWORD=x', 'its name'],
    ['API_KEY=x', 'its name'],
    ['AWS_SECRET_ACCESS_KEY=x', 'its name'],
    ['PLAIN=AKIAABCDEFGHIJKLMNOP', 'its value looks like an AWS access key id'],
    [`X=ghp_${'a'.repeat(36)}`, 'its value looks like a GitHub token'],
  ])('%s', (arg, why) => {
    const [w] = secretLookingBuildArgs([arg], 'build-args');
    expect(w).toContain(`(${why})`);
    expect(w).toContain('RUN --mount=type=secret');
    // The value is never repeated.
    expect(w).not.toContain(arg.slice(arg.indexOf('=') + 1) || '\u0000');
  });

  it.each(['BASE_IMAGE=node:22', 'NPM_CONFIG_REGISTRY=http://127.0.0.1:4873', 'MONKEY=1', 'KEYBOARD=us'])(
    '%s is no secret',
    (arg) => expect(secretLookingBuildArgs([arg], 'build-args')).toEqual([]),
  );
});

describe("docker's streamed output is made inert line by line", () => {
  it('holds a line until its end, whatever the chunks', () => {
    const out: string[] = [];
    const w = inertWriter((t) => out.push(t));
    for (const chunk of ['Step 1\n:', ':add-mask::secret\n  ::stop-commands::x\n##', '[error]y\r', 'tail'])
      w.push(chunk);
    w.end();
    const lines = out.join('').split('\n');
    expect(lines).not.toContainEqual(expect.stringMatching(/^\s*::/));
    expect(out.join('')).not.toContain('##[');
    expect(lines).toEqual([
      'Step 1',
      ':\u200b:add-mask::secret',
      '  :\u200b:stop-commands::x',
      '#\u200b#[error]y',
      'tail',
      '',
    ]);
  });
});
