/**
 * AWS CodeDeploy for the ECS compute platform: applications, deployment groups, the built-in
 * ECS deployment configurations, and blue/green deployments that walk the ECS lifecycle
 * events on the emulated clock, driving the service's task sets in the ECS emulator.
 */
import { createHash } from 'node:crypto';
import type {
  ApplicationInfo,
  AutoRollbackConfiguration,
  BlueGreenDeploymentConfiguration,
  DeploymentConfigInfo,
  DeploymentGroupInfo,
  DeploymentInfo,
  DeploymentTarget,
  ECSTaskSet,
  ErrorCode,
  LoadBalancerInfo,
  RevisionLocation,
  Tag,
  TrafficRoutingConfig,
} from '@aws-sdk/client-codedeploy';
import { parse as parseYaml } from 'yaml';
import { decodeNextToken, encodeNextToken, FAILED_TASK_THRESHOLD } from './context.js';
import type { EmulatorContext, Operation, ServiceEmulator } from './context.js';
import type { EcsEmulator } from './ecs.js';
import { AwsError, isRecord, optionalString } from './errors.js';
import { LIFECYCLE_HOOKS } from './faults.js';
import type {
  CodeDeployDeploymentRecord,
  CodeDeployState,
  DeploymentGroupRecord,
  EcsAppSpec,
  EcsLifecycleEventName,
  LifecycleEventRecord,
  ServiceRecord,
  TaskRecord,
} from './state.js';

const ECS_LIFECYCLE_EVENTS: readonly EcsLifecycleEventName[] = [
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'AllowTestTraffic',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic',
];

/** What each lifecycle event does in a deployment, and in the rollback deployment that undoes one. */
type Step = 'hook' | 'install' | 'testTraffic' | 'traffic' | 'skip' | 'restoreTestTraffic' | 'restoreTraffic';
const DEPLOYMENT_STEPS: readonly Step[] = [
  'hook',
  'install',
  'hook',
  'testTraffic',
  'hook',
  'hook',
  'traffic',
  'hook',
];
const ROLLBACK_STEPS: readonly Step[] = [
  'skip',
  'skip',
  'skip',
  'restoreTestTraffic',
  'skip',
  'skip',
  'restoreTraffic',
  'skip',
];
const BEFORE_ALLOW_TRAFFIC = ECS_LIFECYCLE_EVENTS.indexOf('BeforeAllowTraffic');

const ACTIVE_STATUSES = new Set(['Created', 'Queued', 'InProgress', 'Baking', 'Ready']);
const MINUTE = 60_000;

const ECS_CONFIGS: Record<string, TrafficRoutingConfig> = {
  'CodeDeployDefault.ECSAllAtOnce': { type: 'AllAtOnce' },
  'CodeDeployDefault.ECSLinear10PercentEvery1Minutes': {
    type: 'TimeBasedLinear',
    timeBasedLinear: { linearPercentage: 10, linearInterval: 1 },
  },
  'CodeDeployDefault.ECSLinear10PercentEvery3Minutes': {
    type: 'TimeBasedLinear',
    timeBasedLinear: { linearPercentage: 10, linearInterval: 3 },
  },
  'CodeDeployDefault.ECSCanary10Percent5Minutes': {
    type: 'TimeBasedCanary',
    timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 },
  },
  'CodeDeployDefault.ECSCanary10Percent15Minutes': {
    type: 'TimeBasedCanary',
    timeBasedCanary: { canaryPercentage: 10, canaryInterval: 15 },
  },
};

/** EC2/on-premises built-ins: present so that naming one for ECS fails the way it does in AWS. */
const SERVER_CONFIGS: Record<string, DeploymentConfigInfo['minimumHealthyHosts']> = {
  'CodeDeployDefault.OneAtATime': { type: 'HOST_COUNT', value: 1 },
  'CodeDeployDefault.HalfAtATime': { type: 'FLEET_PERCENT', value: 50 },
  'CodeDeployDefault.AllAtOnce': { type: 'FLEET_PERCENT', value: 0 },
};

const err = (type: string, message: string) => new AwsError(type, message);

/**
 * Runs lifecycle hooks that stand in for Lambda functions (the demo runtime calls http URLs).
 * Hooks it does not handle are Lambda names that report success after `timings.hook`.
 */
export interface HookRunner {
  handles(functionName: string): boolean;
  /** Invokes the hook; `report` is called once, later (never from inside `invoke`), with a failure message or nothing. */
  invoke(
    functionName: string,
    event: { deploymentId: string; lifecycleEventHookExecutionId: string; lifecycleEventName: string },
    report: (failure?: string) => void,
  ): void;
}

function required(input: Record<string, unknown>, member: string, exception: string, what: string): string {
  const value = optionalString(input, member, 'InvalidInputException');
  if (!value) throw err(exception, `${what} is required.`);
  return value;
}

export class CodeDeployEmulator implements ServiceEmulator {
  readonly service = 'codedeploy' as const;
  readonly targetPrefix = 'CodeDeploy_20141006';
  readonly signingNames = ['codedeploy'] as const;
  readonly operations: Readonly<Record<string, Operation>>;
  private hookRunner?: HookRunner;

  constructor(
    private readonly ctx: EmulatorContext,
    readonly state: CodeDeployState,
    private readonly ecs: EcsEmulator,
  ) {
    const created = new Date(ctx.scheduler.now());
    for (const [name, trafficRoutingConfig] of Object.entries(ECS_CONFIGS)) {
      state.deploymentConfigs.set(name, {
        deploymentConfigId: ctx.ids.uuid(),
        deploymentConfigName: name,
        createTime: created,
        computePlatform: 'ECS',
        trafficRoutingConfig,
      });
    }
    for (const [name, minimumHealthyHosts] of Object.entries(SERVER_CONFIGS)) {
      state.deploymentConfigs.set(name, {
        deploymentConfigId: ctx.ids.uuid(),
        deploymentConfigName: name,
        createTime: created,
        computePlatform: 'Server',
        minimumHealthyHosts,
      });
    }
    ecs.onTaskChange((svc, changed) => this.onTaskChange(svc, changed));
    this.operations = {
      CreateApplication: (i) => this.createApplication(i),
      GetApplication: (i) => this.getApplication(i),
      ListApplications: () => ({ applications: [...this.state.applications.keys()] }),
      CreateDeploymentGroup: (i) => this.createDeploymentGroup(i),
      GetDeploymentGroup: (i) => this.getDeploymentGroup(i),
      ListDeploymentGroups: (i) => this.listDeploymentGroups(i),
      GetDeploymentConfig: (i) => this.getDeploymentConfig(i),
      ListDeploymentConfigs: () => ({ deploymentConfigsList: [...this.state.deploymentConfigs.keys()] }),
      CreateDeployment: (i) => this.createDeployment(i),
      GetDeployment: (i) => ({ deploymentInfo: this.projectDeployment(this.requireDeployment(i)) }),
      BatchGetDeployments: (i) => this.batchGetDeployments(i),
      ListDeployments: (i) => this.listDeployments(i),
      StopDeployment: (i) => this.stopDeployment(i),
      ContinueDeployment: (i) => this.continueDeployment(i),
      ListDeploymentTargets: (i) => ({ targetIds: [this.requireStartedDeployment(i).target.targetId] }),
      GetDeploymentTarget: (i) => this.getDeploymentTarget(i),
      BatchGetDeploymentTargets: (i) => this.batchGetDeploymentTargets(i),
    };
  }

