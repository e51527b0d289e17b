/**
 * Manual dispatch with `image`: the image must exist before anything changes, when it is in
 * an ECR repository the run can name (checkImageExists in src/plan.ts).
 */
import { beforeEach, describe, expect, it } from '@jest/globals';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { readConfig } from '../../../src/config.js';
import { UserError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import { checkImageExists, parseImageReference, type Plan, policyInput } from '../../../src/plan.js';
import { sdkError } from '../deploy/fakes.js';

const ecrMock = mockClient(ECRClient);
const stsMock = mockClient(STSClient);
const iamMock = mockClient(IAMClient);
const ecr = new ECRClient({ region: 'us-east-1' });
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const DIGEST = `sha256:${'a'.repeat(64)}`;
let log: MemoryLog;

beforeEach(() => {
  ecrMock.reset();
  stsMock.reset();
  iamMock.reset();
  log = new MemoryLog();
});

describe('parseImageReference', () => {
  it.each([
    [`${ECR}/team/app:v1`, { host: ECR, repository: 'team/app', tag: 'v1', digest: undefined }],
    [`${ECR}/app@${DIGEST}`, { host: ECR, repository: 'app', tag: undefined, digest: DIGEST }],
    [
      '127.0.0.1:5000/example-app:pr-1-abc',
      { host: '127.0.0.1:5000', repository: 'example-app', tag: 'pr-1-abc' },
    ],
    ['localhost/app', { host: 'localhost', repository: 'app', tag: undefined }],
    ['nginx:1.27', { host: undefined, repository: 'nginx', tag: '1.27' }],
    ['library/nginx', { host: undefined, repository: 'library/nginx', tag: undefined }],
  ])('%s', (ref, expected) => {
    expect(parseImageReference(ref)).toMatchObject(expected);
  });
});

describe('checkImageExists', () => {
  it('asks ECR for the tag of an image in this region', async () => {
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST }] });
    await checkImageExists(ecr, `${ECR}/app:v1`, 'image', 'us-east-1', log);
    expect(ecrMock).toHaveReceivedCommandWith(DescribeImagesCommand, {
      registryId: '123456789012',
      repositoryName: 'app',
      imageIds: [{ imageTag: 'v1' }],
    });
  });

  it('asks by digest for a digest reference', async () => {
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST }] });
    await checkImageExists(ecr, `${ECR}/app@${DIGEST}`, 'image', 'us-east-1', log);
    expect(ecrMock).toHaveReceivedCommandWith(DescribeImagesCommand, { imageIds: [{ imageDigest: DIGEST }] });
  });

  it.each([
    [
      'a tag the repository lacks',
      sdkError('ImageNotFoundException', 'The image with imageId … does not exist', 400),
      /repository app has no image tagged v9/,
    ],
    [
      'a repository that does not exist',
      sdkError('RepositoryNotFoundException', 'The repository … does not exist', 400),
      /there is no ECR repository app/,
    ],
  ])('refuses %s, naming the input and the fix', async (_name, error, message) => {
    ecrMock.on(DescribeImagesCommand).rejects(error);
    const err = await checkImageExists(ecr, `${ECR}/app:v9`, 'image', 'us-east-1', log).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).problems[0]).toMatchObject({
      where: 'image',
      what: expect.stringMatching(message),
      fix: expect.stringContaining('aws ecr describe-images --repository-name app'),
    });
  });

  it('checks an image in the registry the ECR API fronts (its repositoryUri names that host)', async () => {
    ecrMock.on(DescribeRepositoriesCommand).resolves({
      repositories: [{ repositoryName: 'example-app', repositoryUri: '127.0.0.1:5000/example-app' }],
    });
    ecrMock.on(DescribeImagesCommand).rejects(sdkError('ImageNotFoundException', 'missing', 400));
    await expect(
      checkImageExists(ecr, '127.0.0.1:5000/example-app:nope', 'image', 'us-east-1', log),
    ).rejects.toThrow(/example-app has no image tagged nope/);
    expect(ecrMock).toHaveReceivedCommandWith(DescribeImagesCommand, {
      registryId: undefined,
      repositoryName: 'example-app',
    });
  });

  it.each([
    ['an image on Docker Hub', 'nginx:1.27', undefined],
    ['an ECR image of another region', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1', undefined],
    [
      'another registry whose repository name ECR also has',
      'ghcr.io/app:v1',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/app',
    ],
  ])('says it could not check %s, and goes on', async (_name, image, uri) => {
    ecrMock
      .on(DescribeRepositoriesCommand)
      .resolves({ repositories: uri ? [{ repositoryName: 'app', repositoryUri: uri }] : [] });
    await checkImageExists(ecr, image, 'image', 'us-east-1', log);
    expect(ecrMock).not.toHaveReceivedCommand(DescribeImagesCommand);
    expect(log.text()).toMatch(
      new RegExp(`notice: Whether ${image.replace(/[.]/g, '\\.')} exists could not be checked`),
    );
  });

  it('goes on with a notice when DescribeImages is denied', async () => {
    ecrMock
      .on(DescribeImagesCommand)
      .rejects(sdkError('AccessDeniedException', 'not authorized to perform ecr:DescribeImages', 400));
    await checkImageExists(ecr, `${ECR}/app:v1`, 'image', 'us-east-1', log);
    expect(log.text()).toContain('ecr:DescribeImages was denied');
  });
});

