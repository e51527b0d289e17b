/**
 * The AWS Query protocol, as STS, IAM and Elastic Load Balancing v2 speak it and the SDK v3
 * clients send it: `POST /` with a form body `Action=<Op>&Version=<ver>&…`, lists flattened to
 * `Name.member.N`, structures to `Name.Member`; answers in XML, lists as `<member>` elements,
 * errors as `<ErrorResponse>`. There is no X-Amz-Target: the service is the credential
 * scope's service name in the Authorization header.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { types } from 'node:util';
import { AwsError, isRecord } from './errors.js';

export type QueryServiceName = 'sts' | 'iam' | 'elbv2';

/** A decoded form: `A.member.1.B=x` becomes `{ A: [{ B: 'x' }] }`; an empty list arrives as `A=`. */
export interface QueryInput {
  [member: string]: QueryValue;
}
export type QueryValue = string | QueryInput | QueryValue[];

export interface QueryCaller {
  accessKeyId: string;
}

/** Returns the members of `<OpResult>`; undefined for an empty result. */
export type QueryOperation = (
  input: QueryInput,
  caller: QueryCaller,
) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;

export interface QueryService {
  readonly service: QueryServiceName;
  /** The SigV4 credential-scope service name clients sign with. */
  readonly signingName: string;
  readonly version: string;
  /** The XML namespace of the service's responses. */
  readonly xmlns: string;
  readonly operations: Readonly<Record<string, QueryOperation>>;
}

export const VALIDATION_ERROR = 'ValidationError';

/** The credential scope's service name (`Credential=AKID/20240101/us-east-1/<service>/aws4_request`). */
export function credentialScopeService(authorization: string | undefined): string | undefined {
  return /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([^/,\s]+)\/aws4_request/.exec(authorization ?? '')?.[1];
}

/** Decodes a form body into nested members; list positions must run 1..N without gaps. */
export function decodeQueryInput(form: URLSearchParams): QueryInput {
  const root: QueryInput = {};
  for (const [key, value] of form) {
    if (key === 'Action' || key === 'Version') continue;
    const path = key.split('.');
    let node = root as Record<string | number, QueryValue>;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i] as string;
      const slot = Array.isArray(node) ? listIndex(segment, key) : segment;
      if (i === path.length - 1) {
        node[slot] = value;
        break;
      }
      const isList = path[i + 1] === 'member' && i + 2 < path.length;
      const existing = node[slot];
      const child: QueryInput | QueryValue[] = isList
        ? Array.isArray(existing)
          ? existing
          : []
        : isRecord(existing)
          ? (existing as QueryInput)
          : {};
      node[slot] = child;
      node = child as Record<string | number, QueryValue>;
      if (isList) i++; // past `member`
    }
  }
  assertDense(root, '');
  return root;
}

function listIndex(segment: string, key: string): number {
  const position = Number(segment);
  if (!/^\d+$/.test(segment) || position < 1 || position > 1000) {
    throw new AwsError(VALIDATION_ERROR, `Invalid list position '${segment}' in parameter '${key}'.`);
  }
  return position - 1;
}

function assertDense(value: QueryValue, where: string): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) {
        throw new AwsError(
          VALIDATION_ERROR,
          `Parameter '${where}.member.${i + 1}' is missing from the list.`,
        );
      }
      assertDense(value[i] as QueryValue, `${where}.member.${i + 1}`);
    }
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertDense(v, where ? `${where}.${k}` : k);
  }
}

/** AWS names a member in validation messages in camelCase ("Value null at 'roleName' …"). */
function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function invalid(name: string, what: string): AwsError {
  return new AwsError(
    VALIDATION_ERROR,
    `1 validation error detected: Value at '${camel(name)}' failed to satisfy constraint: ${what}`,
  );
}

export function optionalQueryString(input: QueryInput, name: string): string | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(name, 'Member must be a string');
  return value;
}