  /** Hooks the runner handles run through it from now on. */
  useHookRunner(runner: HookRunner): void {
    this.hookRunner = runner;
  }

  private now(): Date {
    return new Date(this.ctx.scheduler.now());
  }

  private arn(resource: string): string {
    return `arn:aws:codedeploy:${this.ctx.region}:${this.ctx.accountId}:${resource}`;
  }

  // ------------------------------------------------------------------ applications and groups

  createApplication(input: Record<string, unknown>): { applicationId: string } {
    const name = required(
      input,
      'applicationName',
      'ApplicationNameRequiredException',
      'The application name',
    );
    if (name.length > 100)
      throw err('InvalidApplicationNameException', 'The application name must be at most 100 characters.');
    if (this.state.applications.has(name)) {
      throw err(
        'ApplicationAlreadyExistsException',
        `The application ${name} already exists with the IAM user or AWS account.`,
      );
    }
    const computePlatform =
      optionalString(input, 'computePlatform', 'InvalidComputePlatformException') ?? 'Server';
    if (!['Server', 'Lambda', 'ECS'].includes(computePlatform)) {
      throw err(
        'InvalidComputePlatformException',
        `The computePlatform '${computePlatform}' is not one of Server, Lambda, ECS.`,
      );
    }
    const application: ApplicationInfo = {
      applicationId: this.ctx.ids.uuid(),
      applicationName: name,
      createTime: this.now(),
      linkedToGitHub: false,
      computePlatform: computePlatform as ApplicationInfo['computePlatform'],
    };
    this.state.applications.set(name, {
      application,
      tags: Array.isArray(input.tags) ? (structuredClone(input.tags) as Tag[]) : [],
    });
    this.state.deploymentGroups.set(name, new Map());
    return { applicationId: application.applicationId as string };
  }

  private requireApplication(input: Record<string, unknown>): ApplicationInfo {
    const name = required(
      input,
      'applicationName',
      'ApplicationNameRequiredException',
      'The application name',
    );
    const app = this.state.applications.get(name);
    if (!app) throw err('ApplicationDoesNotExistException', `No application found for name: ${name}`);
    return app.application;
  }

  private getApplication(input: Record<string, unknown>): { application: ApplicationInfo } {
    return { application: structuredClone(this.requireApplication(input)) };
  }

  private requireGroup(input: Record<string, unknown>): DeploymentGroupRecord {
    const app = this.requireApplication(input);
    const name = required(
      input,
      'deploymentGroupName',
      'DeploymentGroupNameRequiredException',
      'The deployment group name',
    );
    const group = this.state.deploymentGroups.get(app.applicationName as string)?.get(name);
    if (!group)
      throw err('DeploymentGroupDoesNotExistException', `No Deployment Group found for name: ${name}`);
    return group;
  }

  createDeploymentGroup(input: Record<string, unknown>): { deploymentGroupId: string } {
    const app = this.requireApplication(input);
    const appName = app.applicationName as string;
    const name = required(
      input,
      'deploymentGroupName',
      'DeploymentGroupNameRequiredException',
      'The deployment group name',
    );
    const groups = this.state.deploymentGroups.get(appName) as Map<string, DeploymentGroupRecord>;
    if (groups.has(name)) {
      throw err(
        'DeploymentGroupAlreadyExistsException',
        `The deployment group ${name} already exists with the application ${appName}.`,
      );
    }
    const serviceRoleArn = optionalString(input, 'serviceRoleArn', 'InvalidRoleException');
    if (!serviceRoleArn)
      throw err('RoleRequiredException', 'A service role ARN is required for this deployment group.');
    const configName =
      optionalString(input, 'deploymentConfigName', 'InvalidDeploymentConfigNameException') ??
      (app.computePlatform === 'ECS' ? 'CodeDeployDefault.ECSAllAtOnce' : 'CodeDeployDefault.OneAtATime');
    this.requireConfig(configName, app.computePlatform as string);
    if (app.computePlatform !== 'ECS') {
      throw err(
        'InvalidComputePlatformException',
        'The emulator implements deployment groups for the ECS compute platform only.',
      );
    }

    const style = isRecord(input.deploymentStyle) ? input.deploymentStyle : {};
    if (style.deploymentType !== 'BLUE_GREEN' || style.deploymentOption !== 'WITH_TRAFFIC_CONTROL') {
      throw err(
        'InvalidDeploymentStyleException',
        'An ECS deployment group requires deploymentStyle {deploymentType: BLUE_GREEN, deploymentOption: WITH_TRAFFIC_CONTROL}.',
      );
    }
    const services = Array.isArray(input.ecsServices) ? input.ecsServices : [];
    if (services.length === 0)
      throw err('InvalidECSServiceException', 'An ECS deployment group requires one entry in ecsServices.');
    if (services.length > 1) {
      throw err(
        'ECSServiceMappingLimitExceededException',
        'An ECS deployment group can have only one ECS service.',
      );
    }
    const mapping = services[0] as Record<string, unknown>;
    const clusterName = String(mapping.clusterName ?? '');
    const serviceName = String(mapping.serviceName ?? '');
    const svc = this.ecs.findService(clusterName, serviceName);
    if (!svc || svc.status !== 'ACTIVE') {
      throw err(
        'InvalidECSServiceException',
        `The ECS service ${serviceName} in cluster ${clusterName} does not exist or is not ACTIVE.`,
      );
    }
    if (svc.deploymentController.type !== 'CODE_DEPLOY') {
      throw err(
        'InvalidECSServiceException',
        "Deployment group's ECS service must be configured for a CODE_DEPLOY deployment controller.",
      );
    }
    for (const [otherApp, otherGroups] of this.state.deploymentGroups) {
      for (const [otherName, other] of otherGroups) {
        const used = other.info.ecsServices?.[0];
        if (used?.clusterName === clusterName && used.serviceName === serviceName) {
          throw err(
            'InvalidECSServiceException',
            `The ECS service ${serviceName} in cluster ${clusterName} is already used by deployment group ${otherName} of application ${otherApp}.`,
          );
        }
      }
    }
    const loadBalancerInfo = this.validateLoadBalancerInfo(input.loadBalancerInfo);
    const blueGreen = this.validateBlueGreen(input.blueGreenDeploymentConfiguration);
    const autoRollback = this.validateAutoRollback(input.autoRollbackConfiguration);

    const info: DeploymentGroupInfo = {
      applicationName: appName,
      deploymentGroupId: this.ctx.ids.uuid(),
      deploymentGroupName: name,
      deploymentConfigName: configName,
      ec2TagFilters: [],
      onPremisesInstanceTagFilters: [],
      autoScalingGroups: [],
      serviceRoleArn,
      triggerConfigurations: [],
      alarmConfiguration: { enabled: false, ignorePollAlarmFailure: false, alarms: [] },
      autoRollbackConfiguration: autoRollback,
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      outdatedInstancesStrategy: 'UPDATE',
      blueGreenDeploymentConfiguration: blueGreen,
      loadBalancerInfo,
      computePlatform: 'ECS',
      ecsServices: [{ serviceName, clusterName }],
      terminationHookEnabled: false,
    };
    const targetGroupArns = (loadBalancerInfo.targetGroupPairInfoList?.[0]?.targetGroups ?? []).map(
      (tg) =>
        svc.loadBalancers.find((lb) => lb.targetGroupArn?.split('/')[1] === tg.name)?.targetGroupArn ??
        `arn:aws:elasticloadbalancing:${this.ctx.region}:${this.ctx.accountId}:targetgroup/${tg.name}/${this.ctx.ids.hex(16)}`,
    ) as [string, string];
    groups.set(name, { info, productionTargetGroup: 0, targetGroupArns });
    return { deploymentGroupId: info.deploymentGroupId as string };
  }

