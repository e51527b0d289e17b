#!/usr/bin/env node
import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ // The require scope
/******/ var __nccwpck_require__ = {};
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/************************************************************************/
var __webpack_exports__ = {};

// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  u: () => (/* binding */ USAGE),
  a: () => (/* binding */ runCli)
});

;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: external "node:url"
const external_node_url_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:url");
;// CONCATENATED MODULE: external "node:util"
const external_node_util_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util");
;// CONCATENATED MODULE: ./src/errors.ts
function formatProblem(p) {
    return `${p.where}: ${p.what} Fix: ${p.fix}`;
}
/** One or more problems found before anything in AWS was changed. */
class errors_UserError extends Error {
    problems;
    constructor(problems) {
        const list = Array.isArray(problems) ? problems : [problems];
        super(list.map(formatProblem).join('\n'));
        this.name = 'UserError';
        this.problems = list;
    }
}
/** Collects problems so that all of them are reported at once. */
class Problems {
    list = [];
    add(p) {
        this.list.push(p);
    }
    get empty() {
        return this.list.length === 0;
    }
    throwIfAny() {
        if (this.list.length > 0)
            throw new errors_UserError(this.list);
    }
}

;// CONCATENATED MODULE: ./src/deploy/active.ts
/**
 * Another deployment is already running: a second workflow run, a manual deploy, or a
 * rollback. A rolling update started on top of another supersedes it mid-flight, so we wait
 * for it, within a bound, and then deploy; or fail naming it. (CodeDeploy's one-deployment-
 * per-group rule is handled the same way in codedeploy.ts.)
 */



/**
 * Before a rolling update: waits while the service has a deployment IN_PROGRESS that this
 * run did not start, so ours does not supersede it halfway.
 */
async function waitForServiceIdle(ecs, target, opts) {
    const deadline = opts.clock.now() + opts.timeoutMs;
    const inProgress = async () => {
        const svc = (await ecs.send(new DescribeServicesCommand({ cluster: target.cluster, services: [target.service] }))).services?.[0];
        return svc?.deployments?.find((d) => d.rolloutState === 'IN_PROGRESS')?.id;
    };
    const first = await inProgress();
    if (first === undefined)
        return;
    if (opts.timeoutMs <= 0)
        throw serviceBusy(first);
    opts.log.info(`Service ${target.cluster}/${target.service} is busy with deployment ${first}; waiting for it to finish.`);
    const done = await active_waitUntil(async () => ((await inProgress()) === undefined ? 'idle' : undefined), deadline, opts);
    if (done === undefined)
        throw serviceBusy((await inProgress()) ?? first);
    function serviceBusy(id) {
        return new UserError({
            where: 'service',
            what: `Service ${target.cluster}/${target.service} has a deployment in progress (${id}) that this run did not start${opts.timeoutMs > 0 ? `, still running after ${Math.round(opts.timeoutMs / 60_000)} min of waiting` : ''}.`,
            fix: 'Let it finish, or raise wait-for-active-deployment-minutes; give the workflow job a `concurrency:` group so runs queue.',
        });
    }
}
/** Polls `check` until it returns a value or the deadline passes (undefined). */
async function active_waitUntil(check, deadline, opts) {
    while (opts.clock.now() < deadline) {
        await opts.clock.sleep(Math.min(opts.pollIntervalMs, Math.max(0, deadline - opts.clock.now())), opts.signal);
        try {
            const result = await check();
            if (result !== undefined) {
                opts.log.info(result === 'idle' ? 'The other deployment has finished.' : `Deployment ${result}.`);
                return result;
            }
        }
        catch (err) {
            if (!isTransientError(err))
                throw err;
            opts.log.warning(`Checking the other deployment failed for now (${err.name}); trying again.`);
        }
    }
    return undefined;
}

;// CONCATENATED MODULE: ./src/deploy/aws-errors.ts
/**
 * Small helpers for reading AWS SDK errors and identifiers. Errors are matched by `name`
 * rather than `instanceof` so that an exception deserialized by another copy of a client
 * package (the bundled action, a test double) is still recognised.
 */
