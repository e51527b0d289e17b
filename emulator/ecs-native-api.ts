/**
 * The ECS service deployment operations — ListServiceDeployments, DescribeServiceDeployments,
 * DescribeServiceRevisions, StopServiceDeployment, ContinueServiceDeployment — over the records
 * emulator/ecs-native.ts keeps, in the shapes of the @aws-sdk/client-ecs models.
 */
import type {
  Failure,
  Service,
  ServiceDeployment,
  ServiceDeploymentBrief,
  ServiceRevision,
  ServiceRevisionSummary,
} from '@aws-sdk/client-ecs';
import { decodeNextToken, encodeNextToken, type Operation } from './context.js';
import type { EcsEmulator } from './ecs.js';
import { AwsError, isRecord, optionalNumber, optionalString, optionalStringList } from './errors.js';
import type {
  EcsState,
  LifecycleHookExecutionRecord,
  ServiceDeploymentRecord,
  ServiceRecord,
  ServiceRevisionRecord,
} from './state.js';

/** What the operations ask of the state machine. */
export interface NativeDeploymentActions {
  /** StopServiceDeployment(ROLLBACK) of a PENDING or IN_PROGRESS deployment. */
  stop(d: ServiceDeploymentRecord): void;
  /** ContinueServiceDeployment of a hook that awaits action. */
  continueHook(
    d: ServiceDeploymentRecord,
    exec: LifecycleHookExecutionRecord,
    action: 'CONTINUE' | 'ROLLBACK',
  ): void;
  requestedTasks(d: ServiceDeploymentRecord, which: 'blue' | 'green'): number;
}

const invalid = (message: string) => new AwsError('InvalidParameterException', message);
const STATUSES = [
  'PENDING',
  'IN_PROGRESS',
  'SUCCESSFUL',
  'STOPPED',
  'STOP_REQUESTED',
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_SUCCESSFUL',
  'ROLLBACK_FAILED',
];
/** Describe* take at most this many ARNs. */
const MAX_DESCRIBE = 20;

export class NativeDeploymentApi {
  readonly operations: Readonly<Record<string, Operation>>;

  constructor(
    private readonly state: EcsState,
    private readonly ecs: EcsEmulator,
    private readonly actions: NativeDeploymentActions,
  ) {
    this.operations = {
      ListServiceDeployments: (i) => this.list(i),
      DescribeServiceDeployments: (i) => this.describe(i),
      DescribeServiceRevisions: (i) => this.describeRevisions(i),
      StopServiceDeployment: (i) => this.stop(i),
      ContinueServiceDeployment: (i) => this.continue(i),
    };
  }

  private clusterArn(name: string): string {
    return this.ecs.clusterArn(name);
  }

  // ------------------------------------------------------------------ DescribeServices

  /** The service's newest service deployment, and the revisions that run tasks now. */
  serviceFields(svc: ServiceRecord): Pick<Service, 'currentServiceDeployment' | 'currentServiceRevisions'> {
    const mine = this.state.serviceDeployments.filter((d) => d.serviceArn === svc.serviceArn);
    const latest = mine[mine.length - 1];
    if (!latest) return {};
    const live = this.ecs.liveTasks(svc);
    const revisions = svc.deployments.flatMap((dep) => {
      const r = this.state.serviceRevisions.find((rev) => rev.ecsDeploymentId === dep.id);
      if (!r) return [];
      const own = live.filter((t) => t.ownerId === dep.id);
      return [
        {
          arn: r.serviceRevisionArn,
          requestedTaskCount: own.filter((t) => t.desiredStatus === 'RUNNING').length,
          runningTaskCount: own.filter((t) => t.lastStatus === 'RUNNING').length,
          pendingTaskCount: own.filter((t) => t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING')
            .length,
        },
      ];
    });
    return { currentServiceDeployment: latest.serviceDeploymentArn, currentServiceRevisions: revisions };
  }

  // ------------------------------------------------------------------ lookups

  private requireDeployment(input: Record<string, unknown>): ServiceDeploymentRecord {
    const arn = optionalString(input, 'serviceDeploymentArn', 'InvalidParameterException');
    if (!arn) throw invalid('serviceDeploymentArn is required.');
    const d = this.state.serviceDeployments.find((r) => r.serviceDeploymentArn === arn);
    if (!d) {
      throw new AwsError(
        'ServiceDeploymentNotFoundException',
        `The service deployment ${arn} does not exist.`,
      );
    }
    return d;
  }

  /** A `createdAt` bound: epoch seconds on the wire. */
  private bound(value: unknown, member: string): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw invalid(`createdAt.${member} must be a timestamp.`);
    return value * 1000;
  }

  // ------------------------------------------------------------------ operations

