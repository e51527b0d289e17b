/**
 * Every request checked against its operation's input shape before a handler sees it, and (in
 * tests) every response against its output shape, from the models the SDK packages ship
 * (emulator/model.ts). No operation has code of its own here: what the model says is checked.
 *
 * Requests: a value of the wrong JSON type is a SerializationException (JSON protocols) or a
 * ValidationError (Query); a missing required member or a value outside an enum is the
 * service's own validation error; members the model does not have are dropped, as AWS drops
 * them; members the model has but the endpoint does not emulate (UNSUPPORTED) are refused.
 */
import { types } from 'node:util';
import type { NormalizedSchema } from '@smithy/core/schema';
import { AwsError, isRecord } from './errors.js';
import { requiredMembers, serviceModel, type OperationModel, type ServiceModel } from './model.js';

export type Protocol = 'json' | 'query';
type Direction = 'input' | 'output';

export interface ModelProblem {
  kind: 'type' | 'required' | 'enum' | 'unknown';
  /** Where, as `member.list[0].member`. */
  path: string;
  message: string;
}

/**
 * Members the model has but the endpoint does not emulate, per service and operation: refused
 * with a clear error rather than stored and ignored. `a[].b` is member `b` of any element of
 * list `a`. (ECS-native blue/green — strategy, bakeTimeInMinutes, linear/canaryConfiguration,
 * lifecycleHooks, loadBalancers[].advancedConfiguration — is emulated, so it is not listed.)
 */
const SERVICE_UNSUPPORTED = [
  'availabilityZoneRebalancing',
  'serviceConnectConfiguration',
  'volumeConfigurations',
  'vpcLatticeConfigurations',
  'gatewayConnectors',
  'monitoring',
  'deploymentConfiguration.alarms',
  'deploymentConfiguration.earlySuccessCriteria',
];
export const UNSUPPORTED: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  ecs: {
    CreateCluster: ['configuration', 'serviceConnectDefaults'],
    CreateService: SERVICE_UNSUPPORTED,
    UpdateService: [...SERVICE_UNSUPPORTED, 'capacityProviderStrategy', 'serviceRegistries'],
    ListServices: ['resourceManagementType'],
    ListTasks: ['containerInstance', 'daemonName'],
    RunTask: ['referenceId', 'volumeConfigurations'],
  },
  ecr: {
    GetAuthorizationToken: ['registryIds'],
    CreateRepository: ['imageTagMutabilityExclusionFilters'],
    PutImageTagMutability: ['imageTagMutabilityExclusionFilters'],
  },
  codedeploy: {
    CreateDeploymentGroup: ['ec2TagSet', 'onPremisesTagSet'],
    CreateDeployment: ['targetInstances', 'deploymentMode', 'overrideAlarmConfiguration'],
    ListDeploymentTargets: ['targetFilters'],
  },
  iam: {
    SimulatePrincipalPolicy: ['PolicyExclusionList'],
  },
  // AWS itself ignores PutLogEvents `sequenceToken` and FilterLogEvents `interleaved`: not listed.
  logs: {
    CreateLogGroup: ['kmsKeyId', 'deletionProtectionEnabled'],
    DescribeLogGroups: [
      'accountIdentifiers',
      'logGroupNamePattern',
      'includeLinkedAccounts',
      'logGroupIdentifiers',
    ],
    PutLogEvents: ['entity'],
    GetLogEvents: ['unmask'],
    FilterLogEvents: ['unmask'],
  },
  elbv2: {
    CreateTargetGroup: ['TargetControlPort'],
    CreateRule: ['Transforms'],
    ModifyRule: ['Transforms', 'ResetTransforms'],
    DescribeTargetHealth: ['Include'],
  },
};

/**
 * Values AWS itself sends outside a member's enum (the SDK's enums are open, so clients take
 * them): checked responses may carry them too. Keyed `Structure.member`.
 */
const AWS_OUTPUT_ENUM_EXTRAS: Readonly<Record<string, readonly string[]>> = {
  // SimulatePrincipalPolicy names a PolicyInputList document's statements' source "IAM Policy".
  'Statement.SourcePolicyType': ['IAM Policy'],
};

interface Walk {
  model: ServiceModel;
  protocol: Protocol;
  direction: Direction;
  problems: ModelProblem[];
}

const NUMERIC_TEXT = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

function typeName(schema: NormalizedSchema): string {
  if (schema.isStructSchema()) return 'a structure';
  if (schema.isListSchema()) return 'a list';
  if (schema.isMapSchema()) return 'a map';
  if (schema.isBooleanSchema()) return 'a boolean';
  if (schema.isTimestampSchema()) return 'a timestamp';
  if (schema.isBlobSchema()) return 'a blob (base64 string)';
  if (schema.isStringSchema()) return 'a string';
  return 'a number';
}

