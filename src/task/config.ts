/**
 * The inputs of the one-off task, of deploying a revision as-is and of revision hygiene,
 * read into their part of the Config. Pure: the inputs and environment as values.
 */
import { parse as parseYaml } from 'yaml';
import type { InputValues } from '../inputs.js';

export interface KeyValue {
  key: string;
  value: string;
}

/** A one-off task run from the deployed revision, before the deployment or after it succeeds. */
export interface OneOffTaskConfig {
  when: 'before' | 'after';
  /** The container's command override, one argument each; undefined keeps the task definition's. */
  command?: string[];
  /** Default: the container being deployed (the first one named or built). */
  container?: string;
  environment: { name: string; value: string }[];
  /** Each empty means: the service's own. */
  subnets: string[];
  securityGroups: string[];
  assignPublicIp?: 'ENABLED' | 'DISABLED';
  launchType?: 'FARGATE' | 'EC2' | 'EXTERNAL';
  startedBy: string;
  tags: KeyValue[];
  timeoutMinutes: number;
  /** GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT and the step (GITHUB_JOB/GITHUB_ACTION): what the clientToken is derived from. */
  runId: string;
  runAttempt: string;
  step?: string;
}

export interface RevisionConfig {
  /** false: deploy task-definition-arn as it is, registering nothing. */
  register: boolean;
  /** Keep the newest N ACTIVE revisions of the family after a successful deployment; undefined keeps all. */
  keepRevisions?: number;
  deleteDeregistered: boolean;
  /** Tags of the registered revision: the user's, then the commit and the run's URL. */
  taskDefinitionTags: KeyValue[];
  /** propagateTags for the service (rolling deployments' UpdateService); undefined leaves it. */
  servicePropagateTags?: 'SERVICE' | 'TASK_DEFINITION' | 'NONE';
}

type Bad = (where: string, what: string, fix: string) => void;

const COMMAND_FIX =
  'Write the command as a list, one argument each, e.g. run-task-command: \'["node", "migrate.js", "--to", "latest"]\' (or a YAML list). A single word without spaces is taken as one argument; nothing is split on spaces and no shell runs it.';

/**
 * The command as argv. A YAML/JSON list of strings is taken as it is. A plain value without
 * whitespace is one argument. A plain value with spaces is refused: splitting it on spaces
 * (as the official action does) breaks quoted arguments, and guessing at quotes is worse.
 */
export function parseCommand(raw: string, bad: Bad): string[] | undefined {
  const value = raw.trim();
  if (value === '') return undefined;
  if (!value.startsWith('[') && !value.startsWith('-')) {
    if (/\s/.test(value)) {
      bad(
        'run-task-command',
        `"${value}" is a plain string with spaces, which would have to be split into arguments.`,
        COMMAND_FIX,
      );
      return undefined;
    }
    return [value];
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(value);
  } catch (e) {
    bad(
      'run-task-command',
      `It is not a valid YAML or JSON list (${(e as Error).message.split('\n')[0]}).`,
      COMMAND_FIX,
    );
    return undefined;
  }
  const isArgv =
    Array.isArray(parsed) &&
    parsed.length > 0 &&
    parsed.every((a) => typeof a === 'string' || typeof a === 'number');
  if (!isArgv) {
    bad('run-task-command', 'It is not a non-empty list of strings.', COMMAND_FIX);
    return undefined;
  }
  return (parsed as (string | number)[]).map(String);
}

/** KEY=value lines as tags (the value may be empty or contain =). */
export function keyValues(lines: string[]): KeyValue[] {
  return lines.map((line) => {
    const at = line.indexOf('=');
    return { key: line.slice(0, at).trim(), value: line.slice(at + 1).trim() };
  });
}

export function readOneOffTask(
  read: InputValues,
  env: NodeJS.ProcessEnv,
  bad: Bad,
): OneOffTaskConfig | undefined {
  const when = read.choice<'false' | 'true' | 'before' | 'after'>('run-task');
  const command = parseCommand(read.raw('run-task-command'), bad);
  const container = read.text('run-task-container') || undefined;
  const environment = keyValues(read.list('run-task-environment')).map((kv) => ({
    name: kv.key,
    value: kv.value,
  }));
  const task = {
    command,
    container,
    environment,
    subnets: read.list('run-task-subnets'),
    securityGroups: read.list('run-task-security-groups'),
    assignPublicIp: read.choice<'' | 'ENABLED' | 'DISABLED'>('run-task-assign-public-ip') || undefined,
    launchType: read.choice<'' | 'FARGATE' | 'EC2' | 'EXTERNAL'>('run-task-launch-type') || undefined,
    startedBy: read.text('run-task-started-by') || 'ecs-deploy-pipeline',
    tags: keyValues(read.list('run-task-tags')),
    timeoutMinutes: read.minutes('run-task-timeout-minutes'),
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '1',
    step: [env.GITHUB_JOB, env.GITHUB_ACTION].filter(Boolean).join('/') || undefined,
  };
  if (when === 'false') {
    const set = ['run-task-command', 'run-task-container', 'run-task-environment'].find(
      (n) => read.raw(n) !== '',
    );
    if (set !== undefined) {
      bad(
        set,
        `${set} is set, but run-task is false, so no task runs.`,
        'Set run-task: before (or after), or remove ' + set + '.',
      );
    }
    return undefined;
  }
  return { when: when === 'after' ? 'after' : 'before', ...task };
}

export function readRevisions(read: InputValues, env: NodeJS.ProcessEnv): RevisionConfig {
  const tags = keyValues(read.list('task-definition-tags'));
  const auto: KeyValue[] = [];
  if (env.GITHUB_SHA) auto.push({ key: 'ecs-deploy:commit', value: env.GITHUB_SHA });
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  if (env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID) {
    auto.push({
      key: 'ecs-deploy:run',
      value: `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`,
    });
  }
  const userKeys = new Set(tags.map((t) => t.key));
  return {
    register: read.bool('register'),
    keepRevisions: read.int('keep-revisions'),
    deleteDeregistered: read.bool('delete-deregistered-revisions'),
    taskDefinitionTags: [...tags, ...auto.filter((t) => !userKeys.has(t.key))],
    servicePropagateTags:
      read.choice<'' | 'SERVICE' | 'TASK_DEFINITION' | 'NONE'>('service-propagate-tags') || undefined,
  };
}
