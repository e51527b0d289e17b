import { describe, expect, it } from '@jest/globals';
import { imageTags, readConfig, parseList } from '../../src/config.js';
import { UserError } from '../../src/errors.js';

const env = {
  GITHUB_WORKSPACE: '/ws',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  AWS_REGION: 'eu-west-1',
  RUNNER_TEMP: '/tmp/runner',
};
const base = { 'ecr-repository': 'app', service: 'web', 'task-definition': 'taskdef.json' };
const read = (inputs: Record<string, string>, e: Record<string, string> = env) =>
  readConfig((name) => inputs[name] ?? '', e);

function problemsOf(inputs: Record<string, string>, e: Record<string, string> = env): string[] {
  try {
    read(inputs, e);
  } catch (err) {
    if (err instanceof UserError) return err.problems.map((p) => `${p.where}: ${p.what}`);
    throw err;
  }
  return [];
}

describe('readConfig', () => {
  it('applies the documented defaults', () => {
    const c = read(base);
    expect(c).toMatchObject({
      region: 'eu-west-1',
      cluster: 'default',
      service: 'web',
      deployMode: 'auto',
      waitForServiceStability: true,
      waitForMinutes: 30,
      pollIntervalSeconds: 5,
      rollbackOnTimeout: true,
      maxRetries: 5,
      createRepository: false,
      forceNewDeployment: false,
      outputDir: '/tmp/runner/ecs-deploy',
      taskDefinition: { kind: 'file', path: '/ws/taskdef.json' },
    });
    expect(c.build).toMatchObject({ provenance: false, push: true, shaTag: 'full', platforms: [] });
    expect(c.containers).toEqual([
      {
        name: undefined,
        build: { context: '/ws', file: undefined, target: undefined, buildArgs: [], repository: 'app' },
      },
    ]);
  });

  it.each([
    ['aws-region input wins over the environment', { 'aws-region': 'us-west-2' }, { region: 'us-west-2' }],
    [
      'deploy an existing image',
      { image: '1.dkr.ecr.us-east-1.amazonaws.com/app:v1', 'ecr-repository': '' },
      { containers: [{ name: undefined, image: '1.dkr.ecr.us-east-1.amazonaws.com/app:v1' }] },
    ],
    [
      'a file registered under another family',
      { 'task-definition-family': 'web-preview' },
      { taskDefinition: { kind: 'file', path: '/ws/taskdef.json' }, taskDefinitionFamily: 'web-preview' },
    ],
    [
      'task definition family',
      { 'task-definition': '', 'task-definition-family': 'web' },
      { taskDefinition: { kind: 'family', family: 'web' } },
    ],
    [
      'task definition arn',
      {
        'task-definition': '',
        'task-definition-arn': 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3',
      },
      { taskDefinition: { kind: 'arn', arn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3' } },
    ],
    [
      'no task definition: take the service one',
      { 'task-definition': '' },
      { taskDefinition: { kind: 'service' } },
    ],
    [
      'deploy-mode none needs no service',
      { service: '', 'deploy-mode': 'none' },
      { deployMode: 'none', service: undefined },
    ],
    [
      'booleans in YAML core forms',
      { 'wait-for-service-stability': 'False', 'rollback-on-timeout': 'FALSE', 'create-repository': 'True' },
      { waitForServiceStability: false, rollbackOnTimeout: false, createRepository: true },
    ],
    [
      'numbers',
      {
        'wait-for-minutes': '0.5',
        'poll-interval-seconds': '2',
        'desired-count': '0',
        'container-port': '8080',
        'max-retries': '0',
      },
      { waitForMinutes: 0.5, pollIntervalSeconds: 2, desiredCount: 0, containerPort: 8080, maxRetries: 0 },
    ],
    ['output-dir relative to the workspace', { 'output-dir': 'out' }, { outputDir: '/ws/out' }],
    [
      'codedeploy names',
      {
        'codedeploy-application': 'App',
        'codedeploy-deployment-group': 'Dg',
        'codedeploy-deployment-config': 'CodeDeployDefault.ECSAllAtOnce',
      },
      {
        codedeploy: {
          application: 'App',
          deploymentGroup: 'Dg',
          deploymentConfig: 'CodeDeployDefault.ECSAllAtOnce',
          appspecPath: undefined,
          description: undefined,
        },
      },
    ],
  ])('%s', (_name, inputs, expected) => {
    expect(read({ ...base, ...inputs })).toMatchObject(expected);
  });

  it('reads build inputs as lists', () => {
    const c = read({
      ...base,
      'build-args': 'A=1\nB=two words\n# comment\n',
      platforms: 'linux/amd64, linux/arm64',
      tags: 'latest,v1',
      'cache-from': 'type=gha',
      network: 'host',
      file: 'docker/Dockerfile',
      target: 'prod',
    });
    expect(c.containers[0]?.build).toEqual({
      context: '/ws',
      file: '/ws/docker/Dockerfile',
      target: 'prod',
      buildArgs: ['A=1', 'B=two words'],
      repository: 'app',
    });
    expect(c.build).toMatchObject({
      platforms: ['linux/amd64', 'linux/arm64'],
      tags: ['latest', 'v1'],
      cacheFrom: ['type=gha'],
      network: 'host',
    });
  });

  it('reads several containers', () => {
    const c = read({
      ...base,
      'ecr-repository': '',
      containers:
        'web:\n  context: app\n  repository: web\n  build-args: [X=1]\nenvoy: public.ecr.aws/envoy:v1\nlog:\n  image: fluent:2\n',
    });
    expect(c.containers).toEqual([
      {
        name: 'web',
        build: {
          context: '/ws/app',
          file: undefined,
          target: undefined,
          buildArgs: ['X=1'],
          repository: 'web',
        },
      },
      { name: 'envoy', image: 'public.ecr.aws/envoy:v1' },
      { name: 'log', image: 'fluent:2' },
    ]);
  });

  it.each([
    [
      'no region',
      { ...base },
      { GITHUB_WORKSPACE: '/ws', GITHUB_SHA: 'abc' },
      ['aws-region: No AWS region is set.'],
    ],
    [
      'bad region',
      { ...base, 'aws-region': 'Europe' },
      env,
      ['aws-region: "Europe" is not an AWS region name.'],
    ],
    ['bad boolean', { ...base, push: 'yes' }, env, ['push: "yes" is not a boolean.']],
    [
      'bad number',
      { ...base, 'wait-for-minutes': '10m' },
      env,
      ['wait-for-minutes: "10m" is not a number of minutes above 0 and at most 360.'],
    ],
    [
      'port out of range',
      { ...base, 'container-port': '70000' },
      env,
      ['container-port: "70000" is not a whole number from 1 to 65535.'],
    ],
    [
      'unknown deploy mode',
      { ...base, 'deploy-mode': 'bluegreen' },
      env,
      ['deploy-mode: "bluegreen" is not one of auto, codedeploy, rolling, ecs-native, none.'],
    ],
    [
      'unknown wait-until stage',
      { ...base, 'wait-until': 'BAKE' },
      env,
      [
        'wait-until: "BAKE" is not one of complete, RECONCILE_SERVICE, PRE_SCALE_UP, SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, CLEAN_UP.',
      ],
    ],
    [
      'paused-hook together with rollback',
      { ...base, 'paused-hook': 'continue', rollback: 'true' },
      env,
      [
        'paused-hook: paused-hook is continue together with rollback or preview; a paused-hook run only continues or rolls back the service deployment waiting at a PAUSE hook.',
      ],
    ],
    [
      'no repository to build into',
      { service: 'web', 'task-definition': 't.json' },
      env,
      ['ecr-repository: An image is to be built but no ECR repository is named for it.'],
    ],
    [
      'repository given as a URI',
      { ...base, 'ecr-repository': '123456789012.dkr.ecr.us-east-1.amazonaws.com/app' },
      env,
      ['ecr-repository: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app" is not an ECR repository name.'],
    ],
    [
      'tag injection',
      { ...base, tags: 'v1;rm -rf /' },
      env,
      ['tags: "v1;rm -rf /" is not a valid image tag.'],
    ],
    [
      'tag with a space',
      { ...base, tags: '$(whoami)' },
      env,
      ['tags: "$(whoami)" is not a valid image tag.'],
    ],
    [
      'build arg without =',
      { ...base, 'build-args': 'JUSTNAME' },
      env,
      ['build-args: "JUSTNAME" is not NAME=value.'],
    ],
    [
      'build arg name injection',
      { ...base, 'build-args': '--network=host x=1' },
      env,
      ['build-args: "--network=host x=1" is not NAME=value.'],
    ],
    [
      'path outside the workspace',
      { ...base, 'task-definition': '../../etc/passwd' },
      env,
      ['task-definition: "../../etc/passwd" is outside the workspace (/ws).'],
    ],
    [
      'absolute path outside',
      { ...base, 'codedeploy-appspec': '/etc/appspec.yaml' },
      env,
      ['codedeploy-appspec: "/etc/appspec.yaml" is outside the workspace (/ws).'],
    ],
    ['context outside', { ...base, context: '..' }, env, ['context: ".." is outside the workspace (/ws).']],
    [
      'two task definition sources',
      { ...base, 'task-definition-arn': 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3' },
      env,
      ['task-definition-arn: task-definition-arn is set together with task-definition.'],
    ],
    [
      'family and arn',
      {
        service: 'web',
        'ecr-repository': 'app',
        'task-definition-family': 'web',
        'task-definition-arn': 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3',
      },
      env,
      ['task-definition-arn: task-definition-arn is set together with task-definition-family.'],
    ],
    [
      'a cluster ARN of another region',
      { ...base, cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod' },
      env,
      [
        'cluster: arn:aws:ecs:us-east-1:123456789012:cluster/prod is in us-east-1, but the run deploys to eu-west-1.',
      ],
    ],
    [
      'a service ARN of another region',
      { ...base, service: 'arn:aws:ecs:us-west-2:123456789012:service/prod/web' },
      env,
      [
        'service: arn:aws:ecs:us-west-2:123456789012:service/prod/web is in us-west-2, but the run deploys to eu-west-1.',
      ],
    ],
    [
      'a network with an option in it',
      { ...base, network: 'host --privileged' },
      env,
      ['network: "host --privileged" is not a Docker network.'],
    ],
    [
      'a platform that is not os/arch',
      { ...base, platforms: 'linux/amd64, x86' },
      env,
      ['platforms: "x86" is not a platform.'],
    ],
    [
      'a target with a space',
      { ...base, target: 'prod stage' },
      env,
      ['target: "prod stage" is not a build stage name.'],
    ],
    [
      'bad task definition arn',
      { service: 'web', 'ecr-repository': 'app', 'task-definition-arn': 'web:3' },
      env,
      ['task-definition-arn: "web:3" is not a task definition ARN.'],
    ],
    [
      'no service to deploy',
      { 'ecr-repository': 'app', 'task-definition': 't.json' },
      env,
      ['service: deploy-mode is auto but no service is named.'],
    ],
    [
      'nothing to start from',
      { 'ecr-repository': 'app', 'deploy-mode': 'none' },
      env,
      ['task-definition: No task definition is given and there is no service to take the current one from.'],
    ],
    [
      'push false but deploying',
      { ...base, push: 'false' },
      env,
      ['push: push is false, but the image is to be deployed, and ECS can only run pushed images.'],
    ],
    [
      'bad image reference',
      { ...base, image: 'not an image' },
      env,
      ['image: "not an image" is not an image reference.'],
    ],
    [
      'containers with image',
      { ...base, image: 'a:1', containers: 'web: b:1' },
      env,
      ['containers: containers is given together with image or container-name.'],
    ],
    [
      'containers not a mapping',
      { ...base, containers: '- web' },
      env,
      ['containers: must be a mapping of container name to its image or build.'],
    ],
    [
      'containers unknown key',
      { ...base, containers: 'web:\n  dockerfile: x' },
      env,
      ['containers: web: unknown key "dockerfile".'],
    ],
    [
      'containers YAML bomb',
      {
        ...base,
        containers:
          'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n',
      },
      env,
      ['containers: is not valid YAML: Excessive alias count indicates a resource exhaustion attack'],
    ],
    [
      'bad codedeploy name',
      { ...base, 'codedeploy-application': 'my app' },
      env,
      ['codedeploy-application: "my app" is not a valid CodeDeploy name.'],
    ],
    [
      'no sha and no tags',
      { ...base },
      { GITHUB_WORKSPACE: '/ws', AWS_REGION: 'us-east-1' },
      ['tags: GITHUB_SHA is not set, so the image has no tag.'],
    ],
  ])('rejects %s', (_name, inputs, e, expected) => {
    expect(problemsOf(inputs, e)).toEqual(expected);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf(
      { push: 'maybe', 'wait-for-minutes': 'x', 'deploy-mode': 'y' },
      { GITHUB_WORKSPACE: '/ws' },
    );
    expect(problems.length).toBeGreaterThanOrEqual(4);
  });

  it('gives each problem a fix', () => {
    try {
      read({ ...base, 'ecr-repository': '123456789012.dkr.ecr.us-east-1.amazonaws.com/app' });
      throw new Error('expected a UserError');
    } catch (e) {
      expect((e as UserError).problems[0]?.fix).toBe('Give only the repository name: app.');
    }
  });
});

describe('imageTags', () => {
  const sha = '0123456789abcdef0123456789abcdef01234567';
  it.each([
    ['full', [], [sha]],
    ['short', [], ['0123456']],
    ['both', ['latest'], [sha, '0123456', 'latest']],
    ['full', [sha], [sha]],
  ] as const)('sha-tag %s with %j', (shaTag, tags, expected) => {
    expect(imageTags({ sha, build: { shaTag, tags: [...tags] } as never })).toEqual(expected);
  });
  it('uses the extra tags when there is no SHA', () => {
    expect(imageTags({ sha: '', build: { shaTag: 'full', tags: ['v1'] } as never })).toEqual(['v1']);
  });
});

describe('parseList', () => {
  it.each([
    ['a,b\nc', true, ['a', 'b', 'c']],
    ['a,b\n\n# x\n c ', false, ['a,b', 'c']],
    ['', true, []],
  ])('%j', (input, commas, expected) => {
    expect(parseList(input, { commas })).toEqual(expected);
  });
});