  private validateLoadBalancerInfo(value: unknown): LoadBalancerInfo {
    const pairs =
      isRecord(value) && Array.isArray(value.targetGroupPairInfoList) ? value.targetGroupPairInfoList : [];
    if (pairs.length !== 1) {
      throw err(
        'InvalidTargetGroupPairException',
        'An ECS deployment group requires exactly one entry in loadBalancerInfo.targetGroupPairInfoList.',
      );
    }
    const pair = pairs[0] as Record<string, unknown>;
    const targetGroups = Array.isArray(pair.targetGroups) ? pair.targetGroups : [];
    if (
      targetGroups.length !== 2 ||
      targetGroups.some((tg) => !isRecord(tg) || typeof tg.name !== 'string' || !tg.name)
    ) {
      throw err(
        'InvalidTargetGroupPairException',
        'The target group pair must name exactly two target groups.',
      );
    }
    const prod =
      isRecord(pair.prodTrafficRoute) && Array.isArray(pair.prodTrafficRoute.listenerArns)
        ? pair.prodTrafficRoute.listenerArns
        : [];
    if (prod.length !== 1) {
      throw err(
        'InvalidTargetGroupPairException',
        'The target group pair needs exactly one production listener in prodTrafficRoute.listenerArns.',
      );
    }
    return structuredClone(value) as LoadBalancerInfo;
  }

  private validateBlueGreen(value: unknown): BlueGreenDeploymentConfiguration {
    const config = isRecord(value) ? (structuredClone(value) as BlueGreenDeploymentConfiguration) : {};
    const ready = config.deploymentReadyOption ?? {
      actionOnTimeout: 'CONTINUE_DEPLOYMENT',
      waitTimeInMinutes: 0,
    };
    ready.actionOnTimeout ??= 'CONTINUE_DEPLOYMENT';
    ready.waitTimeInMinutes ??= 0;
    if (!['CONTINUE_DEPLOYMENT', 'STOP_DEPLOYMENT'].includes(ready.actionOnTimeout)) {
      throw err(
        'InvalidBlueGreenDeploymentConfigurationException',
        `Invalid deploymentReadyOption.actionOnTimeout '${ready.actionOnTimeout}'.`,
      );
    }
    if (
      ready.actionOnTimeout === 'STOP_DEPLOYMENT' &&
      !(ready.waitTimeInMinutes >= 1 && ready.waitTimeInMinutes <= 2880)
    ) {
      throw err(
        'InvalidBlueGreenDeploymentConfigurationException',
        'With actionOnTimeout STOP_DEPLOYMENT, deploymentReadyOption.waitTimeInMinutes must be between 1 and 2880.',
      );
    }
    const terminate = config.terminateBlueInstancesOnDeploymentSuccess ?? {
      action: 'TERMINATE',
      terminationWaitTimeInMinutes: 0,
    };
    terminate.action ??= 'TERMINATE';
    terminate.terminationWaitTimeInMinutes ??= 0;
    if (
      terminate.action !== 'TERMINATE' ||
      !(terminate.terminationWaitTimeInMinutes >= 0 && terminate.terminationWaitTimeInMinutes <= 2880)
    ) {
      throw err(
        'InvalidBlueGreenDeploymentConfigurationException',
        'For ECS, terminateBlueInstancesOnDeploymentSuccess.action must be TERMINATE and terminationWaitTimeInMinutes between 0 and 2880.',
      );
    }
    return { terminateBlueInstancesOnDeploymentSuccess: terminate, deploymentReadyOption: ready };
  }

  private validateAutoRollback(value: unknown): AutoRollbackConfiguration {
    if (value === undefined || value === null) return { enabled: false, events: [] };
    if (!isRecord(value))
      throw err('InvalidAutoRollbackConfigException', 'autoRollbackConfiguration must be an object.');
    const events = Array.isArray(value.events) ? (value.events as string[]) : [];
    const known = ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'];
    const unknown = events.find((e) => !known.includes(e));
    if (unknown)
      throw err(
        'InvalidAutoRollbackConfigException',
        `Unknown auto rollback event '${unknown}'. Valid: ${known.join(', ')}.`,
      );
    if (value.enabled === true && events.length === 0) {
      throw err(
        'InvalidAutoRollbackConfigException',
        'An enabled auto rollback configuration needs at least one event.',
      );
    }
    return { enabled: value.enabled === true, events: events as AutoRollbackConfiguration['events'] };
  }

  private getDeploymentGroup(input: Record<string, unknown>): { deploymentGroupInfo: DeploymentGroupInfo } {
    const group = this.requireGroup(input);
    const info = group.info;
    const inGroup = [...this.state.deployments.values()].filter(
      (d) =>
        d.applicationName === info.applicationName &&
        d.deploymentGroupName === info.deploymentGroupName &&
        d.creator === 'user',
    );
    const last = (list: CodeDeployDeploymentRecord[]) => {
      const d = list.at(-1);
      return (
        d && {
          deploymentId: d.deploymentId,
          status: d.status,
          endTime: d.completeTime,
          createTime: d.createTime,
        }
      );
    };
    return {
      deploymentGroupInfo: structuredClone({
        ...info,
        targetRevision: group.lastSuccessfulRevision,
        lastAttemptedDeployment: last(inGroup),
        lastSuccessfulDeployment: last(inGroup.filter((d) => d.status === 'Succeeded')),
      }),
    };
  }

  private listDeploymentGroups(input: Record<string, unknown>): {
    applicationName: string;
    deploymentGroups: string[];
  } {
    const app = this.requireApplication(input);
    const name = app.applicationName as string;
    return {
      applicationName: name,
      deploymentGroups: [...(this.state.deploymentGroups.get(name)?.keys() ?? [])],
    };
  }

  private requireConfig(name: string, computePlatform: string): DeploymentConfigInfo {
    const config = this.state.deploymentConfigs.get(name);
    if (!config)
      throw err(
        'DeploymentConfigDoesNotExistException',
        `No deployment configuration found for name: ${name}`,
      );
    if (config.computePlatform !== computePlatform) {
      throw err(
        'InvalidDeploymentConfigNameException',
        `The deployment configuration ${name} is for the ${config.computePlatform} compute platform, not ${computePlatform}.`,
      );
    }
    return config;
  }

