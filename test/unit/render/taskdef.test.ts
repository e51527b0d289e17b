import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { UserError, type Problem } from '../../../src/errors.js';
import { parseDocument } from '../../../src/render/document.js';
import {
  type ImageAssignment,
  prepareTaskDefinition,
  READ_ONLY_TASK_DEFINITION_FIELDS,
} from '../../../src/render/taskdef.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/render/${name}`, import.meta.url), 'utf8');
const WEB_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/web:def456';
const web: ImageAssignment[] = [{ containerName: 'web', imageUri: WEB_IMAGE }];
const opts = { source: 'the task definition service web currently runs', where: 'task-definition' };

function minimal(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    family: 'web',
    containerDefinitions: [{ name: 'web', image: 'nginx:1', portMappings: [{ containerPort: 80 }] }],
    ...extra,
  };
}

/** The problems prepareTaskDefinition throws, or a failure when it throws none. */
function problemsOf(...args: Parameters<typeof prepareTaskDefinition>): Problem[] {
  try {
    prepareTaskDefinition(...args);
  } catch (e) {
    if (e instanceof UserError) return e.problems;
    throw e;
  }
  throw new Error('expected the task definition to be refused');
}

describe('prepareTaskDefinition', () => {
  it('unwraps describe-task-definition output, strips read-only fields and keeps new ones and tags', () => {
    const file = 'ecs/describe.json';
    const parsed = parseDocument(fixture('describe-task-definition.json'), file, 'task-definition');
    const before = structuredClone(parsed.value);
    const prepared = prepareTaskDefinition(parsed.value, web, {
      source: file,
      where: 'task-definition',
      parsed,
    });

    expect(parsed.value).toEqual(before);
    expect(prepared.stripped).toEqual([
      'taskDefinitionArn',
      'revision',
      'status',
      'requiresAttributes',
      'compatibilities',
      'registeredAt',
      'registeredBy',
    ]);
    expect(prepared.input).toEqual({
      containerDefinitions: [
        {
          name: 'web',
          image: WEB_IMAGE,
          cpu: 0,
          portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
          essential: true,
          environment: [],
          mountPoints: [],
          volumesFrom: [],
        },
      ],
      family: 'web',
      taskRoleArn: 'arn:aws:iam::123456789012:role/web-task',
      executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
      networkMode: 'awsvpc',
      volumes: [],
      placementConstraints: [],
      runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      ephemeralStorage: { sizeInGiB: 30 },
      tags: [{ key: 'team', value: 'payments' }],
    });
    expect(prepared.replacedPlaceholders).toEqual([]);
    expect(prepared.coerced).toEqual([]);
  });

  it('takes the SDK DescribeTaskDefinition output as it comes', () => {
    const described = {
      $metadata: { httpStatusCode: 200 },
      taskDefinition: {
        ...minimal(),
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:1:task-definition/web:3',
        revision: 3,
        registeredAt: new Date(0),
        deregisteredAt: new Date(1),
        someFieldAwsAddsLater: { enabled: true },
      },
      tags: undefined,
    };
    const prepared = prepareTaskDefinition(described, web, opts);
    expect(prepared.stripped).toEqual(['taskDefinitionArn', 'revision', 'registeredAt', 'deregisteredAt']);
    expect(prepared.input).toEqual({
      family: 'web',
      containerDefinitions: [{ name: 'web', image: WEB_IMAGE, portMappings: [{ containerPort: 80 }] }],
      someFieldAwsAddsLater: { enabled: true },
    });
  });

  it.each([
    ['wrapped, empty tags', { taskDefinition: minimal(), tags: [] }],
    ['wrapped, null tags', { taskDefinition: minimal(), tags: null }],
    ['flat, empty tags', minimal({ tags: [] })],
  ])('drops an empty tags list (%s)', (_, doc) => {
    expect(prepareTaskDefinition(doc, web, opts).input).not.toHaveProperty('tags');
  });

  it('keeps tags written inside a flat task definition', () => {
    const tags = [{ key: 'env', value: 'prod' }];
    expect(prepareTaskDefinition(minimal({ tags }), web, opts).input.tags).toEqual(tags);
  });

  it('lists exactly the fields RegisterTaskDefinition refuses', () => {
    expect(READ_ONLY_TASK_DEFINITION_FIELDS).toEqual([
      'taskDefinitionArn',
      'revision',
      'status',
      'requiresAttributes',
      'compatibilities',
      'registeredAt',
      'registeredBy',
      'deregisteredAt',
    ]);
    expect(Object.isFrozen(READ_ONLY_TASK_DEFINITION_FIELDS)).toBe(true);
  });

  it('fills CodePipeline placeholders by position and coerces task-level cpu and memory', () => {
    const file = 'taskdef.json';
    const parsed = parseDocument(fixture('taskdef-placeholders.json'), file, 'task-definition');
    const images: ImageAssignment[] = [
      { containerName: 'web', imageUri: 'repo/web:1' },
      { containerName: 'worker', imageUri: 'repo/worker:1' },
    ];
    const prepared = prepareTaskDefinition(parsed.value, images, {
      source: file,
      where: 'task-definition',
      parsed,
    });
    expect(prepared.replacedPlaceholders).toEqual(['<IMAGE1_NAME> → web', '<image2_name> → worker']);
    expect(prepared.coerced).toEqual(['task-level cpu 512 → "512"', 'task-level memory 1024 → "1024"']);
    expect(prepared.input.cpu).toBe('512');
    expect(prepared.input.memory).toBe('1024');
    expect(prepared.input.containerDefinitions?.map((c) => c.image)).toEqual([
      'repo/web:1',
      'repo/worker:1',
      'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
    ]);
    expect(prepared.stripped).toEqual([]);
  });

  it.each([
    ['<IMAGE1_NAME>', true],
    ['<Image1_Name>', true],
    ['<image1_NAME>', true],
    ['<IMAGE5_NAME>', false],
    ['<IMAGE0_NAME>', false],
    [' <IMAGE1_NAME>', false],
    ['IMAGE1_NAME', false],
  ])('treats %s as a placeholder: %s', (image, placeholder) => {
    const doc = { family: 'web', containerDefinitions: [{ name: 'side', image }] };
    const prepared = prepareTaskDefinition(doc, [{ containerName: 'side', imageUri: 'repo/side:1' }], opts);
    expect(prepared.replacedPlaceholders).toEqual(placeholder ? [`${image} → side`] : []);
    expect(prepared.input.containerDefinitions?.[0]?.image).toBe('repo/side:1');
  });

  it('fills all four placeholders CodePipeline knows', () => {
    const names = ['a', 'b', 'c', 'd'];
    const doc = {
      family: 'web',
      containerDefinitions: names.map((name, i) => ({ name, image: `<IMAGE${i + 1}_NAME>` })),
    };
    const images = names.map((name) => ({ containerName: name, imageUri: `repo/${name}:1` }));
    const prepared = prepareTaskDefinition(doc, images, opts);
    expect(prepared.input.containerDefinitions?.map((c) => c.image)).toEqual(images.map((i) => i.imageUri));
    expect(prepared.replacedPlaceholders).toHaveLength(4);
  });

  it('fills a placeholder in a container other than the one the image is named for', () => {
    const doc = {
      family: 'web',
      containerDefinitions: [
        { name: 'web', image: 'nginx:1' },
        { name: 'app', image: '<IMAGE1_NAME>' },
      ],
    };
    const prepared = prepareTaskDefinition(doc, web, opts);
    expect(prepared.input.containerDefinitions?.map((c) => c.image)).toEqual([WEB_IMAGE, WEB_IMAGE]);
    expect(prepared.replacedPlaceholders).toEqual(['<IMAGE1_NAME> → app']);
  });

  it('overrides the family, even a missing one', () => {
    const { family: _, ...doc } = minimal();
    expect(prepareTaskDefinition(doc, web, { ...opts, family: 'web-pr-12' }).input.family).toBe('web-pr-12');
  });

  it('does not mutate its input and gives the same output every time', () => {
    const doc = minimal({ cpu: 256, containerDefinitions: [{ name: 'web', image: '<IMAGE1_NAME>' }] });
    const before = structuredClone(doc);
    const first = prepareTaskDefinition(doc, web, opts);
    const second = prepareTaskDefinition(doc, web, opts);
    expect(doc).toEqual(before);
    expect(JSON.stringify(first)).toBe(JSON.stringify(second));
    first.input.containerDefinitions![0]!.image = 'changed';
    expect(second.input.containerDefinitions![0]!.image).toBe(WEB_IMAGE);
  });

  const yamlFile = 'taskdef.yaml';
  const yaml = [
    'family: "bad family!"', // 1
    'cpu: true', // 2
    'memory: 512', // 3
    'containerDefinitions:', // 4
    '  - name: web', // 5
    '    image: <IMAGE2_NAME>', // 6
    '    portMappings:', // 7
    '      - containerPort: "8080"', // 8
    '      - containerPort: 70000', // 9
    '      - hostPort: 80', // 10
    '  - name: web', // 11
    '    image: nginx', // 12
    '  - image: busybox', // 13
    '  - name: sidecar', // 14
    '    portMappings: 80', // 15
    '  - name: worker', // 16
    '    image: <IMAGE3_NAME>', // 17
    '  - name: noimage', // 18
  ].join('\n');

  it('reports every problem of a file at once, each at its line', () => {
    const parsed = parseDocument(yaml, yamlFile, 'task-definition');
    const problems = problemsOf(parsed.value, web, { source: yamlFile, where: 'task-definition', parsed });
    expect(problems.map((p) => [p.where, p.line])).toEqual([
      ['taskdef.yaml: family', 1],
      ['taskdef.yaml: cpu', 2],
      ['taskdef.yaml: containerDefinitions[0].portMappings[0].containerPort', 8],
      ['taskdef.yaml: containerDefinitions[0].portMappings[1].containerPort', 9],
      ['taskdef.yaml: containerDefinitions[1].name', 11],
      ['taskdef.yaml: containerDefinitions[2].name', 13],
      ['taskdef.yaml: containerDefinitions[3].portMappings', 15],
      ['taskdef.yaml: containerDefinitions[0].image', 6],
      ['taskdef.yaml: containerDefinitions[0].image', 6],
      ['taskdef.yaml: containerDefinitions[3].image', 14],
      ['taskdef.yaml: containerDefinitions[4].image', 17],
      ['taskdef.yaml: containerDefinitions[5].image', 18],
    ]);
    expect(problems.every((p) => p.file === yamlFile)).toBe(true);
    expect(problems[2]!.fix).toBe('Write it as a number, without quotes: 8080.');
    expect(problems[7]!.what).toBe(
      'Container "web" has the placeholder <IMAGE2_NAME>, for image 2, but it is given image 1.',
    );
    expect(problems[8]!.what).toBe(
      'Container "web" has the placeholder <IMAGE2_NAME>, but only 1 image is given.',
    );
  });

  it.each<[string, unknown, ImageAssignment[], Record<string, unknown>]>([
    [
      'a missing family',
      { containerDefinitions: [{ name: 'web', image: 'x' }] },
      web,
      { where: `${opts.source}: family`, what: 'The task definition has no family.' },
    ],
    [
      'a family over 255 characters',
      minimal({ family: 'a'.repeat(256) }),
      web,
      { where: `${opts.source}: family` },
    ],
    [
      'no containerDefinitions',
      { family: 'web' },
      [],
      {
        where: `${opts.source}: containerDefinitions`,
        what: 'The task definition has no containerDefinitions.',
      },
    ],
    [
      'empty containerDefinitions',
      { family: 'web', containerDefinitions: [] },
      [],
      { what: 'containerDefinitions is an empty list.' },
    ],
    [
      'a container that is not an object',
      { family: 'web', containerDefinitions: ['web'] },
      [],
      { where: `${opts.source}: containerDefinitions[0]` },
    ],
    [
      'an image for a container that does not exist',
      minimal(),
      [{ containerName: 'api', imageUri: 'repo/api:1' }],
      {
        where: 'container-name',
        what: 'Image 1 (repo/api:1) is for container "api", which the task definition does not have; its containers are: web.',
        fix: 'Set `container-name` (or the name in `containers`) to one of: web.',
      },
    ],
    [
      'two images for one container',
      minimal(),
      [
        { containerName: 'web', imageUri: 'a' },
        { containerName: 'web', imageUri: 'b' },
      ],
      { where: 'containers', what: 'Container "web" is given two images (entries 1 and 2).' },
    ],
    [
      'a placeholder with no image',
      { family: 'web', containerDefinitions: [{ name: 'web', image: '<IMAGE1_NAME>' }] },
      [],
      {
        where: `${opts.source}: containerDefinitions[0].image`,
        what: expect.stringContaining('only 0 images are given'),
      },
    ],
    [
      'an image for a container holding another placeholder',
      {
        family: 'web',
        containerDefinitions: [
          { name: 'web', image: '<IMAGE2_NAME>' },
          { name: 'api', image: '<IMAGE1_NAME>' },
        ],
      },
      [
        { containerName: 'web', imageUri: 'repo/web:1' },
        { containerName: 'api', imageUri: 'repo/api:1' },
      ],
      { fix: 'Make web entry 2 of `containers`, or change its image to <IMAGE1_NAME>.' },
    ],
    [
      'an override family that AWS would refuse',
      minimal(),
      web,
      { where: 'task-definition-family', what: 'The family "web pr" is not a valid task definition family.' },
    ],
    [
      'a number-only containerPort beyond range as a string',
      minimal({
        containerDefinitions: [{ name: 'web', image: 'x', portMappings: [{ containerPort: '99999' }] }],
      }),
      web,
      { fix: 'Set containerPort to the port the container listens on, from 1 to 65535.' },
    ],
    [
      'a fractional containerPort',
      minimal({
        containerDefinitions: [{ name: 'web', image: 'x', portMappings: [{ containerPort: 80.5 }] }],
      }),
      web,
      { what: 'containerPort is the number 80.5; it must be a whole number from 1 to 65535.' },
    ],
    [
      'a port mapping that is not an object',
      minimal({ containerDefinitions: [{ name: 'web', image: 'x', portMappings: [80] }] }),
      web,
      { where: `${opts.source}: containerDefinitions[0].portMappings[0]` },
    ],
    [
      'a non-object document',
      ['web'],
      web,
      { where: opts.source, what: 'The task definition is a list, not an object.' },
    ],
    [
      'a wrapper whose taskDefinition is not an object',
      { taskDefinition: 'web:3' },
      web,
      { where: `${opts.source}: taskDefinition` },
    ],
    [
      'an unknown field next to taskDefinition',
      { taskDefinition: minimal(), family: 'web' },
      web,
      { where: `${opts.source}: family`, what: expect.stringContaining('sits next to taskDefinition') },
    ],
    [
      'tags both outside and inside taskDefinition',
      { taskDefinition: minimal({ tags: [{ key: 'a', value: 'b' }] }), tags: [{ key: 'c', value: 'd' }] },
      web,
      { where: `${opts.source}: tags`, what: 'Tags are given both next to taskDefinition and inside it.' },
    ],
    [
      'wrapped tags that are not a list',
      { taskDefinition: minimal(), tags: { team: 'x' } },
      web,
      { where: `${opts.source}: tags`, what: 'tags is an object, not a list.' },
    ],
    ['a tag without a key', minimal({ tags: [{ value: 'x' }] }), web, { where: `${opts.source}: tags[0]` }],
    [
      'a container without an image',
      { family: 'web', containerDefinitions: [{ name: 'web' }, { name: 'side' }] },
      web,
      {
        where: `${opts.source}: containerDefinitions[1].image`,
        what: 'Container "side" has no image and none is given for it.',
      },
    ],
    [
      'a problem inside a wrapped task definition',
      { taskDefinition: { family: 'web', containerDefinitions: [{ name: '', image: 'x' }] } },
      [],
      { where: `${opts.source}: taskDefinition.containerDefinitions[0].name` },
    ],
  ])('refuses %s', (label, doc, images, expected) => {
    const family = label.startsWith('an override') ? 'web pr' : undefined;
    const problems = problemsOf(doc, images, { ...opts, ...(family && { family }) });
    expect(problems).toContainEqual(expect.objectContaining(expected));
    expect(problems.every((p) => p.file === undefined && p.fix.length > 0)).toBe(true);
  });

  it('points problems in a wrapped file at the lines inside taskDefinition', () => {
    const text =
      '{\n  "taskDefinition": {\n    "family": "web",\n    "cpu": false,\n    "containerDefinitions": [{"name": "web", "image": "x"}]\n  }\n}';
    const parsed = parseDocument(text, 'td.json', 'task-definition');
    const [problem] = problemsOf(parsed.value, web, { source: 'td.json', where: 'task-definition', parsed });
    expect(problem).toMatchObject({ where: 'td.json: taskDefinition.cpu', file: 'td.json', line: 4 });
  });
});

