import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetRoleCommand, IAMClient, IAMServiceException } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsError } from '../../emulator/errors.js';
import { defaultPrincipalArn, startEmulator, type Emulator } from '../../emulator/index.js';
import { decodeQueryInput } from '../../emulator/query.js';

interface Keys {
  accessKeyId?: string;
  secretAccessKey?: string;
  maxAttempts?: number;
}

function config(emulator: Emulator, keys: Keys = {}) {
  return {
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: keys.accessKeyId ?? 'test', secretAccessKey: keys.secretAccessKey ?? 'test' },
    maxAttempts: keys.maxAttempts ?? 1,
  };
}

const sts = (emulator: Emulator, keys?: Keys) => new STSClient(config(emulator, keys));

/** A Query request signed like the SDK signs it, for what the SDK would never send. */
async function rawQuery(
  emulator: Emulator,
  body: string,
  opts: { service?: string; sign?: boolean; secret?: string } = {},
) {
  const url = new URL(emulator.url);
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  const signer = new SignatureV4({
    credentials: { accessKeyId: 'test', secretAccessKey: opts.secret ?? 'test' },
    region: 'us-east-1',
    service: opts.service ?? 'sts',
    sha256: Hash.bind(null, 'sha256'),
  });
  const headers = opts.sign === false ? request.headers : (await signer.sign(request)).headers;
  const res = await fetch(emulator.url, {
    method: 'POST',
    headers: Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'host')),
    body,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('Query protocol decoding', () => {
  it('turns member lists and nested structures into arrays and objects', () => {
    const form = new URLSearchParams(
      'Action=CreateRule&Version=2015-12-01&ListenerArn=L&Conditions.member.1.Field=host-header' +
        '&Conditions.member.1.HostHeaderConfig.Values.member.1=a.example.com' +
        '&Conditions.member.1.HostHeaderConfig.Values.member.2=b.example.com&Conditions.member.2.Field=path-pattern' +
        '&Tags.member.1.Key=k&Tags.member.1.Value=v&ResourceArns=',
    );
    expect(decodeQueryInput(form)).toEqual({
      ListenerArn: 'L',
      Conditions: [
        { Field: 'host-header', HostHeaderConfig: { Values: ['a.example.com', 'b.example.com'] } },
        { Field: 'path-pattern' },
      ],
      Tags: [{ Key: 'k', Value: 'v' }],
      ResourceArns: '',
    });
  });

  it('refuses a list with a gap or a position that is not a number', () => {
    expect(() => decodeQueryInput(new URLSearchParams('Names.member.2=x'))).toThrow(AwsError);
    expect(() => decodeQueryInput(new URLSearchParams('Names.member.2=x'))).toThrow(/Names\.member\.1/);
    expect(() => decodeQueryInput(new URLSearchParams('Names.member.x=y'))).toThrow(
      /Invalid list position 'x'/,
    );
  });
});

describe('Query protocol services', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      manualClock: true,
      credentials: [
        { accessKeyId: 'test', secretAccessKey: 'test' },
        {
          accessKeyId: 'AKIDCI',
          secretAccessKey: 'ci-secret',
          principalArn: 'arn:aws:sts::000000000000:assumed-role/ci-deployer/run-42',
        },
        {
          accessKeyId: 'AKIDUSER',
          secretAccessKey: 'user-secret',
          principalArn: 'arn:aws:iam::000000000000:user/ops/alice',
        },
        {
          accessKeyId: 'AKIDROOT',
          secretAccessKey: 'root-secret',
          principalArn: 'arn:aws:iam::000000000000:root',
        },
      ],
    });
  });
  afterAll(async () => {
    await emulator.stop();
  });
  afterEach(() => emulator.faults.clear());

  it('answers GetCallerIdentity for each key with its principal, account and user id', async () => {
    const byDefault = await sts(emulator).send(new GetCallerIdentityCommand({}));
    expect(byDefault.Arn).toBe(defaultPrincipalArn('000000000000'));
    expect(byDefault.Arn).toBe('arn:aws:sts::000000000000:assumed-role/deploy/GitHubActions');
    expect(byDefault.Account).toBe('000000000000');
    expect(byDefault.UserId).toMatch(/^AROA[A-Z2-7]{17}:GitHubActions$/);
    expect(byDefault.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const ci = await sts(emulator, { accessKeyId: 'AKIDCI', secretAccessKey: 'ci-secret' }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(ci).toMatchObject({
      Arn: 'arn:aws:sts::000000000000:assumed-role/ci-deployer/run-42',
      UserId: expect.stringMatching(/^AROA[A-Z2-7]{17}:run-42$/),
    });
    // The role id is the role's, whatever the session.
    expect(ci.UserId?.split(':')[0]).toBe(emulator.state.iam.roles.get('ci-deployer')?.id);

    const user = await sts(emulator, { accessKeyId: 'AKIDUSER', secretAccessKey: 'user-secret' }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(user).toMatchObject({
      Arn: 'arn:aws:iam::000000000000:user/ops/alice',
      UserId: emulator.state.iam.users.get('alice')?.id,
    });
    expect(user.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/);

    const root = await sts(emulator, { accessKeyId: 'AKIDROOT', secretAccessKey: 'root-secret' }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(root).toMatchObject({ Arn: 'arn:aws:iam::000000000000:root', UserId: '000000000000' });
  });

  it('answers in XML: <OpResponse xmlns> with <OpResult> and the request id', async () => {
    const res = await rawQuery(emulator, 'Action=GetCallerIdentity&Version=2011-06-15');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml');
    const requestId = res.headers.get('x-amzn-requestid');
    expect(res.text).toBe(
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
        `<UserId>${(await sts(emulator).send(new GetCallerIdentityCommand({}))).UserId}</UserId>` +
        '<Account>000000000000</Account><Arn>arn:aws:sts::000000000000:assumed-role/deploy/GitHubActions</Arn>' +
        `</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  });

  it('tells the services apart by the credential scope and refuses unknown actions with InvalidAction', async () => {
    const iamUnknown = await rawQuery(emulator, 'Action=ListUsers&Version=2010-05-08', { service: 'iam' });
    expect(iamUnknown.status).toBe(400);
    expect(iamUnknown.text).toMatch(
      /^<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code><Message>Could not find operation ListUsers for version 2010-05-08<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
    );
    // The same action under another scope is another service's.
    const stsGetRole = await rawQuery(emulator, 'Action=GetRole&Version=2011-06-15&RoleName=deploy');
    expect(stsGetRole.text).toContain('<Code>InvalidAction</Code>');
    const iamGetRole = await rawQuery(emulator, 'Action=GetRole&Version=2010-05-08&RoleName=deploy', {
      service: 'iam',
    });
    expect(iamGetRole.status).toBe(200);
    expect(iamGetRole.text).toContain('<RoleName>deploy</RoleName>');

    const sns = await rawQuery(emulator, 'Action=ListTopics&Version=2010-03-31', { service: 'sns' });
    expect(sns.status).toBe(400);
    expect(sns.text).toContain('<Code>InvalidAction</Code>');
    expect(sns.text).toContain('signed for &#39;sns&#39;');
  });

  it('refuses a wrong secret, an unknown key and a missing signature as Query services do (403)', async () => {
    const wrong = await sts(emulator, { secretAccessKey: 'wrong' })
      .send(new GetCallerIdentityCommand({}))
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(STSServiceException);
    expect(wrong).toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    expect((wrong as Error).message).toMatch(/^The request signature we calculated does not match/);

    const iamWrong = await new IAMClient(config(emulator, { secretAccessKey: 'wrong' }))
      .send(new GetRoleCommand({ RoleName: 'deploy' }))
      .catch((e: unknown) => e);
    expect(iamWrong).toBeInstanceOf(IAMServiceException);
    expect(iamWrong).toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });

    const elbUnknownKey = await new ElasticLoadBalancingV2Client(
      config(emulator, { accessKeyId: 'AKIDNOBODY' }),
    )
      .send(new DescribeTargetGroupsCommand({}))
      .catch((e: unknown) => e);
    expect(elbUnknownKey).toBeInstanceOf(ElasticLoadBalancingV2ServiceException);
    expect(elbUnknownKey).toMatchObject({ name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } });

    const unsigned = await rawQuery(emulator, 'Action=GetCallerIdentity&Version=2011-06-15', { sign: false });
    expect(unsigned.status).toBe(403);
    expect(unsigned.text).toContain('<Code>MissingAuthenticationToken</Code>');

    const before = emulator.calls.length;
    await sts(emulator, { secretAccessKey: 'wrong' })
      .send(new GetCallerIdentityCommand({}))
      .catch(() => undefined);
    expect(emulator.calls.slice(before)).toEqual([
      expect.objectContaining({
        service: 'sts',
        operation: 'GetCallerIdentity',
        status: 403,
        errorType: 'SignatureDoesNotMatch',
      }),
    ]);
  });

  it('records every call with its service, decoded input and key, and classifies the mutating ones', async () => {
    const before = emulator.calls.length;
    const mutatingBefore = emulator.mutatingCalls().length;
    const elb = new ElasticLoadBalancingV2Client(
      config(emulator, { accessKeyId: 'AKIDCI', secretAccessKey: 'ci-secret' }),
    );
    await elb.send(new DescribeTargetGroupsCommand({ Names: ['nope'] })).catch(() => undefined);
    await rawQuery(
      emulator,
      'Action=CreateTargetGroup&Version=2015-12-01&Name=rec&Protocol=HTTP&Port=80&VpcId=vpc-0e0000000000000a1',
      { service: 'elasticloadbalancing' },
    );
    expect(emulator.calls.slice(before)).toEqual([
      {
        service: 'elbv2',
        operation: 'DescribeTargetGroups',
        input: { Names: ['nope'] },
        accepted: { Names: ['nope'] },
        status: 400,
        errorType: 'TargetGroupNotFound',
        at: expect.any(Number),
        accessKeyId: 'AKIDCI',
      },
      expect.objectContaining({
        service: 'elbv2',
        operation: 'CreateTargetGroup',
        input: { Name: 'rec', Protocol: 'HTTP', Port: '80', VpcId: 'vpc-0e0000000000000a1' },
        status: 200,
        accessKeyId: 'test',
      }),
    ]);
    expect(
      emulator
        .mutatingCalls()
        .slice(mutatingBefore)
        .map((c) => c.operation),
    ).toEqual(['CreateTargetGroup']);
  });

  it('applies request faults to Query operations: Throttling (retried by the SDK), server errors, dropped connections', async () => {
    emulator.faults.throttle('GetCallerIdentity', 1);
    const throttled = await sts(emulator)
      .send(new GetCallerIdentityCommand({}))
      .catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(STSServiceException);
    expect(throttled).toMatchObject({
      name: 'Throttling',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    expect(emulator.calls.at(-1)).toMatchObject({
      operation: 'GetCallerIdentity',
      status: 400,
      errorType: 'Throttling',
    });

    emulator.faults.throttle('GetCallerIdentity', 1);
    const retried = await sts(emulator, { maxAttempts: 3 }).send(new GetCallerIdentityCommand({}));
    expect(retried.$metadata.attempts).toBe(2);

    emulator.faults.serverError('GetRole', 1);
    const failed = await new IAMClient(config(emulator))
      .send(new GetRoleCommand({ RoleName: 'deploy' }))
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } });

    emulator.faults.dropConnection('DescribeTargetGroups', 1);
    const dropped = await new ElasticLoadBalancingV2Client(config(emulator))
      .send(new DescribeTargetGroupsCommand({}))
      .catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(Error);
    expect(dropped).not.toBeInstanceOf(ElasticLoadBalancingV2ServiceException);
    expect(emulator.calls.at(-1)).toMatchObject({ operation: 'DescribeTargetGroups', status: 0 });
  });

  it('answers every Query operation, given nothing or nonsense, with 200 or a 4xx error, never a crash', async () => {
    const operations: [string, string, string[]][] = [
      ['sts', '2011-06-15', ['GetCallerIdentity']],
      ['iam', '2010-05-08', ['GetRole', 'SimulatePrincipalPolicy']],
      [
        'elasticloadbalancing',
        '2015-12-01',
        [
          'DescribeLoadBalancers',
          'DescribeListeners',
          'CreateTargetGroup',
          'DescribeTargetGroups',
          'DeleteTargetGroup',
          'CreateRule',
          'DescribeRules',
          'ModifyRule',
          'DeleteRule',
          'SetRulePriorities',
          'AddTags',
          'RemoveTags',
          'DescribeTags',
          'RegisterTargets',
          'DeregisterTargets',
          'DescribeTargetHealth',
        ],
      ],
    ];
    const nonsense = [
      '',
      '&Names.member.1.Deep=x&Priority=abc&Targets=x&Conditions.member.1=y&Actions.member.1.ForwardConfig=z' +
        '&ActionNames=x&ContextEntries.member.1.ContextKeyValues=z&Tags.member.1=3&RoleName=a%2Fb' +
        '&PolicySourceArn=arn:aws:iam::000000000000:role/deploy&ResourceArns.member.1.x=1&Marker=%00&PageSize=-1' +
        '&RulePriorities.member.1.Priority=x&TargetGroupArn=arn:x&ListenerArn=arn:y&RuleArn=z&Name=ok&Port=0',
    ];
    for (const [service, version, names] of operations) {
      for (const name of names) {
        for (const extra of nonsense) {
          const res = await rawQuery(emulator, `Action=${name}&Version=${version}${extra}`, { service });
          expect([name, extra, res.status < 500, res.text.includes('InternalFailure')]).toEqual([
            name,
            extra,
            true,
            false,
          ]);
        }
      }
    }
  });

  it('refuses a request whose list has a gap with ValidationError', async () => {
    const res = await rawQuery(emulator, 'Action=DescribeTargetGroups&Version=2015-12-01&Names.member.2=x', {
      service: 'elasticloadbalancing',
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('<Code>ValidationError</Code>');
  });
});

describe('emulator options', () => {
  it('refuses a principalArn that is no IAM principal', async () => {
    await expect(
      startEmulator({
        credentials: [
          { accessKeyId: 'a', secretAccessKey: 'b', principalArn: 'arn:aws:iam::000000000000:group/ops' },
        ],
      }),
    ).rejects.toThrow(/principalArn 'arn:aws:iam::000000000000:group\/ops' is not an assumed-role session/);
  });
});