function aws_errors_isAwsError(err, ...names) {
    return err instanceof Error && names.includes(err.name);
}
// The same codes the SDK's own retry strategy treats as throttling or transient; a watch
// loop keeps polling through them because the SDK already gave up retrying that one call.
const THROTTLING_NAMES = (/* unused pure expression or super */ null && ([
    'BandwidthLimitExceeded',
    'PriorRequestNotComplete',
    'ProvisionedThroughputExceededException',
    'RequestLimitExceeded',
    'RequestThrottled',
    'RequestThrottledException',
    'SlowDown',
    'ThrottledException',
    'Throttling',
    'ThrottlingException',
    'TooManyRequestsException',
]));
const TIMEOUT_NAMES = (/* unused pure expression or super */ null && (['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']));
const NETWORK_CODES = (/* unused pure expression or super */ null && ([
    'ECONNRESET',
    'ECONNREFUSED',
    'EPIPE',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'ENOTFOUND',
    'EAI_AGAIN',
]));
/** Throttling, a 5xx, a timeout or a dropped connection: worth another poll, not a failure. */
function aws_errors_isTransientError(err, depth = 0) {
    if (typeof err !== 'object' || err === null || depth > 5)
        return false;
    const e = err;
    if (e.name === 'AbortError')
        return false;
    const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : 0;
    return (e.$retryable !== undefined ||
        status === 429 ||
        status >= 500 ||
        (typeof e.name === 'string' && (THROTTLING_NAMES.includes(e.name) || TIMEOUT_NAMES.includes(e.name))) ||
        (typeof e.code === 'string' && NETWORK_CODES.includes(e.code)) ||
        aws_errors_isTransientError(e.cause, depth + 1));
}
/** `arn:aws:ecs:…:service/cluster/name` → `name`; a plain name is returned unchanged. */
function aws_errors_resourceName(nameOrArn) {
    if (!nameOrArn.startsWith('arn:'))
        return nameOrArn;
    const slash = nameOrArn.lastIndexOf('/');
    return slash >= 0 ? nameOrArn.slice(slash + 1) : nameOrArn;
}
function errorText(err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

;// CONCATENATED MODULE: ./src/deploy/codedeploy.ts




/** The names the ECS console gives the CodeDeploy application and group it creates for a service. */
function defaultCodeDeployNames(cluster, service) {
    const suffix = `${aws_errors_resourceName(cluster)}-${aws_errors_resourceName(service)}`;
    return { application: `AppECS-${suffix}`, deploymentGroup: `DgpECS-${suffix}` };
}
const BUILT_IN_ECS_CONFIGS = (/* unused pure expression or super */ null && ([
    'CodeDeployDefault.ECSAllAtOnce',
    'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
    'CodeDeployDefault.ECSLinear10PercentEvery3Minutes',
    'CodeDeployDefault.ECSCanary10Percent5Minutes',
    'CodeDeployDefault.ECSCanary10Percent15Minutes',
]));
// CodeDeploy's own fallback when neither the deployment nor the group names a config.
const DEFAULT_ECS_CONFIG = 'CodeDeployDefault.ECSAllAtOnce';
function nameAdvice(input, given, defaultName) {
    return given === defaultName
        ? `'${given}' is the default name the ECS console uses (${defaultName.slice(0, 7)}<cluster>-<service>); set the ${input} input to the name of yours.`
        : `Check the ${input} input and the region, or leave it unset to use the console's default '${defaultName}'.`;
}
/**
 * GetDeploymentGroup, checked against the service this run deploys to, and the wait
 * times that decide how long a deployment can take.
 */
async function getDeploymentGroup(cd, opts) {
    const defaults = defaultCodeDeployNames(opts.cluster, opts.service);
    let out;
    try {
        out = await cd.send(new GetDeploymentGroupCommand({
            applicationName: opts.application,
            deploymentGroupName: opts.deploymentGroup,
        }));
    }
    catch (err) {
        if (isAwsError(err, 'ApplicationDoesNotExistException')) {
            throw new UserError({
                where: 'codedeploy-application',
                what: `CodeDeploy application '${opts.application}' does not exist.`,
                fix: nameAdvice('codedeploy-application', opts.application, defaults.application),
            });
        }
        if (isAwsError(err, 'DeploymentGroupDoesNotExistException')) {
            throw new UserError({
                where: 'codedeploy-deployment-group',
                what: `CodeDeploy deployment group '${opts.deploymentGroup}' does not exist in application '${opts.application}'.`,
                fix: nameAdvice('codedeploy-deployment-group', opts.deploymentGroup, defaults.deploymentGroup),
            });
        }
        throw err;
    }
    const info = out.deploymentGroupInfo;
    if (!info) {
        throw new Error(`GetDeploymentGroup returned no deploymentGroupInfo for '${opts.deploymentGroup}'.`);
    }
    const group = `CodeDeploy deployment group '${opts.application}/${opts.deploymentGroup}'`;
    if (info.computePlatform && info.computePlatform !== 'ECS') {
        throw new UserError({
            where: 'codedeploy-deployment-group',
            what: `${group} is for the ${info.computePlatform} compute platform, not ECS.`,
            fix: 'Set codedeploy-application and codedeploy-deployment-group to the ECS deployment group of this service.',
        });
    }
    const cluster = resourceName(opts.cluster);
    const service = resourceName(opts.service);
    const targets = info.ecsServices ?? [];
    if (!targets.some((t) => t.clusterName === cluster && t.serviceName === service)) {
        const actual = targets.map((t) => `${t.clusterName}/${t.serviceName}`).join(', ') || 'no ECS service';
        throw new UserError({
            where: 'codedeploy-deployment-group',
            what: `${group} targets ${actual}, not ${cluster}/${service}.`,
            fix: `Set codedeploy-application and codedeploy-deployment-group to the group that targets ${cluster}/${service}, or check the cluster and service inputs.`,
        });
    }
    if (opts.deploymentConfigName)
        await checkDeploymentConfig(cd, opts.deploymentConfigName);
    const blueGreen = info.blueGreenDeploymentConfiguration;
    return {
        application: opts.application,
        deploymentGroup: opts.deploymentGroup,
        deploymentConfigName: opts.deploymentConfigName ?? info.deploymentConfigName ?? DEFAULT_ECS_CONFIG,
        readyWaitMinutes: blueGreen?.deploymentReadyOption?.waitTimeInMinutes ?? 0,
        terminationWaitMinutes: blueGreen?.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes ?? 0,
        info,
    };
}
async function checkDeploymentConfig(cd, name) {
    let out;
    try {
        out = await cd.send(new GetDeploymentConfigCommand({ deploymentConfigName: name }));
    }
    catch (err) {
        if (isAwsError(err, 'DeploymentConfigDoesNotExistException')) {
            throw new UserError({
                where: 'codedeploy-deployment-config',
                what: `CodeDeploy deployment config '${name}' does not exist.`,
                fix: `Use one of the built-in ECS configs (${BUILT_IN_ECS_CONFIGS.join(', ')}), create '${name}' with compute platform ECS, or leave the input unset to use the deployment group's config.`,
            });
        }
        throw err;
    }
    const platform = out.deploymentConfigInfo?.computePlatform;
    if (platform && platform !== 'ECS') {
        throw new UserError({
            where: 'codedeploy-deployment-config',
            what: `CodeDeploy deployment config '${name}' is for the ${platform} compute platform, not ECS.`,
            fix: `Use an ECS config, such as one of the built-in ${BUILT_IN_ECS_CONFIGS.join(', ')}.`,
        });
    }
}
/**
 * How long a deployment may take before the watch gives up: CodeDeploy reports Succeeded
 * only after the ready wait and the blue tasks' termination wait, so both count on top of
 * the user's own minutes.
 */
function waitBudgetMs(group, waitForMinutes) {
    return (waitForMinutes + group.readyWaitMinutes + group.terminationWaitMinutes) * 60_000;
}
function deploymentConsoleUrl(deploymentId, region) {
    return `https://console.aws.amazon.com/codesuite/codedeploy/deployments/${encodeURIComponent(deploymentId)}?region=${encodeURIComponent(region)}`;
}
/** CreateDeployment of an AppSpec given inline; returns the deployment id. */
async function createDeployment(cd, opts) {
    const input = {
        applicationName: opts.application,
        deploymentGroupName: opts.deploymentGroup,
        revision: {
            revisionType: 'AppSpecContent',
            appSpecContent: { content: opts.appSpecContent.content, sha256: opts.appSpecContent.sha256 },
        },
    };
    if (opts.deploymentConfigName)
        input.deploymentConfigName = opts.deploymentConfigName;
    if (opts.description)
        input.description = opts.description;
    const wait = opts.waitForActive;
    const deadline = wait ? wait.clock.now() + wait.timeoutMs : 0;
    for (;;) {
        try {
            const out = await cd.send(new CreateDeploymentCommand(input));
            if (!out.deploymentId)
                throw new Error('CreateDeployment returned no deploymentId.');
            return out.deploymentId;
        }
        catch (err) {
            if (!isAwsError(err, 'DeploymentLimitExceededException'))
                throw err;
            const active = /active Deployment '([^']+)'/i.exec(err.message)?.[1];
            if (wait === undefined || active === undefined || wait.clock.now() >= deadline) {
                throw groupBusy(opts, active, err.message);
            }
            wait.log.info(`Deployment group ${opts.deploymentGroup} is busy with deployment ${active} (${deploymentConsoleUrl(active, opts.region)}); waiting for it to finish.`);
            await waitUntil(async () => {
                const status = (await cd.send(new GetDeploymentCommand({ deploymentId: active }))).deploymentInfo
                    ?.status;
                return status === undefined || CODEDEPLOY_DONE.has(status)
                    ? `${active} ended: ${status ?? 'gone'}`
                    : undefined;
            }, deadline, wait);
        }
    }
}
const CODEDEPLOY_DONE = new Set(['Succeeded', 'Failed', 'Stopped']);
function groupBusy(opts, active, message) {
    const which = active
        ? `deployment ${active} (${deploymentConsoleUrl(active, opts.region)})`
        : `a deployment (${message})`;
    const waited = opts.waitForActive?.timeoutMs
        ? `, still running after ${Math.round(opts.waitForActive.timeoutMs / 60_000)} min of waiting`
        : '';
    return new UserError({
        where: 'codedeploy-deployment-group',
        what: `CodeDeploy deployment group '${opts.deploymentGroup}' already has an active ${which}${waited}, and a group runs one deployment at a time.`,
        fix: 'Wait for that deployment to finish or stop it, then re-run, or raise wait-for-active-deployment-minutes to queue behind it. To stop runs colliding, give the workflow job a `concurrency:` group per environment (with cancel-in-progress: false) so deployments queue.',
    });
}

