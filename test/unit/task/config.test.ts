import { describe, expect, it } from '@jest/globals';
import { readConfig } from '../../../src/config.js';
import { UserError } from '../../../src/errors.js';
import { parseCommand } from '../../../src/task/config.js';

const ENV = {
  GITHUB_WORKSPACE: '/work/repo',
  GITHUB_SHA: 'a'.repeat(40),
  GITHUB_REPOSITORY: 'octo/app',
  GITHUB_RUN_ID: '123',
  GITHUB_RUN_ATTEMPT: '2',
  AWS_REGION: 'us-east-1',
};
const BASE = {
  'task-definition': 'task-definition.json',
  'ecr-repository': 'app',
  cluster: 'demo',
  service: 'web',
};
const ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:7';

function config(inputs: Record<string, string>) {
  return readConfig((n) => inputs[n] ?? '', ENV);
}
function problems(inputs: Record<string, string>): string[] {
  try {
    config(inputs);
    return [];
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return e.problems.map((p) => `${p.where}: ${p.what}`);
  }
}

describe('run-task-command', () => {
  it.each([
    ['', undefined],
    ['["node", "migrate.js"]', ['node', 'migrate.js']],
    ['["sh", "-c", "echo \\"a b\\""]', ['sh', '-c', 'echo "a b"']],
    ['- node\n- migrate.js\n- --to=latest', ['node', 'migrate.js', '--to=latest']],
    ['migrate', ['migrate']],
    ['[rake, "db:migrate"]', ['rake', 'db:migrate']],
    ['["port", 8080]', ['port', '8080']],
  ])('%j is the argv %j', (raw, argv) => {
    const bad: string[] = [];
    expect(parseCommand(raw, (_w, what) => bad.push(what))).toEqual(argv);
    expect(bad).toEqual([]);
  });

  it.each([
    ['node migrate.js --name "add users"', 'plain string with spaces'],
    ['[]', 'not a non-empty list'],
    ['["a", {"b": 1}]', 'not a non-empty list'],
    ['["unclosed', 'not a valid YAML or JSON list'],
  ])('refuses %j', (raw, what) => {
    const bad: string[] = [];
    expect(parseCommand(raw, (_w, w) => bad.push(w))).toBeUndefined();
    expect(bad).toEqual([expect.stringContaining(what)]);
  });
});