  private getDeploymentConfig(input: Record<string, unknown>): {
    deploymentConfigInfo: DeploymentConfigInfo;
  } {
    const name = required(
      input,
      'deploymentConfigName',
      'DeploymentConfigNameRequiredException',
      'The deployment configuration name',
    );
    const config = this.state.deploymentConfigs.get(name);
    if (!config)
      throw err(
        'DeploymentConfigDoesNotExistException',
        `No deployment configuration found for name: ${name}`,
      );
    return { deploymentConfigInfo: structuredClone(config) };
  }

  // ------------------------------------------------------------------ creating deployments

  private createDeployment(input: Record<string, unknown>): { deploymentId: string } {
    const group = this.requireGroup(input);
    const info = group.info;
    const configName =
      optionalString(input, 'deploymentConfigName', 'InvalidDeploymentConfigNameException') ??
      (info.deploymentConfigName as string);
    this.requireConfig(configName, 'ECS');
    const description = optionalString(input, 'description', 'InvalidInputException');
    if (description !== undefined && description.length > 512) {
      throw err('DescriptionTooLongException', 'The description is too long: at most 512 characters.');
    }
    const { clusterName, serviceName } = info.ecsServices?.[0] as {
      clusterName: string;
      serviceName: string;
    };
    const svc = this.ecs.findService(clusterName, serviceName);
    if (!svc || svc.status !== 'ACTIVE' || svc.deploymentController.type !== 'CODE_DEPLOY') {
      throw err(
        'InvalidECSServiceException',
        `The ECS service ${serviceName} in cluster ${clusterName} must exist, be ACTIVE and use the CODE_DEPLOY deployment controller.`,
      );
    }
    const revision = input.revision;
    if (!isRecord(revision)) throw err('RevisionRequiredException', 'The revision is required.');
    const appSpec = this.parseAppSpec(revision);

    const active = [...this.state.deployments.values()].find(
      (d) =>
        d.applicationName === info.applicationName &&
        d.deploymentGroupName === info.deploymentGroupName &&
        ACTIVE_STATUSES.has(d.status),
    );
    if (active) {
      throw err(
        'DeploymentLimitExceededException',
        `The Deployment Group '${info.deploymentGroupName}' already has an active Deployment '${active.deploymentId}'`,
      );
    }
    const autoRollback =
      input.autoRollbackConfiguration !== undefined
        ? this.validateAutoRollback(input.autoRollbackConfiguration)
        : (info.autoRollbackConfiguration as AutoRollbackConfiguration);

    const d = this.newDeployment(group, svc, {
      creator: 'user',
      deploymentConfigName: configName,
      description,
      revision: structuredClone(revision) as RevisionLocation,
      autoRollbackConfiguration: structuredClone(autoRollback),
      appSpec,
      blueTaskSetId: svc.taskSets.find((t) => t.status === 'PRIMARY')?.id,
    });
    d.hookFailure = this.ctx.faults.takeLifecycleFailure(appSpec.hooks.keys());
    return { deploymentId: d.deploymentId };
  }

  private newDeployment(
    group: DeploymentGroupRecord,
    svc: ServiceRecord,
    fields: Pick<
      CodeDeployDeploymentRecord,
      'creator' | 'deploymentConfigName' | 'revision' | 'autoRollbackConfiguration' | 'blueTaskSetId'
    > &
      Partial<
        Pick<
          CodeDeployDeploymentRecord,
          'description' | 'appSpec' | 'greenTaskSetId' | 'greenTrafficWeight' | 'blueTargetGroup'
        >
      >,
  ): CodeDeployDeploymentRecord {
    const now = this.now();
    const id = this.ctx.ids.codeDeployDeploymentId();
    const d: CodeDeployDeploymentRecord = {
      deploymentId: id,
      applicationName: group.info.applicationName as string,
      deploymentGroupName: group.info.deploymentGroupName as string,
      status: 'Created',
      createTime: now,
      previousRevision: group.lastSuccessfulRevision,
      blueGreenDeploymentConfiguration: structuredClone(group.info.blueGreenDeploymentConfiguration ?? {}),
      instanceTerminationWaitTimeStarted: false,
      clusterName: svc.clusterName,
      serviceName: svc.serviceName,
      target: {
        targetId: `${svc.clusterName}:${svc.serviceName}`,
        targetArn: svc.serviceArn,
        status: 'Pending',
        lastUpdatedAt: now,
        lifecycleEvents: ECS_LIFECYCLE_EVENTS.map((lifecycleEventName) => ({
          lifecycleEventName,
          status: 'Pending',
        })),
      },
      greenTrafficWeight: 0,
      blueTargetGroup: group.productionTargetGroup,
      step: 0,
      timers: [],
      failedTaskIds: [],
      ...fields,
    };
    this.state.deployments.set(id, d);
    this.schedule(d, this.ctx.timings.deploymentStart, () => {
      d.status = 'InProgress';
      d.startTime = this.now();
      this.setTargetStatus(d, 'InProgress');
      this.runStep(d);
    });
    return d;
  }

