/**
 * What a pull request's preview is called, everywhere: service, task definition family,
 * target group, host name, URL, tags, and the marker of its comment. Pure, so deploy and
 * destroy always agree on the names, and a destroy finds exactly what a deploy created.
 */
import { createHash } from 'node:crypto';
import type { PreviewConfig } from '../config.js';
import { previewTagPrefix } from './tags.js';
import { resourceName } from '../deploy/aws-errors.js';
import { UserError } from '../errors.js';

export const PREVIEW_OF_TAG = 'preview-of';
export const PULL_REQUEST_TAG = 'pull-request';

/** ECS names: service and task definition family. */
const ECS_NAME_MAX = 255;
/** Elastic Load Balancing target group names. */
const TARGET_GROUP_NAME_MAX = 32;

export interface PreviewNames {
  /** The base service, by name. */
  baseService: string;
  pullRequest: number;
  /** `<service>-pr-<N>` */
  service: string;
  /** At most 32 letters, digits and hyphens. */
  targetGroup: string;
  /** Every image tag of this preview starts with it: `pr-<N>-`. */
  imageTagPrefix: string;
  /** `pr-<N>.<domain>`, when the action routes the preview. */
  host?: string;
  url?: string;
  /** `preview-of=<service>`, `pull-request=<N>`: on everything a preview creates. */
  tags: { key: string; value: string }[];
  /** The hidden first line of the pull-request comment, per base service. */
  commentMarker: string;
}

export function previewNames(service: string, preview: PreviewConfig): PreviewNames {
  const base = resourceName(service);
  const n = preview.pullRequest;
  const name = `${base}-pr-${n}`;
  if (name.length > ECS_NAME_MAX) {
    throw new UserError({
      where: 'service',
      what: `The preview service name ${name.slice(0, 40)}… would be ${name.length} characters long; ECS allows ${ECS_NAME_MAX}.`,
      fix: `Use a base service whose name is at most ${ECS_NAME_MAX - `-pr-${n}`.length} characters.`,
    });
  }
  const host = preview.domain === undefined ? undefined : `pr-${n}.${preview.domain}`;
  return {
    baseService: base,
    pullRequest: n,
    service: name,
    targetGroup: targetGroupName(base, n),
    imageTagPrefix: previewTagPrefix(n),
    host,
    url: host !== undefined ? `https://${host}` : expandUrl(preview.urlTemplate, base, n),
    tags: [
      { key: PREVIEW_OF_TAG, value: base },
      { key: PULL_REQUEST_TAG, value: String(n) },
    ],
    commentMarker: `<!-- ecs-deploy-pipeline:preview:${base} -->`,
  };
}

/** The preview's task definition family: the base family with `-pr-<N>`. */
export function previewFamily(baseFamily: string, pullRequest: number): string {
  const family = `${baseFamily}-pr-${pullRequest}`;
  if (family.length > ECS_NAME_MAX) {
    throw new UserError({
      where: 'task-definition-family',
      what: `The preview family ${family.slice(0, 40)}… would be ${family.length} characters long; ECS allows ${ECS_NAME_MAX}.`,
      fix: 'Register the task definition under a shorter family (task-definition-family).',
    });
  }
  return family;
}

/**
 * `<service>-pr-<N>` when that is a valid target group name (at most 32 letters, digits and
 * hyphens, no hyphen at either end, not starting with "internal-"); otherwise as much of
 * the service name as fits, a hash of the whole name (so two long names sharing a prefix
 * stay apart), and `-pr-<N>`.
 */
export function targetGroupName(service: string, pullRequest: number): string {
  const suffix = `-pr-${pullRequest}`;
  const plain = `${service}${suffix}`;
  if (
    plain.length <= TARGET_GROUP_NAME_MAX &&
    /^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/.test(plain) &&
    !plain.toLowerCase().startsWith('internal-')
  ) {
    return plain;
  }
  const hash = createHash('sha256').update(service).digest('hex').slice(0, 6);
  const room = TARGET_GROUP_NAME_MAX - suffix.length - hash.length - 1;
  const head = service
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^(?:internal-)+/i, '')
    .slice(0, Math.max(0, room))
    .replace(/^-+|-+$/g, '');
  return `${head === '' ? 'pr' : head}-${hash}${suffix}`;
}

/** The preview-url template with {number} and {service} filled in. */
export function expandUrl(
  template: string | undefined,
  service: string,
  pullRequest: number,
): string | undefined {
  return template
    ?.replace(/\{number\}/g, String(pullRequest))
    .replace(/\{service\}/g, encodeURIComponent(service));
}

/** Whether AWS tags (ECS `key`/`value` or ELB `Key`/`Value`) mark this preview. */
export function isPreviewTagged(
  tags: { key?: string; value?: string; Key?: string; Value?: string }[] | undefined,
  names: Pick<PreviewNames, 'baseService' | 'pullRequest'>,
): boolean {
  const map = new Map((tags ?? []).map((t) => [t.key ?? t.Key, t.value ?? t.Value]));
  return (
    map.get(PREVIEW_OF_TAG) === names.baseService && map.get(PULL_REQUEST_TAG) === String(names.pullRequest)
  );
}