  private list(input: Record<string, unknown>): {
    serviceDeployments: ServiceDeploymentBrief[];
    nextToken?: string;
  } {
    const cluster = this.ecs.clusterNameOf(input);
    const ref = optionalString(input, 'service', 'InvalidParameterException');
    if (!ref) throw invalid('service is required.');
    const svc = this.ecs.findService(cluster, ref);
    if (!svc) throw new AwsError('ServiceNotFoundException', 'Service not found.');
    const statuses = optionalStringList(input, 'status', 'InvalidParameterException');
    const bad = statuses?.find((s) => !STATUSES.includes(s));
    if (bad !== undefined) throw invalid(`Invalid status '${bad}'. Valid values: ${STATUSES.join(', ')}.`);
    const created = isRecord(input.createdAt) ? input.createdAt : {};
    const after = this.bound(created.after, 'after');
    const before = this.bound(created.before, 'before');
    const matches = this.state.serviceDeployments
      .filter((d) => d.serviceArn === svc.serviceArn)
      .filter((d) => !statuses || statuses.includes(d.status))
      .filter((d) => after === undefined || d.createdAt.getTime() >= after)
      .filter((d) => before === undefined || d.createdAt.getTime() <= before)
      .reverse();
    const offset = decodeNextToken(input.nextToken);
    if (offset === undefined) throw invalid('Invalid nextToken.');
    const max = optionalNumber(input, 'maxResults', 'InvalidParameterException') ?? 20;
    if (!Number.isInteger(max) || max < 1 || max > 100)
      throw invalid('maxResults must be between 1 and 100.');
    const page = matches.slice(offset, offset + max).map((d) => this.brief(d));
    return {
      serviceDeployments: page,
      nextToken: offset + max < matches.length ? encodeNextToken(offset + max) : undefined,
    };
  }

  private describe(input: Record<string, unknown>): {
    serviceDeployments: ServiceDeployment[];
    failures: Failure[];
  } {
    const arns = optionalStringList(input, 'serviceDeploymentArns', 'InvalidParameterException');
    if (!arns || arns.length === 0) throw invalid('serviceDeploymentArns must contain at least one ARN.');
    if (arns.length > MAX_DESCRIBE)
      throw invalid(`You can specify a maximum of ${MAX_DESCRIBE} service deployment ARNs.`);
    const serviceDeployments: ServiceDeployment[] = [];
    const failures: Failure[] = [];
    for (const arn of arns) {
      const d = this.state.serviceDeployments.find((r) => r.serviceDeploymentArn === arn);
      if (d) serviceDeployments.push(this.project(d));
      else failures.push({ arn, reason: 'MISSING' });
    }
    return { serviceDeployments, failures };
  }

  private describeRevisions(input: Record<string, unknown>): {
    serviceRevisions: ServiceRevision[];
    failures: Failure[];
  } {
    const arns = optionalStringList(input, 'serviceRevisionArns', 'InvalidParameterException');
    if (!arns || arns.length === 0) throw invalid('serviceRevisionArns must contain at least one ARN.');
    if (arns.length > MAX_DESCRIBE)
      throw invalid(`You can specify a maximum of ${MAX_DESCRIBE} service revision ARNs.`);
    const serviceRevisions: ServiceRevision[] = [];
    const failures: Failure[] = [];
    for (const arn of arns) {
      const r = this.state.serviceRevisions.find((rev) => rev.serviceRevisionArn === arn);
      if (r) serviceRevisions.push(this.projectRevision(r));
      else failures.push({ arn, reason: 'MISSING' });
    }
    return { serviceRevisions, failures };
  }

  private stop(input: Record<string, unknown>): { serviceDeploymentArn: string } {
    const d = this.requireDeployment(input);
    const stopType = optionalString(input, 'stopType', 'InvalidParameterException') ?? 'ROLLBACK';
    if (stopType !== 'ROLLBACK') {
      throw invalid(
        `stopType '${stopType}' is not supported by the local endpoint: use ROLLBACK, which returns traffic and tasks to the previous service revision.`,
      );
    }
    if (d.status !== 'PENDING' && d.status !== 'IN_PROGRESS') {
      throw new AwsError(
        'ConflictException',
        `The service deployment ${d.serviceDeploymentArn} cannot be stopped because its status is ${d.status}. Only a PENDING or IN_PROGRESS service deployment can be stopped.`,
        400,
        { resourceIds: [d.serviceDeploymentArn] },
      );
    }
    this.actions.stop(d);
    return { serviceDeploymentArn: d.serviceDeploymentArn };
  }