describe('the policy of a run that deploys an existing image', () => {
  const config = (preflight: string) =>
    readConfig((n) => ({ image: `${ECR}/app:v1`, service: 'web', cluster: 'demo', preflight })[n] ?? '', {
      AWS_REGION: 'us-east-1',
      GITHUB_WORKSPACE: '/ws',
    });
  const plan = {
    mode: 'rolling',
    repositories: new Map(),
    imageRepositories: ['app'],
    taskDefinition: { family: 'app', containerDefinitions: [] },
  } as unknown as Plan;
  const clients = {
    ecr,
    ecs: new ECSClient({ region: 'us-east-1' }),
    codedeploy: new CodeDeployClient({ region: 'us-east-1' }),
    sts: new STSClient({ region: 'us-east-1' }),
    iam: new IAMClient({ region: 'us-east-1' }),
  };

  it('names the image repositories, and the role the preflight reads and simulates, with its path', async () => {
    stsMock.on(GetCallerIdentityCommand).resolves({
      Account: '123456789012',
      Arn: 'arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions',
    });
    iamMock.on(GetRoleCommand, { RoleName: 'deploy' }).resolves({
      Role: {
        RoleName: 'deploy',
        Arn: 'arn:aws:iam::123456789012:role/ci/deploy',
        Path: '/ci/',
        RoleId: 'AROAEXAMPLE',
        CreateDate: new Date(0),
      },
    });
    expect(await policyInput(config('true'), plan, clients)).toMatchObject({
      accountId: '123456789012',
      imageRepositories: ['app'],
      principalArn: 'arn:aws:iam::123456789012:role/ci/deploy',
      needs: { existingImage: true, preflight: true, mode: 'rolling' },
    });
  });

  it('leaves the preflight’s own calls out when STS will not say who runs it', async () => {
    stsMock
      .on(GetCallerIdentityCommand)
      .rejectsOnce(sdkError('AccessDenied', 'not authorized to perform sts:GetCallerIdentity', 403))
      .resolves({ Account: '123456789012' });
    expect(await policyInput(config('true'), plan, clients)).toMatchObject({
      principalArn: undefined,
      needs: { preflight: false },
    });
  });

  it('asks STS nothing more than the account without a preflight', async () => {
    stsMock
      .on(GetCallerIdentityCommand)
      .resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/ci' });
    expect(await policyInput(config('false'), plan, clients)).toMatchObject({
      principalArn: undefined,
      needs: { preflight: false },
    });
  });
});
