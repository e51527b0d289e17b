import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { UserError } from '../errors.js';
import { describeValue, FieldProblems, isRecord, type FieldPath, type ParsedDocument } from './document.js';

/**
 * Fields DescribeTaskDefinition returns that RegisterTaskDefinition refuses ("Unknown
 * parameter in input"). A deny-list on purpose: an allow-list silently drops fields AWS adds
 * later, as happened to ephemeralStorage and runtimePlatform in other tools.
 */
export const READ_ONLY_TASK_DEFINITION_FIELDS: readonly string[] = Object.freeze([
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
]);

export interface ImageAssignment {
  containerName: string;
  imageUri: string;
}

export interface PreparedTaskDefinition {
  /** Ready for RegisterTaskDefinition. */
  input: RegisterTaskDefinitionCommandInput;
  /** Read-only fields removed (the caller prints a notice). */
  stripped: string[];
  /** e.g. `<IMAGE1_NAME> → web`. */
  replacedPlaceholders: string[];
  /** Friendly fixes applied, e.g. `task-level cpu 256 → "256"`. */
  coerced: string[];
}

const FAMILY_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
/** CodePipeline's CodeDeployToECS action fills `<IMAGE1_NAME>` … `<IMAGE4_NAME>`. */
const IMAGE_PLACEHOLDER = /^<IMAGE([1-4])_NAME>$/i;
/** The CLI's `describe-task-definition --include TAGS` output, and the SDK's ($metadata). */
const WRAPPER_FIELDS = ['taskDefinition', 'tags', '$metadata'];

/**
 * Turns a task definition as written in task-definition.json, as DescribeTaskDefinition
 * returns it, or in the CLI's wrapped form `{taskDefinition, tags}` into the input of
 * RegisterTaskDefinition, with the given images put in. All problems are thrown at once.
 */
export function prepareTaskDefinition(
  doc: unknown,
  images: ImageAssignment[],
  opts: { source: string; where: string; parsed?: ParsedDocument; family?: string },
): PreparedTaskDefinition {
  const file = opts.parsed ? opts.source : undefined;
  const origin = { source: opts.source, file, parsed: opts.parsed };
  if (!isRecord(doc)) {
    throw new UserError({
      where: opts.source,
      what: `The task definition is ${describeValue(doc)}, not an object.`,
      fix: `Give \`${opts.where}\` a task definition object with family and containerDefinitions.`,
      ...(file !== undefined && { file, line: opts.parsed?.lineOf([]) ?? 1 }),
    });
  }

  const wrapped = 'taskDefinition' in doc;
  const top = new FieldProblems(origin);
  const problems = wrapped ? top.within(['taskDefinition']) : top;
  const body: unknown = wrapped ? doc.taskDefinition : doc;
  if (wrapped) {
    for (const key of Object.keys(doc).filter((k) => !WRAPPER_FIELDS.includes(k))) {
      top.at(
        [key],
        `"${key}" sits next to taskDefinition, in the wrapped describe-task-definition form that has only taskDefinition and tags.`,
        `Move "${key}" inside taskDefinition, or remove the wrapper and write the task definition's fields at the top level.`,
      );
    }
    if (!isRecord(body)) {
      top.at(
        ['taskDefinition'],
        `taskDefinition is ${describeValue(body)}, not an object.`,
        'Give taskDefinition the task definition object (as describe-task-definition prints it).',
      );
    }
  }
  if (!isRecord(body)) throw new UserError(top.problems.list);

  const stripped = READ_ONLY_TASK_DEFINITION_FIELDS.filter((f) => f in body);
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!stripped.includes(key)) input[key] = structuredClone(value);
  }

  mergeOuterTags(input, wrapped ? doc.tags : undefined, { top, problems });

  checkFamily(input, opts.family, problems);

  const coerced = coerceTaskSize(input, problems);
  const containers = checkContainers(input.containerDefinitions, problems);
  const replacedPlaceholders = containers ? assignImages(containers, images, problems) : [];
  for (const c of containers ?? [])
    checkImage(c.def.image, ['containerDefinitions', c.index, 'image'], problems);

  checkSize(input, problems);
  problems.throwIfAny();
  return {
    // Checked where this action relies on it; RegisterTaskDefinition validates the rest.
    input: input as unknown as RegisterTaskDefinitionCommandInput,
    stripped,
    replacedPlaceholders,
    coerced,
  };
}

