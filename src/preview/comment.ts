/**
 * The pull request's preview comment: one per base service, found again by a hidden marker
 * and edited in place, so a pull request shows the preview's current state, not a history.
 * A comment that cannot be written is a warning: the preview itself went fine.
 */
import type { Config, GitHubConfig } from '../config.js';
import type { Log } from '../log.js';
import type { RunReport } from '../report.js';
import { mdCode, mdLink, mdText } from '../safe-text.js';
import type { PreviewNames } from './names.js';

export type PreviewState = 'deployed' | 'failed' | 'destroyed' | 'destroy-failed';

export interface PreviewCommentInput {
  state: PreviewState;
  names: PreviewNames;
  cluster: string;
  commit?: string;
  image?: string;
  taskDefinitionArn?: string;
  url?: string;
  runUrl?: string;
  /** Why it failed, or what a destroy removed. */
  message?: string;
  removed?: string[];
}

const HEADLINE: Record<PreviewState, (service: string) => string> = {
  deployed: (s) => `✅ Preview of ${mdCode(s)} is live`,
  failed: (s) => `❌ Preview of ${mdCode(s)} failed to deploy`,
  destroyed: (s) => `🗑️ Preview of ${mdCode(s)} is gone`,
  'destroy-failed': (s) => `⚠️ Preview of ${mdCode(s)} could not be removed completely`,
};

