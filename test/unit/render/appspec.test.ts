import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { UserError, type Problem } from '../../../src/errors.js';
import {
  type AppSpec,
  checkAppSpecAgainstTaskDefinition,
  ECS_HOOKS,
  generateAppSpec,
  parseAppSpec,
  renderAppSpec,
} from '../../../src/render/appspec.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/render/${name}`, import.meta.url), 'utf8');
const ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:42';

function problemsOf(run: () => unknown): Problem[] {
  try {
    run();
  } catch (e) {
    if (e instanceof UserError) return e.problems;
    throw e;
  }
  throw new Error('expected a UserError');
}

const parseProblems = (text: string, file = 'appspec.yaml') =>
  problemsOf(() => parseAppSpec(text, file, 'codedeploy-appspec'));

/** A valid appspec with `properties` lines replacing the default Properties block. */
function withProperties(...properties: string[]): string {
  return [
    'version: 0.0',
    'Resources:',
    '  - TargetService:',
    '      Type: AWS::ECS::Service',
    '      Properties:',
    ...properties.map((l) => `        ${l}`),
  ].join('\n');
}
const LB = [
  'TaskDefinition: <TASK_DEFINITION>',
  'LoadBalancerInfo:',
  '  ContainerName: web',
  '  ContainerPort: 8080',
];

const FULL: AppSpec = {
  version: 0,
  Resources: [
    {
      TargetService: {
        Type: 'AWS::ECS::Service',
        Properties: {
          TaskDefinition: '<TASK_DEFINITION>',
          LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 },
          PlatformVersion: 'LATEST',
          NetworkConfiguration: {
            AwsvpcConfiguration: {
              Subnets: ['subnet-1234abcd', 'subnet-5678abcd'],
              SecurityGroups: ['sg-12345678'],
              AssignPublicIp: 'DISABLED',
            },
          },
          CapacityProviderStrategy: [
            { Base: 1, CapacityProvider: 'FARGATE_SPOT', Weight: 2 },
            { CapacityProvider: 'FARGATE', Weight: 1 },
          ],
        },
      },
    },
  ],
  Hooks: [
    { BeforeInstall: 'arn:aws:lambda:us-east-1:123456789012:function:before-install' },
    { AfterAllowTestTraffic: 'smoke-test' },
  ],
};