;// CONCATENATED MODULE: ./src/iam.ts
const ECR_PUSH_ACTIONS = [
    'ecr:BatchCheckLayerAvailability',
    'ecr:InitiateLayerUpload',
    'ecr:UploadLayerPart',
    'ecr:CompleteLayerUpload',
    'ecr:PutImage',
    'ecr:BatchGetImage',
    'ecr:GetDownloadUrlForLayer',
];
/** Actions, grouped by the resource they apply to. */
function requiredActions(needs) {
    // TagResource: RegisterTaskDefinition with tags needs it.
    const account = ['ecs:RegisterTaskDefinition', 'ecs:DescribeTaskDefinition', 'ecs:TagResource'];
    const repository = [];
    if (needs.build) {
        account.push('ecr:GetAuthorizationToken');
        repository.push('ecr:DescribeRepositories', 'ecr:DescribeImages', ...ECR_PUSH_ACTIONS);
        if (needs.createRepository)
            repository.push('ecr:CreateRepository');
    }
    const ecs = [];
    const codedeploy = [];
    if (needs.mode !== 'none') {
        ecs.push('ecs:DescribeServices', 'ecs:ListTasks', 'ecs:DescribeTasks');
    }
    if (needs.mode === 'rolling')
        ecs.push('ecs:UpdateService');
    if (needs.mode === 'codedeploy') {
        codedeploy.push('codedeploy:GetDeploymentGroup', 'codedeploy:GetDeploymentConfig', 'codedeploy:CreateDeployment', 'codedeploy:GetDeployment', 'codedeploy:ListDeploymentTargets', 'codedeploy:GetDeploymentTarget', 'codedeploy:StopDeployment', 'codedeploy:RegisterApplicationRevision', 'codedeploy:GetApplicationRevision');
    }
    return { account, repository, ecs, codedeploy, passRole: true };
}
/** Every action a full run can call, for checks that a policy grants them all. */
function allActions(needs) {
    const a = requiredActions(needs);
    return [...a.account, ...a.repository, ...a.ecs, ...a.codedeploy, ...(a.passRole ? ['iam:PassRole'] : [])];
}