  /** Validates an AppSpecContent revision the way CodeDeploy does for ECS, and extracts what a deployment needs. */
  private parseAppSpec(revision: Record<string, unknown>): EcsAppSpec {
    const invalid = (message: string) => err('InvalidRevisionException', message);
    if (revision.revisionType !== 'AppSpecContent') {
      throw invalid(
        `The revisionType '${String(revision.revisionType)}' is not served here: the emulator has no S3 or GitHub, so ECS deployments must use AppSpecContent.`,
      );
    }
    const spec = revision.appSpecContent;
    if (!isRecord(spec) || typeof spec.content !== 'string' || spec.content.trim() === '') {
      throw invalid(
        'The AppSpecContent revision needs appSpecContent.content (the AppSpec as a YAML or JSON string).',
      );
    }
    if (spec.sha256 !== undefined) {
      const actual = createHash('sha256').update(spec.content, 'utf8').digest('hex');
      if (typeof spec.sha256 !== 'string' || spec.sha256.toLowerCase() !== actual) {
        throw invalid(
          `The appSpecContent.sha256 '${String(spec.sha256)}' does not match the SHA-256 of the content (${actual}).`,
        );
      }
    }
    let doc: unknown;
    try {
      doc = parseYaml(spec.content);
    } catch (e) {
      throw invalid(`The AppSpec content is not valid YAML or JSON: ${(e as Error).message}`);
    }
    if (!isRecord(doc)) throw invalid('The AppSpec content must be a YAML or JSON object.');
    if (doc.version !== 0 && doc.version !== '0.0') throw invalid('The AppSpec version must be 0.0.');
    const resources = doc.Resources;
    if (
      !Array.isArray(resources) ||
      resources.length !== 1 ||
      !isRecord(resources[0]) ||
      !isRecord(resources[0].TargetService)
    ) {
      throw invalid('The AppSpec Resources must be a list with exactly one TargetService.');
    }
    const target = resources[0].TargetService;
    if (target.Type !== 'AWS::ECS::Service')
      throw invalid("The TargetService Type must be 'AWS::ECS::Service'.");
    const props = isRecord(target.Properties) ? target.Properties : {};
    const taskDefinition = props.TaskDefinition;
    if (
      typeof taskDefinition !== 'string' ||
      !/^arn:aws[\w-]*:ecs:[^:]+:\d{12}:task-definition\/[\w-]+:\d+$/.test(taskDefinition)
    ) {
      throw invalid(
        `The TargetService TaskDefinition must be a task definition ARN with a revision, got '${String(taskDefinition)}'.`,
      );
    }
    const td = this.ecs.findTaskDefinition(taskDefinition)?.taskDefinition;
    if (!td) throw invalid(`The task definition ${taskDefinition} named in the AppSpec does not exist.`);
    if (td.status !== 'ACTIVE')
      throw invalid(
        `The task definition ${taskDefinition} named in the AppSpec is ${td.status}, not ACTIVE.`,
      );
    const lb = isRecord(props.LoadBalancerInfo) ? props.LoadBalancerInfo : undefined;
    if (!lb || typeof lb.ContainerName !== 'string') {
      throw err(
        'InvalidLoadBalancerInfoException',
        'The AppSpec LoadBalancerInfo must name the ContainerName that receives traffic.',
      );
    }
    if (typeof lb.ContainerPort !== 'number' || !Number.isInteger(lb.ContainerPort)) {
      throw err(
        'InvalidLoadBalancerInfoException',
        `The AppSpec LoadBalancerInfo ContainerPort must be a number, got '${String(lb.ContainerPort)}'.`,
      );
    }
    const container = td.containerDefinitions?.find((c) => c.name === lb.ContainerName);
    if (!container) {
      throw err(
        'InvalidLoadBalancerInfoException',
        `The container ${lb.ContainerName} is not in task definition ${taskDefinition}.`,
      );
    }
    if (!container.portMappings?.some((p) => p.containerPort === lb.ContainerPort)) {
      throw err(
        'InvalidLoadBalancerInfoException',
        `The container ${lb.ContainerName} in task definition ${taskDefinition} has no port mapping for container port ${lb.ContainerPort}.`,
      );
    }
    const hooks = new Map<string, string>();
    if (doc.Hooks !== undefined && doc.Hooks !== null) {
      const supported = `The hooks must be one of the ECS supported hooks: ${LIFECYCLE_HOOKS.join(', ')}; each a single-key map to a Lambda function name or ARN.`;
      if (!Array.isArray(doc.Hooks)) throw invalid(supported);
      for (const entry of doc.Hooks) {
        const keys = isRecord(entry) ? Object.keys(entry) : [];
        const key = keys[0];
        if (keys.length !== 1 || !key || !(LIFECYCLE_HOOKS as readonly string[]).includes(key))
          throw invalid(supported);
        const fn = (entry as Record<string, unknown>)[key];
        if (typeof fn !== 'string' || fn === '') throw invalid(supported);
        hooks.set(key, fn);
      }
    }
    return {
      taskDefinition,
      containerName: lb.ContainerName,
      containerPort: lb.ContainerPort,
      hooks,
      platformVersion: typeof props.PlatformVersion === 'string' ? props.PlatformVersion : undefined,
      networkConfiguration: this.appSpecNetwork(props.NetworkConfiguration),
    };
  }

  private appSpecNetwork(value: unknown): EcsAppSpec['networkConfiguration'] {
    if (!isRecord(value) || !isRecord(value.AwsvpcConfiguration)) return undefined;
    const vpc = value.AwsvpcConfiguration;
    return {
      awsvpcConfiguration: {
        subnets: Array.isArray(vpc.Subnets) ? (vpc.Subnets as string[]) : [],
        securityGroups: Array.isArray(vpc.SecurityGroups) ? (vpc.SecurityGroups as string[]) : undefined,
        assignPublicIp: vpc.AssignPublicIp as 'ENABLED' | 'DISABLED' | undefined,
      },
    };
  }

  // ------------------------------------------------------------------ the deployment state machine

  private schedule(d: CodeDeployDeploymentRecord, delayMs: number, run: () => void): void {
    d.timers.push(this.ctx.scheduler.after(delayMs, run));
  }

  private cancelTimers(d: CodeDeployDeploymentRecord): void {
    for (const t of d.timers) this.ctx.scheduler.cancel(t);
    d.timers = [];
  }

  private setTargetStatus(
    d: CodeDeployDeploymentRecord,
    status: CodeDeployDeploymentRecord['target']['status'],
  ): void {
    d.target.status = status;
    d.target.lastUpdatedAt = this.now();
  }

  private serviceOf(d: CodeDeployDeploymentRecord): ServiceRecord | undefined {
    return this.ecs.findService(d.clusterName, d.serviceName);
  }

  private currentEvent(d: CodeDeployDeploymentRecord): LifecycleEventRecord | undefined {
    return d.target.lifecycleEvents[d.step];
  }

  private steps(d: CodeDeployDeploymentRecord): readonly Step[] {
    return d.creator === 'codeDeployRollback' ? ROLLBACK_STEPS : DEPLOYMENT_STEPS;
  }

  private runStep(d: CodeDeployDeploymentRecord): void {
    const event = this.currentEvent(d);
    if (!event) return this.afterLastEvent(d);
    event.status = 'InProgress';
    event.startTime = this.now();
    d.target.lastUpdatedAt = event.startTime;
    const { timings } = this.ctx;
    switch (this.steps(d)[d.step]) {
      case 'skip':
        return this.finishEvent(d, 'Skipped');
      case 'hook': {
        const fn = d.appSpec?.hooks.get(event.lifecycleEventName);
        if (fn === undefined) return this.finishEvent(d, 'Succeeded');
        const injected = d.hookFailure?.hook === event.lifecycleEventName;
        if (!injected && this.hookRunner?.handles(fn)) return this.invokeHook(d, event, fn, this.hookRunner);
        return this.schedule(d, timings.hook, () => {
          if (d.hookFailure?.hook === event.lifecycleEventName)
            this.failHook(d, event, fn, d.hookFailure.message);
          else this.finishEvent(d, 'Succeeded');
        });
      }
      case 'install':
        return this.install(d);
      case 'testTraffic':
      case 'restoreTestTraffic':
        return this.schedule(d, timings.trafficShift, () => this.finishEvent(d, 'Succeeded'));
      case 'traffic':
        return this.shiftTraffic(d);
      case 'restoreTraffic':
        return this.schedule(d, timings.trafficShift, () => {
          const svc = this.serviceOf(d);
          d.greenTrafficWeight = 0;
          if (svc && d.blueTaskSetId) this.ecs.setPrimaryTaskSet(svc, d.blueTaskSetId);
          this.finishEvent(d, 'Succeeded');
        });
    }
  }

  private invokeHook(
    d: CodeDeployDeploymentRecord,
    event: LifecycleEventRecord,
    fn: string,
    runner: HookRunner,
  ): void {
    const step = d.step;
    const execution = {
      deploymentId: d.deploymentId,
      lifecycleEventHookExecutionId: this.ctx.ids.uuid(),
      lifecycleEventName: event.lifecycleEventName,
    };
    runner.invoke(fn, execution, (failure) => {
      // A deployment stopped (or failed otherwise) while the hook ran has moved on without it.
      if (d.status !== 'InProgress' || d.step !== step || event.status !== 'InProgress') return;
      if (failure === undefined) this.finishEvent(d, 'Succeeded');
      else this.failHook(d, event, fn, failure);
    });
  }