describe('container fields ECS would refuse, caught before any change', () => {
  const withContainer = (fields: Record<string, unknown>) => ({
    family: 'web',
    containerDefinitions: [{ name: 'web', image: 'nginx:1', ...fields }],
  });
  it.each<[string, Record<string, unknown>, ImageAssignment[], string, RegExp]>([
    ['environment as a map', { environment: { PORT: '8080' } }, [], 'environment', /not a list/],
    [
      'an environment value that is a number',
      { environment: [{ name: 'PORT', value: 8080 }] },
      [],
      'environment[0].value',
      /Quote the value: "8080"/,
    ],
    [
      'an environment value that is a boolean',
      { environment: [{ name: 'DEBUG', value: true }] },
      [],
      'environment[0].value',
      /strings/,
    ],
    [
      'an environment entry without a name',
      { environment: [{ value: 'x' }] },
      [],
      'environment[0].name',
      /no name/,
    ],
    ['an environment entry that is a string', { environment: ['PORT=8080'] }, [], 'environment[0]', /name/],
    ['a secret without valueFrom', { secrets: [{ name: 'DB_PASSWORD' }] }, [], 'secrets[0].valueFrom', /ARN/],
    [
      'a secret with an empty valueFrom',
      { secrets: [{ name: 'DB', valueFrom: '' }] },
      [],
      'secrets[0].valueFrom',
      /ARN/,
    ],
    [
      'secrets as a map',
      { secrets: { DB: 'arn:aws:ssm:us-east-1:1:parameter/db' } },
      [],
      'secrets',
      /not a list/,
    ],
    ['essential as a string', { essential: 'true' }, [], 'essential', /without quotes: true/],
    ['essential as "false"', { essential: 'false' }, [], 'essential', /without quotes: false/],
    ['essential as a number', { essential: 1 }, [], 'essential', /boolean/],
    ['an image with a space', { image: 'nginx :1' }, [], 'image', /whitespace/],
    ['an image with a newline', { image: 'nginx:1\n::add-mask::x' }, [], 'image', /whitespace/],
    ['an image with an upper-case repository', { image: 'example.com/MyApp:1' }, [], 'image', /upper-case/],
    ['an image as a number', { image: 42 }, [], 'image', /no image/],
    ['an image over 255 characters', { image: `a/${'b'.repeat(260)}:1` }, [], 'image', /255/],
    [
      'a given image URI with a space',
      { image: 'nginx:1' },
      [{ containerName: 'web', imageUri: 'repo:t ag' }],
      'image',
      /whitespace/,
    ],
  ])('%s', (_name, fields, images, field, fix) => {
    const problems = problemsOf(withContainer(fields), images, opts);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.where).toBe(`${opts.source}: containerDefinitions[0].${field}`);
    expect(`${problems[0]?.what} ${problems[0]?.fix}`).toMatch(fix);
  });

  it.each([
    'nginx',
    'nginx:1.27-alpine',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web:abc123',
    'localhost:5000/web@sha256:' + 'a'.repeat(64),
    'Registry.Example.com:443/web_app__x/a-b:Tag_1.0',
    '<IMAGE1_NAME>',
  ])('accepts the image reference %s', (image) => {
    const images = image === '<IMAGE1_NAME>' ? [{ containerName: 'web', imageUri: 'web:1' }] : [];
    expect(() => prepareTaskDefinition(withContainer({ image }), images, opts)).not.toThrow();
  });

  it('accepts string environment values, a secret with valueFrom and essential as a boolean', () => {
    const fields = {
      essential: false,
      environment: [{ name: 'PORT', value: '8080' }, { name: 'EMPTY' }],
      secrets: [{ name: 'DB', valueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/db' }],
    };
    expect(() => prepareTaskDefinition(withContainer(fields), [], opts)).not.toThrow();
  });

  it('refuses a task definition over 64 KiB, and names the fix', () => {
    const environment = Array.from({ length: 70 }, (_, i) => ({ name: `V${i}`, value: 'x'.repeat(1000) }));
    const problems = problemsOf(withContainer({ environment }), [], opts);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.what).toMatch(/at most 65536 \(64 KiB\)/);
    expect(problems[0]?.fix).toMatch(/environmentFiles|Secrets Manager/);
  });

  it('refuses a map-shaped containerDefinitions with one problem, not a crash', () => {
    const problems = problemsOf(
      { family: 'web', containerDefinitions: { web: { image: 'nginx' } } },
      [],
      opts,
    );
    expect(problems).toEqual([
      expect.objectContaining({ what: expect.stringMatching(/containerDefinitions is an object/) }),
    ]);
  });
});

it('refuses an upper-case first path component that is not a registry host', () => {
  const problems = problemsOf(
    { family: 'web', containerDefinitions: [{ name: 'web', image: 'MyOrg/app:1' }] },
    [],
    opts,
  );
  expect(problems[0]?.what).toMatch(/upper-case/);
});