;// CONCATENATED MODULE: ./src/policy.ts
/**
 * The least-privilege IAM policy for the role that runs this action: every action from
 * src/iam.ts, each on the resources AWS documents for it, so that a user can paste the
 * output and a preflight can simulate exactly that. Pure: no AWS calls.
 *
 * Resource types follow the Service Authorization Reference and the CodeDeploy permissions
 * reference: actions without resource-level permissions get "*", everything else the ARN of
 * this run's repository, service, task family, deployment group or role.
 */




/** The service ecs:RegisterTaskDefinition passes the task and execution roles to. */
const ECS_TASKS_PRINCIPAL = 'ecs-tasks.amazonaws.com';
const STATEMENT_OF = {
    'ecr:GetAuthorizationToken': 'EcrLogin',
    ...Object.fromEntries(ECR_PUSH_ACTIONS.map((a) => [a, 'EcrRepositories'])),
    'ecr:DescribeRepositories': 'EcrRepositories',
    'ecr:DescribeImages': 'EcrRepositories',
    'ecr:CreateRepository': 'EcrRepositories',
    // Neither supports resource-level permissions.
    'ecs:RegisterTaskDefinition': 'TaskDefinitions',
    'ecs:DescribeTaskDefinition': 'TaskDefinitions',
    'ecs:TagResource': 'TagTaskDefinitions',
    'ecs:DescribeServices': 'Service',
    'ecs:UpdateService': 'Service',
    'ecs:ListTasks': 'ListServiceTasks',
    'ecs:DescribeTasks': 'DescribeServiceTasks',
    'codedeploy:GetDeploymentGroup': 'DeploymentGroup',
    'codedeploy:CreateDeployment': 'DeploymentGroup',
    'codedeploy:GetDeployment': 'DeploymentGroup',
    'codedeploy:ListDeploymentTargets': 'DeploymentGroup',
    'codedeploy:GetDeploymentTarget': 'DeploymentGroup',
    'codedeploy:StopDeployment': 'DeploymentGroup',
    'codedeploy:RegisterApplicationRevision': 'ApplicationRevisions',
    'codedeploy:GetApplicationRevision': 'ApplicationRevisions',
    'codedeploy:GetDeploymentConfig': 'DeploymentConfig',
    'iam:PassRole': 'PassTaskRoles',
};
/** Statement order in the document; Sids are these names. */
const KIND_ORDER = [
    'EcrLogin',
    'EcrRepositories',
    'TaskDefinitions',
    'TagTaskDefinitions',
    'Service',
    'ListServiceTasks',
    'DescribeServiceTasks',
    'DeploymentGroup',
    'ApplicationRevisions',
    'DeploymentConfig',
    'PassTaskRoles',
];
/** The ARN partition of a region: aws-cn and aws-us-gov have their own. */
function partitionOf(region) {
    if (region.startsWith('cn-'))
        return 'aws-cn';
    if (region.startsWith('us-gov-'))
        return 'aws-us-gov';
    return 'aws';
}
/**
 * The policy document granting exactly `allActions(input.needs)`, scoped to this run's
 * resources. iam:PassRole is left out when no role is given: there is nothing to pass.
 */
