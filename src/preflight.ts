/**
 * Preflight: before anything changes, ask IAM whether the credentials this run uses may
 * make every call it is about to make (iam:SimulatePrincipalPolicy on the caller's own
 * role or user). A missing permission then fails the run with the statement to add,
 * instead of failing half-way, after the image was pushed and the task definition
 * registered. When IAM will not answer, the run goes on with a warning: the check is advice.
 */
import {
  GetRoleCommand,
  SimulatePrincipalPolicyCommand,
  type EvaluationResult,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { errorText, isAwsError, isTransientError } from './deploy/aws-errors.js';
import { type Problem, UserError } from './errors.js';
import type { Log } from './log.js';
import { permissionChecks, restrictPolicy, type PermissionCheck, type PolicyDocument } from './policy.js';

export interface PreflightClients {
  sts: STSClient;
  iam: IAMClient;
}

export interface PreflightResult {
  /** False when IAM could not be asked; `reason` says why and a warning was logged. */
  checked: boolean;
  /** The IAM role or user simulated. */
  principal?: string;
  reason?: string;
  /** Action/resource pairs IAM allows. */
  allowed: number;
  /** Denied pairs whose decision hangs on request context a simulation cannot know; logged as a warning. */
  undecided: SimulatedDecision[];
  /** What the simulation covers and what it cannot see. */
  note: string;
}

export interface SimulatedDecision {
  action: string;
  resource: string;
  decision: string;
  /** Why it is not allowed, when IAM said more than "no statement allows it". */
  cause?: 'explicit-deny' | 'organizations' | 'permissions-boundary' | 'missing-context';
  /** The denying policies, or the context keys the decision needed. */
  detail?: string;
}

export type Principal =
  | { kind: 'role'; arn: string; roleName: string }
  | { kind: 'user'; arn: string }
  | { kind: 'unsupported'; arn: string; reason: string };

export const SIMULATION_NOTE =
  'IAM simulated the identity policies, the permissions boundary and the Organizations SCPs; it does not see session policies, resource control policies or resource-based policies such as ECR repository policies.';

const ACCESS_DENIED = ['AccessDenied', 'AccessDeniedException'];

/**
 * The IAM entity behind a caller ARN. An assumed-role session maps to its role; the session
 * ARN carries no role path, so the role's real ARN needs iam:GetRole (see resolvePrincipal).
 */
export function principalOf(callerArn: string): Principal {
  const assumed = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  if (assumed) {
    const [, partition, account, roleName] = assumed as unknown as [string, string, string, string];
    return { kind: 'role', arn: `arn:${partition}:iam::${account}:role/${roleName}`, roleName };
  }
  if (/^arn:[\w-]+:iam::\d{12}:user\/.+$/.test(callerArn)) return { kind: 'user', arn: callerArn };
  if (/^arn:[\w-]+:iam::\d{12}:root$/.test(callerArn)) {
    return {
      kind: 'unsupported',
      arn: callerArn,
      reason:
        'the credentials are the account root user, which IAM cannot simulate; deploy with a role (aws-actions/configure-aws-credentials with OIDC) instead',
    };
  }
  return {
    kind: 'unsupported',
    arn: callerArn,
    reason: `${callerArn} is neither an IAM role session nor an IAM user, so IAM cannot simulate its policies`,
  };
}

/**
 * Simulates every statement of `policy` for the caller. Throws a UserError naming each
 * call that is not allowed, with the statement(s) that would allow it; returns
 * `checked: false` (after a warning) when IAM cannot be asked.
 */
export async function preflight(
  clients: PreflightClients,
  policy: PolicyDocument,
  log: Log,
  /** The caller, when already resolved (resolveCaller), so STS and IAM are not asked twice. */
  known?: Caller,
): Promise<PreflightResult> {
  const skipped = (reason: string, principal?: string): PreflightResult => {
    log.warning(
      `Preflight permission check skipped: ${reason}. The run continues; a missing permission will fail the call that needs it.`,
    );
    return { checked: false, principal, reason, allowed: 0, undecided: [], note: SIMULATION_NOTE };
  };

  const caller = known ?? (await resolveCaller(clients, log));
  if ('skipped' in caller) return skipped(caller.skipped, caller.callerArn);
  const { source, principal } = caller;

  const decisions: SimulatedDecision[] = [];
  for (const batch of batches(permissionChecks(policy))) {
    try {
      decisions.push(...(await simulate(clients.iam, source, batch)));
    } catch (err) {
      if (isAwsError(err, ...ACCESS_DENIED)) {
        return skipped(
          `${source} may not call iam:SimulatePrincipalPolicy (${err.message}). To have permissions checked before anything changes, allow iam:SimulatePrincipalPolicy on ${source} itself`,
          source,
        );
      }
      if (isAwsError(err, 'NoSuchEntity', 'NoSuchEntityException') && principal.kind === 'role') {
        return skipped(
          `IAM does not know ${source} (${err.message}); a role with a path needs iam:GetRole on itself for its full ARN to be found`,
          source,
        );
      }
      if (!answeredByAws(err)) throw err;
      return skipped(`iam:SimulatePrincipalPolicy failed (${errorText(err)})`, source);
    }
  }

  const denied = decisions.filter((d) => d.decision !== 'allowed');
  const undecided = denied.filter((d) => d.cause === 'missing-context');
  const problems = deniedProblems(
    source,
    policy,
    denied.filter((d) => d.cause !== 'missing-context'),
  );
  if (problems.length > 0) throw new UserError(problems);
  if (undecided.length > 0) {
    log.warning(
      `Preflight: IAM could not decide ${undecided.length} call(s): ${source}'s policies have conditions on request context that a simulation does not know.\n${table(undecided)}`,
    );
  }
  const allowed = decisions.length - denied.length;
  // The caller prints the one line that says so (plan.ts), with the undecided count.
  return { checked: true, principal: source, allowed, undecided, note: SIMULATION_NOTE };
}

/** Who the run acts as: the IAM entity IAM can simulate, or why there is none. */
export type Caller =
  | { callerArn: string; account?: string; principal: Principal & { kind: 'role' | 'user' }; source: string }
  | { skipped: string; callerArn?: string };

/**
 * sts:GetCallerIdentity, then for a role session the role's own ARN (with its path, which
 * the session ARN drops) from iam:GetRole. `source` is what IAM simulates.
 */
export async function resolveCaller(clients: PreflightClients, log: Log): Promise<Caller> {
  let callerArn: string;
  let account: string | undefined;
  try {
    const identity = await clients.sts.send(new GetCallerIdentityCommand({}));
    if (!identity.Arn) return { skipped: 'sts:GetCallerIdentity returned no ARN' };
    callerArn = identity.Arn;
    account = identity.Account;
  } catch (err) {
    if (!answeredByAws(err)) throw err;
    return { skipped: `sts:GetCallerIdentity failed (${errorText(err)})` };
  }
  const principal = principalOf(callerArn);
  if (principal.kind === 'unsupported') return { skipped: principal.reason, callerArn };
  const source = principal.kind === 'role' ? await roleArn(clients.iam, principal, log) : principal.arn;
  return { callerArn, account, principal, source };
}

/** The role's ARN with its path; the path-less one when GetRole is not allowed. */
async function roleArn(
  iam: IAMClient,
  principal: { arn: string; roleName: string },
  log: Log,
): Promise<string> {
  try {
    const out = await iam.send(new GetRoleCommand({ RoleName: principal.roleName }));
    return out.Role?.Arn ?? principal.arn;
  } catch (err) {
    if (!answeredByAws(err)) throw err;
    log.debug(`iam:GetRole ${principal.roleName} failed (${errorText(err)}); simulating ${principal.arn}.`);
    return principal.arn;
  }
}

/**
 * As few simulations as possible: IAM evaluates every action of a call on every resource of
 * it, so checks merge into one call unless they give the same context key different values
 * (a context entry only matters to statements that test that key, such as iam:PassRole's
 * iam:PassedToService). Each merged call remembers which action/resource pairs were asked
 * for, and only those are read from the answer (the cross product is not).
 */
export function batches(checks: PermissionCheck[]): Batch[] {
  const out: Batch[] = [];
  for (const check of checks) {
    const fits = out.find((b) =>
      check.context.every((c) => {
        const same = b.context.find((x) => x.key === c.key);
        return same === undefined || JSON.stringify(same.values) === JSON.stringify(c.values);
      }),
    );
    const batch = fits ?? { actions: [], resources: [], context: [], pairs: new Set<string>() };
    if (!fits) out.push(batch);
    for (const a of check.actions) if (!batch.actions.includes(a)) batch.actions.push(a);
    for (const r of check.resources) if (!batch.resources.includes(r)) batch.resources.push(r);
    for (const c of check.context) {
      if (!batch.context.some((x) => x.key === c.key)) batch.context.push(c);
    }
    for (const a of check.actions) for (const r of check.resources) batch.pairs.add(pairKey(a, r));
  }
  return out;
}

export interface Batch {
  actions: string[];
  resources: string[];
  context: PermissionCheck['context'];
  /** The action/resource pairs the policy grants, as pairKey; the rest of the product is ignored. */
  pairs: Set<string>;
}

const pairKey = (action: string, resource: string) => `${action}\u0000${resource}`;

async function simulate(iam: IAMClient, source: string, check: Batch): Promise<SimulatedDecision[]> {
  const anyResource = check.resources.length === 1 && check.resources[0] === '*';
  const decisions: SimulatedDecision[] = [];
  let marker: string | undefined;
  do {
    const out = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: source,
        ActionNames: check.actions,
        ...(!anyResource && { ResourceArns: check.resources }),
        ...(check.context.length > 0 && {
          ContextEntries: check.context.map((c) => ({
            ContextKeyName: c.key,
            ContextKeyValues: c.values,
            ContextKeyType: 'string' as const,
          })),
        }),
        // IAM's largest page: one answer for up to 1000 actions.
        MaxItems: 1000,
        ...(marker !== undefined && { Marker: marker }),
      }),
    );
    for (const result of out.EvaluationResults ?? []) {
      // An answer naming a resource that was not asked for is kept: never drop what cannot be placed.
      const asked = perResource(result, check.resources).filter(
        (d) => check.pairs.has(pairKey(d.action, d.resource)) || !check.resources.includes(d.resource),
      );
      decisions.push(...asked);
    }
    marker = out.IsTruncated ? out.Marker : undefined;
  } while (marker !== undefined);
  return decisions;
}