describe('readConfig: one-off task, as-is, revisions', () => {
  it('reads no task by default, registers, keeps every revision, tags the commit and run', () => {
    const c = config(BASE);
    expect(c.task).toBeUndefined();
    expect(c.revisions).toEqual({
      register: true,
      keepRevisions: undefined,
      deleteDeregistered: false,
      taskDefinitionTags: [
        { key: 'ecs-deploy:commit', value: 'a'.repeat(40) },
        { key: 'ecs-deploy:run', value: 'https://github.com/octo/app/actions/runs/123' },
      ],
      servicePropagateTags: undefined,
    });
  });

  it.each([
    ['true', 'before'],
    ['before', 'before'],
    ['after', 'after'],
  ])('run-task: %s runs it %s the deployment', (value, when) => {
    expect(config({ ...BASE, 'run-task': value }).task?.when).toBe(when);
  });

  it('reads every task input', () => {
    const c = config({
      ...BASE,
      'run-task': 'before',
      'run-task-command': '["node", "migrate.js"]',
      'run-task-container': 'web',
      'run-task-environment': 'DB_URL=postgres://x?a=b\nMODE=up',
      'run-task-subnets': 'subnet-0a, subnet-0b',
      'run-task-security-groups': 'sg-01',
      'run-task-assign-public-ip': 'ENABLED',
      'run-task-launch-type': 'FARGATE',
      'run-task-started-by': 'release/42',
      'run-task-tags': 'purpose=migration',
      'run-task-timeout-minutes': '5',
    });
    expect(c.task).toEqual({
      when: 'before',
      command: ['node', 'migrate.js'],
      container: 'web',
      environment: [
        { name: 'DB_URL', value: 'postgres://x?a=b' },
        { name: 'MODE', value: 'up' },
      ],
      subnets: ['subnet-0a', 'subnet-0b'],
      securityGroups: ['sg-01'],
      assignPublicIp: 'ENABLED',
      launchType: 'FARGATE',
      startedBy: 'release/42',
      tags: [{ key: 'purpose', value: 'migration' }],
      timeoutMinutes: 5,
      runId: '123',
      runAttempt: '2',
    });
  });

  it.each<[string, Record<string, string>, string]>([
    [
      'a command without run-task',
      { 'run-task-command': '["x"]' },
      'run-task-command: run-task-command is set, but run-task is false',
    ],
    ['an unknown run-task', { 'run-task': 'maybe' }, 'run-task: "maybe" is not one of'],
    [
      'a split-prone command',
      { 'run-task': 'before', 'run-task-command': 'npm run migrate' },
      'run-task-command: "npm run migrate" is a plain string',
    ],
    [
      'a bad subnet',
      { 'run-task': 'before', 'run-task-subnets': 'subnet-zz' },
      'run-task-subnets: "subnet-zz" is not a subnet id.',
    ],
    [
      'a reserved tag',
      { 'run-task': 'before', 'run-task-tags': 'aws:x=1' },
      'run-task-tags: "aws:x=1" is not KEY=value',
    ],
    [
      'after with deploy-mode none',
      { 'run-task': 'after', 'deploy-mode': 'none' },
      'run-task: run-task is after, but deploy-mode none',
    ],
    [
      'a task with rollback',
      { 'run-task': 'before', rollback: 'true', 'task-definition': '', 'ecr-repository': '' },
      'run-task: run-task is set together with rollback',
    ],
    [
      'a bad timeout',
      { 'run-task': 'before', 'run-task-timeout-minutes': '0' },
      'run-task-timeout-minutes: "0" is not a number of minutes',
    ],
    [
      'keep-revisions 0',
      { 'keep-revisions': '0' },
      'keep-revisions: "0" is not a whole number from 1 to 1000.',
    ],
  ])('refuses %s', (_name, inputs, problem) => {
    expect(problems({ ...BASE, ...inputs })).toEqual([expect.stringContaining(problem)]);
  });

  it('register: false deploys task-definition-arn and builds nothing', () => {
    const c = config({ cluster: 'demo', service: 'web', register: 'false', 'task-definition-arn': ARN });
    expect(c.revisions.register).toBe(false);
    expect(c.containers).toEqual([]);
    expect(c.taskDefinition).toEqual({ kind: 'arn', arn: ARN });
  });

  it.each<[string, Record<string, string>, string[]]>([
    [
      'without an ARN',
      { 'task-definition': 'td.json' },
      ['register: register is false, but no task-definition-arn'],
    ],
    [
      'with an image',
      { 'task-definition-arn': ARN, image: 'nginx:1' },
      ['image: image is set, but register is false'],
    ],
    [
      'with a repository',
      { 'task-definition-arn': ARN, 'ecr-repository': 'app' },
      ['ecr-repository: ecr-repository is set, but register is false'],
    ],
  ])('register: false refuses a run %s', (_name, inputs, expected) => {
    expect(problems({ cluster: 'demo', service: 'web', register: 'false', ...inputs })).toEqual(
      expected.map((p) => expect.stringContaining(p)),
    );
  });

  it('user tags come first and win over the automatic ones of the same key', () => {
    const c = config({
      ...BASE,
      'task-definition-tags': 'team=payments\necs-deploy:commit=mine',
      'keep-revisions': '5',
      'delete-deregistered-revisions': 'true',
      'service-propagate-tags': 'TASK_DEFINITION',
    });
    expect(c.revisions).toMatchObject({
      keepRevisions: 5,
      deleteDeregistered: true,
      servicePropagateTags: 'TASK_DEFINITION',
      taskDefinitionTags: [
        { key: 'team', value: 'payments' },
        { key: 'ecs-deploy:commit', value: 'mine' },
        { key: 'ecs-deploy:run', value: 'https://github.com/octo/app/actions/runs/123' },
      ],
    });
  });
});
