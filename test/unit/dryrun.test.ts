import { describe, expect, it } from '@jest/globals';
import type { RegisterTaskDefinitionCommandInput, TaskDefinition } from '@aws-sdk/client-ecs';
import {
  describePlannedCalls,
  renderDryRunSummary,
  taskDefinitionDiff,
  type CurrentTaskDefinition,
  type PlannedRun,
} from '../../src/dryrun.js';
import { generateAppSpec } from '../../src/render/appspec.js';
import { prepareTaskDefinition, READ_ONLY_TASK_DEFINITION_FIELDS } from '../../src/render/taskdef.js';

/** DescribeTaskDefinition with include TAGS, as ECS answers it: read-only fields, empty lists and all. */
const described: { taskDefinition: TaskDefinition; tags: { key: string; value: string }[] } = {
  taskDefinition: {
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7',
    containerDefinitions: [
      {
        name: 'web',
        image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/web:abc123',
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
    revision: 7,
    volumes: [],
    status: 'ACTIVE',
    requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.task-iam-role' }],
    placementConstraints: [],
    compatibilities: ['EC2', 'FARGATE'],
    runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    ephemeralStorage: { sizeInGiB: 30 },
    registeredAt: new Date('2026-11-20T10:00:00Z'),
    registeredBy: 'arn:aws:sts::123456789012:assumed-role/deploy/session',
  },
  tags: [{ key: 'team', value: 'payments' }],
};

const REPO = '123456789012.dkr.ecr.us-east-1.amazonaws.com/web';

/** The task definition a run would register from the one the service runs now, as the pipeline prepares it. */
function next(imageUri = `${REPO}:abc123`, edit?: (td: RegisterTaskDefinitionCommandInput) => void) {
  const input = prepareTaskDefinition(structuredClone(described), [{ containerName: 'web', imageUri }], {
    source: 'the current task definition',
    where: 'task-definition',
  }).input;
  edit?.(input);
  return input;
}

describe('taskDefinitionDiff', () => {
  it('shows a new image as one changed line, under current (family:revision) and new', () => {
    expect(taskDefinitionDiff(described, next(`${REPO}:def456`))).toBe(
      [
        '--- current (web:7)',
        '+++ new',
        '@@ -3,7 +3,7 @@',
        '     {',
        '       "cpu": 0,',
        '       "essential": true,',
        `-      "image": "${REPO}:abc123",`,
        `+      "image": "${REPO}:def456",`,
        '       "name": "web",',
        '       "portMappings": [',
        '         {',
        '',
      ].join('\n'),
    );
  });

  it('shows a changed environment variable, and not a reordered one', () => {
    const current: CurrentTaskDefinition = structuredClone(described);
    current.taskDefinition.containerDefinitions![0]!.environment = [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'PORT', value: '8080' },
    ];
    const diff = taskDefinitionDiff(
      current,
      next(undefined, (td) => {
        td.containerDefinitions![0]!.environment = [
          { name: 'PORT', value: '8080' },
          { name: 'LOG_LEVEL', value: 'debug' },
        ];
      }),
    );
    const changed = diff.split('\n').filter((l) => /^[-+][^-+]/.test(l));
    expect(changed).toEqual(['-          "value": "info"', '+          "value": "debug"']);
    expect(diff).toContain('           "name": "LOG_LEVEL",');
  });

  it('is empty when nothing but read-only fields and empty lists differ', () => {
    expect(taskDefinitionDiff(described, next())).toBe('');
    expect(
      taskDefinitionDiff(
        described,
        next(undefined, (td) => {
          delete td.volumes;
          delete td.placementConstraints;
        }),
      ),
    ).toBe('');
  });

  it('never shows the fields DescribeTaskDefinition adds, even next to the whole document', () => {
    for (const diff of [
      taskDefinitionDiff(described, next(`${REPO}:def456`)),
      taskDefinitionDiff(undefined, next()),
      taskDefinitionDiff(described, { family: 'other', containerDefinitions: [] }),
    ]) {
      for (const field of READ_ONLY_TASK_DEFINITION_FIELDS) expect(diff).not.toContain(`"${field}"`);
      expect(diff).not.toContain('"mountPoints"');
    }
  });

  it('compares against nothing when there is no current task definition', () => {
    const diff = taskDefinitionDiff(undefined, next());
    expect(diff.startsWith('--- current (none)\n+++ new\n@@ -0,0 +1,')).toBe(true);
    expect(diff).toContain('+  "family": "web",');
    expect(diff).toContain('+      "key": "team",');
  });

  it('takes a bare TaskDefinition too, tags left out', () => {
    const diff = taskDefinitionDiff(described.taskDefinition, next());
    expect(diff.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual([
      '+  "tags": [',
      '+    {',
      '+      "key": "team",',
      '+      "value": "payments"',
      '+    }',
      '+  ],',
    ]);
  });
});

describe('describePlannedCalls', () => {
  const base = { taskDefinitionFamily: 'example-app', wait: true };
  it.each<[string, PlannedRun, string[]]>([
    [
      'a CodeDeploy run that builds into a new repository',
      {
        ...base,
        pushes: [{ repository: 'example-app', tags: ['0123abc', 'latest'], createRepository: true }],
        deployment: {
          mode: 'codedeploy',
          application: 'AppECS-demo-web',
          deploymentGroup: 'DgpECS-demo-web',
          deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
        },
      },
      [
        'ecr:GetAuthorizationToken (docker login --password-stdin)',
        'ecr:CreateRepository repositoryName=example-app',
        'ecr:PutImage example-app:0123abc,latest (docker push: layers, then the manifest)',
        'ecs:RegisterTaskDefinition family=example-app',
        'codedeploy:CreateDeployment AppECS-demo-web/DgpECS-demo-web config=CodeDeployDefault.ECSAllAtOnce (AppSpecContent)',
        'codedeploy:GetDeployment, polled until Succeeded, Failed or Stopped',
      ],
    ],
    [
      'a rolling run of an existing image, forced, not watched',
      {
        ...base,
        wait: false,
        pushes: [],
        deployment: {
          mode: 'rolling',
          cluster: 'demo',
          service: 'web',
          forceNewDeployment: true,
          desiredCount: 3,
        },
      },
      [
        'ecs:RegisterTaskDefinition family=example-app',
        'ecs:UpdateService cluster=demo service=web taskDefinition=example-app:<new revision> forceNewDeployment=true desiredCount=3',
      ],
    ],
    [
      'a watched rolling run',
      {
        ...base,
        pushes: [{ repository: 'web', tags: ['abc'], createRepository: false }],
        deployment: { mode: 'rolling', cluster: 'demo', service: 'web', forceNewDeployment: false },
      },
      [
        'ecr:GetAuthorizationToken (docker login --password-stdin)',
        'ecr:PutImage web:abc (docker push: layers, then the manifest)',
        'ecs:RegisterTaskDefinition family=example-app',
        'ecs:UpdateService cluster=demo service=web taskDefinition=example-app:<new revision>',
        'ecs:DescribeServices cluster=demo service=web, polled until the deployment is COMPLETED or FAILED',
      ],
    ],
    [
      'an ECS-native run that stops waiting at BAKE_TIME',
      {
        ...base,
        pushes: [],
        deployment: { mode: 'ecs-native', cluster: 'demo', service: 'web', waitUntil: 'BAKE_TIME' },
      },
      [
        'ecs:RegisterTaskDefinition family=example-app',
        "ecs:UpdateService cluster=demo service=web taskDefinition=example-app:<new revision> (the service's own BLUE_GREEN, LINEAR or CANARY)",
        'ecs:DescribeServiceDeployments <service deployment>, polled until it reaches BAKE_TIME',
      ],
    ],
    [
      'a register-only run',
      { ...base, pushes: [], deployment: { mode: 'none' } },
      ['ecs:RegisterTaskDefinition family=example-app'],
    ],
  ])('lists %s in order', (_, plan, calls) => {
    expect(describePlannedCalls(plan)).toEqual(calls);
  });
});

describe('renderDryRunSummary', () => {
  const appspec = generateAppSpec({ taskDefinition: next(), containerName: 'web', containerPort: 8080 });

  it('puts the calls in a list, the diff in a diff block and the appspec in a yaml block', () => {
    const diff = taskDefinitionDiff(described, next(`${REPO}:def456`));
    const md = renderDryRunSummary({ calls: ['ecs:RegisterTaskDefinition family=web'], diff, appspec });
    expect(md).toContain('### Dry run: nothing was changed in AWS');
    expect(md).toContain('1. <code>ecs:RegisterTaskDefinition family=web</code>');
    expect(md).toContain(`\`\`\`diff\n${diff}\`\`\``);
    expect(md).toContain(
      '```yaml\nversion: 0.0\nResources:\n  - TargetService:\n      Type: "AWS::ECS::Service"\n      Properties:\n        TaskDefinition: "<TASK_DEFINITION>"\n        LoadBalancerInfo:\n          ContainerName: "web"\n          ContainerPort: 8080\n```',
    );
  });

  it('says so when the task definition is unchanged, and leaves the appspec out of a rolling run', () => {
    const md = renderDryRunSummary({ calls: [], diff: '' });
    expect(md).toContain('Same as the current revision');
    expect(md).not.toContain('```');
    expect(md).not.toContain('AppSpec');
  });

  it('fences a diff that itself contains backticks with a longer fence', () => {
    const diff = taskDefinitionDiff(
      described,
      next(undefined, (td) => {
        td.containerDefinitions![0]!.command = ['sh', '-c', 'echo ```'];
      }),
    );
    expect(renderDryRunSummary({ calls: [], diff })).toContain(`\`\`\`\`diff\n${diff}\`\`\`\``);
  });
});