/**
 * IAM returns one result per action; the decision for each resource is in
 * ResourceSpecificResults (the top-level one is the most restrictive of them). Resources
 * are reported as they were requested, so that the statements to add can be found by them.
 */
function perResource(result: EvaluationResult, requested: string[]): SimulatedDecision[] {
  const action = result.EvalActionName ?? '?';
  const scp = result.OrganizationsDecisionDetail?.AllowedByOrganizations === false;
  const specific = result.ResourceSpecificResults ?? [];
  // Earlier IAM answered one result per action and resource, naming the resource at the top.
  const named = requested.find((r) => r === result.EvalResourceName);
  const asRequested = (name: string | undefined) =>
    requested.find((r) => r === name) ?? (requested.length === 1 ? requested[0] : undefined) ?? name ?? '?';
  const entries =
    specific.length > 0
      ? specific.map((r) => ({
          resource: asRequested(r.EvalResourceName),
          decision: r.EvalResourceDecision ?? 'implicitDeny',
          matched: r.MatchedStatements,
          missing: r.MissingContextValues,
          boundary: r.PermissionsBoundaryDecisionDetail?.AllowedByPermissionsBoundary,
        }))
      : (named !== undefined ? [named] : requested).map((resource) => ({
          resource,
          decision: result.EvalDecision ?? 'implicitDeny',
          matched: result.MatchedStatements,
          missing: result.MissingContextValues,
          boundary: result.PermissionsBoundaryDecisionDetail?.AllowedByPermissionsBoundary,
        }));
  return entries.map((e): SimulatedDecision => {
    const base = { action, resource: e.resource, decision: e.decision };
    if (e.decision === 'allowed') return base;
    if (e.missing && e.missing.length > 0) {
      return { ...base, cause: 'missing-context', detail: `needs ${e.missing.join(', ')}` };
    }
    if (e.decision === 'explicitDeny') {
      const ids = [...new Set((e.matched ?? []).map((m) => m.SourcePolicyId).filter(Boolean))];
      return { ...base, cause: 'explicit-deny', detail: `denied by ${ids.join(', ') || 'a Deny statement'}` };
    }
    if (scp) return { ...base, cause: 'organizations', detail: 'denied by an Organizations SCP' };
    if (e.boundary === false) {
      return { ...base, cause: 'permissions-boundary', detail: 'not allowed by the permissions boundary' };
    }
    return base;
  });
}