/** The wrapped form's tags (next to taskDefinition) join the body; tags in both places are a problem. */
function mergeOuterTags(
  input: Record<string, unknown>,
  outerTags: unknown,
  at: { top: FieldProblems; problems: FieldProblems },
): void {
  let tagsAt = at.problems;
  if (outerTags !== undefined && outerTags !== null) {
    if (input.tags !== undefined) {
      at.top.at(
        ['tags'],
        'Tags are given both next to taskDefinition and inside it.',
        'Keep one tags list (describe-task-definition prints them next to taskDefinition).',
      );
    } else {
      input.tags = structuredClone(outerTags);
      tagsAt = at.top;
    }
  }
  checkTags(input, tagsAt);
}

/** `task-definition-family` wins over the file's family; either must be a valid family name. */
function checkFamily(
  input: Record<string, unknown>,
  family: string | undefined,
  problems: FieldProblems,
): void {
  if (family !== undefined) {
    if (!FAMILY_PATTERN.test(family)) {
      problems.add({
        where: 'task-definition-family',
        what: `The family ${JSON.stringify(family)} is not a valid task definition family.`,
        fix: 'Set `task-definition-family` to up to 255 letters, numbers, hyphens and underscores.',
      });
    }
    input.family = family;
  } else if (typeof input.family !== 'string' || !FAMILY_PATTERN.test(input.family)) {
    problems.at(
      ['family'],
      input.family === undefined
        ? 'The task definition has no family.'
        : `family is ${describeValue(input.family)}, which is not a valid task definition family.`,
      'Set family to up to 255 letters, numbers, hyphens and underscores (the name every revision shares).',
    );
  }
}

function checkSize(input: Record<string, unknown>, problems: FieldProblems): void {
  const bytes = Buffer.byteLength(JSON.stringify(input), 'utf8');
  if (bytes > TASK_DEFINITION_MAX_BYTES) {
    problems.at(
      [],
      `The task definition is ${bytes} bytes as JSON; ECS accepts at most ${TASK_DEFINITION_MAX_BYTES} (64 KiB).`,
      'Move large values out of it: environment files (environmentFiles) or secrets (Secrets Manager, SSM) instead of inline environment.',
    );
  }
}

/** An empty tags list is dropped: it tags nothing, and the wrapped form often carries one. */
function checkTags(input: Record<string, unknown>, problems: FieldProblems): void {
  const tags = input.tags;
  if (tags === undefined) return;
  if (!Array.isArray(tags)) {
    problems.at(
      ['tags'],
      `tags is ${describeValue(tags)}, not a list.`,
      'Write tags as a list of {"key": …, "value": …}.',
    );
  } else if (tags.length === 0) {
    delete input.tags;
  } else {
    tags.forEach((tag, i) => {
      if (!isRecord(tag) || typeof tag.key !== 'string' || tag.key === '') {
        problems.at(
          ['tags', i],
          'A tag needs a non-empty "key".',
          'Write each tag as {"key": "name", "value": "value"}.',
        );
      }
    });
  }
}

/** The API takes task-level cpu and memory as strings; the AWS CLI rejects numbers there. */
function coerceTaskSize(input: Record<string, unknown>, problems: FieldProblems): string[] {
  const coerced: string[] = [];
  for (const field of ['cpu', 'memory'] as const) {
    const value = input[field];
    if (typeof value === 'number') {
      input[field] = String(value);
      coerced.push(`task-level ${field} ${value} → "${value}"`);
    } else if (value !== undefined && typeof value !== 'string') {
      problems.at(
        [field],
        `Task-level ${field} is ${describeValue(value)}.`,
        `Write ${field} as a string such as "${field === 'cpu' ? '256' : '512'}".`,
      );
    }
  }
  return coerced;
}

interface Container {
  index: number;
  name: string;
  def: Record<string, unknown>;
  /** n of an `<IMAGEn_NAME>` placeholder, as written before any image is put in. */
  placeholder?: number;
}