/** The comment's Markdown; its first line is the marker it is found by. */
export function renderPreviewComment(c: PreviewCommentInput): string {
  const lines = [c.names.commentMarker, `### ${HEADLINE[c.state](c.names.baseService)}`, ''];
  if (c.state === 'destroyed') {
    lines.push(
      c.removed && c.removed.length > 0
        ? `The pull request's preview was removed: ${c.removed.map(mdText).join('; ')}.`
        : 'There was nothing left to remove: the preview was never deployed, or is already gone.',
    );
  } else if (c.message) {
    lines.push(mdText(c.message));
  }
  lines.push('', '| | |', '| --- | --- |');
  const row = (name: string, value: string | undefined) => {
    if (value) lines.push(`| ${name} | ${value} |`);
  };
  if (c.state === 'deployed' || c.state === 'failed') {
    row('URL', c.url && c.state === 'deployed' ? mdLink(c.url, c.url) : undefined);
    row('Commit', c.commit && mdCode(c.commit.slice(0, 12)));
    row('Image', c.image && mdCode(c.image));
    row(
      'Task definition',
      c.taskDefinitionArn && mdCode(c.taskDefinitionArn.replace(/^.*:task-definition\//, '')),
    );
  }
  row('Service', mdCode(`${c.cluster}/${c.names.service}`));
  row('Run', c.runUrl && mdLink('workflow run', c.runUrl));
  return lines.join('\n') + '\n';
}

export function runUrl(github: GitHubConfig): string | undefined {
  return github.repository && github.runId
    ? `${github.serverUrl}/${github.repository}/actions/runs/${github.runId}`
    : undefined;
}

/** The issue-comment calls the preview comment makes. */
export interface IssueComments {
  list(): Promise<{ id: number; body?: string; author?: string }[]>;
  /** The login the token comments as (`github-actions[bot]` for the workflow's token). */
  identity(): Promise<string>;
  create(body: string): Promise<number>;
  update(id: number, body: string): Promise<void>;
}

// @actions/github reads GITHUB_EVENT_PATH when it is loaded (and throws on a malformed file),
// so it is loaded only here, when a comment is written, never at the action's start.
type Octokit = ReturnType<(typeof import('@actions/github'))['getOctokit']>;
const loadOctokit = async (token: string, baseUrl: string): Promise<Octokit> =>
  (await import('@actions/github')).getOctokit(token, { baseUrl });

export function octokitComments(
  octokit: Octokit,
  issue: { owner: string; repo: string; number: number },
): IssueComments {
  const where = { owner: issue.owner, repo: issue.repo };
  return {
    list: async () =>
      (
        await octokit.paginate(octokit.rest.issues.listComments, {
          ...where,
          issue_number: issue.number,
          per_page: 100,
        })
      ).map((c) => ({ id: c.id, body: c.body, author: c.user?.login })),
    identity: async () => {
      try {
        return (await octokit.rest.users.getAuthenticated()).data.login;
      } catch {
        // The workflow's token (an installation token) may not read /user; it comments as this bot.
        return WORKFLOW_TOKEN_LOGIN;
      }
    },
    create: async (body) =>
      (await octokit.rest.issues.createComment({ ...where, issue_number: issue.number, body })).data.id,
    update: async (id, body) => {
      await octokit.rest.issues.updateComment({ ...where, comment_id: id, body });
    },
  };
}

export const WORKFLOW_TOKEN_LOGIN = 'github-actions[bot]';

/**
 * Edits our comment, or creates it. Ours: written by the token's own identity and starting with
 * `marker`; anyone can paste the marker into a comment, and such a comment is never edited.
 */
export async function upsertComment(
  comments: IssueComments,
  marker: string,
  body: string,
): Promise<{ id: number; created: boolean }> {
  const [all, me] = await Promise.all([comments.list(), comments.identity()]);
  const existing = all.find((c) => c.author === me && c.body?.trimStart().startsWith(marker));
  if (existing !== undefined) {
    await comments.update(existing.id, body);
    return { id: existing.id, created: false };
  }
  return { id: await comments.create(body), created: true };
}

/**
 * Writes the preview comment on pull request `number` with the workflow's token, through
 * GITHUB_API_URL. Never throws: a missing token or a refusal becomes a warning (which never
 * contains the token).
 */
export async function postPreviewComment(
  github: GitHubConfig,
  pullRequest: number,
  comment: PreviewCommentInput,
  log: Log,
  connect: (token: string, baseUrl: string) => Octokit | Promise<Octokit> = loadOctokit,
): Promise<void> {
  const [owner, repo] = (github.repository ?? '').split('/');
  if (!github.token || !owner || !repo) {
    log.warning(
      `The pull request was not commented on: ${github.token ? 'GITHUB_REPOSITORY is not set' : 'github-token is empty'}. Leave github-token at its default (the workflow's token) and give the job permissions: pull-requests: write.`,
    );
    return;
  }
  try {
    const comments = octokitComments(await connect(github.token, github.apiUrl), {
      owner,
      repo,
      number: pullRequest,
    });
    const result = await upsertComment(comments, comment.names.commentMarker, renderPreviewComment(comment));
    log.info(`${result.created ? 'Commented on' : 'Updated the comment on'} pull request #${pullRequest}.`);
  } catch (err) {
    const e = err as { status?: number; message?: string };
    const message = (e.message ?? String(err)).split(github.token).join('***');
    log.warning(
      `Could not comment on pull request #${pullRequest} (${e.status ?? 'error'}: ${message}). The preview itself is unaffected; give the job permissions: pull-requests: write.`,
    );
  }
}

/** The comment for a preview run, from what the run reported. */
export function previewCommentInput(
  config: Pick<Config, 'preview' | 'cluster' | 'sha' | 'github'>,
  names: PreviewNames,
  report: Pick<RunReport, 'ok' | 'images' | 'taskDefinitionArn' | 'message'>,
  removed?: string[],
): PreviewCommentInput {
  const destroy = config.preview?.action === 'destroy';
  const state: PreviewState = destroy
    ? report.ok
      ? 'destroyed'
      : 'destroy-failed'
    : report.ok
      ? 'deployed'
      : 'failed';
  return {
    state,
    names,
    cluster: config.cluster,
    commit: config.preview?.headSha ?? (config.sha || undefined),
    image: report.images[0]?.imageUri,
    taskDefinitionArn: report.taskDefinitionArn,
    url: names.url,
    runUrl: runUrl(config.github),
    message: report.ok ? undefined : report.message,
    removed,
  };
}
