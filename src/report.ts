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
  if (ms < 1000) return `${ms} ms`;
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

/**
 * What a failed run left in AWS that nothing uses: a registered revision no deployment took, the
 * images it pushed for it. Undefined when the run succeeded or got no further than its checks.
 */
export function leftBehind(r: RunReport): string | undefined {
  if (r.ok || r.taskDefinitionArn === undefined || r.registered !== true) return undefined;
  if (r.codedeployDeploymentId !== undefined || r.ecsDeploymentId !== undefined) return undefined;
  const revision = r.taskDefinitionArn.replace(/^.*:task-definition\//, '');
  const pushed = r.images.filter((i) => i.digest !== undefined && !i.reused).map((i) => i.imageUri);
  return `Left behind: registered ${revision}, not deployed${pushed.length > 0 ? `; pushed ${pushed.join(', ')}` : ''}. The service still runs what it ran before; deregister the revision or re-run to deploy it.`;
}

export function renderSummary(r: RunReport): string {
  const lines: string[] = [];
  const icon = r.ok ? '✅' : '❌';
  const target = r.service ? `${r.cluster}/${r.service}` : r.cluster;
  lines.push(
    `## ${icon} ${r.action ?? 'ECS deploy'} ${r.ok ? 'succeeded' : 'failed'}: ${mdText(target)}`,
    '',
  );
  if (r.message) lines.push(mdText(r.message), '');
  lines.push('| Stage | Result | Duration | Detail |', '| --- | --- | --- | --- |');
  for (const s of r.stages) {
    const mark = s.result === 'succeeded' ? '✅' : s.result === 'failed' ? '❌' : '⏭️';
    lines.push(`| ${s.name} | ${mark} ${s.result} | ${formatDuration(s.ms)} | ${mdText(s.detail ?? '')} |`);
  }
  lines.push('');
  if (r.images.length > 0) {
    lines.push('| Container | Image | Digest |', '| --- | --- | --- |');
    for (const i of r.images) {
      lines.push(
        `| ${mdText(i.container)} | ${mdCode(i.imageUri)}${i.reused ? ' (reused)' : ''} | ${mdCode(i.digest ?? '-')} |`,
      );
    }
    lines.push('');
  }
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
  const left = leftBehind(r);
  if (left !== undefined) facts.push(`- ${mdText(left)}`);
  lines.push(...facts);
  if (r.extraMarkdown) lines.push('', r.extraMarkdown);
  if (r.diagnostics.length > 0) {
    lines.push('', '### What went wrong', '', ...mdFence(r.diagnostics));
  }
  return lines.join('\n') + '\n';
}
