/**
 * Dry run: what a run would change, shown before anything is changed. The diff between the
 * task definition the service runs now and the one this run would register, the AWS calls
 * a real run makes in order, and the appspec CodeDeploy would receive. Pure: the caller
 * describes the current task definition and prints the result.
 */
import type { RegisterTaskDefinitionCommandInput, Tag, TaskDefinition } from '@aws-sdk/client-ecs';
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { renderAppSpec, TASK_DEFINITION_PLACEHOLDER, type AppSpec } from './render/appspec.js';
import { isRecord } from './render/document.js';
import { READ_ONLY_TASK_DEFINITION_FIELDS } from './render/taskdef.js';
import { mdCode, mdFence } from './safe-text.js';

/** A task definition as DescribeTaskDefinition returns it: bare, or with its tags (`include: ['TAGS']`). */
export type CurrentTaskDefinition = TaskDefinition | { taskDefinition: TaskDefinition; tags?: Tag[] };

/** Lists whose order ECS does not keep, and the field that names each entry. */
const UNORDERED_LISTS: Record<string, string> = { environment: 'name', secrets: 'name', tags: 'key' };

/**
 * A unified diff from the current task definition to the one to register, both with
 * read-only fields stripped, keys sorted and empty lists and objects left out (ECS answers
 * `[]` for lists never set). '' when they are the same.
 */
export function taskDefinitionDiff(
  current: CurrentTaskDefinition | undefined,
  next: RegisterTaskDefinitionCommandInput,
): string {
  const described =
    current === undefined ? undefined : 'taskDefinition' in current ? current : { taskDefinition: current };
  const before =
    described === undefined
      ? ''
      : comparable({ ...described.taskDefinition, ...(described.tags && { tags: described.tags }) });
  const after = comparable(next);
  if (before === after) return '';
  return createTwoFilesPatch(
    currentLabel(described?.taskDefinition),
    'new',
    before,
    after,
    undefined,
    undefined,
    {
      context: 3,
      headerOptions: FILE_HEADERS_ONLY,
    },
  );
}

function currentLabel(td: TaskDefinition | undefined): string {
  if (td === undefined) return 'current (none)';
  const ref =
    td.family !== undefined && td.revision !== undefined
      ? `${td.family}:${td.revision}`
      : (td.taskDefinitionArn?.split('/').pop() ?? td.family ?? 'unknown');
  return `current (${ref})`;
}

function comparable(taskDefinition: object): string {
  const top: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(taskDefinition)) {
    if (!READ_ONLY_TASK_DEFINITION_FIELDS.includes(key)) top[key] = value;
  }
  return `${JSON.stringify(normalize(top) ?? {}, null, 2)}\n`;
}

/** Sorted keys; undefined, empty lists and empty objects dropped; name-keyed lists in name order. */
function normalize(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => normalize(v)).filter((v) => v !== undefined);
    const by = key === undefined ? undefined : UNORDERED_LISTS[key];
    if (by !== undefined && items.every((i) => isRecord(i) && typeof i[by] === 'string')) {
      const name = (i: unknown) => (i as Record<string, string>)[by] as string;
      items.sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
    }
    return items.length > 0 ? items : undefined;
  }
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = normalize(value[k], k);
      if (v !== undefined) out[k] = v;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return value;
}

/** What a real run would do, as far as AWS calls go. */
export interface PlannedRun {
  /** The images to build and push; `createRepository` when the repository does not exist yet. */
  pushes: { repository: string; tags: string[]; createRepository: boolean }[];
  taskDefinitionFamily: string;
  deployment:
    | { mode: 'none' }
    | {
        mode: 'rolling';
        cluster: string;
        service: string;
        forceNewDeployment: boolean;
        desiredCount?: number;
      }
    | { mode: 'codedeploy'; application: string; deploymentGroup: string; deploymentConfigName: string }
    | { mode: 'ecs-native'; cluster: string; service: string; waitUntil: string };
  /** Whether the run watches the deployment to its end (wait-for-service-stability). */
  wait: boolean;
}

/** The AWS calls a real run makes, in order, one line each ("ecs:RegisterTaskDefinition family=web"). */
export function describePlannedCalls(plan: PlannedRun): string[] {
  const calls: string[] = [];
  if (plan.pushes.length > 0) calls.push('ecr:GetAuthorizationToken (docker login --password-stdin)');
  for (const push of plan.pushes) {
    if (push.createRepository) calls.push(`ecr:CreateRepository repositoryName=${push.repository}`);
    calls.push(
      `ecr:PutImage ${push.repository}:${push.tags.join(',')} (docker push: layers, then the manifest)`,
    );
  }
  calls.push(`ecs:RegisterTaskDefinition family=${plan.taskDefinitionFamily}`);
  const d = plan.deployment;
  if (d.mode === 'rolling') {
    const service = `cluster=${d.cluster} service=${d.service}`;
    const options = [
      ...(d.forceNewDeployment ? ['forceNewDeployment=true'] : []),
      ...(d.desiredCount !== undefined ? [`desiredCount=${d.desiredCount}`] : []),
    ];
    calls.push(
      [
        `ecs:UpdateService ${service} taskDefinition=${plan.taskDefinitionFamily}:<new revision>`,
        ...options,
      ].join(' '),
    );
    if (plan.wait)
      calls.push(`ecs:DescribeServices ${service}, polled until the deployment is COMPLETED or FAILED`);
  } else if (d.mode === 'codedeploy') {
    calls.push(
      `codedeploy:CreateDeployment ${d.application}/${d.deploymentGroup} config=${d.deploymentConfigName} (AppSpecContent)`,
    );
    if (plan.wait) calls.push('codedeploy:GetDeployment, polled until Succeeded, Failed or Stopped');
  } else if (d.mode === 'ecs-native') {
    const service = `cluster=${d.cluster} service=${d.service}`;
    calls.push(
      `ecs:UpdateService ${service} taskDefinition=${plan.taskDefinitionFamily}:<new revision> (the service's own BLUE_GREEN, LINEAR or CANARY)`,
    );
    if (plan.wait) {
      const until = d.waitUntil === 'complete' ? 'SUCCESSFUL or rolled back' : `it reaches ${d.waitUntil}`;
      calls.push(`ecs:DescribeServiceDeployments <service deployment>, polled until ${until}`);
    }
  }
  return calls;
}

/** The job summary of a dry run, in Markdown. */
export function renderDryRunSummary(input: { calls: string[]; diff: string; appspec?: AppSpec }): string {
  const parts = [
    '### Dry run: nothing was changed in AWS',
    'A real run would make these calls, in order:',
    input.calls.map((c, i) => `${i + 1}. ${mdCode(c)}`).join('\n'),
    '#### Task definition',
    input.diff === ''
      ? 'Same as the current revision (RegisterTaskDefinition still adds an identical new revision).'
      : mdFence([input.diff.replace(/\n$/, '')], 'diff').join('\n'),
  ];
  if (input.appspec !== undefined) {
    parts.push(
      '#### AppSpec',
      `CodeDeploy receives this, with the registered revision's ARN in place of ${TASK_DEFINITION_PLACEHOLDER}:`,
      mdFence(
        [renderAppSpec(input.appspec, TASK_DEFINITION_PLACEHOLDER).content.replace(/\n$/, '')],
        'yaml',
      ).join('\n'),
    );
  }
  return `${parts.join('\n\n')}\n`;
}