  private continue(input: Record<string, unknown>): { serviceDeploymentArn: string } {
    const d = this.requireDeployment(input);
    const hookId = optionalString(input, 'hookId', 'InvalidParameterException');
    if (!hookId) throw invalid('hookId is required.');
    const action = optionalString(input, 'action', 'InvalidParameterException') ?? 'CONTINUE';
    if (action !== 'CONTINUE' && action !== 'ROLLBACK')
      throw invalid(`Invalid action '${action}'. Valid values: CONTINUE, ROLLBACK.`);
    const exec = d.lifecycleHookDetails.find((h) => h.hookId === hookId);
    if (!exec) {
      throw invalid(
        `The lifecycle hook ${hookId} is not part of the service deployment ${d.serviceDeploymentArn}.`,
      );
    }
    if (d.status !== 'IN_PROGRESS' || exec.status !== 'AWAITING_ACTION') {
      throw invalid(
        `The lifecycle hook ${hookId} cannot be continued: the hook's status is ${exec.status} and the service deployment's is ${d.status}. Only a hook in AWAITING_ACTION of an IN_PROGRESS service deployment can be continued.`,
      );
    }
    this.actions.continueHook(d, exec, action);
    return { serviceDeploymentArn: d.serviceDeploymentArn };
  }

  // ------------------------------------------------------------------ shapes

  private brief(d: ServiceDeploymentRecord): ServiceDeploymentBrief {
    return {
      serviceDeploymentArn: d.serviceDeploymentArn,
      serviceArn: d.serviceArn,
      clusterArn: this.clusterArn(d.clusterName),
      startedAt: d.startedAt,
      createdAt: d.createdAt,
      finishedAt: d.finishedAt,
      targetServiceRevisionArn: d.targetRevisionArn,
      status: d.status,
      statusReason: d.statusReason,
    };
  }

  private summary(d: ServiceDeploymentRecord, which: 'blue' | 'green', arn: string): ServiceRevisionSummary {
    const svc = this.ecs.findService(d.clusterName, d.serviceName);
    const id = which === 'blue' ? d.blueDeploymentId : d.greenDeploymentId;
    const own = svc ? this.ecs.liveTasks(svc).filter((t) => t.ownerId === id) : [];
    const weight = (green: number) => (which === 'green' ? green : 100 - green);
    return {
      arn,
      requestedTaskCount: this.actions.requestedTasks(d, which),
      runningTaskCount: own.filter((t) => t.lastStatus === 'RUNNING').length,
      pendingTaskCount: own.filter((t) => t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING')
        .length,
      requestedTestTrafficWeight: weight(d.testWeight),
      requestedProductionTrafficWeight: weight(d.productionWeight),
    };
  }

  project(d: ServiceDeploymentRecord): ServiceDeployment {
    const config = d.deploymentConfiguration;
    const alarms = config.alarms;
    return structuredClone({
      serviceDeploymentArn: d.serviceDeploymentArn,
      serviceArn: d.serviceArn,
      clusterArn: this.clusterArn(d.clusterName),
      createdAt: d.createdAt,
      startedAt: d.startedAt,
      finishedAt: d.finishedAt,
      stoppedAt: d.stoppedAt,
      updatedAt: d.updatedAt,
      sourceServiceRevisions: d.sourceRevisionArn ? [this.summary(d, 'blue', d.sourceRevisionArn)] : [],
      targetServiceRevision: this.summary(d, 'green', d.targetRevisionArn),
      status: d.status,
      statusReason: d.statusReason,
      lifecycleStage: d.lifecycleStage,
      ...(d.lifecycleHookDetails.length > 0 && {
        lifecycleHookDetails: d.lifecycleHookDetails.map((h) => ({
          hookId: h.hookId,
          targetType: h.targetType,
          targetArn: h.targetArn,
          status: h.status,
          expiresAt: h.expiresAt,
          timeoutAction: h.timeoutAction,
        })),
      }),
      deploymentConfiguration: config,
      rollback: d.rollback,
      deploymentCircuitBreaker: d.circuitBreaker,
      alarms: alarms?.enable
        ? {
            status: ['SUCCESSFUL', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED', 'STOPPED'].includes(d.status)
              ? 'MONITORING_COMPLETE'
              : 'MONITORING',
            alarmNames: alarms.alarmNames ?? [],
            triggeredAlarmNames: [],
          }
        : { status: 'DISABLED' },
    } satisfies ServiceDeployment);
  }

  private projectRevision(r: ServiceRevisionRecord): ServiceRevision {
    return structuredClone({
      serviceRevisionArn: r.serviceRevisionArn,
      serviceArn: r.serviceArn,
      clusterArn: this.clusterArn(r.clusterName),
      taskDefinition: r.taskDefinition,
      capacityProviderStrategy: r.capacityProviderStrategy,
      launchType: r.launchType,
      platformVersion: r.platformVersion,
      platformFamily: r.launchType === 'FARGATE' ? 'Linux' : undefined,
      loadBalancers: r.loadBalancers,
      serviceRegistries: r.serviceRegistries,
      networkConfiguration: r.networkConfiguration,
      containerImages: r.containerImages,
      guardDutyEnabled: false,
      createdAt: r.createdAt,
      ...(r.targetGroupArn && {
        resolvedConfiguration: {
          loadBalancers: [
            { targetGroupArn: r.targetGroupArn, productionListenerRule: r.productionListenerRule },
          ],
        },
      }),
    } satisfies ServiceRevision);
  }
}