  private finishEvent(d: CodeDeployDeploymentRecord, status: 'Succeeded' | 'Skipped'): void {
    const event = this.currentEvent(d);
    if (!event) return;
    event.status = status;
    event.endTime = this.now();
    d.target.lastUpdatedAt = event.endTime;
    d.step += 1;
    const ready = d.blueGreenDeploymentConfiguration.deploymentReadyOption;
    if (
      d.creator === 'user' &&
      d.step === BEFORE_ALLOW_TRAFFIC &&
      ready?.actionOnTimeout === 'STOP_DEPLOYMENT'
    ) {
      return this.waitUntilReady(d, ready.waitTimeInMinutes ?? 0);
    }
    this.runStep(d);
  }

  /** The replacement task set takes the AppSpec's task definition; Install ends when it is steady. */
  private install(d: CodeDeployDeploymentRecord): void {
    const svc = this.serviceOf(d);
    if (!svc || svc.status !== 'ACTIVE' || !d.appSpec) {
      return this.fail(
        d,
        'ECS_UPDATE_ERROR',
        `The ECS service ${d.serviceName} in cluster ${d.clusterName} is no longer ACTIVE.`,
      );
    }
    // Leftovers of an earlier deployment that ended without cleaning up give way to the new replacement.
    for (const ts of svc.taskSets) if (ts.status === 'ACTIVE') this.ecs.deleteTaskSet(svc, ts.id);
    const greenTargetGroup = this.groupOf(d)?.targetGroupArns[1 - d.blueTargetGroup];
    const green = this.ecs.createTaskSet(svc, d.appSpec.taskDefinition, {
      externalId: d.deploymentId,
      startedBy: 'CodeDeploy',
      networkConfiguration: d.appSpec.networkConfiguration,
      platformVersion: d.appSpec.platformVersion,
      loadBalancers: [
        {
          targetGroupArn: greenTargetGroup,
          containerName: d.appSpec.containerName,
          containerPort: d.appSpec.containerPort,
        },
      ],
    });
    d.greenTaskSetId = green.id;
    this.checkInstall(d);
  }

  private onTaskChange(svc: ServiceRecord, changed: TaskRecord[]): void {
    for (const d of this.state.deployments.values()) {
      if (d.status !== 'InProgress' || this.steps(d)[d.step] !== 'install' || this.serviceOf(d) !== svc)
        continue;
      for (const task of changed) {
        if (
          task.ownerId === d.greenTaskSetId &&
          task.lastStatus === 'STOPPED' &&
          (task.stopCode === 'EssentialContainerExited' || task.stopCode === 'TaskFailedToStart')
        ) {
          d.failedTaskIds.push(task.taskId);
        }
      }
      if (d.failedTaskIds.length >= FAILED_TASK_THRESHOLD) {
        const reason =
          changed.find((t) => t.stoppedReason)?.stoppedReason ?? 'Essential container in task exited';
        this.fail(
          d,
          'ECS_UPDATE_ERROR',
          `The ECS replacement task set ${d.greenTaskSetId} failed to reach a steady state: ${d.failedTaskIds.length} tasks stopped (${reason}): ${d.failedTaskIds.map((id) => `(task ${id})`).join(' ')}.`,
        );
      } else {
        this.checkInstall(d);
      }
    }
  }

  private checkInstall(d: CodeDeployDeploymentRecord): void {
    const green = this.serviceOf(d)?.taskSets.find((ts) => ts.id === d.greenTaskSetId);
    if (green?.stabilityStatus === 'STEADY_STATE') this.finishEvent(d, 'Succeeded');
  }

  /** AllowTraffic: production traffic moves to the replacement per the deployment configuration. */
  private shiftTraffic(d: CodeDeployDeploymentRecord): void {
    const routing = this.state.deploymentConfigs.get(d.deploymentConfigName)?.trafficRoutingConfig ?? {
      type: 'AllAtOnce',
    };
    const first = this.ctx.timings.trafficShift;
    const steps: [number, number][] = [];
    if (routing.type === 'TimeBasedCanary' && routing.timeBasedCanary) {
      const { canaryPercentage = 10, canaryInterval = 5 } = routing.timeBasedCanary;
      steps.push([first, canaryPercentage], [first + canaryInterval * MINUTE, 100]);
    } else if (routing.type === 'TimeBasedLinear' && routing.timeBasedLinear) {
      const { linearPercentage = 10, linearInterval = 1 } = routing.timeBasedLinear;
      for (let i = 0, weight = linearPercentage; ; i++, weight += linearPercentage) {
        steps.push([first + i * linearInterval * MINUTE, Math.min(100, weight)]);
        if (weight >= 100) break;
      }
    } else {
      steps.push([first, 100]);
    }
    for (const [at, weight] of steps) {
      this.schedule(d, at, () => {
        d.greenTrafficWeight = weight;
        if (weight < 100) return;
        const svc = this.serviceOf(d);
        if (svc && d.greenTaskSetId) this.ecs.setPrimaryTaskSet(svc, d.greenTaskSetId);
        this.finishEvent(d, 'Succeeded');
      });
    }
  }

  private waitUntilReady(d: CodeDeployDeploymentRecord, minutes: number): void {
    d.status = 'Ready';
    this.setTargetStatus(d, 'Ready');
    this.schedule(d, minutes * MINUTE, () => {
      this.stop(
        d,
        'Stopped',
        {
          code: 'TIMEOUT',
          message: `The deployment was stopped because traffic was not rerouted within the ${minutes} minute wait (deploymentReadyOption STOP_DEPLOYMENT). Call ContinueDeployment in time to reroute traffic.`,
        },
        false,
      );
    });
  }

  private afterLastEvent(d: CodeDeployDeploymentRecord): void {
    const svc = this.serviceOf(d);
    if (d.creator === 'codeDeployRollback') {
      if (svc && d.greenTaskSetId) this.ecs.deleteTaskSet(svc, d.greenTaskSetId);
      return this.succeed(d);
    }
    d.instanceTerminationWaitTimeStarted = true;
    const wait =
      d.blueGreenDeploymentConfiguration.terminateBlueInstancesOnDeploymentSuccess
        ?.terminationWaitTimeInMinutes ?? 0;
    this.schedule(d, wait * MINUTE, () => this.terminateBlue(d));
  }

  private terminateBlue(d: CodeDeployDeploymentRecord): void {
    const svc = this.serviceOf(d);
    if (svc && d.blueTaskSetId) this.ecs.deleteTaskSet(svc, d.blueTaskSetId);
    const group = this.groupOf(d);
    if (group) {
      group.productionTargetGroup = 1 - d.blueTargetGroup;
      group.lastSuccessfulRevision = d.revision;
    }
    this.succeed(d);
  }