export function requiredQueryString(input: QueryInput, name: string): string {
  const value = optionalQueryString(input, name);
  if (value === undefined || value === '') {
    throw new AwsError(
      VALIDATION_ERROR,
      `1 validation error detected: Value null at '${camel(name)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

export function optionalQueryInteger(
  input: QueryInput,
  name: string,
  range: { min: number; max: number },
): number | undefined {
  const text = optionalQueryString(input, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || value < range.min || value > range.max) {
    throw new AwsError(
      VALIDATION_ERROR,
      `1 validation error detected: Value '${text}' at '${camel(name)}' failed to satisfy constraint: Member must have value between ${range.min} and ${range.max}`,
    );
  }
  return value;
}

export function optionalQueryBoolean(input: QueryInput, name: string): boolean | undefined {
  const text = optionalQueryString(input, name);
  if (text === undefined) return undefined;
  if (text !== 'true' && text !== 'false') throw invalid(name, 'Member must be true or false');
  return text === 'true';
}

/** A list member; `Name=` (how the SDK sends an empty list) is an empty list. */
export function optionalQueryList(input: QueryInput, name: string): QueryValue[] | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (value === '') return [];
  if (!Array.isArray(value)) throw invalid(name, 'Member must be a list');
  return value;
}

export function optionalQueryStringList(input: QueryInput, name: string): string[] | undefined {
  const list = optionalQueryList(input, name);
  if (list === undefined) return undefined;
  if (list.some((v) => typeof v !== 'string')) throw invalid(name, 'Member must be a list of strings');
  return list as string[];
}

export function optionalQueryStructList(input: QueryInput, name: string): QueryInput[] | undefined {
  const list = optionalQueryList(input, name);
  if (list === undefined) return undefined;
  if (list.some((v) => !isRecord(v))) throw invalid(name, 'Member must be a list of structures');
  return list as QueryInput[];
}

export function optionalQueryStruct(input: QueryInput, name: string): QueryInput | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw invalid(name, 'Member must be a structure');
  return value as QueryInput;
}

export function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * One member as an XML element: structures nest, lists hold `<member>` elements, Dates are
 * ISO 8601 (the Query protocol's timestamp format), undefined members are left out.
 */
export function toXml(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (types.isDate(value)) return `<${name}>${value.toISOString()}</${name}>`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `<${name}/>`;
    return `<${name}>${value.map((v) => toXml('member', v)).join('')}</${name}>`;
  }
  if (isRecord(value)) {
    return `<${name}>${Object.entries(value)
      .map(([k, v]) => toXml(k, v))
      .join('')}</${name}>`;
  }
  return `<${name}>${xmlEscape(String(value))}</${name}>`;
}

function headers(text: string, requestId: string): Record<string, string | number> {
  return {
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': requestId,
    // The SDK corrects its clock skew from this header, so it is the real wall clock.
    Date: new Date().toUTCString(),
  };
}

export function sendQueryResult(
  res: ServerResponse,
  service: QueryService,
  operation: string,
  result: Record<string, unknown> | undefined,
): void {
  const requestId = randomUUID();
  const text =
    `<${operation}Response xmlns="${service.xmlns}">` +
    toXml(`${operation}Result`, result ?? {}) +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
  res.writeHead(200, headers(text, requestId));
  res.end(text);
}

/**
 * The code a Query service sends for an error the JSON services name otherwise: the
 * authentication refusals and throttling are spelled differently on the two protocols.
 */
const QUERY_ERROR_CODES: Record<string, string> = {
  MissingAuthenticationTokenException: 'MissingAuthenticationToken',
  UnrecognizedClientException: 'InvalidClientTokenId',
  InvalidSignatureException: 'SignatureDoesNotMatch',
  IncompleteSignatureException: 'IncompleteSignature',
  ThrottlingException: 'Throttling',
};

const AUTHENTICATION_ERRORS = new Set([
  'MissingAuthenticationToken',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);

/** The error as a Query service sends it: the code the SDK maps to its exception class. */
export function queryError(error: AwsError): AwsError {
  const code = QUERY_ERROR_CODES[error.type] ?? error.type;
  // Query services refuse credentials with 403 where the JSON services answer 400.
  const status = AUTHENTICATION_ERRORS.has(code) ? 403 : error.status;
  return code === error.type && status === error.status ? error : new AwsError(code, error.message, status);
}

export function sendQueryError(res: ServerResponse, error: AwsError, xmlns?: string): void {
  const requestId = randomUUID();
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  const text =
    `<ErrorResponse${xmlns ? ` xmlns="${xmlns}"` : ''}><Error><Type>${type}</Type>` +
    `<Code>${xmlEscape(error.type)}</Code><Message>${xmlEscape(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`;
  res.writeHead(error.status, headers(text, requestId));
  res.end(text);
}

/** Opaque pagination marker over a list position, as IAM and ELB hand out. */
export function encodeMarker(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

export function decodeMarker(marker: string | undefined): number {
  if (marker === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(marker, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isInteger(parsed.offset) && parsed.offset >= 0) {
      return parsed.offset;
    }
  } catch {
    // Not one of ours: refused below.
  }
  throw new AwsError(
    VALIDATION_ERROR,
    `Invalid Marker '${marker}': pass the Marker of the previous response.`,
  );
}

/** One page of `items` from `marker`, `pageSize` long, with the marker of the next page when there is one. */
export function page<T>(
  items: readonly T[],
  marker: string | undefined,
  pageSize: number,
): { items: T[]; nextMarker?: string } {
  const start = decodeMarker(marker);
  const end = start + pageSize;
  return { items: items.slice(start, end), nextMarker: end < items.length ? encodeMarker(end) : undefined };
}
