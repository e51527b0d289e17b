/**
 * The bad-input matrix: the built action (dist/index.js), run as the runner runs it, against
 * the local AWS endpoint with inputs and files that are wrong in one way each. Every run
 * must fail with exit code 1 and an `::error` annotation that names the input or file field
 * and says how to fix it, make no call that changes anything, show no secret, and leave
 * nothing running.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cp, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { runAction } from './support/action.js';
import {
  activeDeployments,
  type CommandLineWatch,
  processesIn,
  runSecrets,
  type Secret,
  secretLeaks,
  watchCommandLines,
} from './support/secrets.js';
import { ACCOUNT, awsEnv, CLUSTER, CREDENTIALS, REGION, seed } from './support/world.js';

const SPEED = 60;
/** A wrong secret key must not show anywhere either. */
const WRONG_SECRET = 'wrong-secret-4f7c1e9a';
/** yaml's "billion laughs": nine levels of ten aliases each. */
const ALIAS_BOMB = [
  'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]',
  ...Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`),
].join('\n');

let emulator: Emulator;
let workspace: string;
let commandLines: CommandLineWatch;
/** Each run's RUNNER_TEMP, removed at the end. */
const runnerTemps: string[] = [];
const secrets: Secret[] = [...runSecrets(), { name: 'wrong secret key', value: WRONG_SECRET }];

/**
 * A checkout with the example app's task definition and appspec, the matrix fixtures, a
 * file over 1 MiB, and symbolic links that point out of it.
 */
async function makeWorkspace(): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'ecs-deploy-matrix-')));
  await cp(path.resolve('example-app/task-definition.json'), path.join(dir, 'task-definition.json'));
  await cp(path.resolve('example-app/appspec.yaml'), path.join(dir, 'appspec.yaml'));
  await cp(path.resolve('test/fixtures/matrix'), path.join(dir, 'matrix'), { recursive: true });
  // Valid JSON throughout, so only its size is wrong.
  const padding = 'x'.repeat(1024 * 1024);
  await writeFile(
    path.join(dir, 'matrix', 'taskdef-huge.json'),
    JSON.stringify({ family: 'example-app', containerDefinitions: [{ name: 'web', image: padding }] }),
  );
  await mkdir(path.join(dir, 'links'));
  await symlink('/etc/passwd', path.join(dir, 'links', 'task-definition.json'));
  await symlink('/etc', path.join(dir, 'links', 'etc'));
  return dir;
}

beforeAll(async () => {
  workspace = await makeWorkspace();
  emulator = await startEmulator({
    region: REGION,
    accountId: ACCOUNT,
    credentials: [CREDENTIALS],
    speed: SPEED,
    seed: seed(),
    // A closed loopback port: should a case ever get as far as `docker login`, it goes nowhere else.
    registry: { host: '127.0.0.1:9', username: 'AWS', password: 'unused' },
  });
  commandLines = watchCommandLines(secrets);
}, 60_000);

afterAll(async () => {
  await commandLines?.stop();
  await emulator?.stop();
  for (const dir of [workspace, ...runnerTemps]) if (dir) await rm(dir, { recursive: true, force: true });
});

/** A blue/green deployment of an existing image that would succeed: each case changes one thing. */
const BASE: Record<string, string> = {
  'task-definition': 'task-definition.json',
  'codedeploy-appspec': 'appspec.yaml',
  cluster: CLUSTER,
  service: 'web',
  image: '127.0.0.1:5000/example-app:v0',
  'poll-interval-seconds': '1',
};
/** Cases that build an image instead: no image, a repository to push to. */
const BUILD = { image: '', 'ecr-repository': 'example-app' };
const ROLLING = { service: 'rolling', 'task-definition-family': 'example-rolling', 'codedeploy-appspec': '' };

interface Annotation {
  title?: string;
  file?: string;
  line?: number;
  message: string;
}

/** The `::error` commands a run printed, unescaped as the runner shows them. */
function errorAnnotations(stdout: string): Annotation[] {
  const unescape = (s: string) =>
    s
      .replace(/%0A/g, '\n')
      .replace(/%0D/g, '\r')
      .replace(/%3A/g, ':')
      .replace(/%2C/g, ',')
      .replace(/%25/g, '%');
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('::error'))
    .map((l) => {
      const end = l.indexOf('::', 2);
      const props = Object.fromEntries(
        l
          .slice('::error'.length, end)
          .trim()
          .split(',')
          .filter((p) => p.includes('='))
          .map((p) => [p.slice(0, p.indexOf('=')), unescape(p.slice(p.indexOf('=') + 1))]),
      );
      return {
        ...(props.title !== undefined && { title: props.title }),
        ...(props.file !== undefined && { file: props.file }),
        ...(props.line !== undefined && { line: Number(props.line) }),
        message: unescape(l.slice(end + 2)),
      };
    });
}

interface Case {
  inputs: Record<string, string>;
  env?: Record<string, string | undefined>;
  /** The annotation's title: the input, or the file and field; none when the message itself names it. */
  where?: string | RegExp;
  /** What is wrong and the fix, as fragments of the annotation's message. */
  message: RegExp[];
  /** For a problem inside a file: the fixture and the line the annotation points at. */
  file?: { path: string; line: number };
  /** Inputs and local files are checked before the first AWS call. */
  awsCalls: 'none' | 'read-only';
}

const inputCases: [string, Case][] = [
  [
    'a desired-count that is not a number ("two")',
    {
      inputs: { ...ROLLING, 'desired-count': 'two' },
      where: 'desired-count',
      message: [/"two" is not a whole number/, /Fix: Set desired-count to a number/],
      awsCalls: 'none',
    },
  ],
  [
    'a negative wait-for-minutes ("-1")',
    {
      inputs: { 'wait-for-minutes': '-1' },
      where: 'wait-for-minutes',
      message: [/"-1" is not a number of minutes above 0/, /Fix: Set wait-for-minutes to e\.g\. 30/],
      awsCalls: 'none',
    },
  ],
  [
    'a boolean written "yes"',
    {
      inputs: { 'wait-for-service-stability': 'yes' },
      where: 'wait-for-service-stability',
      message: [/"yes" is not a boolean/, /Fix: Write wait-for-service-stability: true or .*false/],
      awsCalls: 'none',
    },
  ],
  [
    'a container-port out of range (70000)',
    {
      inputs: { 'codedeploy-appspec': '', 'container-port': '70000' },
      where: 'container-port',
      message: [/"70000" is not a whole number from 1 to 65535/, /Fix: Set container-port/],
      awsCalls: 'none',
    },
  ],
  [
    'a container-port the container does not map (9090)',
    {
      inputs: { 'codedeploy-appspec': '', 'container-port': '9090' },
      where: 'container-port',
      message: [/web has port mappings for 8080, not 9090/, /Fix: Set `container-port` to a port web maps/],
      awsCalls: 'read-only',
    },
  ],
  [
    'a container-name the task definition lacks',
    {
      inputs: { 'container-name': 'api' },
      where: 'container-name',
      message: [/container "api", which the task definition does not have/, /Fix: .*one of: web/],
      awsCalls: 'read-only',
    },
  ],
  [
    'an unknown deploy-mode ("blue-green")',
    {
      inputs: { 'deploy-mode': 'blue-green' },
      where: 'deploy-mode',
      message: [
        /"blue-green" is not one of auto, codedeploy, rolling, ecs-native, none/,
        /Fix: Set deploy-mode to one of/,
      ],
      awsCalls: 'none',
    },
  ],
  [
    'an unknown sha-tag ("long")',
    {
      inputs: { ...BUILD, 'sha-tag': 'long' },
      where: 'sha-tag',
      message: [/"long" is not one of full, short, both/, /Fix: Set sha-tag to one of/],
      awsCalls: 'none',
    },
  ],
  [
    'an unknown on-cancel ("ignore")',
    {
      inputs: { 'on-cancel': 'ignore' },
      where: 'on-cancel',
      message: [/"ignore" is not one of rollback, leave/, /Fix: Set on-cancel to one of/],
      awsCalls: 'none',
    },
  ],
  [
    'an unknown deployment config',
    {
      inputs: { 'codedeploy-deployment-config': 'CodeDeployDefault.Fastest' },
      where: 'codedeploy-deployment-config',
      message: [
        /'CodeDeployDefault\.Fastest' does not exist/,
        /Fix: Use one of the built-in ECS configs \(CodeDeployDefault\.ECSAllAtOnce/,
      ],
      awsCalls: 'read-only',
    },
  ],
  [
    'a service that does not exist',
    {
      inputs: { service: 'nope' },
      where: 'service',
      message: [/ECS service 'nope' was not found in cluster 'demo'/, /Fix: Create the service first/],
      awsCalls: 'read-only',
    },
  ],
  [
    'a cluster that does not exist',
    {
      inputs: { cluster: 'nope' },
      where: 'cluster',
      message: [/ECS cluster 'nope' was not found/, /Fix: Check the cluster name and the region/],
      awsCalls: 'read-only',
    },
  ],
  [
    'a CodeDeploy application that does not exist',
    {
      inputs: { 'codedeploy-application': 'AppECS-nope' },
      where: 'codedeploy-application',
      message: [/application 'AppECS-nope' does not exist/, /Fix: .*default 'AppECS-demo-web'/],
      awsCalls: 'read-only',
    },
  ],
  [
    'a CodeDeploy deployment group that does not exist',
    {
      inputs: { 'codedeploy-deployment-group': 'DgpECS-nope' },
      where: 'codedeploy-deployment-group',
      message: [/group 'DgpECS-nope' does not exist/, /Fix: .*default 'DgpECS-demo-web'/],
      awsCalls: 'read-only',
    },
  ],
  [
    'a deployment group that targets another service',
    {
      inputs: {
        'codedeploy-application': 'AppECS-demo-slow',
        'codedeploy-deployment-group': 'DgpECS-demo-slow',
      },
      where: 'codedeploy-deployment-group',
      message: [
        /targets demo\/slow, not demo\/web/,
        /Fix: Set codedeploy-application and codedeploy-deployment-group/,
      ],
      awsCalls: 'read-only',
    },
  ],
  [
    'deploy-mode rolling for a CODE_DEPLOY service',
    {
      inputs: { 'deploy-mode': 'rolling' },
      where: 'deploy-mode',
      message: [/'web' uses the CODE_DEPLOY deployment controller/, /Fix: Set deploy-mode: codedeploy/],
      awsCalls: 'read-only',
    },
  ],
  [
    'deploy-mode codedeploy for an ECS-controlled service',
    {
      inputs: { ...ROLLING, 'deploy-mode': 'codedeploy' },
      where: 'deploy-mode',
      message: [/'rolling' uses the ECS deployment controller/, /Fix: Set deploy-mode: rolling/],
      awsCalls: 'read-only',
    },
  ],
  [
    'a task-definition path that climbs out of the workspace (../../etc/passwd)',
    {
      inputs: { 'task-definition': '../../etc/passwd' },
      where: 'task-definition',
      message: [
        /"\.\.\/\.\.\/etc\/passwd" is outside the workspace/,
        /Fix: Use a path inside the repository/,
      ],
      awsCalls: 'none',
    },
  ],
  [
    'an absolute task-definition path outside the workspace (/etc/hosts)',
    {
      inputs: { 'task-definition': '/etc/hosts' },
      where: 'task-definition',
      message: [/"\/etc\/hosts" is outside the workspace/, /Fix: Use a path inside the repository/],
      awsCalls: 'none',
    },
  ],
  [
    'a codedeploy-appspec path outside the workspace (../appspec.yaml)',
    {
      inputs: { 'codedeploy-appspec': '../appspec.yaml' },
      where: 'codedeploy-appspec',
      message: [/"\.\.\/appspec\.yaml" is outside the workspace/, /Fix: Use a path inside the repository/],
      awsCalls: 'none',
    },
  ],
  [
    'a tag with a shell command separator (v1;rm -rf /)',
    {
      inputs: { ...BUILD, tags: 'v1;rm -rf /' },
      where: 'tags',
      message: [/"v1;rm -rf \/" is not a valid image tag/, /Fix: A tag is up to 128 letters, digits/],
      awsCalls: 'none',
    },
  ],
  [
    'a tag with command substitution ($(id))',
    {
      inputs: { ...BUILD, tags: '$(id)' },
      where: 'tags',
      message: [/"\$\(id\)" is not a valid image tag/, /Fix: A tag is up to 128 letters, digits/],
      awsCalls: 'none',
    },
  ],
  [
    'a tag with backticks (`id`)',
    {
      inputs: { ...BUILD, tags: '`id`' },
      where: 'tags',
      message: [/"`id`" is not a valid image tag/, /Fix: A tag is up to 128 letters, digits/],
      awsCalls: 'none',
    },
  ],
  [
    'a build argument that is a docker flag (--network=host)',
    {
      inputs: { ...BUILD, 'build-args': '--network=host' },
      where: 'build-args',
      message: [/"--network=host" is not NAME=value/, /Fix: Write one NAME=value per line/],
      awsCalls: 'none',
    },
  ],
  [
    'a docker flag smuggled in after a newline in build-args',
    {
      inputs: { ...BUILD, 'build-args': 'APP_ENV=prod\n--privileged' },
      where: 'build-args',
      message: [/"--privileged" is not NAME=value/, /Fix: Write one NAME=value per line/],
      awsCalls: 'none',
    },
  ],
  [
    'an ecr-repository that climbs a directory (../x)',
    {
      inputs: { ...BUILD, 'ecr-repository': '../x' },
      where: 'ecr-repository',
      message: [/"\.\.\/x" is not an ECR repository name/, /Fix: Use the ECR repository name: lower-case/],
      awsCalls: 'none',
    },
  ],
  [
    'an ecr-repository in upper case',
    {
      inputs: { ...BUILD, 'ecr-repository': 'MyApp' },
      where: 'ecr-repository',
      message: [/"MyApp" is not an ECR repository name/, /Fix: Use the ECR repository name: lower-case/],
      awsCalls: 'none',
    },
  ],
  [
    'an ecr-repository given as a full repository URI',
    {
      inputs: { ...BUILD, 'ecr-repository': '123456789012.dkr.ecr.us-east-1.amazonaws.com/example-app' },
      where: 'ecr-repository',
      message: [/is not an ECR repository name/, /Fix: Give only the repository name: example-app\./],
      awsCalls: 'none',
    },
  ],
  [
    'an image reference with a shell command separator',
    {
      inputs: { image: '127.0.0.1:5000/example-app:v1;id' },
      where: 'image',
      message: [/is not an image reference/, /Fix: Use REPOSITORY_URI:TAG or REPOSITORY_URI@sha256:DIGEST/],
      awsCalls: 'none',
    },
  ],
  [
    'a container-name with a shell command separator',
    {
      inputs: { 'container-name': 'web;id' },
      where: 'container-name',
      message: [/"web;id" is not a container name/, /Fix: Use letters, digits, - and _/],
      awsCalls: 'none',
    },
  ],
  [
    'a cluster name with a space',
    {
      inputs: { cluster: 'my cluster' },
      where: 'cluster',
      message: [/"my cluster" is not a cluster name or ARN/, /Fix: Use the cluster name/],
      awsCalls: 'none',
    },
  ],
  [
    'a service name with a space',
    {
      inputs: { service: 'web service' },
      where: 'service',
      message: [/"web service" is not a service name or ARN/, /Fix: Use the ECS service name/],
      awsCalls: 'none',
    },
  ],
  [
    'a containers mapping that is an alias bomb',
    {
      inputs: { image: '', containers: ALIAS_BOMB },
      where: 'containers',
      message: [/is not valid YAML: Excessive alias count/, /Fix: Write a YAML mapping/],
      awsCalls: 'none',
    },
  ],
  [
    'a containers mapping with a shell command in a container name',
    {
      inputs: { image: '', containers: 'web;id: 127.0.0.1:5000/example-app:v0' },
      where: 'containers',
      message: [/"web;id" is not a container name/, /Fix: Use letters, digits, - and _/],
      awsCalls: 'none',
    },
  ],
  [
    'no AWS region',
    {
      inputs: {},
      env: { AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined },
      where: 'aws-region',
      message: [/No AWS region is set/, /Fix: Set the aws-region input, or AWS_REGION/],
      awsCalls: 'none',
    },
  ],
  [
    'no AWS credentials',
    {
      inputs: {},
      env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, HOME: '/nonexistent' },
      where: 'AWS credentials',
      message: [/No AWS credentials could be loaded/, /Fix: Add aws-actions\/configure-aws-credentials/],
      awsCalls: 'none',
    },
  ],
];

/** The symptom of a wrong secret key is AWS's answer, so the message (no title) names the secret to check. */
const wrongSecretCase: Case = {
  inputs: {},
  env: { AWS_SECRET_ACCESS_KEY: WRONG_SECRET },
  message: [/AWS refused the request signature/, /check the AWS_SECRET_ACCESS_KEY secret/],
  awsCalls: 'read-only',
};

const fileCases: [string, Case][] = [
  [
    'a malformed JSON task definition',
    {
      inputs: { 'task-definition': 'matrix/taskdef-malformed.json' },
      where: /^task-definition \(.*taskdef-malformed\.json\)$/,
      message: [
        /Invalid JSON: JSON allows no comma before '\}'/,
        /Fix: Remove the comma after the last item/,
      ],
      file: { path: 'matrix/taskdef-malformed.json', line: 11 },
      awsCalls: 'none',
    },
  ],
  [
    'a task definition over 1 MiB',
    {
      inputs: { 'task-definition': 'matrix/taskdef-huge.json' },
      where: /^task-definition \(.*taskdef-huge\.json\)$/,
      message: [
        /documents over 1 MiB \(1048576 bytes\) are refused/,
        /Fix: Point the `task-definition` input/,
      ],
      file: { path: 'matrix/taskdef-huge.json', line: 1 },
      awsCalls: 'none',
    },
  ],
  [
    'a task definition without containerDefinitions (container-name given)',
    {
      inputs: { 'task-definition': 'matrix/taskdef-no-containers.json', 'container-name': 'web' },
      where: 'taskdef-no-containers.json: containerDefinitions',
      message: [/has no containerDefinitions/, /Fix: Give containerDefinitions a list with at least one/],
      file: { path: 'matrix/taskdef-no-containers.json', line: 1 },
      awsCalls: 'read-only',
    },
  ],
  [
    'a YAML task definition with a duplicate key',
    {
      inputs: { 'task-definition': 'matrix/taskdef-duplicate-keys.yaml' },
      where: /^task-definition \(.*taskdef-duplicate-keys\.yaml\)$/,
      message: [/The key "image" appears twice/, /Fix: Keep one "image"/],
      file: { path: 'matrix/taskdef-duplicate-keys.yaml', line: 11 },
      awsCalls: 'none',
    },
  ],
  [
    'a malformed YAML appspec',
    {
      inputs: { 'codedeploy-appspec': 'matrix/appspec-malformed.yaml' },
      where: /^codedeploy-appspec \(.*appspec-malformed\.yaml\)$/,
      message: [/Invalid YAML: Missing closing "quote/, /Fix: Correct the YAML at this position/],
      file: { path: 'matrix/appspec-malformed.yaml', line: 10 },
      awsCalls: 'none',
    },
  ],
  [
    'an appspec whose anchors are a billion-laughs bomb',
    {
      inputs: { 'codedeploy-appspec': 'matrix/appspec-billion-laughs.yaml' },
      where: /^codedeploy-appspec \(.*appspec-billion-laughs\.yaml\)$/,
      message: [/the shape of a "billion laughs" attack/, /Fix: Write the repeated values out/],
      file: { path: 'matrix/appspec-billion-laughs.yaml', line: 3 },
      awsCalls: 'none',
    },
  ],
  [
    'an appspec ContainerPort written as a string ("8080")',
    {
      inputs: { 'codedeploy-appspec': 'matrix/appspec-port-string.yaml' },
      where: 'appspec-port-string.yaml: Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerPort',
      message: [/ContainerPort is the string "8080"/, /Fix: Write it as a number, without quotes/],
      file: { path: 'matrix/appspec-port-string.yaml', line: 9 },
      awsCalls: 'none',
    },
  ],
  [
    'an appspec ContainerPort the container does not map',
    {
      inputs: { 'codedeploy-appspec': 'matrix/appspec-port-unmapped.yaml' },
      where:
        'appspec-port-unmapped.yaml: Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerPort',
      message: [/Container "web" has port mappings for 8080, not 9090/, /Fix: Set ContainerPort to 8080/],
      file: { path: 'matrix/appspec-port-unmapped.yaml', line: 9 },
      awsCalls: 'read-only',
    },
  ],
  [
    'an appspec ContainerPort out of range (70000)',
    {
      inputs: { 'codedeploy-appspec': 'matrix/appspec-port-out-of-range.yaml' },
      where:
        'appspec-port-out-of-range.yaml: Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerPort',
      message: [
        /ContainerPort is the number 70000; it must be a whole number from 1 to 65535/,
        /Fix: Set ContainerPort/,
      ],
      file: { path: 'matrix/appspec-port-out-of-range.yaml', line: 9 },
      awsCalls: 'none',
    },
  ],
  [
    'an appspec ContainerName the task definition lacks',
    {
      inputs: { 'codedeploy-appspec': 'matrix/appspec-unknown-container.yaml' },
      where:
        'appspec-unknown-container.yaml: Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerName',
      message: [
        /Container "api" is not in task definition example-app/,
        /Fix: Set ContainerName .*one of web/,
      ],
      file: { path: 'matrix/appspec-unknown-container.yaml', line: 8 },
      awsCalls: 'read-only',
    },
  ],
  [
    'an appspec with EC2-style script hooks (the seed article’s form)',
    {
      inputs: { 'codedeploy-appspec': 'matrix/appspec-ec2-hooks.yaml' },
      where: 'appspec-ec2-hooks.yaml: Hooks',
      message: [
        /Hooks are written in the EC2\/on-premises form/,
        /Fix: Write Hooks as a list of Lambda functions/,
      ],
      file: { path: 'matrix/appspec-ec2-hooks.yaml', line: 11 },
      awsCalls: 'none',
    },
  ],
  [
    'an appspec with two TargetServices',
    {
      inputs: { 'codedeploy-appspec': 'matrix/appspec-two-targets.yaml' },
      where: 'appspec-two-targets.yaml: Resources',
      message: [
        /Resources has 2 items; an ECS appspec has exactly one/,
        /Fix: Write Resources as a list with one/,
      ],
      file: { path: 'matrix/appspec-two-targets.yaml', line: 2 },
      awsCalls: 'none',
    },
  ],
  [
    'an appspec with a duplicate key',
    {
      inputs: { 'codedeploy-appspec': 'matrix/appspec-duplicate-keys.yaml' },
      where: /^codedeploy-appspec \(.*appspec-duplicate-keys\.yaml\)$/,
      message: [/The key "ContainerName" appears twice/, /Fix: Keep one "ContainerName"/],
      file: { path: 'matrix/appspec-duplicate-keys.yaml', line: 10 },
      awsCalls: 'none',
    },
  ],
];

/**
 * Paths that leave the workspace only through a symbolic link, ARNs that name another
 * region than aws-region, and a task definition with no containers and no container-name.
 */
const formerGapCases: [string, Case][] = [
  [
    'a task-definition that is a symbolic link out of the workspace (links/task-definition.json → /etc/passwd)',
    {
      inputs: { 'task-definition': 'links/task-definition.json' },
      where: 'task-definition',
      message: [/outside the workspace/, /Fix: .*inside the repository/],
      awsCalls: 'none',
    },
  ],
  [
    'a codedeploy-appspec under a symbolic link to a directory out of the workspace (links/etc/hosts)',
    {
      inputs: { 'codedeploy-appspec': 'links/etc/hosts' },
      where: 'codedeploy-appspec',
      message: [/outside the workspace/, /Fix: .*inside the repository/],
      awsCalls: 'none',
    },
  ],
  [
    'a cluster ARN of another region',
    {
      inputs: { cluster: 'arn:aws:ecs:eu-west-1:000000000000:cluster/demo' },
      where: 'cluster',
      message: [/eu-west-1/, /Fix: .*(us-east-1|aws-region)/],
      awsCalls: 'none',
    },
  ],
  [
    'a service ARN of another region',
    {
      inputs: { service: 'arn:aws:ecs:eu-west-1:000000000000:service/demo/web' },
      where: 'service',
      message: [/eu-west-1/, /Fix: .*(us-east-1|aws-region)/],
      awsCalls: 'none',
    },
  ],
  [
    'a task definition without containerDefinitions (container-name omitted)',
    {
      inputs: { 'task-definition': 'matrix/taskdef-no-containers.json' },
      where: 'taskdef-no-containers.json: containerDefinitions',
      message: [/has no containerDefinitions/, /Fix: Give containerDefinitions a list with at least one/],
      file: { path: 'matrix/taskdef-no-containers.json', line: 1 },
      awsCalls: 'read-only',
    },
  ],
];

async function refusesBeforeAnyChange(c: Case): Promise<void> {
  const callsBefore = emulator.calls.length;
  const mutatingBefore = emulator.mutatingCalls().length;
  const r = await runAction({
    inputs: { ...BASE, ...c.inputs },
    workspace,
    env: { ...awsEnv(emulator), ...c.env },
    timeoutMs: 60_000,
  });
  runnerTemps.push(r.runnerTemp);
  const annotations = errorAnnotations(r.stdout);

  expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
  const message = expect.stringMatching(
    new RegExp(c.message.map((m) => `(?=[\\s\\S]*${m.source})`).join('')),
  );
  expect(annotations).toContainEqual(
    expect.objectContaining({
      ...(c.where !== undefined && {
        title: typeof c.where === 'string' ? c.where : expect.stringMatching(c.where),
      }),
      ...(c.file && { file: c.file.path, line: c.file.line }),
      message,
    }),
  );
  expect(emulator.mutatingCalls().slice(mutatingBefore)).toEqual([]);
  if (c.awsCalls === 'none') expect(emulator.calls.slice(callsBefore)).toEqual([]);
  expect(await secretLeaks(r, secrets)).toEqual([]);
  expect(await processesIn(workspace)).toEqual([]);
  expect(activeDeployments(emulator)).toEqual([]);
}

describe('bad inputs are refused before any change, naming the input and the fix', () => {
  it.each(inputCases)('%s', (_name, c) => refusesBeforeAnyChange(c), 60_000);

  it('a wrong secret key', () => refusesBeforeAnyChange(wrongSecretCase), 60_000);
});

describe('bad files are refused before any change, naming the file, field and line', () => {
  it.each(fileCases)('%s', (_name, c) => refusesBeforeAnyChange(c), 60_000);
});

describe('symbolic links out of the workspace, ARNs of another region, a task definition without containers', () => {
  it.each(formerGapCases)('%s', (_name, c) => refusesBeforeAnyChange(c), 60_000);
});

describe('secrets on command lines', () => {
  it('no process had the AWS secret key on its command line during these runs', async () => {
    const report = await commandLines.stop();
    expect(report.leaks).toEqual([]);
    // The watch really sampled while the action ran: it saw the action's own command line.
    expect([...report.seen].some((l) => l.includes('dist/index.js'))).toBe(true);
    expect(report.passes).toBeGreaterThan(10);
  });
});