function checkContainers(defs: unknown, problems: FieldProblems): Container[] | undefined {
  if (!Array.isArray(defs) || defs.length === 0) {
    problems.at(
      ['containerDefinitions'],
      defs === undefined
        ? 'The task definition has no containerDefinitions.'
        : `containerDefinitions is ${Array.isArray(defs) ? 'an empty list' : describeValue(defs)}.`,
      'Give containerDefinitions a list with at least one container ({"name": …, "image": …}).',
    );
    return undefined;
  }
  const containers: Container[] = [];
  const seen = new Set<string>();
  defs.forEach((def: unknown, index) => {
    const path: FieldPath = ['containerDefinitions', index];
    if (!isRecord(def)) {
      problems.at(
        path,
        `This container is ${describeValue(def)}, not an object.`,
        'Write each container as an object.',
      );
      return;
    }
    if (typeof def.name !== 'string' || def.name === '') {
      problems.at(
        [...path, 'name'],
        'This container has no name.',
        'Give every container a unique name (the load balancer and image inputs refer to it).',
      );
    } else if (seen.has(def.name)) {
      problems.at(
        [...path, 'name'],
        `Two containers are named ${JSON.stringify(def.name)}.`,
        'Give every container a unique name.',
      );
    } else {
      seen.add(def.name);
      const placeholder = typeof def.image === 'string' ? IMAGE_PLACEHOLDER.exec(def.image)?.[1] : undefined;
      containers.push({
        index,
        name: def.name,
        def,
        ...(placeholder !== undefined && { placeholder: Number(placeholder) }),
      });
    }
    checkPortMappings(def.portMappings, path, problems);
    checkContainerFields(def, path, problems);
  });
  return containers;
}

/** Fields ECS refuses when their type is wrong; caught here, naming the field, before any change. */
function checkContainerFields(def: Record<string, unknown>, path: FieldPath, problems: FieldProblems): void {
  if (def.essential !== undefined && typeof def.essential !== 'boolean') {
    problems.at(
      [...path, 'essential'],
      `essential is ${describeValue(def.essential)}; ECS takes true or false.`,
      `Write essential as a boolean, without quotes: ${def.essential === 'false' ? 'false' : 'true'}.`,
    );
  }
  checkNameValueList(def.environment, [...path, 'environment'], 'value', problems);
  checkNameValueList(def.secrets, [...path, 'secrets'], 'valueFrom', problems);
}

/** `environment` is a list of {name, value} and `secrets` a list of {name, valueFrom}, all strings. */
function checkNameValueList(
  list: unknown,
  path: FieldPath,
  valueKey: 'value' | 'valueFrom',
  problems: FieldProblems,
): void {
  if (list === undefined) return;
  const field = String(path[path.length - 1]);
  const example =
    valueKey === 'value'
      ? '{"name": "PORT", "value": "8080"}'
      : '{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:…"}';
  if (!Array.isArray(list)) {
    problems.at(
      path,
      `${field} is ${describeValue(list)}, not a list.`,
      `Write ${field} as a list of objects such as [${example}].`,
    );
    return;
  }
  list.forEach((entry: unknown, i) => {
    const at: FieldPath = [...path, i];
    if (!isRecord(entry)) {
      problems.at(at, `This ${field} entry is ${describeValue(entry)}.`, `Write it as ${example}.`);
      return;
    }
    if (typeof entry.name !== 'string' || entry.name === '') {
      problems.at([...at, 'name'], `This ${field} entry has no name.`, `Write it as ${example}.`);
    }
    const value = entry[valueKey];
    if (
      valueKey === 'valueFrom'
        ? typeof value !== 'string' || value === ''
        : value !== undefined && typeof value !== 'string'
    ) {
      problems.at(
        [...at, valueKey],
        value === undefined
          ? `This secret has no valueFrom.`
          : `${valueKey} is ${describeValue(value)}; ECS takes only strings here.`,
        valueKey === 'valueFrom'
          ? 'Set valueFrom to the ARN of the Secrets Manager secret or SSM parameter.'
          : `Quote the value: ${JSON.stringify(String(value))}.`,
      );
    }
  });
}

/**
 * A Docker image reference: an optional registry host (which may have upper case and a port), then
 * lower-case path components, then a tag or a digest. ECS stores any 255 characters, but a task
 * with another reference never starts (the pull fails), so it is refused here.
 */
