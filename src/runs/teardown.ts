/**
 * The preview teardown run: pull request N's preview removed, stage by stage. What is
 * already gone is skipped, so a second teardown succeeds and says there was nothing to remove.
 */
import {
  DeleteServiceCommand,
  type ECSClient,
  type Service,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { checkCredentials } from '../aws.js';
import type { Config } from '../config.js';
import { resourceName } from '../deploy/aws-errors.js';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { isPreviewTagged, previewNames, type PreviewNames } from '../preview/names.js';
import {
  deleteFamilies,
  deletePreviewImages,
  describePreviewService,
  type DestroyResult,
  previewFamilies,
} from '../preview/preview.js';
import { removeRouting } from '../preview/routing.js';
import type { RunReport, StageTimer } from '../report.js';
import type { RunDeps } from '../stages/deps.js';
import { Stages } from '../stages/stage.js';

/** Scales the preview's service to 0 and deletes it, when it is one of ours. */
async function deletePreviewService(
  ecs: ECSClient,
  cluster: string,
  names: PreviewNames,
  svc: Service | undefined,
): Promise<string> {
  if (svc?.status !== 'ACTIVE') {
    return svc?.status === 'DRAINING' ? 'already draining' : 'none';
  }
  if (!isPreviewTagged(svc.tags, names)) {
    throw new UserError({
      where: 'service',
      what: `Service ${cluster}/${names.service} is not a preview of ${names.baseService} (it lacks the tags preview-of=${names.baseService}, pull-request=${names.pullRequest}), so it is not deleted.`,
      fix: 'Check the service and pull-request-number inputs; delete that service yourself if it is to go.',
    });
  }
  await ecs.send(new UpdateServiceCommand({ cluster, service: names.service, desiredCount: 0 }));
  await ecs.send(new DeleteServiceCommand({ cluster, service: names.service, force: true }));
  return 'deleted';
}

/** The outcome and the message, for the summary and the comment. */
function finish(report: RunReport, names: PreviewNames, removed: string[], log: Log): void {
  report.outcome = removed.length > 0 ? 'removed' : 'nothing to remove';
  report.message =
    removed.length > 0
      ? `Removed the preview of ${names.baseService} for pull request #${names.pullRequest}: ${removed.join('; ')}.`
      : `Pull request #${names.pullRequest} has no preview of ${names.baseService} to remove (never deployed, or already removed).`;
  if (removed.length > 0) log.info(report.message);
  else log.notice(report.message);
}

/**
 * Removes pull request N's preview: the service (scaled to 0, deleted), its listener rule
 * and target group, every revision of its task definition family, and its image tags.
 * What is already gone is skipped, so a second destroy, or one for a pull request that was
 * never deployed, succeeds and says there was nothing to remove.
 */
export async function runPreviewDestroy(
  config: Config,
  deps: RunDeps,
  timer: StageTimer,
  report: RunReport,
): Promise<DestroyResult> {
  const { ecs, ecr } = deps.clients;
  const { log } = deps;
  const preview = config.preview;
  if (preview === undefined || config.service === undefined) {
    throw new Error('runPreviewDestroy needs preview settings and the base service.');
  }
  const names = previewNames(resourceName(config.service), preview);
  report.service = names.service;
  deps.setOutput('preview-service', names.service);
  const removed: string[] = [];
  const stages = new Stages(timer, deps);
  const stage = stages.run.bind(stages);
  await checkCredentials(deps.clients);

  const svc = await describePreviewService(ecs, config.cluster, names.service);
  await stage(
    'Delete preview service',
    async () => {
      const done = await deletePreviewService(ecs, config.cluster, names, svc);
      if (done === 'deleted') removed.push(`service ${config.cluster}/${names.service}`);
      return done;
    },
    (d) => d,
  );

  if (preview.listenerArn !== undefined) {
    const { elbv2 } = deps;
    if (elbv2 === undefined) throw new Error('Preview routing needs an Elastic Load Balancing client.');
    const routing = await stage(
      'Remove preview routing',
      () => removeRouting(elbv2, { listenerArn: preview.listenerArn as string, names }, log),
      (r) => [r.rule && 'rule', r.targetGroup && 'target group'].filter(Boolean).join(', ') || 'none',
    );
    if (routing.rule) removed.push(`listener rule for ${names.host}`);
    if (routing.targetGroup) removed.push(`target group ${names.targetGroup}`);
  }

  const families = await previewFamilies(config, { ecs, log, readFile: deps.fs.readFile }, names, svc);
  const revisions = await stage(
    'Delete preview task definitions',
    () => deleteFamilies(ecs, families, log),
    (n) => `${n} revision(s) of ${families.join(', ') || 'no family'}`,
  );
  if (revisions > 0) removed.push(`${revisions} task definition revision(s) of ${families.join(', ')}`);

  const repositories = [...new Set(config.containers.flatMap((c) => (c.build ? [c.build.repository] : [])))];
  const tags = await stage(
    'Delete preview image tags',
    async () => {
      let count = 0;
      for (const repository of repositories) {
        count += await deletePreviewImages(ecr, repository, names.imageTagPrefix, log);
      }
      return count;
    },
    (n) => `${n} tag(s) ${names.imageTagPrefix}* in ${repositories.join(', ') || 'no repository'}`,
  );
  if (tags > 0) removed.push(`${tags} image tag(s) ${names.imageTagPrefix}*`);
  if (repositories.length === 0) {
    log.info('No ecr-repository is given, so no image tags were looked for.');
  }

  finish(report, names, removed, log);
  return { names, removed };
}