/** Whether a scalar has the type the schema says, as this protocol carries it. */
function scalarFits(value: unknown, schema: NormalizedSchema, walk: Walk): boolean {
  const query = walk.protocol === 'query';
  const text = typeof value === 'string';
  if (schema.isStringSchema() || schema.isBlobSchema()) {
    return text || (walk.direction === 'output' && schema.isBlobSchema() && value instanceof Uint8Array);
  }
  if (schema.isBooleanSchema()) {
    return typeof value === 'boolean' || (query && (value === 'true' || value === 'false'));
  }
  if (schema.isTimestampSchema()) {
    if (query) return types.isDate(value) || (text && !Number.isNaN(Date.parse(value)));
    return typeof value === 'number' && Number.isFinite(value);
  }
  if (schema.isNumericSchema() || schema.isBigIntegerSchema() || schema.isBigDecimalSchema()) {
    return (
      (typeof value === 'number' && Number.isFinite(value)) || (query && text && NUMERIC_TEXT.test(value))
    );
  }
  return true;
}

function problem(walk: Walk, kind: ModelProblem['kind'], path: string, message: string): void {
  walk.problems.push({ kind, path, message });
}

/** The value as the handler should see it: unknown members dropped; problems noted in `walk`. */
function check(
  value: unknown,
  schema: NormalizedSchema,
  path: string,
  walk: Walk,
  enumValues?: readonly string[],
): unknown {
  if (schema.isDocumentSchema()) return value;
  if (schema.isStructSchema()) return checkStructure(value, schema, path, walk);
  if (schema.isListSchema()) {
    // The Query protocol sends an empty list as `Name=`.
    if (walk.protocol === 'query' && value === '') return [];
    if (!Array.isArray(value)) return mistyped(value, schema, path, walk);
    return value.map((v, i) => check(v, schema.getValueSchema(), `${path}[${i}]`, walk, enumValues));
  }
  if (schema.isMapSchema()) {
    if (!isRecord(value) || types.isDate(value)) return mistyped(value, schema, path, walk);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = check(v, schema.getValueSchema(), `${path}.${k}`, walk, enumValues);
    }
    return out;
  }
  if (!scalarFits(value, schema, walk)) return mistyped(value, schema, path, walk);
  if (enumValues && typeof value === 'string' && !enumValues.includes(value)) {
    problem(
      walk,
      'enum',
      path,
      `Value '${value}' at '${path}' failed to satisfy constraint: Member must satisfy enum value set: [${enumValues.join(', ')}]`,
    );
  }
  return value;
}

function mistyped(value: unknown, schema: NormalizedSchema, path: string, walk: Walk): unknown {
  const got = Array.isArray(value)
    ? 'a list'
    : value === null
      ? 'null'
      : typeof value === 'object'
        ? 'an object'
        : `a ${typeof value}`;
  problem(walk, 'type', path, `'${path}' must be ${typeName(schema)}, got ${got}.`);
  return value;
}

function checkStructure(value: unknown, schema: NormalizedSchema, path: string, walk: Walk): unknown {
  if (!isRecord(value) || types.isDate(value)) return mistyped(value, schema, path, walk);
  const structure = schema.getName() ?? '';
  const members = schema.getMemberSchemas();
  const out: Record<string, unknown> = {};
  const at = (name: string) => (path ? `${path}.${name}` : name);
  for (const [name, v] of Object.entries(value)) {
    // JSON null is an absent member.
    if (v === undefined || v === null) continue;
    const member = members[name];
    if (!member) {
      if (walk.direction === 'output')
        problem(walk, 'unknown', at(name), `'${at(name)}' is not a member of ${structure}.`);
      continue;
    }
    out[name] = check(v, member, at(name), walk, enumFor(walk, structure, name));
  }
  for (const name of requiredMembers(schema)) {
    if (out[name] === undefined) {
      problem(
        walk,
        'required',
        at(name),
        `Value null at '${at(name)}' failed to satisfy constraint: Member must not be null`,
      );
    }
  }
  return out;
}

function enumFor(walk: Walk, structure: string, member: string): readonly string[] | undefined {
  const values = walk.model.enumValues(structure, member);
  const extras = walk.direction === 'output' ? AWS_OUTPUT_ENUM_EXTRAS[`${structure}.${member}`] : undefined;
  return values && extras ? [...values, ...extras] : values;
}

function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * The error AWS answers a member's problem with. The Query services: ValidationError.
 * CodeDeploy lists one exception per member (`DeploymentIdRequiredException`,
 * `InvalidDeploymentIdException`); the others have one validation error per service.
 */
