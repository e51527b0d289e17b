/**
 * The action's inputs, declared once: name, kind, the default action.yml gives, and the
 * check of a single value with the problem and fix to print. `readConfig` reads every input
 * through `InputValues`, and test/unit/readme.test.ts keeps this table equal to action.yml
 * and the README's table. Rules between inputs are named functions in config.ts.
 */
import path from 'node:path';
import { LIFECYCLE_STAGES } from './deploy/native.js';
import type { Problems } from './errors.js';

export type InputKind = 'text' | 'bool' | 'int' | 'minutes' | 'choice' | 'list' | 'lines' | 'path';

export interface InputSpec {
  name: string;
  kind: InputKind;
  /** The default exactly as action.yml declares it ('${{ … }}' is the runner's, not applied here). */
  default?: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** The value (each item, for a list) must match. */
  pattern?: RegExp;
  /** The problem when it does not; the value is given. */
  what?: (value: string) => string;
  fix?: string;
  /** A text input whose value may span lines; every other text input is one line. */
  multiline?: boolean;
}

const ECS_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const ECS_NAME_OR_ARN = /^(?:[A-Za-z0-9_-]{1,255}$|arn:aws[a-z-]*:ecs:)/;
const CODEDEPLOY_NAME = /^[A-Za-z0-9_.+=,@-]{1,100}$/;
export const IMAGE_REF =
  /^[a-z0-9]+(?:[._:-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const codedeployName = (name: string): InputSpec => ({
  name,
  kind: 'text',
  pattern: CODEDEPLOY_NAME,
  what: (v) => `"${v}" is not a valid CodeDeploy name.`,
  fix: 'Use up to 100 letters, digits and _ . + = , @ -.',
});
const flag = (name: string, dflt: 'true' | 'false'): InputSpec => ({ name, kind: 'bool', default: dflt });
const text = (name: string, extra: Partial<InputSpec> = {}): InputSpec => ({ name, kind: 'text', ...extra });

/** Every input, in action.yml's order. */
export const INPUTS: readonly InputSpec[] = [
  { name: 'context', kind: 'text', default: '.' },
  text('file'),
  {
    name: 'build-args',
    kind: 'lines',
    pattern: /^[A-Za-z_][A-Za-z0-9_]*=/,
    what: (v) => `"${v}" is not NAME=value.`,
    fix: 'Write one NAME=value per line; NAME is letters, digits and _.',
  },
  text('target', {
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/,
    what: (v) => `"${v}" is not a build stage name.`,
    fix: 'Use the name after AS in a FROM line of the Dockerfile.',
  }),
  {
    name: 'platforms',
    kind: 'list',
    pattern: /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/,
    what: (v) => `"${v}" is not a platform.`,
    fix: 'Use os/arch[/variant], e.g. linux/amd64 or linux/arm64.',
  },
  {
    name: 'tags',
    kind: 'list',
    pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/,
    what: (v) => `"${v}" is not a valid image tag.`,
    fix: 'A tag is up to 128 letters, digits, _, . and -, and does not start with . or -.',
  },
  { name: 'sha-tag', kind: 'choice', default: 'full', choices: ['full', 'short', 'both'] },
  { name: 'cache-from', kind: 'lines' },
  { name: 'cache-to', kind: 'lines' },
  text('network', {
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/,
    what: (v) => `"${v}" is not a Docker network.`,
    fix: 'Use host, none, default, or the name of a network.',
  }),
  flag('provenance', 'false'),
  flag('push', 'true'),
  text('image', {
    pattern: IMAGE_REF,
    what: (v) => `"${v}" is not an image reference.`,
    fix: 'Use REPOSITORY_URI:TAG or REPOSITORY_URI@sha256:DIGEST.',
  }),
  text('ecr-repository'),
  flag('create-repository', 'false'),
  text('aws-region'),
  text('task-definition'),
  text('task-definition-family', {
    pattern: ECS_NAME,
    what: (v) => `"${v}" is not a task definition family.`,
    fix: 'Use letters, digits, - and _.',
  }),
  text('task-definition-arn', {
    pattern: /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d+$/,
    what: (v) => `"${v}" is not a task definition ARN.`,
    fix: 'Use arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION.',
  }),
  text('container-name', {
    pattern: ECS_NAME,
    what: (v) => `"${v}" is not a container name.`,
    fix: 'Use letters, digits, - and _.',
  }),
  text('containers', { multiline: true }),
  text('cluster', {
    default: 'default',
    pattern: ECS_NAME_OR_ARN,
    what: (v) => `"${v}" is not a cluster name or ARN.`,
    fix: 'Use the cluster name, e.g. default.',
  }),
  text('service', {
    pattern: ECS_NAME_OR_ARN,
    what: (v) => `"${v}" is not a service name or ARN.`,
    fix: 'Use the ECS service name.',
  }),
  {
    name: 'deploy-mode',
    kind: 'choice',
    default: 'auto',
    choices: ['auto', 'codedeploy', 'rolling', 'ecs-native', 'none'],
  },
  flag('wait-for-service-stability', 'true'),
  { name: 'wait-for-minutes', kind: 'minutes', default: '30' },
  { name: 'wait-for-active-deployment-minutes', kind: 'minutes', default: '15' },
  { name: 'poll-interval-seconds', kind: 'int', default: '5', min: 1, max: 300 },
  flag('force-new-deployment', 'false'),
  { name: 'desired-count', kind: 'int', min: 0, max: 5000 },
  { name: 'codedeploy-appspec', kind: 'path' },
  codedeployName('codedeploy-application'),
  codedeployName('codedeploy-deployment-group'),
  codedeployName('codedeploy-deployment-config'),
  text('codedeploy-deployment-description', {
    pattern: /^[\s\S]{0,512}$/,
    what: (v) => `is ${v.length} characters long.`,
    fix: 'Keep it to 512 characters (CodeDeploy truncates nothing, it refuses).',
    multiline: true,
  }),
  { name: 'container-port', kind: 'int', min: 1, max: 65535 },
  flag('rollback-on-timeout', 'true'),
  flag('preflight', 'true'),
  flag('dry-run', 'false'),
  flag('print-policy', 'false'),
  { name: 'on-cancel', kind: 'choice', default: 'rollback', choices: ['rollback', 'leave'] },
  { name: 'max-retries', kind: 'int', default: '5', min: 0, max: 20 },
  text('output-dir'),
  flag('rollback', 'false'),
  text('preview'),
  text('pull-request-number'),
  text('preview-listener-arn'),
  text('preview-domain'),
  text('preview-url'),
  text('github-token', { default: '${{ github.token }}' }),
  {
    name: 'wait-until',
    kind: 'choice',
    default: 'complete',
    // ECS-native service deployments' lifecycle stages, in the order a deployment passes them.
    choices: ['complete', ...LIFECYCLE_STAGES],
  },
  { name: 'paused-hook', kind: 'choice', choices: ['continue', 'rollback'] },
  // One-off tasks, deploying a revision as-is, revision hygiene and tags (src/task/config.ts reads them).
  { name: 'run-task', kind: 'choice', default: 'false', choices: ['false', 'true', 'before', 'after'] },
  text('run-task-command'),
  text('run-task-container', {
    pattern: ECS_NAME,
    what: (v) => `"${v}" is not a container name.`,
    fix: 'Name a container of the task definition (letters, digits, _ and -).',
  }),
  {
    name: 'run-task-environment',
    kind: 'lines',
    pattern: /^[A-Za-z_][A-Za-z0-9_]*=/,
    what: (v) => `"${v}" is not NAME=value.`,
    fix: 'Write one NAME=value per line; NAME is letters, digits and _.',
  },
  {
    name: 'run-task-subnets',
    kind: 'list',
    pattern: /^subnet-[0-9a-f]{1,17}$/,
    what: (v) => `"${v}" is not a subnet id.`,
    fix: 'Give subnet ids (subnet-0123abcd), or leave it empty for the service’s own.',
  },
  {
    name: 'run-task-security-groups',
    kind: 'list',
    pattern: /^sg-[0-9a-f]{1,17}$/,
    what: (v) => `"${v}" is not a security group id.`,
    fix: 'Give security group ids (sg-0123abcd), or leave it empty for the service’s own.',
  },
  { name: 'run-task-assign-public-ip', kind: 'choice', choices: ['', 'ENABLED', 'DISABLED'] },
  { name: 'run-task-launch-type', kind: 'choice', choices: ['', 'FARGATE', 'EC2', 'EXTERNAL'] },
  text('run-task-started-by', {
    pattern: /^[A-Za-z0-9_./:-]{1,128}$/,
    what: (v) => `"${v}" is not a valid startedBy.`,
    fix: 'Use up to 128 letters, digits, _ - . / and :.',
  }),
  {
    name: 'run-task-tags',
    kind: 'lines',
    pattern: /^(?!aws:)[^=]{1,128}=/,
    what: (v) => `"${v}" is not KEY=value (or its key starts with aws:).`,
    fix: 'Write one KEY=value per line; keys starting with aws: are reserved.',
  },
  { name: 'run-task-timeout-minutes', kind: 'minutes', default: '30' },
  flag('register', 'true'),
  { name: 'keep-revisions', kind: 'int', min: 1, max: 1000 },
  flag('delete-deregistered-revisions', 'false'),
  {
    name: 'task-definition-tags',
    kind: 'lines',
    pattern: /^(?!aws:)[^=]{1,128}=/,
    what: (v) => `"${v}" is not KEY=value (or its key starts with aws:).`,
    fix: 'Write one KEY=value per line; keys starting with aws: are reserved.',
  },
  { name: 'service-propagate-tags', kind: 'choice', choices: ['', 'SERVICE', 'TASK_DEFINITION', 'NONE'] },
  { name: 'container-log-lines', kind: 'int', default: '50', min: 0, max: 10000 },
];

const BY_NAME = new Map(INPUTS.map((spec) => [spec.name, spec]));

/** Lines or commas, trimmed, blanks and `#` comments dropped (build-push-action's list format). */
export function parseList(value: string, { commas = true } = {}): string[] {
  const items = value.split(/\r?\n/).flatMap((line) => (commas ? line.split(',') : [line]));
  return items.map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('#'));
}

/** Reads one input as the runner passes it (`INPUT_<NAME>`); '' when absent. */
export type InputReader = (name: string) => string;

/**
 * The inputs with the kind-level rule every single-line input obeys: no line break. A value
 * with one (a `cluster: |` block, or text smuggling `::add-mask::` onto a line of its own) is
 * a problem naming the input, and reads as '' so that no later check or log line sees it.
 */
export function singleLineInputs(input: InputReader, problems: Problems): InputReader {
  const broken = new Set<string>();
  // Every input is checked at once, also one this run never reads, in action.yml's order.
  for (const spec of INPUTS) {
    const value = input(spec.name);
    if (!/[\r\n]/.test(value) || spec.multiline === true || spec.kind === 'list' || spec.kind === 'lines')
      continue;
    broken.add(spec.name);
    problems.add({
      where: spec.name,
      what: `The value spans ${value.split(/\r\n|\r|\n/).length} lines; ${spec.name} is a single line.`,
      fix: `Write ${spec.name} on one line (in YAML without | or >), e.g. ${spec.name}: ${spec.default && !spec.default.startsWith('$') ? spec.default : 'my-value'}.`,
    });
  }
  return (name) => (broken.has(name) ? '' : input(name));
}

/**
 * Inputs read by their declaration: the default when empty, the value checked, a problem
 * recorded (in the order the inputs are read) and the default used when it is bad.
 */
export class InputValues {
  constructor(
    readonly raw: InputReader,
    private readonly problems: Problems,
    readonly workspace: string,
  ) {}

  private spec(name: string): InputSpec {
    const spec = BY_NAME.get(name);
    if (spec === undefined) throw new Error(`Input ${name} is not declared in src/inputs.ts.`);
    return spec;
  }

  private bad(where: string, what: string, fix: string): void {
    this.problems.add({ where, what, fix });
  }

  /** A text input: its default when empty; checked against its pattern. */
  text(name: string): string {
    const spec = this.spec(name);
    const dflt = spec.default?.startsWith('${{') ? '' : (spec.default ?? '');
    const value = this.raw(name) || dflt;
    this.check(name, value);
    return value;
  }

  /** A list (commas or lines) or lines input, each item checked. */
  list(name: string): string[] {
    const spec = this.spec(name);
    const items = parseList(this.raw(name), { commas: spec.kind === 'list' });
    for (const item of items) this.check(name, item);
    return items;
  }

  /** Checks a value against the input's declared pattern (no problem for ''). */
  check(name: string, value: string): void {
    const spec = this.spec(name);
    if (value === '' || spec.pattern === undefined || spec.pattern.test(value)) return;
    this.bad(spec.name, spec.what?.(value) ?? `"${value}" is not valid.`, spec.fix ?? '');
  }

  bool(name: string): boolean {
    const dflt = this.spec(name).default === 'true';
    const raw = this.raw(name);
    if (raw === '') return dflt;
    if (['true', 'True', 'TRUE'].includes(raw)) return true;
    if (['false', 'False', 'FALSE'].includes(raw)) return false;
    this.bad(name, `"${raw}" is not a boolean.`, `Write ${name}: true or ${name}: false.`);
    return dflt;
  }

  int(name: string): number | undefined {
    const { default: d, min = 0, max = Number.MAX_SAFE_INTEGER } = this.spec(name);
    const dflt = d === undefined ? undefined : Number(d);
    const raw = this.raw(name);
    if (raw === '') return dflt;
    if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      this.bad(
        name,
        `"${raw}" is not a whole number from ${min} to ${max}.`,
        `Set ${name} to a number in that range.`,
      );
      return dflt;
    }
    return Number(raw);
  }

  /** Minutes may be fractional (0.5 is 30 seconds), which short-lived previews and tests use. */
  minutes(name: string): number {
    const dflt = Number(this.spec(name).default);
    const raw = this.raw(name);
    if (raw === '') return dflt;
    const n = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || n <= 0 || n > 360) {
      this.bad(
        name,
        `"${raw}" is not a number of minutes above 0 and at most 360.`,
        `Set ${name} to e.g. 30.`,
      );
      return dflt;
    }
    return n;
  }

  choice<T extends string>(name: string): T {
    const spec = this.spec(name);
    const allowed = spec.choices ?? [];
    const raw = this.raw(name);
    if (raw === '') return spec.default as T;
    if (allowed.includes(raw)) return raw as T;
    this.bad(
      name,
      `"${raw}" is not one of ${allowed.join(', ')}.`,
      `Set ${name} to one of: ${allowed.join(', ')}.`,
    );
    return spec.default as T;
  }

  /** A path inside the workspace (`where` names the input a problem is reported under). */
  inWorkspace(where: string, value: string): string {
    const resolved = path.resolve(this.workspace, value);
    const rel = path.relative(this.workspace, resolved);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      this.bad(
        where,
        `"${value}" is outside the workspace (${this.workspace}).`,
        'Use a path inside the repository checkout, relative to its root.',
      );
    }
    return resolved;
  }

  path(name: string): string | undefined {
    const raw = this.raw(name);
    return raw === '' ? undefined : this.inWorkspace(name, raw);
  }
}