const REGISTRY_HOST = String.raw`(?:(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::\d+)?|[A-Za-z0-9-]+:\d+)`;
const PATH_COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const IMAGE_REFERENCE = new RegExp(
  String.raw`^(?:${REGISTRY_HOST}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::\w[\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

/** The image each container will run, once the given images are put in. */
function checkImage(image: unknown, path: FieldPath, problems: FieldProblems): void {
  // A missing or non-string image is reported where images are assigned.
  if (typeof image !== 'string' || image === '' || IMAGE_PLACEHOLDER.test(image)) return;
  if (image.length <= 255 && IMAGE_REFERENCE.test(image)) return;
  const why = /\s/.test(image)
    ? 'it contains whitespace'
    : image.length > 255
      ? 'it is longer than 255 characters'
      : /[A-Z]/.test(image.replace(new RegExp(String.raw`^${REGISTRY_HOST}/`), ''))
        ? 'its repository name has upper-case letters'
        : 'it is not a valid image reference';
  problems.at(
    path,
    `The image ${JSON.stringify(image)} cannot be pulled: ${why}.`,
    'Write it as [registry/]repository[:tag][@sha256:digest], the repository in lower case, with no spaces.',
  );
}

/** ECS refuses a task definition whose JSON is over 64 KiB. */
export const TASK_DEFINITION_MAX_BYTES = 64 * 1024;

function checkPortMappings(mappings: unknown, path: FieldPath, problems: FieldProblems): void {
  if (mappings === undefined) return;
  if (!Array.isArray(mappings)) {
    problems.at(
      [...path, 'portMappings'],
      `portMappings is ${describeValue(mappings)}, not a list.`,
      'Write portMappings as a list such as [{"containerPort": 8080}].',
    );
    return;
  }
  mappings.forEach((mapping: unknown, i) => {
    const at: FieldPath = [...path, 'portMappings', i];
    if (!isRecord(mapping)) {
      problems.at(
        at,
        `This port mapping is ${describeValue(mapping)}.`,
        'Write it as {"containerPort": 8080}.',
      );
      return;
    }
    const port = mapping.containerPort;
    if (port === undefined || isPort(port)) return;
    const asNumber = typeof port === 'string' && /^\d+$/.test(port.trim()) ? Number(port) : undefined;
    problems.at(
      [...at, 'containerPort'],
      `containerPort is ${describeValue(port)}; it must be a whole number from 1 to 65535.`,
      asNumber !== undefined && isPort(asNumber)
        ? `Write it as a number, without quotes: ${asNumber}.`
        : 'Set containerPort to the port the container listens on, from 1 to 65535.',
    );
  });
}

export function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}

/**
 * Images reach containers two ways: by name (an assignment's containerName) and, as in
 * CodePipeline, by placeholder (the n-th image fills `<IMAGEn_NAME>`). Both must agree.
 */
function assignImages(containers: Container[], images: ImageAssignment[], problems: FieldProblems): string[] {
  const replaced: string[] = [];
  const assigned = new Map<string, number>();
  const input = images.length === 1 ? 'container-name' : 'containers';
  const names = containers.map((c) => c.name).join(', ');

  images.forEach((image, i) => {
    const n = i + 1;
    const container = containers.find((c) => c.name === image.containerName);
    if (!container) {
      problems.add({
        where: input,
        what: `Image ${n} (${image.imageUri}) is for container ${JSON.stringify(image.containerName)}, which the task definition does not have; its containers are: ${names}.`,
        fix: `Set \`container-name\` (or the name in \`containers\`) to one of: ${names}.`,
      });
      return;
    }
    if (assigned.has(container.name)) {
      problems.add({
        where: input,
        what: `Container ${JSON.stringify(container.name)} is given two images (entries ${assigned.get(container.name)} and ${n}).`,
        fix: 'List each container once in `containers`.',
      });
      return;
    }
    assigned.set(container.name, n);
    if (container.placeholder !== undefined && container.placeholder !== n) {
      problems.at(
        ['containerDefinitions', container.index, 'image'],
        `Container ${JSON.stringify(container.name)} has the placeholder ${String(container.def.image)}, for image ${container.placeholder}, but it is given image ${n}.`,
        `Make ${container.name} entry ${container.placeholder} of \`containers\`, or change its image to <IMAGE${n}_NAME>.`,
      );
      return;
    }
    if (container.placeholder === undefined) container.def.image = image.imageUri;
  });

  for (const container of containers) {
    if (container.placeholder !== undefined) {
      const image = images[container.placeholder - 1];
      const written = container.def.image as string;
      if (image) {
        container.def.image = image.imageUri;
        replaced.push(`${written} → ${container.name}`);
      } else {
        problems.at(
          ['containerDefinitions', container.index, 'image'],
          `Container ${JSON.stringify(container.name)} has the placeholder ${written}, but only ${images.length} image${images.length === 1 ? ' is' : 's are'} given.`,
          `Add an image for ${container.name} as entry ${container.placeholder} of \`containers\`, or replace the placeholder with an image URI.`,
        );
      }
    } else if (typeof container.def.image !== 'string' || container.def.image === '') {
      problems.at(
        ['containerDefinitions', container.index, 'image'],
        `Container ${JSON.stringify(container.name)} has no image and none is given for it.`,
        `Set its image in the task definition, or name ${container.name} in \`container-name\`/\`containers\`.`,
      );
    }
  }
  return replaced;
}