const DENIALS: {
  cause: SimulatedDecision['cause'];
  what: (principal: string, n: number) => string;
  fix: string;
}[] = [
  {
    cause: 'explicit-deny',
    what: (_, n) => `An explicit Deny stops ${n} call(s) this run makes:`,
    fix: 'A Deny overrides every Allow: narrow or remove the named Deny statement for these actions and resources.',
  },
  {
    cause: 'organizations',
    what: (_, n) => `An AWS Organizations service control policy denies ${n} call(s) this run makes:`,
    fix: "No policy on the role can lift an SCP: ask the organization's administrators to allow these actions for this account.",
  },
  {
    cause: 'permissions-boundary',
    what: (principal, n) =>
      `The permissions boundary of ${principal} does not allow ${n} call(s) this run makes:`,
    fix: 'Allow these actions and resources in the permissions boundary policy as well: a boundary caps what the identity policies grant.',
  },
];

function deniedProblems(principal: string, policy: PolicyDocument, denied: SimulatedDecision[]): Problem[] {
  const where = `IAM permissions of ${principal}`;
  const problems: Problem[] = [];
  const missing = denied.filter((d) => d.cause === undefined);
  if (missing.length > 0) {
    const add = restrictPolicy(policy, missing);
    problems.push({
      where,
      what: `${principal} is not allowed ${missing.length} call(s) this run makes:\n${table(missing)}`,
      fix: `Add ${add.Statement.length === 1 ? 'this statement' : 'these statements'} to a policy attached to ${principal}:\n${JSON.stringify(add.Statement, null, 2)}`,
    });
  }
  for (const kind of DENIALS) {
    const rows = denied.filter((d) => d.cause === kind.cause);
    if (rows.length > 0) {
      problems.push({ where, what: `${kind.what(principal, rows.length)}\n${table(rows)}`, fix: kind.fix });
    }
  }
  return problems;
}

function table(rows: SimulatedDecision[]): string {
  const lines = rows.map(
    (r) => `| ${r.action} | ${r.resource} | ${r.decision}${r.detail !== undefined ? ` (${r.detail})` : ''} |`,
  );
  return ['| action | resource | decision |', '|---|---|---|', ...lines].join('\n');
}

/** An answer from AWS (an error response, throttling, a dropped connection), not a bug here. */
function answeredByAws(err: unknown): boolean {
  return (typeof err === 'object' && err !== null && '$metadata' in err) || isTransientError(err);
}
