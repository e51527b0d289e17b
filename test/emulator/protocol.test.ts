import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CodeDeployServiceException, GetApplicationCommand } from '@aws-sdk/client-codedeploy';
import {
  ClientException,
  ClusterNotFoundException,
  CreateClusterCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  ECSServiceException,
  ListClustersCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { clients, fargateTaskDefinition } from './clients.js';

const ECS_TARGET = 'AmazonEC2ContainerServiceV20141113';

interface RawOptions {
  target?: string;
  body?: string;
  secret?: string;
  accessKeyId?: string;
  signingDate?: Date;
  region?: string;
  service?: string;
  sign?: boolean;
  tamper?: boolean;
  /** Send x-amz-content-sha256 (the SDK's signer default); without it the body is covered by the signature alone. */
  payloadHashHeader?: boolean;
  contentType?: string;
}

/** A request signed like the SDK signs it, with knobs to get each part wrong. */
async function raw(emulator: Emulator, opts: RawOptions = {}) {
  const url = new URL(emulator.url);
  const body = opts.body ?? '{}';
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: {
      host: url.host,
      'content-type': opts.contentType ?? 'application/x-amz-json-1.1',
      'x-amz-target': opts.target ?? `${ECS_TARGET}.ListClusters`,
    },
    body,
  });
  let headers = request.headers;
  if (opts.sign !== false) {
    const signer = new SignatureV4({
      credentials: { accessKeyId: opts.accessKeyId ?? 'test', secretAccessKey: opts.secret ?? 'test' },
      region: opts.region ?? 'us-east-1',
      service: opts.service ?? 'ecs',
      sha256: Hash.bind(null, 'sha256'),
      applyChecksum: opts.payloadHashHeader ?? true,
    });
    headers = (await signer.sign(request, { signingDate: opts.signingDate ?? new Date() })).headers;
  }
  const res = await fetch(emulator.url, {
    method: 'POST',
    headers: Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'host')),
    body: opts.tamper ? body.replace('}', '"x":1}') : body,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

