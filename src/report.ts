import type { ContainerLog, ContainerLogs } from './deploy/container-logs.js';
import { type Failure, failureSentence, productionHeadline, rollbackPhrase } from './deploy/failure.js';
import { shortTaskDefinition } from './deploy/history.js';
import { mdCode, mdFence, mdLink, mdText } from './safe-text.js';

/**
 * Report: stage timings and the job summary. The summary is a pure function of what the
 * run did, so it is tested as text; `main` writes it with core.summary.
 */
export type StageResult = 'succeeded' | 'failed' | 'skipped';

export interface StageRecord {
  name: string;
  result: StageResult;
  ms: number;
  detail?: string;
}

/** Times each stage and remembers how it ended, for the summary table. */
export class StageTimer {
  readonly stages: StageRecord[] = [];
  constructor(private readonly now: () => number = Date.now) {}

  async run<T>(name: string, fn: () => Promise<T>, detail?: (value: T) => string | undefined): Promise<T> {
    const start = this.now();
    try {
      const value = await fn();
      this.stages.push({ name, result: 'succeeded', ms: this.now() - start, detail: detail?.(value) });
      return value;
    } catch (e) {
      this.stages.push({ name, result: 'failed', ms: this.now() - start, detail: firstLine(e) });
      throw e;
    }
  }

  skip(name: string, why: string): void {
    this.stages.push({ name, result: 'skipped', ms: 0, detail: why });
  }
}

function firstLine(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split('\n')[0] ?? '';
}