function validationErrorType(service: string, op: OperationModel, found?: ModelProblem): string {
  const listed = (name: string) => op.errors.has(name);
  if (service === 'codedeploy') {
    const member = capitalize((found?.path.split(/[.[]/)[0] ?? '').replace(/s$/, ''));
    const specific = !found
      ? undefined
      : found.kind === 'required'
        ? [...op.errors].find((e) => e.endsWith(`${member}RequiredException`))
        : [...op.errors].find((e) => e === `Invalid${member}Exception`);
    if (specific) return specific;
    return listed('InvalidInputException') ? 'InvalidInputException' : 'ValidationException';
  }
  if (service === 'ecs')
    return listed('InvalidParameterException') ? 'InvalidParameterException' : 'ClientException';
  if (listed('InvalidParameterException')) return 'InvalidParameterException';
  return 'ValidationException';
}

function describe(problems: ModelProblem[]): string {
  const shown = problems.slice(0, 5).map((p) => p.message);
  const count = problems.length;
  return `${count} validation error${count === 1 ? '' : 's'} detected: ${shown.join('; ')}`;
}

function presentPaths(value: unknown, path: string[]): boolean {
  if (value === undefined || value === null) return false;
  if (path.length === 0) return true;
  const [head, ...rest] = path as [string, ...string[]];
  if (head.endsWith('[]')) {
    const list = isRecord(value) ? value[head.slice(0, -2)] : undefined;
    return Array.isArray(list) && list.some((v) => presentPaths(v, rest));
  }
  return isRecord(value) && presentPaths(value[head], rest);
}

function refuseUnsupported(service: string, operation: string, input: unknown, error: string): void {
  for (const path of UNSUPPORTED[service]?.[operation] ?? []) {
    if (presentPaths(input, path.split('.'))) {
      throw new AwsError(
        error,
        `${operation}: '${path}' is not supported by the local endpoint (see emulator/README.md, Validation); leave it out, or emulate it.`,
      );
    }
  }
}

/**
 * The request as its handler should see it, or the error AWS would answer. Operations the
 * model does not know are left to the caller (UnknownOperationException / InvalidAction).
 */
export function validateRequest(
  service: string,
  operation: string,
  input: unknown,
  protocol: Protocol,
): unknown {
  const model = serviceModel(service);
  const op = model.operation(operation);
  if (!op) return input;
  const walk: Walk = { model, protocol, direction: 'input', problems: [] };
  const cleaned = op.input.isUnitSchema() ? {} : check(input, op.input, '', walk);
  const mistyped = walk.problems.filter((p) => p.kind === 'type');
  if (protocol === 'query' && walk.problems.length > 0)
    throw new AwsError('ValidationError', describe(walk.problems));
  if (mistyped.length > 0) {
    // The body could not be read into the shape at all: no "validation errors" count here.
    throw new AwsError('SerializationException', mistyped.map((p) => p.message).join(' '));
  }
  const first = walk.problems[0];
  if (first) throw new AwsError(validationErrorType(service, op, first), describe(walk.problems));
  refuseUnsupported(
    service,
    operation,
    cleaned,
    protocol === 'query' ? 'ValidationError' : validationErrorType(service, op),
  );
  return cleaned;
}

/** What is wrong with a response (JSON: as sent on the wire; Query: the result's members). */
export function responseProblems(
  service: string,
  operation: string,
  output: unknown,
  protocol: Protocol,
): ModelProblem[] {
  const model = serviceModel(service);
  const op = model.operation(operation);
  if (!op)
    return [{ kind: 'unknown', path: '', message: `${service} has no operation ${operation} in its model.` }];
  const walk: Walk = { model, protocol, direction: 'output', problems: [] };
  if (!op.output.isUnitSchema()) check(output ?? {}, op.output, '', walk);
  else if (isRecord(output) && Object.keys(output).length > 0) {
    problem(
      walk,
      'unknown',
      '',
      `${operation} returns nothing, got members ${Object.keys(output).join(', ')}.`,
    );
  }
  return walk.problems;
}

/** Errors any operation may answer: the protocol's own, authentication, throttling, faults. */
const COMMON_ERRORS = new Set([
  'SerializationException',
  'UnknownOperationException',
  'InternalFailure',
  'ServiceUnavailable',
  'ThrottlingException',
  'Throttling',
  'ExpiredTokenException',
  'ExpiredToken',
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'MissingAuthenticationTokenException',
  'MissingAuthenticationToken',
  'IncompleteSignatureException',
  'IncompleteSignature',
  'ValidationError',
  'InvalidAction',
]);

/** Whether the model lists this error (by shape name, or by its Query code) for the operation. */
export function errorListed(service: string, operation: string, type: string): boolean {
  if (COMMON_ERRORS.has(type)) return true;
  const model = serviceModel(service);
  const op = model.operation(operation);
  if (!op) return true;
  if (op.errors.has(type)) return true;
  return [...op.errors].some((name) => model.errorShape(name)?.queryCode === type);
}