describe('parseAppSpec', () => {
  it.each([['appspec-full.yaml'], ['appspec-full.json']])('reads every documented field of %s', (file) => {
    const { appspec, parsed } = parseAppSpec(fixture(file), file, 'codedeploy-appspec');
    expect(appspec).toEqual(FULL);
    expect(
      parsed.lineOf(['Resources', 0, 'TargetService', 'Properties', 'LoadBalancerInfo', 'ContainerPort']),
    ).toBe(9);
  });

  it.each([
    ['version: 0.0', 0],
    ['version: "0.0"', '0.0'],
  ])('accepts %s', (line, version) => {
    const text = withProperties(...LB).replace('version: 0.0', line);
    expect(parseAppSpec(text, 'appspec.yaml', 'codedeploy-appspec').appspec.version).toBe(version);
  });

  it('treats an empty Hooks section as no hooks', () => {
    const { appspec } = parseAppSpec(
      `${withProperties(...LB)}\nHooks:\n`,
      'appspec.yaml',
      'codedeploy-appspec',
    );
    expect(appspec).not.toHaveProperty('Hooks');
  });

  it.each<[string, string, Record<string, unknown>]>([
    [
      'a wrong version',
      withProperties(...LB).replace('version: 0.0', 'version: 1.0'),
      {
        where: 'appspec.yaml: version',
        line: 1,
        what: 'version is the number 1; the only valid version is 0.0.',
      },
    ],
    [
      'a missing version',
      withProperties(...LB).replace('version: 0.0\n', ''),
      { where: 'appspec.yaml: version', line: 1, fix: 'Add `version: 0.0` as its first line.' },
    ],
    [
      'a ContainerPort written as a string',
      withProperties(...LB.slice(0, 3), '  ContainerPort: "8080"'),
      {
        where: 'appspec.yaml: Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerPort',
        line: 9,
        what: 'ContainerPort is the string "8080"; it must be a whole number from 1 to 65535.',
        fix: 'Write it as a number, without quotes: `ContainerPort: 8080`.',
      },
    ],
    [
      'a ContainerPort out of range',
      withProperties(...LB.slice(0, 3), '  ContainerPort: 0'),
      { line: 9, fix: 'Set ContainerPort to the containerPort of a port mapping of that container.' },
    ],
    [
      'a missing ContainerPort',
      withProperties(...LB.slice(0, 3)),
      { line: 7, what: 'LoadBalancerInfo has no ContainerPort.' },
    ],
    [
      'a ContainerName that is not a string',
      withProperties(LB[0]!, LB[1]!, '  ContainerName: 42', LB[3]!),
      { line: 8, what: 'ContainerName is the number 42.' },
    ],
    [
      'a missing LoadBalancerInfo',
      withProperties(LB[0]!),
      {
        where: 'appspec.yaml: Resources[0].TargetService.Properties.LoadBalancerInfo',
        line: 5,
        what: 'Resources[0].TargetService.Properties has no LoadBalancerInfo.',
      },
    ],
    [
      'a missing TaskDefinition',
      withProperties(...LB.slice(1)),
      {
        line: 5,
        fix: "Write `TaskDefinition: <TASK_DEFINITION>`; the action puts the registered revision's ARN there.",
      },
    ],
    [
      'a misspelt property',
      withProperties(...LB, 'PlatformVersions: LATEST'),
      {
        where: 'appspec.yaml: Resources[0].TargetService.Properties.PlatformVersions',
        line: 10,
        what: 'Unknown property "PlatformVersions" in Resources[0].TargetService.Properties. Did you mean PlatformVersion?',
        fix: 'Rename it to PlatformVersion.',
      },
    ],
    [
      'a misspelt LoadBalancerInfo key',
      withProperties(LB[0]!, LB[1]!, '  containerName: web', LB[3]!),
      { line: 8, fix: 'Rename it to ContainerName.' },
    ],
    [
      'an unknown property with no close match',
      withProperties(...LB, 'DesiredCount: 3'),
      {
        line: 10,
        fix: 'Remove it; Resources[0].TargetService.Properties takes TaskDefinition, LoadBalancerInfo, PlatformVersion, NetworkConfiguration, CapacityProviderStrategy.',
      },
    ],
    [
      'an EC2 top-level key',
      `${withProperties(...LB)}\nfiles:\n  - source: /\n    destination: /srv\n`,
      {
        where: 'appspec.yaml: files',
        line: 10,
        what: expect.stringContaining('belongs to EC2/on-premises appspecs'),
      },
    ],
    [
      'a Lambda resource type',
      withProperties(...LB).replace('AWS::ECS::Service', 'AWS::Lambda::Function'),
      { line: 4, what: expect.stringContaining('this action deploys Amazon ECS services') },
    ],
    [
      'two resources',
      `${withProperties(...LB)}\n  - TargetService: {}\n`,
      { where: 'appspec.yaml: Resources', line: 2, what: expect.stringContaining('Resources has 2 items') },
    ],
    [
      'Resources as a mapping',
      'version: 0.0\nResources:\n  TargetService: {}\n',
      { where: 'appspec.yaml: Resources', line: 2, what: expect.stringContaining('Resources is an object') },
    ],
    [
      'no Resources',
      'version: 0.0\n',
      { where: 'appspec.yaml: Resources', line: 1, fix: expect.stringContaining('ContainerPort: 8080') },
    ],
    [
      'an item without TargetService',
      'version: 0.0\nResources:\n  - targetService: {}\n',
      { where: 'appspec.yaml: Resources[0].targetService', line: 3, fix: 'Rename it to TargetService.' },
    ],
    [
      'a NetworkConfiguration without AwsvpcConfiguration',
      withProperties(...LB, 'NetworkConfiguration: {}'),
      { line: 10, fix: expect.stringContaining("It replaces the service's whole network configuration") },
    ],
    [
      'an AwsvpcConfiguration without Subnets',
      withProperties(...LB, 'NetworkConfiguration:', '  AwsvpcConfiguration:', '    SecurityGroups: [sg-1]'),
      { line: 11, what: 'AwsvpcConfiguration has no Subnets.' },
    ],
    [
      'empty Subnets',
      withProperties(...LB, 'NetworkConfiguration:', '  AwsvpcConfiguration:', '    Subnets: []'),
      { line: 12, what: 'Subnets is an empty list.' },
    ],
    [
      'a Subnets string',
      withProperties(...LB, 'NetworkConfiguration:', '  AwsvpcConfiguration:', '    Subnets: subnet-1'),
      { line: 12, what: 'Subnets is the string "subnet-1".' },
    ],
    [
      'a non-string security group',
      withProperties(
        ...LB,
        'NetworkConfiguration:',
        '  AwsvpcConfiguration:',
        '    Subnets: [subnet-1]',
        '    SecurityGroups:',
        '      - 12',
      ),
      { where: expect.stringContaining('SecurityGroups[0]'), line: 14 },
    ],
    [
      'AssignPublicIp in lower case',
      withProperties(
        ...LB,
        'NetworkConfiguration:',
        '  AwsvpcConfiguration:',
        '    Subnets: [subnet-1]',
        '    AssignPublicIp: enabled',
      ),
      { line: 13, fix: 'Write it in capitals: ENABLED.' },
    ],
    [
      'AssignPublicIp as a boolean',
      withProperties(
        ...LB,
        'NetworkConfiguration:',
        '  AwsvpcConfiguration:',
        '    Subnets: [subnet-1]',
        '    AssignPublicIp: true',
      ),
      { line: 13, what: 'AssignPublicIp is the boolean true; it must be ENABLED or DISABLED.' },
    ],
    [
      'a capacity provider without a name',
      withProperties(...LB, 'CapacityProviderStrategy:', '  - Weight: 1'),
      { line: 11, what: 'This strategy item has no CapacityProvider.' },
    ],
    [
      'a negative Weight',
      withProperties(...LB, 'CapacityProviderStrategy:', '  - CapacityProvider: FARGATE', '    Weight: -1'),
      { line: 12, fix: 'Write Weight as a whole number from 0 to 1000.' },
    ],
    [
      'an empty strategy',
      withProperties(...LB, 'CapacityProviderStrategy: []'),
      { line: 10, what: 'CapacityProviderStrategy is an empty list.' },
    ],
    [
      'an empty PlatformVersion',
      withProperties(...LB, 'PlatformVersion: ""'),
      { line: 10, what: 'PlatformVersion is the string "".' },
    ],
    [
      'a misspelt hook',
      `${withProperties(...LB)}\nHooks:\n  - BeforeInstal: check\n`,
      {
        where: 'appspec.yaml: Hooks[0].BeforeInstal',
        line: 11,
        what: '"BeforeInstal" is not an ECS lifecycle hook. Did you mean BeforeInstall?',
      },
    ],
    [
      'an unknown hook',
      `${withProperties(...LB)}\nHooks:\n  - OnDeploy: check\n`,
      { line: 11, fix: `Use one of ${ECS_HOOKS.join(', ')}.` },
    ],
    [
      'a hook with an empty function',
      `${withProperties(...LB)}\nHooks:\n  - AfterInstall: ""\n`,
      { line: 11, what: 'The hook AfterInstall is the string ""; it must name a Lambda function.' },
    ],
    [
      'a hook item with two keys',
      `${withProperties(...LB)}\nHooks:\n  - BeforeInstall: a\n    AfterInstall: b\n`,
      { where: 'appspec.yaml: Hooks[0]', line: 11, what: expect.stringContaining('a mapping with 2 keys') },
    ],
    [
      'a hook item that is a string',
      `${withProperties(...LB)}\nHooks:\n  - BeforeInstall\n`,
      { where: 'appspec.yaml: Hooks[0]', line: 11 },
    ],
    [
      'Hooks as a string',
      `${withProperties(...LB)}\nHooks: BeforeInstall\n`,
      { where: 'appspec.yaml: Hooks', line: 10 },
    ],
    [
      'ECS hooks written as a mapping',
      `${withProperties(...LB)}\nHooks:\n  AfterInstall: check-b\n  BeforeInstall: check-a\n`,
      {
        where: 'appspec.yaml: Hooks',
        line: 10,
        what: 'Hooks is an object; it must be a list of single-key maps, one per hook.',
        fix: [
          'Write Hooks as a list of Lambda functions (create each one first), or delete Hooks if you need no checks:',
          'Hooks:',
          '  - BeforeInstall: "check-a"',
          '  - AfterInstall: "check-b"',
        ].join('\n'),
      },
    ],
    [
      'a JSON file with a string port',
      '{\n"version": 0.0,\n"Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {\n"TaskDefinition": "x",\n"LoadBalancerInfo": {"ContainerName": "web",\n"ContainerPort": "80"}}}}]}',
      { file: 'appspec.json', line: 6, fix: 'Write it as a number, without quotes: `ContainerPort: 80`.' },
    ],
  ])('refuses %s, at its line', (label, text, expected) => {
    const file = label.startsWith('a JSON file') ? 'appspec.json' : 'appspec.yaml';
    const problems = parseProblems(text, file);
    expect(problems).toContainEqual(expect.objectContaining({ file, ...expected }));
  });

  it('reports all problems of one file at once', () => {
    const text = [
      'version: 1', // 1
      'Resources:', // 2
      '  - TargetService:', // 3
      '      Type: AWS::ECS::Service', // 4
      '      Properties:', // 5
      '        TaskDefinition: <TASK_DEFINITION>', // 6
      '        LoadBalancerInfo:', // 7
      '          ContainerName: web', // 8
      '          ContainerPort: "8080"', // 9
      '        NetworkConfiguration:', // 10
      '          AwsvpcConfiguration:', // 11
      '            Subnet: [subnet-1]', // 12
      'Hook:', // 13
      '  - BeforeInstall: x', // 14
    ].join('\n');
    expect(
      parseProblems(text).map((p) => [
        p.where.replace('Resources[0].TargetService.Properties.', '…'),
        p.line,
      ]),
    ).toEqual([
      ['appspec.yaml: Hook', 13],
      ['appspec.yaml: version', 1],
      ['appspec.yaml: …LoadBalancerInfo.ContainerPort', 9],
      ['appspec.yaml: …NetworkConfiguration.AwsvpcConfiguration.Subnet', 12],
      ['appspec.yaml: …NetworkConfiguration.AwsvpcConfiguration.Subnets', 11],
    ]);
  });

  it('passes syntax problems through with their position', () => {
    expect(parseProblems('version: 0.0\nversion: 0.0\n')).toEqual([
      expect.objectContaining({
        where: 'codedeploy-appspec (appspec.yaml)',
        file: 'appspec.yaml',
        line: 2,
        column: 1,
      }),
    ]);
  });

  describe('EC2/on-premises hooks', () => {
    it("refuses the tutorial's script hooks with one problem that shows the Lambda form", () => {
      const problems = parseProblems(fixture('appspec-ec2-hooks.yaml'));
      expect(problems).toHaveLength(1);
      const [problem] = problems;
      expect(problem).toMatchObject({ where: 'appspec.yaml: Hooks', file: 'appspec.yaml', line: 11 });
      expect(problem!.what).toBe(
        'Hooks are written in the EC2/on-premises form (scripts under BeforeInstall, AfterInstall, ApplicationStart, ApplicationStop; events only EC2/on-premises deployments have: ApplicationStart, ApplicationStop). ' +
          'In an ECS deployment each hook is a Lambda function, given by name or ARN, that CodeDeploy invokes at that lifecycle event; ' +
          'the function must call PutLifecycleEventHookExecutionStatus with Succeeded or Failed within one hour, or the deployment fails. ' +
          'Scripts (location, timeout, runas) run only in EC2/on-premises deployments.',
      );
      expect(problem!.fix).toBe(
        [
          'Write Hooks as a list of Lambda functions (create each one first), or delete Hooks if you need no checks:',
          'Hooks:',
          '  - BeforeInstall: "before-install"',
          '  - AfterInstall: "after-install"',
          '  - AfterAllowTestTraffic: "application-start"',
          'ApplicationStart became AfterAllowTestTraffic: it runs once the test listener sends traffic to the new tasks, the moment to check that they work.',
          "ApplicationStop was dropped: ECS stops the old tasks itself once traffic has moved; graceful shutdown belongs in the container's SIGTERM handling (and stopTimeout).",
        ].join('\n'),
      );
    });

    it('suggests YAML that parses into valid ECS hooks', () => {
      const [problem] = parseProblems(fixture('appspec-ec2-hooks.yaml'));
      const hooksYaml = problem!.fix.split('\n').slice(1, 5).join('\n');
      const text = fixture('appspec-ec2-hooks.yaml').replace(/^Hooks:[\s\S]*$/m, hooksYaml);
      expect(parseAppSpec(text, 'appspec.yaml', 'codedeploy-appspec').appspec.Hooks).toEqual([
        { BeforeInstall: 'before-install' },
        { AfterInstall: 'after-install' },
        { AfterAllowTestTraffic: 'application-start' },
      ]);
    });

    it.each<[string, string, string[], string[]]>([
      [
        'lower-case script fields in a list',
        'Hooks:\n  - ValidateService:\n      - location: deploy/Validate Service.sh\n        timeout: 60\n        runas: root\n',
        ['  - AfterAllowTestTraffic: "validate-service"'],
        ['ValidateService became AfterAllowTestTraffic'],
      ],
      [
        'EC2 event names with Lambda functions',
        'Hooks:\n  - BeforeInstall: prep\n  - ApplicationStart: check-start\n  - ValidateService: check-more\n',
        ['  - BeforeInstall: "prep"', '  - AfterAllowTestTraffic: "check-start"'],
        ["ValidateService's checks belong in the same AfterAllowTestTraffic function."],
      ],
      [
        'only events ECS lacks',
        'Hooks:\n  ApplicationStop:\n    - location: stop.sh\n  BeforeBlockTraffic:\n    - location: drain.sh\n  DownloadBundle:\n    - location: x.sh\n',
        [],
        [
          'Delete the Hooks section: none of its events exists in an ECS deployment.',
          'BeforeBlockTraffic was dropped: ECS deployments have no block-traffic events',
          'DownloadBundle was dropped: ECS pulls the image itself',
        ],
      ],
      [
        'a script without a location',
        'Hooks:\n  AfterAllowTraffic:\n    - timeout: 30\n',
        ['  - AfterAllowTraffic: "after-allow-traffic"'],
        [],
      ],
    ])('handles %s', (_, hooks, suggested, notes) => {
      const problems = parseProblems(`${withProperties(...LB)}\n${hooks}`);
      expect(problems).toHaveLength(1);
      const fix = problems[0]!.fix;
      for (const line of suggested) expect(fix.split('\n')).toContain(line);
      expect(fix.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(suggested.length);
      for (const note of notes) expect(fix).toContain(note);
      expect(problems[0]!.what).toContain('PutLifecycleEventHookExecutionStatus');
    });
  });
});

describe('checkAppSpecAgainstTaskDefinition', () => {
  const taskDefinition: RegisterTaskDefinitionCommandInput = {
    family: 'web',
    containerDefinitions: [
      { name: 'web', portMappings: [{ containerPort: 8080 }, { containerPort: 9090 }] },
      { name: 'sidecar' },
    ],
  };
  const text = withProperties(...LB);

  it('accepts a container and port the task definition maps', () => {
    const { appspec, parsed } = parseAppSpec(text, 'appspec.yaml', 'codedeploy-appspec');
    expect(() =>
      checkAppSpecAgainstTaskDefinition(appspec, taskDefinition, {
        file: 'appspec.yaml',
        where: 'codedeploy-appspec',
        parsed,
      }),
    ).not.toThrow();
  });

  it.each<[string, string, Record<string, unknown>]>([
    [
      'a container the task definition lacks',
      text.replace('ContainerName: web', 'ContainerName: api'),
      {
        where: 'appspec.yaml: Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerName',
        line: 8,
        what: 'Container "api" is not in task definition web; its containers are: web, sidecar.',
      },
    ],
    [
      'a port the container does not map',
      text.replace('ContainerPort: 8080', 'ContainerPort: 80'),
      {
        where: 'appspec.yaml: Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerPort',
        line: 9,
        what: 'Container "web" has port mappings for 8080, 9090, not 80.',
        fix: 'Set ContainerPort to one of 8080, 9090, or add {"containerPort": 80} to the container\'s portMappings.',
      },
    ],
    [
      'a container without port mappings',
      text.replace('ContainerName: web', 'ContainerName: sidecar'),
      { line: 9, what: 'Container "sidecar" has no port mappings, not 8080.' },
    ],
    [
      'a TaskDefinition ARN of another family',
      text.replace(
        'TaskDefinition: <TASK_DEFINITION>',
        'TaskDefinition: arn:aws:ecs:us-east-1:123456789012:task-definition/other-app:3',
      ),
      {
        where: 'appspec.yaml: Resources[0].TargetService.Properties.TaskDefinition',
        line: 6,
        what: 'TaskDefinition names the family other-app, but this run deploys a revision of web.',
        fix: expect.stringContaining('Write `TaskDefinition: <TASK_DEFINITION>`'),
      },
    ],
    [
      'a TaskDefinition family:revision of another family',
      text.replace('TaskDefinition: <TASK_DEFINITION>', 'TaskDefinition: other-app:3'),
      { line: 6, what: 'TaskDefinition names the family other-app, but this run deploys a revision of web.' },
    ],
  ])('refuses %s, at the appspec line', (_, source, expected) => {
    const { appspec, parsed } = parseAppSpec(source, 'appspec.yaml', 'codedeploy-appspec');
    const problems = problemsOf(() =>
      checkAppSpecAgainstTaskDefinition(appspec, taskDefinition, {
        file: 'appspec.yaml',
        where: 'codedeploy-appspec',
        parsed,
      }),
    );
    expect(problems).toEqual([expect.objectContaining({ file: 'appspec.yaml', ...expected })]);
  });

  it.each([
    ['the placeholder', 'TaskDefinition: <TASK_DEFINITION>'],
    ['an ARN of the same family', `TaskDefinition: ${ARN}`],
    ['the family name alone', 'TaskDefinition: web'],
    ['a family:revision of the same family', 'TaskDefinition: web:7'],
  ])('accepts %s as TaskDefinition (replaced by the registered revision)', (_, line) => {
    const { appspec, parsed } = parseAppSpec(
      text.replace('TaskDefinition: <TASK_DEFINITION>', line),
      'appspec.yaml',
      'codedeploy-appspec',
    );
    expect(() =>
      checkAppSpecAgainstTaskDefinition(appspec, taskDefinition, { where: 'x', parsed }),
    ).not.toThrow();
  });

  it.each([
    ['a byte order mark', `\ufeff${text}`],
    ['tabs after the values', text.replace('ContainerPort: 8080', 'ContainerPort: 8080\t')],
    ['CRLF line ends', text.replace(/\n/g, '\r\n')],
  ])('accepts an appspec with %s, as AWS does', (_, source) => {
    const { appspec, parsed } = parseAppSpec(source, 'appspec.yaml', 'codedeploy-appspec');
    expect(() =>
      checkAppSpecAgainstTaskDefinition(appspec, taskDefinition, { where: 'x', parsed }),
    ).not.toThrow();
  });

  it('names the input when there is no file', () => {
    const appspec = generateAppSpec({ taskDefinition });
    const problems = problemsOf(() =>
      checkAppSpecAgainstTaskDefinition(
        appspec,
        { family: 'web', containerDefinitions: [{ name: 'other' }] },
        {
          where: 'codedeploy-appspec',
        },
      ),
    );
    expect(problems).toEqual([
      expect.objectContaining({
        where: 'codedeploy-appspec: Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerName',
      }),
    ]);
    expect(problems[0]).not.toHaveProperty('line');
    expect(problems[0]).not.toHaveProperty('file');
  });
});

describe('generateAppSpec', () => {
  const td = (...containers: [string, ...number[]][]): RegisterTaskDefinitionCommandInput => ({
    family: 'web',
    containerDefinitions: containers.map(([name, ...ports]) => ({
      name,
      ...(ports.length > 0 && { portMappings: ports.map((containerPort) => ({ containerPort })) }),
    })),
  });

  it.each<
    [
      string,
      RegisterTaskDefinitionCommandInput,
      { containerName?: string; containerPort?: number },
      [string, number],
    ]
  >([
    ['the only container with port mappings', td(['log-router'], ['web', 8080, 9090]), {}, ['web', 8080]],
    ['the named container', td(['web', 80], ['api', 3000]), { containerName: 'api' }, ['api', 3000]],
    [
      'the named container and port',
      td(['web', 80, 443]),
      { containerName: 'web', containerPort: 443 },
      ['web', 443],
    ],
    [
      'the one container mapping the given port',
      td(['web', 80], ['api', 3000]),
      { containerPort: 3000 },
      ['api', 3000],
    ],
  ])('picks %s', (_, taskDefinition, opts, [name, port]) => {
    const appspec = generateAppSpec({ taskDefinition, ...opts });
    expect(appspec.Resources[0].TargetService.Properties).toEqual({
      TaskDefinition: '<TASK_DEFINITION>',
      LoadBalancerInfo: { ContainerName: name, ContainerPort: port },
    });
    expect(appspec.version).toBe('0.0');
    expect(appspec).not.toHaveProperty('Hooks');
  });

  it.each<
    [string, RegisterTaskDefinitionCommandInput, { containerName?: string; containerPort?: number }, Problem]
  >([
    [
      'several containers with port mappings',
      td(['web', 80], ['api', 3000]),
      {},
      {
        where: 'container-name',
        what: "Several containers could receive the load balancer's traffic: web (80), api (3000).",
        fix: 'Set `container-name` to the one the load balancer sends traffic to.',
      },
    ],
    [
      'no container with port mappings',
      td(['web'], ['worker']),
      {},
      {
        where: 'container-port',
        what: 'No container has port mappings, so a blue/green deployment has no port to send traffic to; the containers are web (no port mappings), worker (no port mappings).',
        fix: 'Add portMappings to the container that serves traffic (for example {"containerPort": 8080}), or give `codedeploy-appspec`.',
      },
    ],
    [
      'a named container that does not exist',
      td(['web', 80]),
      { containerName: 'api' },
      {
        where: 'container-name',
        what: 'The task definition has no container "api"; it has web (80).',
        fix: 'Set `container-name` to the container the load balancer sends traffic to.',
      },
    ],
    [
      'a named container without port mappings',
      td(['web', 80], ['worker']),
      { containerName: 'worker' },
      {
        where: 'container-port',
        what: 'Container worker has no port mappings, so the load balancer has no port to send traffic to.',
        fix: 'Add {"containerPort": …} to the portMappings of worker and set `container-port` to it.',
      },
    ],
    [
      'a port the named container does not map',
      td(['web', 80]),
      { containerName: 'web', containerPort: 8080 },
      {
        where: 'container-port',
        what: 'Container web has port mappings for 80, not 8080.',
        fix: 'Set `container-port` to a port web maps, or add {"containerPort": 8080} to its portMappings.',
      },
    ],
    [
      'a port no container maps',
      td(['web', 80]),
      { containerPort: 8080 },
      {
        where: 'container-port',
        what: 'No container maps port 8080; the containers are web (80).',
        fix: 'Set `container-port` to a mapped port, or add {"containerPort": 8080} to the portMappings of the container that serves traffic.',
      },
    ],
  ])('refuses %s', (_, taskDefinition, opts, problem) => {
    expect(problemsOf(() => generateAppSpec({ taskDefinition, ...opts }))).toEqual([problem]);
  });

  it('adds the platform version and the hooks in lifecycle order', () => {
    const appspec = generateAppSpec({
      taskDefinition: td(['web', 80]),
      platformVersion: '1.4.0',
      hooks: { AfterAllowTraffic: 'after', BeforeInstall: 'before', AfterAllowTestTraffic: 'smoke' },
    });
    expect(appspec.Resources[0].TargetService.Properties.PlatformVersion).toBe('1.4.0');
    expect(appspec.Hooks).toEqual([
      { BeforeInstall: 'before' },
      { AfterAllowTestTraffic: 'smoke' },
      { AfterAllowTraffic: 'after' },
    ]);
  });
});

describe('renderAppSpec', () => {
  it('renders the full appspec with the registered ARN, as CodeDeploy reads it', () => {
    const { appspec, content, sha256 } = renderAppSpec(FULL, ARN);
    expect(content).toBe(
      [
        'version: 0.0',
        'Resources:',
        '  - TargetService:',
        '      Type: "AWS::ECS::Service"',
        '      Properties:',
        `        TaskDefinition: "${ARN}"`,
        '        LoadBalancerInfo:',
        '          ContainerName: "web"',
        '          ContainerPort: 8080',
        '        PlatformVersion: "LATEST"',
        '        NetworkConfiguration:',
        '          AwsvpcConfiguration:',
        '            Subnets:',
        '              - "subnet-1234abcd"',
        '              - "subnet-5678abcd"',
        '            SecurityGroups:',
        '              - "sg-12345678"',
        '            AssignPublicIp: "DISABLED"',
        '        CapacityProviderStrategy:',
        '          - Base: 1',
        '            CapacityProvider: "FARGATE_SPOT"',
        '            Weight: 2',
        '          - CapacityProvider: "FARGATE"',
        '            Weight: 1',
        'Hooks:',
        '  - BeforeInstall: "arn:aws:lambda:us-east-1:123456789012:function:before-install"',
        '  - AfterAllowTestTraffic: "smoke-test"',
        '',
      ].join('\n'),
    );
    expect(sha256).toBe(createHash('sha256').update(Buffer.from(content, 'utf8')).digest('hex'));
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(appspec.Resources[0].TargetService.Properties.TaskDefinition).toBe(ARN);
    expect(FULL.Resources[0].TargetService.Properties.TaskDefinition).toBe('<TASK_DEFINITION>');
  });

  it.each([['appspec-full.yaml'], ['appspec-full.json']])('round-trips %s through a YAML parser', (file) => {
    const { appspec } = parseAppSpec(fixture(file), file, 'codedeploy-appspec');
    const { content } = renderAppSpec(appspec, ARN);
    const expected = structuredClone(FULL);
    expected.Resources[0].TargetService.Properties.TaskDefinition = ARN;
    expect(parse(content, { version: '1.1' })).toEqual(expected);
    expect(parseAppSpec(content, 'rendered.yaml', 'w').appspec).toEqual(renderAppSpec(appspec, ARN).appspec);
  });

  it('is deterministic whatever the key order and version form it was given', () => {
    const reordered: AppSpec = {
      Hooks: FULL.Hooks,
      Resources: [
        {
          TargetService: {
            Properties: {
              CapacityProviderStrategy: [
                { Weight: 2, CapacityProvider: 'FARGATE_SPOT', Base: 1 },
                { Weight: 1, CapacityProvider: 'FARGATE' },
              ],
              NetworkConfiguration: {
                AwsvpcConfiguration: {
                  AssignPublicIp: 'DISABLED',
                  SecurityGroups: ['sg-12345678'],
                  Subnets: ['subnet-1234abcd', 'subnet-5678abcd'],
                },
              },
              PlatformVersion: 'LATEST',
              LoadBalancerInfo: { ContainerPort: 8080, ContainerName: 'web' },
              TaskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:41',
            },
            Type: 'AWS::ECS::Service',
          },
        },
      ],
      version: '0.0',
    };
    const a = renderAppSpec(FULL, ARN);
    const b = renderAppSpec(reordered, ARN);
    expect(b.content).toBe(a.content);
    expect(b.sha256).toBe(a.sha256);
    expect(renderAppSpec(FULL, `${ARN}0`).sha256).not.toBe(a.sha256);
  });

  it('quotes strings a YAML 1.1 parser would read as something else', () => {
    const appspec = generateAppSpec({
      taskDefinition: {
        family: 'web',
        containerDefinitions: [{ name: 'on', portMappings: [{ containerPort: 80 }] }],
      },
      hooks: { BeforeInstall: '0755' },
    });
    const { content } = renderAppSpec(appspec, ARN);
    expect(parse(content, { version: '1.1' })).toMatchObject({
      version: 0,
      Resources: [
        { TargetService: { Properties: { LoadBalancerInfo: { ContainerName: 'on', ContainerPort: 80 } } } },
      ],
      Hooks: [{ BeforeInstall: '0755' }],
    });
  });
});
