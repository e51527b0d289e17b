/**
 * The AWS service models, as the `@aws-sdk/client-*` packages in node_modules ship them, read
 * so the endpoint can check every request and response against them (emulator/validate.ts).
 *
 * Three sources inside each package, because no one of them carries everything:
 * - the Smithy schemas (`dist-es/schemas/schemas_0.js`, exported as `<Shape>$` and read through
 *   `@smithy/core/schema`'s NormalizedSchema): operations, member names, types, and which
 *   members are required (a structure schema's 7th element counts its required members, which
 *   the code generator puts first);
 * - the type declarations (`dist-types/models/*.d.ts`): which members hold an enum (the
 *   schemas type them as plain strings); the enum's values are the package's own export;
 * - the command declarations (`dist-types/commands/<Op>Command.d.ts`): the errors each
 *   operation may throw (`@throws`), with each error's status and Query code from its schema.
 * Ranges and lengths (@range, @length, @pattern) are in none of them, so they are not checked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NormalizedSchema } from '@smithy/core/schema';

/**
 * The SDK package that carries each served service's model. A service the endpoint serves
 * without an entry here fails at start, so a new one cannot go unchecked.
 */
export const SERVICE_PACKAGES: Readonly<Record<string, string>> = {
  ecs: '@aws-sdk/client-ecs',
  ecr: '@aws-sdk/client-ecr',
  codedeploy: '@aws-sdk/client-codedeploy',
  iam: '@aws-sdk/client-iam',
  sts: '@aws-sdk/client-sts',
  elbv2: '@aws-sdk/client-elastic-load-balancing-v2',
  logs: '@aws-sdk/client-cloudwatch-logs',
};

export interface ErrorShape {
  name: string;
  status: number;
  /** The code a Query service sends for it (`awsQueryError`), when it has one. */
  queryCode?: string;
}

export interface OperationModel {
  name: string;
  input: NormalizedSchema;
  output: NormalizedSchema;
  /** Error shape names the operation lists (`@throws`), the service's base exception excluded. */
  errors: ReadonlySet<string>;
}

export interface ServiceModel {
  service: string;
  operation(name: string): OperationModel | undefined;
  /** The enum values of `structure.member` (for a list or map member: of its elements). */
  enumValues(structure: string, member: string): readonly string[] | undefined;
  errorShape(name: string): ErrorShape | undefined;
}

type StaticSchema = readonly unknown[];
type PackageExports = Record<string, unknown>;

const require = createRequire(import.meta.url);
const cache = new Map<string, ServiceModel>();

function packageDir(pkg: string): string {
  return dirname(require.resolve(`${pkg}/package.json`));
}

/** `member?: Type | undefined;` lines of each `export interface` in the model declarations. */
function memberTypes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const modelsDir = join(dir, 'dist-types', 'models');
  for (const file of readdirSync(modelsDir).filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(join(modelsDir, file), 'utf8');
    for (const block of text.matchAll(/export interface (\w+) \{([\s\S]*?)\n\}/g)) {
      const [, structure, body] = block as unknown as [string, string, string];
      for (const m of body.matchAll(/^ {4}(\w+)\??: (.+?)(?: \| undefined)?;$/gm)) {
        const [, member, type] = m as unknown as [string, string, string];
        out.set(`${structure}.${member}`, type);
      }
    }
  }
  return out;
}

/** The enum a declared member type names: `Foo`, `Foo[]`, `Record<string, Foo>`. */
function enumName(type: string): string {
  return type.replace(/^Record<string, (.+)>$/, '$1').replace(/(\[\])+$/, '');
}

function operationErrors(dir: string, operation: string, exports: PackageExports): Set<string> {
  let text = '';
  try {
    text = readFileSync(join(dir, 'dist-types', 'commands', `${operation}Command.d.ts`), 'utf8');
  } catch {
    return new Set();
  }
  const names = [...text.matchAll(/@throws \{@link (\w+)\}/g)].map((m) => m[1] as string);
  // The service's base exception (`ECSServiceException`, declared in its own models file) is
  // the SDK's, not the model's.
  const base = readdirSync(join(dir, 'dist-types', 'models'))
    .filter((f) => f.endsWith('ServiceException.d.ts'))
    .map((f) => f.replace(/\.d\.ts$/, ''));
  return new Set(names.filter((n) => !base.includes(n) && isStatic(exports[`${n}$`])));
}

function isStatic(value: unknown): value is StaticSchema {
  return Array.isArray(value) && value.length >= 4;
}

function buildModel(service: string, pkg: string): ServiceModel {
  const exports = require(pkg) as PackageExports;
  const dir = packageDir(pkg);
  const types = memberTypes(dir);
  const operations = new Map<string, OperationModel>();
  const enums = new Map<string, readonly string[] | undefined>();
  return {
    service,
    operation(name) {
      const known = operations.get(name);
      if (known) return known;
      const schema = exports[`${name}$`];
      if (!isStatic(schema) || schema[0] !== 9) return undefined;
      const [input, output] = [schema[4], schema[5]] as [() => unknown, () => unknown];
      const model: OperationModel = {
        name,
        input: NormalizedSchema.of(input as never),
        output: NormalizedSchema.of(output as never),
        errors: operationErrors(dir, name, exports),
      };
      operations.set(name, model);
      return model;
    },
    enumValues(structure, member) {
      const key = `${structure}.${member}`;
      if (enums.has(key)) return enums.get(key);
      const type = types.get(key);
      const candidate = type === undefined ? undefined : exports[enumName(type)];
      const values =
        candidate && typeof candidate === 'object' && !Array.isArray(candidate) && !isStatic(candidate)
          ? Object.values(candidate as Record<string, unknown>).filter(
              (v): v is string => typeof v === 'string',
            )
          : undefined;
      const result = values && values.length > 0 ? values : undefined;
      enums.set(key, result);
      return result;
    },
    errorShape(name) {
      const schema = exports[`${name}$`];
      if (!isStatic(schema) || schema[0] !== -3) return undefined;
      const traits = (schema[3] ?? {}) as Record<string, unknown>;
      const query = traits.awsQueryError as [string, number] | undefined;
      const status =
        typeof traits.httpError === 'number' ? traits.httpError : traits.error === 'server' ? 500 : 400;
      return { name, status, queryCode: query?.[0] };
    },
  };
}

/** The model of a served service (by its emulator name: `ecs`, `iam`, …), loaded once. */
export function serviceModel(service: string): ServiceModel {
  const known = cache.get(service);
  if (known) return known;
  const pkg = SERVICE_PACKAGES[service];
  if (!pkg) {
    throw new Error(
      `The local endpoint serves '${service}' but emulator/model.ts names no SDK package for its model: add it to SERVICE_PACKAGES.`,
    );
  }
  const model = buildModel(service, pkg);
  cache.set(service, model);
  return model;
}

/** A structure schema's required members: the first N, N being its 7th element. */
export function requiredMembers(schema: NormalizedSchema): string[] {
  const raw = schema.getSchema() as unknown;
  if (!isStatic(raw)) return [];
  const names = raw[4] as string[];
  const count = typeof raw[6] === 'number' ? raw[6] : 0;
  return names.slice(0, count);
}