describe('emulator wire protocol', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ manualClock: true, seed: { clusters: ['default'] } });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('serves real SDK clients: JSON 1.1 in, epoch-second timestamps out (parsed to Date)', async () => {
    const { ecs } = clients(emulator);
    const created = await ecs.send(new CreateClusterCommand({ clusterName: 'blue' }));
    expect(created.cluster?.clusterArn).toBe('arn:aws:ecs:us-east-1:000000000000:cluster/blue');
    const registered = await ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDefinition('proto')));
    expect(registered.taskDefinition?.registeredAt).toBeInstanceOf(Date);
    expect(registered.taskDefinition?.registeredAt?.getTime()).toBe(emulator.clock.now());
    expect(registered.$metadata.httpStatusCode).toBe(200);
    expect(registered.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const described = await ecs.send(new DescribeClustersCommand({ clusters: ['blue', 'nope'] }));
    expect(described.clusters?.map((c) => c.clusterName)).toEqual(['blue']);
    expect(described.failures).toEqual([
      { arn: 'arn:aws:ecs:us-east-1:000000000000:cluster/nope', reason: 'MISSING' },
    ]);
  });

  it('answers errors with the status, x-amzn-ErrorType and __type the SDK maps to its exception classes', async () => {
    const { ecs, codedeploy } = clients(emulator);
    const missing = await ecs
      .send(new DescribeTaskDefinitionCommand({ taskDefinition: 'nope:1' }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ClientException);
    expect((missing as ClientException).message).toBe('Unable to describe task definition.');
    expect((missing as ClientException).$metadata.httpStatusCode).toBe(400);
    const noCluster = await ecs
      .send(new UpdateServiceCommand({ cluster: 'ghost', service: 'x' }))
      .catch((e: unknown) => e);
    expect(noCluster).toBeInstanceOf(ClusterNotFoundException);
    const noApp = await codedeploy
      .send(new GetApplicationCommand({ applicationName: 'nope' }))
      .catch((e: unknown) => e);
    expect(noApp).toBeInstanceOf(CodeDeployServiceException);
    expect((noApp as Error).name).toBe('ApplicationDoesNotExistException');

    const res = await raw(emulator, {
      target: `${ECS_TARGET}.DescribeTaskDefinition`,
      body: '{"taskDefinition":"nope:1"}',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('ClientException');
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(Date.parse(res.headers.get('date') ?? '') - Date.now())).toBeLessThan(5_000);
    expect(res.json).toEqual({ __type: 'ClientException', message: 'Unable to describe task definition.' });
  });

  it('answers operations it does not implement with UnknownOperationException', async () => {
    const res = await raw(emulator, { target: `${ECS_TARGET}.ListAttributes` });
    expect(res.status).toBe(400);
    expect(res.json.__type).toBe('UnknownOperationException');
    const other = await raw(emulator, { target: 'AmazonSomethingElse.Foo', service: 'ecs' });
    expect(other.json.__type).toBe('UnknownOperationException');
  });

  it('answers every operation, given nothing or nonsense, with 200 or a 4xx error, never a crash', async () => {
    const operations: Record<string, [string, string, string[]]> = {
      ecs: [
        ECS_TARGET,
        'ecs',
        [
          'CreateCluster',
          'DescribeClusters',
          'ListClusters',
          'RegisterTaskDefinition',
          'DescribeTaskDefinition',
          'ListTaskDefinitions',
          'DeregisterTaskDefinition',
          'DeleteTaskDefinitions',
          'CreateService',
          'UpdateService',
          'DescribeServices',
          'DeleteService',
          'ListServices',
          'ListTasks',
          'DescribeTasks',
          'TagResource',
          'UntagResource',
          'ListTagsForResource',
        ],
      ],
      ecr: [
        'AmazonEC2ContainerRegistry_V20150921',
        'ecr',
        [
          'GetAuthorizationToken',
          'CreateRepository',
          'DescribeRepositories',
          'DescribeImages',
          'BatchDeleteImage',
          'PutImageTagMutability',
          'TagResource',
          'UntagResource',
          'ListTagsForResource',
        ],
      ],
      codedeploy: [
        'CodeDeploy_20141006',
        'codedeploy',
        [
          'CreateApplication',
          'GetApplication',
          'ListApplications',
          'CreateDeploymentGroup',
          'GetDeploymentGroup',
          'ListDeploymentGroups',
          'GetDeploymentConfig',
          'ListDeploymentConfigs',
          'CreateDeployment',
          'GetDeployment',
          'BatchGetDeployments',
          'ListDeployments',
          'StopDeployment',
          'ContinueDeployment',
          'ListDeploymentTargets',
          'GetDeploymentTarget',
          'BatchGetDeploymentTargets',
        ],
      ],
    };
    const nonsense = [
      '{}',
      '{"cluster":7,"services":"x","family":[],"containerDefinitions":[1],"repositoryName":{},"applicationName":3,"deploymentId":"d-AAAAAAAAA","revision":"x","imageIds":[null],"tags":"x","resourceArn":"arn:x"}',
    ];
    for (const [prefix, service, names] of Object.values(operations)) {
      for (const name of names) {
        for (const body of nonsense) {
          const res = await raw(emulator, { target: `${prefix}.${name}`, service, body });
          expect([name, body, res.status < 500, res.json.__type === 'InternalFailure']).toEqual([
            name,
            body,
            true,
            false,
          ]);
        }
      }
    }
  });

  it('refuses a body that is not JSON 1.1', async () => {
    const res = await raw(emulator, { contentType: 'application/json' });
    expect(res.json.__type).toBe('SerializationException');
  });
});