  private succeed(d: CodeDeployDeploymentRecord): void {
    this.cancelTimers(d);
    d.status = 'Succeeded';
    d.completeTime = this.now();
    this.setTargetStatus(d, 'Succeeded');
  }

  private groupOf(d: CodeDeployDeploymentRecord): DeploymentGroupRecord | undefined {
    return this.state.deploymentGroups.get(d.applicationName)?.get(d.deploymentGroupName);
  }

  private failHook(
    d: CodeDeployDeploymentRecord,
    event: LifecycleEventRecord,
    fn: string,
    message: string | undefined,
  ): void {
    const detail =
      message ?? `The Lambda function ${fn} reported Failed to PutLifecycleEventHookExecutionStatus.`;
    event.diagnostics = {
      errorCode: 'UnknownError',
      scriptName: '',
      message: `The deployment failed because a specified lifecycle event hook failed: ${event.lifecycleEventName} (${fn}). ${detail}`,
      logTail: '',
    };
    this.fail(
      d,
      'HEALTH_CONSTRAINTS',
      `The deployment failed because the ${event.lifecycleEventName} lifecycle event hook ${fn} failed: ${detail}`,
    );
  }

  /** The running lifecycle event fails, the rest are skipped, and auto-rollback runs when configured. */
  private fail(d: CodeDeployDeploymentRecord, code: ErrorCode, message: string): void {
    const event = this.currentEvent(d);
    if (event && event.status === 'InProgress') {
      event.status = 'Failed';
      event.endTime = this.now();
      event.diagnostics ??= { errorCode: 'UnknownError', scriptName: '', message, logTail: '' };
    }
    const rollback = this.rollbackOn(d, 'DEPLOYMENT_FAILURE');
    this.stop(d, 'Failed', { code, message }, rollback);
  }

  private rollbackOn(
    d: CodeDeployDeploymentRecord,
    event: 'DEPLOYMENT_FAILURE' | 'DEPLOYMENT_STOP_ON_REQUEST',
  ): boolean {
    return (
      d.autoRollbackConfiguration.enabled === true &&
      (d.autoRollbackConfiguration.events ?? []).includes(event)
    );
  }

  /**
   * Ends a deployment that did not succeed. With a rollback, a new deployment restores the
   * original task set; without one, a replacement that never took production traffic is removed.
   */
  private stop(
    d: CodeDeployDeploymentRecord,
    status: 'Failed' | 'Stopped',
    errorInformation: { code: ErrorCode; message: string },
    rollback: boolean,
  ): CodeDeployDeploymentRecord | undefined {
    this.cancelTimers(d);
    for (const e of d.target.lifecycleEvents) {
      if (e.status === 'Pending' || e.status === 'InProgress') {
        e.status = 'Skipped';
        e.endTime ??= e.startTime ? this.now() : undefined;
      }
    }
    d.status = status;
    d.completeTime = this.now();
    d.errorInformation = errorInformation;
    this.setTargetStatus(d, 'Failed');
    const svc = this.serviceOf(d);
    const group = this.groupOf(d);
    if (rollback && svc && group && d.greenTaskSetId && d.blueTaskSetId) {
      const rb = this.newDeployment(group, svc, {
        creator: 'codeDeployRollback',
        deploymentConfigName: d.deploymentConfigName,
        revision: d.previousRevision,
        autoRollbackConfiguration: { enabled: false, events: [] },
        blueTaskSetId: d.blueTaskSetId,
        greenTaskSetId: d.greenTaskSetId,
        greenTrafficWeight: d.greenTrafficWeight,
        blueTargetGroup: d.blueTargetGroup,
      });
      d.rollbackInfo = {
        rollbackDeploymentId: rb.deploymentId,
        rollbackMessage: `Deployment ${d.deploymentId} ${status === 'Failed' ? 'failed' : 'was stopped'}; rollback deployment ${rb.deploymentId} restores the original task set.`,
      };
      rb.rollbackInfo = {
        rollbackTriggeringDeploymentId: d.deploymentId,
        rollbackMessage: `Rollback of deployment ${d.deploymentId}.`,
      };
      return rb;
    }
    const green = svc?.taskSets.find((ts) => ts.id === d.greenTaskSetId);
    if (svc && green && green.status !== 'PRIMARY') {
      d.greenTrafficWeight = 0;
      this.ecs.deleteTaskSet(svc, green.id);
    }
    return undefined;
  }

  // ------------------------------------------------------------------ operations on deployments

  private requireDeployment(input: Record<string, unknown>): CodeDeployDeploymentRecord {
    const id = required(input, 'deploymentId', 'DeploymentIdRequiredException', 'The deployment ID');
    if (!/^d-[A-Z0-9]{9}$/.test(id))
      throw err('InvalidDeploymentIdException', `The deployment ID '${id}' is not valid.`);
    const d = this.state.deployments.get(id);
    if (!d) throw err('DeploymentDoesNotExistException', `The deployment ${id} could not be found.`);
    return d;
  }

  /** A deployment's targets exist once it has started: until then, DeploymentNotStartedException. */
  private requireStartedDeployment(input: Record<string, unknown>): CodeDeployDeploymentRecord {
    const d = this.requireDeployment(input);
    if (d.status === 'Created' || d.status === 'Queued') {
      throw err('DeploymentNotStartedException', `The deployment ${d.deploymentId} has not started.`);
    }
    return d;
  }

  private stopDeployment(input: Record<string, unknown>): {
    status: 'Pending' | 'Succeeded';
    statusMessage: string;
  } {
    const d = this.requireDeployment(input);
    if (!ACTIVE_STATUSES.has(d.status)) {
      throw err(
        'DeploymentAlreadyCompletedException',
        `The deployment ${d.deploymentId} has already completed.`,
      );
    }
    const requested = input.autoRollbackEnabled;
    const rollback =
      typeof requested === 'boolean' ? requested : this.rollbackOn(d, 'DEPLOYMENT_STOP_ON_REQUEST');
    const rb = this.stop(
      d,
      'Stopped',
      { code: 'MANUAL_STOP', message: 'The deployment was stopped by a StopDeployment request.' },
      rollback,
    );
    if (rb) {
      return {
        status: 'Pending',
        statusMessage: `Stopping: rollback deployment ${rb.deploymentId} is restoring the original task set.`,
      };
    }
    return { status: 'Succeeded', statusMessage: `Deployment ${d.deploymentId} stopped.` };
  }

  private continueDeployment(input: Record<string, unknown>): Record<string, never> {
    const d = this.requireDeployment(input);
    const waitType =
      optionalString(input, 'deploymentWaitType', 'InvalidDeploymentWaitTypeException') ?? 'READY_WAIT';
    if (waitType !== 'READY_WAIT' && waitType !== 'TERMINATION_WAIT') {
      throw err(
        'InvalidDeploymentWaitTypeException',
        `The deploymentWaitType '${waitType}' is not READY_WAIT or TERMINATION_WAIT.`,
      );
    }
    if (!ACTIVE_STATUSES.has(d.status)) {
      throw err(
        'DeploymentAlreadyCompletedException',
        `The deployment ${d.deploymentId} has already completed.`,
      );
    }
    if (waitType === 'READY_WAIT') {
      if (d.status !== 'Ready') {
        throw err(
          'DeploymentIsNotInReadyStateException',
          `The deployment ${d.deploymentId} is not in a ready state (it is ${d.status}).`,
        );
      }
      this.cancelTimers(d);
      d.status = 'InProgress';
      this.setTargetStatus(d, 'InProgress');
      this.runStep(d);
    } else {
      if (!d.instanceTerminationWaitTimeStarted) {
        throw err(
          'DeploymentIsNotInReadyStateException',
          `The deployment ${d.deploymentId} is not waiting to terminate the original task set.`,
        );
      }
      this.cancelTimers(d);
      this.terminateBlue(d);
    }
    return {};
  }