export function formatDuration(ms: number): string {
  // Monotonic-clock durations are fractional: whole milliseconds are enough to read.
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export interface RunReport {
  ok: boolean;
  /** What the run did, for the summary's title: 'ECS deploy' (default), 'ECS rollback', … */
  action?: string;
  region: string;
  cluster: string;
  service?: string;
  mode?: string;
  images: { container: string; imageUri: string; digest?: string; reused?: boolean }[];
  taskDefinitionArn?: string;
  /** This run registered taskDefinitionArn (a rollback only names an earlier one). */
  registered?: boolean;
  codedeployDeploymentId?: string;
  ecsDeploymentId?: string;
  /** ECS-native: the service deployment's ARN. */
  serviceDeploymentArn?: string;
  outcome?: string;
  message?: string;
  diagnostics: string[];
  /** What failed and where production is now (a failed deployment). */
  failure?: Failure;
  /** The last lines the failed deployment's stopped containers printed. */
  containerLogs?: ContainerLog[];
  /** Where the deployed version answers (the `url` output). */
  url?: string;
  stages: StageRecord[];
  /** A section of its own, e.g. the dry run's diff. */
  extraMarkdown?: string;
}

const part = encodeURIComponent;

/** Console addresses; every part that came from an input or from AWS is URL-encoded. */
export const consoleLinks = {
  taskDefinition(region: string, arn: string): string {
    const m = /task-definition\/([^:]+):(\d+)$/.exec(arn);
    return m?.[1] && m[2]
      ? `https://${part(region)}.console.aws.amazon.com/ecs/v2/task-definitions/${part(m[1])}/${m[2]}?region=${part(region)}`
      : `https://${part(region)}.console.aws.amazon.com/ecs/v2/task-definitions?region=${part(region)}`;
  },
  service(region: string, cluster: string, service: string): string {
    return `https://${part(region)}.console.aws.amazon.com/ecs/v2/clusters/${part(cluster)}/services/${part(service)}/health?region=${part(region)}`;
  },
  codedeployDeployment(region: string, id: string): string {
    return `https://${part(region)}.console.aws.amazon.com/codesuite/codedeploy/deployments/${part(id)}?region=${part(region)}`;
  },
};

/** The summary's headline under the title: the state production is in now. */
export function headline(r: RunReport): string | undefined {
  if (r.failure !== undefined) return productionHeadline(false, r.failure);
  // A preview is not production: its summary has its own URL line instead.
  if (r.ok && r.outcome === 'succeeded' && r.taskDefinitionArn && !r.action?.startsWith('Preview')) {
    return productionHeadline(true, undefined, r.taskDefinitionArn);
  }
  return undefined;
}

/** The supporting detail of a failure: where production is, the rollback, then what AWS said. */
export function detailLines(
  result: { diagnostics: readonly string[] },
  failure: Failure | undefined,
): string[] {
  const lines: string[] = [];
  if (failure?.deployed) lines.push(`deployed: ${shortTaskDefinition(failure.deployed)}`);
  if (failure?.production) lines.push(`production now: ${shortTaskDefinition(failure.production)}`);
  const rollback = rollbackPhrase(failure?.rollback);
  if (rollback) lines.push(`rollback outcome: ${rollback}`);
  return [...lines, ...result.diagnostics];
}

/** Container logs for the run's log: a header per container, then its lines. */
export function containerLogText(logs: Pick<ContainerLogs, 'logs' | 'notes'>): string[] {
  const lines: string[] = [];
  for (const l of logs.logs) {
    lines.push(
      `--- ${containerTitle(l)}: ${l.lines.length === 0 ? 'nothing printed' : `last ${l.lines.length} lines`}`,
    );
    lines.push(...l.lines);
  }
  return [...lines, ...logs.notes];
}

export function logsDeniedNotice(groups: readonly string[]): string {
  return `Container logs not shown: reading ${groups.join(', ')} was denied. Give the deploying role logs:GetLogEvents on ${groups.map((g) => `log-group:${g}:*`).join(', ')} (print-policy includes it) to see what the containers printed.`;
}

function containerTitle(l: ContainerLog): string {
  return `container ${l.container} of task ${l.taskId} (${l.logGroup} ${l.logStream})`;
}

function stageRows(stages: readonly StageRecord[]): string[] {
  const lines = ['| Stage | Result | Duration | Detail |', '| --- | --- | --- | --- |'];
  for (const s of stages) {
    const mark = s.result === 'succeeded' ? '✅' : s.result === 'failed' ? '❌' : '⏭️';
    lines.push(`| ${s.name} | ${mark} ${s.result} | ${formatDuration(s.ms)} | ${mdText(s.detail ?? '')} |`);
  }
  return lines;
}

/**
 * What a failed run left in AWS that nothing uses: a registered revision no deployment took, the
 * images it pushed for it. Undefined when the run succeeded or got no further than its checks.
 */
export function leftBehind(r: RunReport): string | undefined {
  if (r.ok || r.taskDefinitionArn === undefined || r.registered !== true) return undefined;
  if (r.codedeployDeploymentId ?? r.ecsDeploymentId ?? r.serviceDeploymentArn) return undefined;
  const revision = r.taskDefinitionArn.replace(/^.*:task-definition\//, '');
  const pushed = r.images.filter((i) => i.digest !== undefined && !i.reused).map((i) => i.imageUri);
  return `Left behind: registered ${revision}, not deployed${pushed.length > 0 ? `; pushed ${pushed.join(', ')}` : ''}. The service still runs what it ran before; deregister the revision or re-run to deploy it.`;
}

function facts(r: RunReport, target: string): string[] {
  const facts: string[] = [];
  if (r.mode) facts.push(`- Deploy mode: **${mdText(r.mode)}**`);
  if (r.taskDefinitionArn) {
    facts.push(
      `- Task definition: ${mdLink(r.taskDefinitionArn, consoleLinks.taskDefinition(r.region, r.taskDefinitionArn))}`,
    );
  }
  if (r.service) {
    facts.push(`- Service: ${mdLink(target, consoleLinks.service(r.region, r.cluster, r.service))}`);
  }
  if (r.codedeployDeploymentId) {
    facts.push(
      `- CodeDeploy deployment: ${mdLink(r.codedeployDeploymentId, consoleLinks.codedeployDeployment(r.region, r.codedeployDeploymentId))}`,
    );
  }
  if (r.ecsDeploymentId) facts.push(`- ECS deployment: ${mdCode(r.ecsDeploymentId)}`);
  if (r.serviceDeploymentArn) facts.push(`- ECS service deployment: ${mdCode(r.serviceDeploymentArn)}`);
  if (r.outcome) facts.push(`- Outcome: **${mdText(r.outcome)}**`);
  if (r.url) facts.push(`- URL: ${mdLink(r.url, r.url)}`);
  const left = leftBehind(r);
  if (left !== undefined) facts.push(`- ${mdText(left)}`);
  return facts;
}

/** "What went wrong": the cause, the detail, then each container's last lines, all escaped or fenced. */
function wentWrong(r: RunReport): string[] {
  const details = detailLines(r, r.failure);
  const logs = r.containerLogs ?? [];
  if (details.length === 0 && logs.length === 0 && r.failure === undefined) return [];
  const lines = ['', '### What went wrong', ''];
  if (r.failure) lines.push(mdText(failureSentence(r.failure)), '');
  if (details.length > 0) lines.push(...mdFence(details), '');
  for (const l of logs) {
    lines.push(`**${mdText(containerTitle(l))}**, last ${l.lines.length} lines:`, '');
    lines.push(...mdFence(l.lines.length > 0 ? l.lines : ['(nothing printed)']), '');
  }
  return lines.slice(0, lines[lines.length - 1] === '' ? -1 : undefined);
}

export function renderSummary(r: RunReport): string {
  const lines: string[] = [];
  const icon = r.ok ? '✅' : '❌';
  const target = r.service ? `${r.cluster}/${r.service}` : r.cluster;
  lines.push(
    `## ${icon} ${r.action ?? 'ECS deploy'} ${r.ok ? 'succeeded' : 'failed'}: ${mdText(target)}`,
    '',
  );
  const head = headline(r);
  if (head) lines.push(`**${mdText(head)}**`, '');
  if (r.message && !(r.failure && r.message === failureSentence(r.failure)))
    lines.push(mdText(r.message), '');
  lines.push(...stageRows(r.stages), '');
  if (r.images.length > 0) {
    lines.push('| Container | Image | Digest |', '| --- | --- | --- |');
    for (const i of r.images) {
      lines.push(
        `| ${mdText(i.container)} | ${mdCode(i.imageUri)}${i.reused ? ' (reused)' : ''} | ${mdCode(i.digest ?? '-')} |`,
      );
    }
    lines.push('');
  }
  lines.push(...facts(r, target));
  if (r.extraMarkdown) lines.push('', r.extraMarkdown);
  lines.push(...wentWrong(r));
  return lines.join('\n') + '\n';
}