function buildPolicy(input) {
    const { region, accountId, needs } = input;
    const arn = (service, resource, inRegion = region) => `arn:${partitionOf(region)}:${service}:${inRegion}:${accountId}:${resource}`;
    const cluster = aws_errors_resourceName(input.cluster);
    const service = input.service === undefined ? undefined : aws_errors_resourceName(input.service);
    const requireService = () => {
        if (service === undefined) {
            throw new errors_UserError({
                where: 'service',
                what: `Deploy mode ${needs.mode} deploys to a service, but no service is named.`,
                fix: 'Name the ECS service (it scopes ecs:UpdateService and the CodeDeploy group), or use deploy mode none.',
            });
        }
        return service;
    };
    const codedeploy = () => input.codedeploy ?? defaultCodeDeployNames(cluster, requireService());
    const resources = (kind) => {
        switch (kind) {
            case 'EcrLogin':
            case 'TaskDefinitions':
                return { Resource: ['*'] };
            case 'EcrRepositories':
                if (input.repositories.length === 0) {
                    throw new errors_UserError({
                        where: 'ecr-repository',
                        what: 'The run builds and pushes an image, but no ECR repository is named.',
                        fix: 'Name the repository the image is pushed to.',
                    });
                }
                return { Resource: unique(input.repositories).map((r) => arn('ecr', `repository/${r}`)) };
            case 'TagTaskDefinitions':
                // Tags sent with RegisterTaskDefinition, and no tagging of anything else.
                return {
                    Resource: [arn('ecs', `task-definition/${input.taskDefinitionFamily}:*`)],
                    Condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
                };
            case 'Service':
                return { Resource: [arn('ecs', `service/${cluster}/${requireService()}`)] };
            case 'ListServiceTasks':
                // ListTasks is authorized on container instances; the cluster is its condition key.
                return {
                    Resource: ['*'],
                    Condition: { ArnEquals: { 'ecs:cluster': arn('ecs', `cluster/${cluster}`) } },
                };
            case 'DescribeServiceTasks':
                return { Resource: [arn('ecs', `task/${cluster}/*`)] };
            case 'DeploymentGroup': {
                const cd = codedeploy();
                return { Resource: [arn('codedeploy', `deploymentgroup:${cd.application}/${cd.deploymentGroup}`)] };
            }
            case 'ApplicationRevisions':
                return { Resource: [arn('codedeploy', `application:${codedeploy().application}`)] };
            case 'DeploymentConfig': {
                // CreateDeployment needs GetDeploymentConfig on the config it uses, which is the
                // group's own when none is named: unknown here, so any config of the account.
                const name = input.codedeploy?.deploymentConfigName ?? '*';
                return { Resource: [arn('codedeploy', `deploymentconfig:${name}`)] };
            }
            case 'PassTaskRoles':
                return {
                    Resource: unique(input.passRoles),
                    Condition: { StringEquals: { 'iam:PassedToService': ECS_TASKS_PRINCIPAL } },
                };
        }
    };
    const actionsOf = new Map();
    for (const action of allActions(needs)) {
        const kind = STATEMENT_OF[action];
        if (kind === undefined) {
            throw new Error(`src/policy.ts knows no resource for ${action}; add it to STATEMENT_OF.`);
        }
        if (kind === 'PassTaskRoles' && input.passRoles.length === 0)
            continue;
        const set = actionsOf.get(kind) ?? new Set();
        set.add(action);
        actionsOf.set(kind, set);
    }
    const statements = [];
    for (const kind of KIND_ORDER) {
        const actions = actionsOf.get(kind);
        if (actions === undefined)
            continue;
        statements.push({ Sid: kind, Effect: 'Allow', Action: [...actions].sort(), ...resources(kind) });
    }
    return { Version: '2012-10-17', Statement: statements };
}
/** Every action the policy grants. */
function policyActions(policy) {
    return new Set(policy.Statement.flatMap((s) => s.Action));
}
/** The statements as simulation checks; conditions become the context a real call carries. */
function permissionChecks(policy) {
    return policy.Statement.map((s) => ({
        sid: s.Sid,
        actions: [...s.Action],
        resources: [...s.Resource],
        context: Object.values(s.Condition ?? {}).flatMap((keys) => Object.entries(keys).map(([key, value]) => ({ key, values: [value] }))),
    }));
}
/**
 * The part of a policy that grants the given action/resource pairs: the statements to add
 * when only those are missing. Each statement keeps its condition.
 */