describe('emulator SigV4 authentication', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      manualClock: true,
      credentials: [
        { accessKeyId: 'test', secretAccessKey: 'test' },
        { accessKeyId: 'AKIDSECOND', secretAccessKey: 'second-secret' },
      ],
    });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('accepts every configured key pair', async () => {
    await expect(clients(emulator).ecs.send(new ListClustersCommand({}))).resolves.toMatchObject({
      clusterArns: [],
    });
    const second = clients(emulator, { accessKeyId: 'AKIDSECOND', secretAccessKey: 'second-secret' });
    await expect(second.ecs.send(new ListClustersCommand({}))).resolves.toMatchObject({ clusterArns: [] });
    expect(emulator.calls.at(-1)?.accessKeyId).toBe('AKIDSECOND');
  });

  it('refuses a real client with the wrong secret: InvalidSignatureException', async () => {
    const { ecs, codedeploy } = clients(emulator, { secretAccessKey: 'wrong' });
    const err = await ecs.send(new ListClustersCommand({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ECSServiceException);
    expect((err as Error).name).toBe('InvalidSignatureException');
    expect((err as Error).message).toMatch(
      /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\./,
    );
    const cd = await codedeploy
      .send(new GetApplicationCommand({ applicationName: 'x' }))
      .catch((e: unknown) => e);
    expect((cd as Error).name).toBe('InvalidSignatureException');
  });

  it('refuses an unknown access key: UnrecognizedClientException', async () => {
    const err = await clients(emulator, { accessKeyId: 'AKIDNOBODY' })
      .ecs.send(new ListClustersCommand({}))
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('UnrecognizedClientException');
    expect((err as Error).message).toBe('The security token included in the request is invalid.');
  });

  it('refuses an unsigned request: MissingAuthenticationTokenException', async () => {
    const res = await raw(emulator, { sign: false });
    expect(res.json).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
  });

  it('refuses a signature older than 15 minutes, or from the future', async () => {
    const old = await raw(emulator, { signingDate: new Date(Date.now() - 16 * 60_000) });
    expect(old.json.__type).toBe('InvalidSignatureException');
    expect(old.json.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    const future = await raw(emulator, { signingDate: new Date(Date.now() + 16 * 60_000) });
    expect(future.json.message).toMatch(/^Signature not yet current/);
    const recent = await raw(emulator, { signingDate: new Date(Date.now() - 10 * 60_000) });
    expect(recent.status).toBe(200);
  });

  it('refuses a body changed after signing, another region, or another service scope', async () => {
    const withHash = await raw(emulator, { tamper: true });
    expect(withHash.json).toMatchObject({
      __type: 'InvalidSignatureException',
      message: expect.stringMatching(/x-amz-content-sha256/),
    });
    const signatureOnly = await raw(emulator, { tamper: true, payloadHashHeader: false });
    expect(signatureOnly.json).toMatchObject({
      __type: 'InvalidSignatureException',
      message: expect.stringMatching(/^The request signature we calculated does not match/),
    });
    expect((await raw(emulator, { payloadHashHeader: false })).status).toBe(200);
    const region = await raw(emulator, { region: 'eu-west-1' });
    expect(region.json.__type).toBe('InvalidSignatureException');
    expect(region.json.message).toMatch(/scoped to a valid region/);
    const service = await raw(emulator, { service: 'codedeploy' });
    expect(service.json.message).toMatch(/scoped to correct service: 'ecs'/);
  });

  it('accepts the signing names the SDKs use for ECR', async () => {
    const target = 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories';
    expect((await raw(emulator, { target, service: 'ecr' })).status).toBe(200);
    expect((await raw(emulator, { target, service: 'api.ecr' })).status).toBe(200);
  });

  it('records refused calls too', async () => {
    const before = emulator.calls.length;
    await clients(emulator, { secretAccessKey: 'wrong' })
      .ecs.send(new ListClustersCommand({}))
      .catch(() => undefined);
    expect(emulator.calls.slice(before)).toEqual([
      expect.objectContaining({
        service: 'ecs',
        operation: 'ListClusters',
        status: 400,
        errorType: 'InvalidSignatureException',
      }),
    ]);
  });
});