  private batchGetDeployments(input: Record<string, unknown>): { deploymentsInfo: DeploymentInfo[] } {
    const ids = Array.isArray(input.deploymentIds) ? (input.deploymentIds as unknown[]) : [];
    if (ids.length > 25) throw err('BatchLimitExceededException', 'At most 25 deployment IDs per call.');
    return {
      deploymentsInfo: ids.flatMap((id) => {
        const d = typeof id === 'string' ? this.state.deployments.get(id) : undefined;
        return d ? [this.projectDeployment(d)] : [];
      }),
    };
  }

  private listDeployments(input: Record<string, unknown>): { deployments: string[]; nextToken?: string } {
    const appName = optionalString(input, 'applicationName', 'InvalidApplicationNameException');
    const groupName = optionalString(input, 'deploymentGroupName', 'InvalidDeploymentGroupNameException');
    if (groupName && !appName)
      throw err(
        'ApplicationNameRequiredException',
        'The application name is required with a deployment group name.',
      );
    if (appName && !groupName)
      throw err(
        'DeploymentGroupNameRequiredException',
        'The deployment group name is required with an application name.',
      );
    if (appName && groupName) this.requireGroup(input);
    const statuses = Array.isArray(input.includeOnlyStatuses) ? (input.includeOnlyStatuses as string[]) : [];
    const range = isRecord(input.createTimeRange) ? input.createTimeRange : {};
    const start = typeof range.start === 'number' ? range.start * 1000 : -Infinity;
    const end = typeof range.end === 'number' ? range.end * 1000 : Infinity;
    const ids = [...this.state.deployments.values()]
      .filter((d) => !appName || (d.applicationName === appName && d.deploymentGroupName === groupName))
      .filter((d) => statuses.length === 0 || statuses.includes(d.status))
      .filter((d) => d.createTime.getTime() >= start && d.createTime.getTime() <= end)
      .reverse()
      .map((d) => d.deploymentId);
    const offset = decodeNextToken(input.nextToken);
    if (offset === undefined) throw err('InvalidNextTokenException', 'The next token is not valid.');
    const page = ids.slice(offset, offset + 100);
    return {
      deployments: page,
      ...(offset + 100 < ids.length ? { nextToken: encodeNextToken(offset + 100) } : {}),
    };
  }

  private getDeploymentTarget(input: Record<string, unknown>): { deploymentTarget: DeploymentTarget } {
    const d = this.requireStartedDeployment(input);
    const targetId = required(input, 'targetId', 'DeploymentTargetIdRequiredException', 'The target ID');
    if (targetId !== d.target.targetId) {
      throw err(
        'DeploymentTargetDoesNotExistException',
        `The target ${targetId} is not part of deployment ${d.deploymentId}.`,
      );
    }
    return { deploymentTarget: this.projectTarget(d) };
  }

  private batchGetDeploymentTargets(input: Record<string, unknown>): {
    deploymentTargets: DeploymentTarget[];
  } {
    const d = this.requireStartedDeployment(input);
    const ids = Array.isArray(input.targetIds) ? (input.targetIds as unknown[]) : [];
    const unknown = ids.find((id) => id !== d.target.targetId);
    if (unknown !== undefined) {
      throw err(
        'DeploymentTargetDoesNotExistException',
        `The target ${String(unknown)} is not part of deployment ${d.deploymentId}.`,
      );
    }
    return { deploymentTargets: ids.map(() => this.projectTarget(d)) };
  }

  // ------------------------------------------------------------------ projections

  projectDeployment(d: CodeDeployDeploymentRecord): DeploymentInfo {
    const group = this.groupOf(d);
    const overview = { Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 };
    if (d.target.status in overview) overview[d.target.status as keyof typeof overview] = 1;
    return structuredClone({
      applicationName: d.applicationName,
      deploymentGroupName: d.deploymentGroupName,
      deploymentConfigName: d.deploymentConfigName,
      deploymentId: d.deploymentId,
      previousRevision: d.previousRevision,
      revision: d.revision,
      status: d.status,
      errorInformation: d.errorInformation,
      createTime: d.createTime,
      startTime: d.startTime,
      completeTime: d.completeTime,
      deploymentOverview: overview,
      description: d.description,
      creator: d.creator,
      ignoreApplicationStopFailures: false,
      autoRollbackConfiguration: d.autoRollbackConfiguration,
      updateOutdatedInstancesOnly: false,
      rollbackInfo: d.rollbackInfo,
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      instanceTerminationWaitTimeStarted: d.instanceTerminationWaitTimeStarted,
      blueGreenDeploymentConfiguration: d.blueGreenDeploymentConfiguration,
      loadBalancerInfo: group?.info.loadBalancerInfo,
      fileExistsBehavior: 'DISALLOW',
      deploymentStatusMessages: [],
      computePlatform: 'ECS',
    } satisfies DeploymentInfo);
  }

  private projectTarget(d: CodeDeployDeploymentRecord): DeploymentTarget {
    const svc = this.serviceOf(d);
    const names = this.groupOf(d)?.info.loadBalancerInfo?.targetGroupPairInfoList?.[0]?.targetGroups ?? [];
    const taskSetsInfo: ECSTaskSet[] = [];
    const describe = (
      id: string | undefined,
      label: 'Blue' | 'Green',
      weight: number,
      targetGroup: number,
    ) => {
      const ts = svc?.taskSets.find((t) => t.id === id);
      if (!svc || !ts) return;
      const projected = this.ecs.projectTaskSet(svc, ts);
      taskSetsInfo.push({
        identifer: ts.id,
        desiredCount: projected.computedDesiredCount,
        pendingCount: projected.pendingCount,
        runningCount: projected.runningCount,
        status: ts.status,
        trafficWeight: weight,
        targetGroup: { name: names[targetGroup]?.name },
        taskSetLabel: label,
      });
    };
    describe(d.blueTaskSetId, 'Blue', 100 - d.greenTrafficWeight, d.blueTargetGroup);
    describe(d.greenTaskSetId, 'Green', d.greenTrafficWeight, 1 - d.blueTargetGroup);
    return structuredClone({
      deploymentTargetType: 'ECSTarget',
      ecsTarget: {
        deploymentId: d.deploymentId,
        targetId: d.target.targetId,
        targetArn: d.target.targetArn,
        lastUpdatedAt: d.target.lastUpdatedAt,
        lifecycleEvents: d.target.lifecycleEvents,
        status: d.target.status,
        taskSetsInfo,
      },
    } satisfies DeploymentTarget);
  }
}