function restrictPolicy(policy, missing) {
    const statements = [];
    for (const s of policy.Statement) {
        const hits = missing.filter((m) => s.Action.includes(m.action) && s.Resource.includes(m.resource));
        if (hits.length === 0)
            continue;
        statements.push({
            ...s,
            Action: unique(hits.map((h) => h.action)).sort(),
            Resource: s.Resource.filter((r) => hits.some((h) => h.resource === r)),
        });
    }
    return { Version: policy.Version, Statement: statements };
}
function unique(values) {
    return [...new Set(values)];
}

;// CONCATENATED MODULE: ./src/cli.ts
/**
 * The command line: `ecs-deploy-pipeline policy …` prints the least-privilege IAM policy
 * for the role that runs the action, so it can be created before the first run. runCli is
 * pure (arguments in, text and exit code out); the last lines run it as a program.
 */






const USAGE = `Usage: ecs-deploy-pipeline policy --region REGION --account ACCOUNT_ID --family FAMILY
         --mode codedeploy|rolling|none [--cluster CLUSTER] [--service SERVICE]
         [--repository NAME ...] [--create-repository]
         [--application APP] [--deployment-group GROUP] [--deployment-config CONFIG]
         [--pass-role ROLE_ARN ...]

Prints the IAM policy (JSON) that the role running the action needs, scoped to these resources.

  --region             AWS region, e.g. us-east-1
  --account            the 12-digit AWS account ID
  --family             the task definition family
  --mode               codedeploy (blue/green), rolling (ECS), or none (register the task definition only)
  --cluster            the ECS cluster (default: default)
  --service            the ECS service (required unless --mode none)
  --repository         an ECR repository the action pushes to; repeat for several; leave out when it builds nothing
  --create-repository  the action may create the repository (create-repository: true)
  --application        CodeDeploy application (default: AppECS-<cluster>-<service>)
  --deployment-group   CodeDeploy deployment group (default: DgpECS-<cluster>-<service>)
  --deployment-config  CodeDeploy deployment config (default: any, as the group's own is used)
  --pass-role          the task definition's taskRoleArn or executionRoleArn; repeat for both
`;
const OPTIONS = {
    region: { type: 'string' },
    account: { type: 'string' },
    family: { type: 'string' },
    mode: { type: 'string' },
    cluster: { type: 'string' },
    service: { type: 'string' },
    repository: { type: 'string', multiple: true },
    'create-repository': { type: 'boolean' },
    application: { type: 'string' },
    'deployment-group': { type: 'string' },
    'deployment-config': { type: 'string' },
    'pass-role': { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
};
const MODES = ['codedeploy', 'rolling', 'none'];
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT = /^\d{12}$/;
const FAMILY = /^[A-Za-z0-9_-]{1,255}$/;
const ECS_NAME = /^(?:[A-Za-z0-9_-]{1,255}|arn:aws[\w-]*:ecs:\S+)$/;
const REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const CODEDEPLOY_NAME = /^[A-Za-z0-9_.+=,@-]{1,100}$/;
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
/** Runs one command line (without `node` and the script) and returns what to print. */
function runCli(argv) {
    const usageError = (errors) => ({
        exitCode: 2,
        stdout: '',
        stderr: `${errors.map((e) => `error: ${e}`).join('\n')}\n\n${USAGE}`,
    });
    let parsed;
    try {
        parsed = (0,external_node_util_namespaceObject.parseArgs)({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    }
    catch (err) {
        return usageError([err.message]);
    }
    const { values, positionals } = parsed;
    if (values.help || positionals[0] === 'help')
        return { exitCode: 0, stdout: USAGE, stderr: '' };
    if (positionals.length !== 1 || positionals[0] !== 'policy') {
        return usageError([
            positionals.length === 0
                ? 'no command given; the command is policy.'
                : `unknown command "${positionals.join(' ')}"; the command is policy.`,
        ]);
    }
    const errors = [];
    const required = (name, pattern, shape) => {
        const value = values[name];
        if (value === undefined)
            errors.push(`--${name} is required.`);
        else if (!pattern.test(value))
            errors.push(`--${name} "${value}" is not ${shape}.`);
        return value ?? '';
    };
    const region = required('region', REGION, 'an AWS region such as us-east-1');
    const account = required('account', ACCOUNT, 'a 12-digit AWS account ID');
    const family = required('family', FAMILY, 'a task definition family (letters, digits, - and _)');
    const mode = required('mode', new RegExp(`^(${MODES.join('|')})$`), `one of ${MODES.join(', ')}`);
    const cluster = values.cluster ?? 'default';
    if (!ECS_NAME.test(cluster))
        errors.push(`--cluster "${cluster}" is not a cluster name or ARN.`);
    const service = values.service;
    if (service !== undefined && !ECS_NAME.test(service)) {
        errors.push(`--service "${service}" is not a service name or ARN.`);
    }
    if (service === undefined && (mode === 'codedeploy' || mode === 'rolling')) {
        errors.push(`--mode ${mode} deploys to a service: give --service.`);
    }
    const repositories = values.repository ?? [];
    for (const r of repositories) {
        if (!REPOSITORY.test(r))
            errors.push(`--repository "${r}" is not an ECR repository name.`);
    }
    if (values['create-repository'] && repositories.length === 0) {
        errors.push('--create-repository needs the --repository to create.');
    }
    const codedeployNames = ['application', 'deployment-group', 'deployment-config'].filter((n) => values[n] !== undefined);
    for (const name of codedeployNames) {
        if (mode !== 'codedeploy')
            errors.push(`--${name} applies to --mode codedeploy only.`);
        else if (!CODEDEPLOY_NAME.test(values[name])) {
            errors.push(`--${name} "${values[name]}" is not a CodeDeploy name.`);
        }
    }
    const passRoles = values['pass-role'] ?? [];
    for (const role of passRoles) {
        if (!ROLE_ARN.test(role))
            errors.push(`--pass-role "${role}" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).`);
    }
    if (errors.length > 0)
        return usageError(errors);
    let policy;
    try {
        policy = buildPolicy({
            region,
            accountId: account,
            repositories,
            cluster,
            service,
            taskDefinitionFamily: family,
            ...(mode === 'codedeploy' &&
                codedeployNames.length > 0 && {
                codedeploy: {
                    ...defaultCodeDeployNames(cluster, service),
                    ...(values.application !== undefined && { application: values.application }),
                    ...(values['deployment-group'] !== undefined && { deploymentGroup: values['deployment-group'] }),
                    deploymentConfigName: values['deployment-config'],
                },
            }),
            passRoles,
            needs: {
                build: repositories.length > 0,
                createRepository: values['create-repository'] ?? false,
                mode: mode,
            },
        });
    }
    catch (err) {
        if (err instanceof errors_UserError)
            return usageError(err.problems.map(formatProblem));
        throw err;
    }
    return {
        exitCode: 0,
        stdout: `${JSON.stringify(policy, null, 2)}\n`,
        stderr: passRoles.length === 0
            ? 'note: no --pass-role given, so the policy grants no iam:PassRole; registering a task definition that names a task role or execution role needs it.\n'
            : '',
    };
}
const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === (0,external_node_url_namespaceObject.pathToFileURL)((0,external_node_fs_namespaceObject.realpathSync)(invokedPath)).href) {
    const result = runCli(process.argv.slice(2));
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.exitCode;
}

var __webpack_exports__USAGE = __webpack_exports__.u;
var __webpack_exports__runCli = __webpack_exports__.a;
export { __webpack_exports__USAGE as USAGE, __webpack_exports__runCli as runCli };
