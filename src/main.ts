/**
 * Entry point, as the runner starts it: read the inputs, run the pipeline, write the
 * outputs and the job summary, and turn every failure into annotations the user can act on.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as core from './runner.js';
import { createClients, explainAwsError } from './aws.js';
import { Cancelled, cancelOnSignals } from './cancel.js';
import { monotonicNow, systemClock } from './clock.js';
import { type Config, type EventSource, inputsFromEnv, readConfig } from './config.js';
import { dockerCli } from './docker.js';
import { type Problem, UserError } from './errors.js';
import type { Log } from './log.js';
import { resourceName } from './deploy/aws-errors.js';
import { previewNames } from './preview/names.js';
import { leftBehind, renderSummary, type RunReport, StageTimer } from './report.js';
import { runnerLog } from './runner-log.js';
import { inertLines, oneLine } from './safe-text.js';
import { runDeploy } from './runs/deploy.js';
import { DeploymentFailed, type RunDeps } from './stages/deps.js';

const coreLog: Log = runnerLog;

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: Config;
  try {
    config = readConfig(inputsFromEnv(env), env, eventSource(env.GITHUB_EVENT_PATH));
  } catch (e) {
    fail(e);
    return;
  }
  if (config.github.token) core.setSecret(config.github.token);

  core.saveState('on-cancel', config.onCancel);
  // Stage timings on the monotonic clock: a wall-clock jump does not skew them.
  const timer = new StageTimer(monotonicNow);
  const report: RunReport = {
    ok: false,
    region: config.region,
    cluster: config.cluster,
    service: config.service,
    action: config.rollback
      ? 'ECS rollback'
      : config.preview?.action === 'destroy'
        ? 'Preview teardown'
        : config.preview !== undefined
          ? 'Preview deploy'
          : 'ECS deploy',
    images: [],
    diagnostics: [],
    stages: timer.stages,
  };
  const cancel = cancelOnSignals();
  let removed: string[] | undefined;
  try {
    const run = await chooseRun(config);
    const result = await run(config, await runDeps(config, cancel.signal), timer, report);
    removed = result?.removed;
    report.ok = true;
  } catch (e) {
    if (e instanceof Cancelled) {
      report.message = e.message;
      core.setFailed(`${e.message} The post step stops any deployment this run started.`);
    } else if (e instanceof DeploymentFailed) {
      // One annotation per failure, the cause first; the detail went to the log's
      // "What went wrong" group and the summary (GitHub shows only 10 errors per step).
      report.message = e.message;
      // One annotation, the cause first; AWS's own words in it made inert (core escapes the rest).
      core.setFailed(inertLines(e.message));
    } else {
      report.message = (e as Error)?.message?.split('\n')[0];
      fail(e);
    }
  } finally {
    cancel.dispose();
  }
  const left = leftBehind(report);
  if (left !== undefined) core.warning(left);
  if (config.preview !== undefined) await commentOnPullRequest(config, report, removed);
  await writeSummary(report);
}

/**
 * The one run this configuration asks for; runs never call each other. Only the deploy run
 * is loaded up front: the others (and the load balancer client and GitHub client that only
 * previews use) are loaded when asked for, so a deploy starts sooner and holds less memory.
 */
async function chooseRun(config: Config) {
  if (config.rollback) return (await import('./runs/rollback.js')).runRollback;
  if (config.pausedHook !== undefined) return (await import('./runs/paused-hook.js')).runPausedHook;
  if (config.preview?.action === 'destroy') return (await import('./runs/teardown.js')).runPreviewDestroy;
  return config.preview !== undefined ? (await import('./runs/preview.js')).runPreview : runDeploy;
}

async function runDeps(config: Config, signal: AbortSignal): Promise<RunDeps> {
  const elb = config.preview?.listenerArn ? await import('./preview/routing.js') : undefined;
  return {
    clients: createClients(config.region, config.maxRetries),
    elbv2: elb?.createElbClient(config.region, config.maxRetries),
    docker: dockerCli('docker', signal),
    log: coreLog,
    clock: systemClock,
    fs: {
      realpath: (f) => realpath(f),
      readFile: (f) => readFile(f, 'utf8'),
      writeFile: (f, d) => writeFile(f, d, 'utf8'),
      mkdir: async (d) => {
        await mkdir(d, { recursive: true });
      },
    },
    setOutput: (name, value) => core.setOutput(name, value),
    saveState: (name, value) => core.saveState(name, value),
    signal,
    group: (name, fn) => core.group(name, fn),
  };
}

/** The preview's pull-request comment, and its URL in the summary; a failure here is only a warning. */
async function commentOnPullRequest(config: Config, report: RunReport, removed?: string[]): Promise<void> {
  const { preview, service } = config;
  if (preview === undefined || service === undefined) return;
  let names;
  try {
    names = previewNames(resourceName(service), preview);
  } catch (e) {
    core.warning(`The pull request was not commented on: ${(e as Error).message}`);
    return;
  }
  if (names.url !== undefined && preview.action === 'deploy') {
    report.extraMarkdown = [report.extraMarkdown, `Preview: ${names.url}`].filter(Boolean).join('\n\n');
  }
  const { postPreviewComment, previewCommentInput } = await import('./preview/comment.js');
  await postPreviewComment(
    config.github,
    preview.pullRequest,
    previewCommentInput(config, names, report, removed),
    coreLog,
  );
}

/**
 * The workflow's event payload, read once and only when the run needs it (a preview without
 * pull-request-number): a malformed file or a directory is a problem then, never a crash.
 */
function eventSource(file: string | undefined): EventSource {
  let read: ReturnType<EventSource> | undefined;
  return () => {
    if (read !== undefined) return read;
    if (!file) return (read = {});
    try {
      read = { payload: JSON.parse(readFileSync(file, 'utf8')) as unknown };
    } catch (e) {
      read = { problem: `GITHUB_EVENT_PATH (${file}): ${oneLine((e as Error).message)}` };
    }
    return read;
  };
}

async function writeSummary(report: RunReport): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(renderSummary(report)).write();
  } catch (e) {
    core.warning(`Could not write the job summary: ${(e as Error).message}`);
  }
}

/** A file problem's `where` starts with the file's path; the annotation already carries it. */
function annotationTitle(p: Problem): string {
  if (p.file !== undefined && p.where.startsWith(p.file)) {
    return `${path.basename(p.file)}${p.where.slice(p.file.length)}`;
  }
  return p.where;
}

function fail(e: unknown): void {
  if (e instanceof UserError) {
    for (const p of e.problems) {
      core.error(`${p.what} Fix: ${p.fix}`, {
        title: annotationTitle(p),
        // GitHub places an annotation on a file by its path from the repository root.
        file: p.file && path.relative(process.env.GITHUB_WORKSPACE || process.cwd(), p.file),
        startLine: p.line,
        startColumn: p.column,
      });
    }
    core.setFailed(
      e.problems.length === 1
        ? `${e.problems[0]?.where}: see the error above.`
        : `${e.problems.length} problems, see the errors above.`,
    );
    return;
  }
  const explained = explainAwsError(e);
  if (explained !== undefined) {
    core.setFailed(explained);
    return;
  }
  const err = e as Error;
  core.setFailed(err?.stack && core.isDebug() ? err.stack : (err?.message ?? String(e)));
}
