/**
 * The HTTP front: AWS JSON 1.1 on `POST /`, routed by `X-Amz-Target`, and the AWS Query
 * protocol (STS, IAM, ELBv2), routed by the credential scope's service; every request signed
 * with SigV4 and authorized by IAM, every call recorded, faults applied after authentication.
 * Binds 127.0.0.1 only.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { types } from 'node:util';
import { verifySignature } from './auth.js';
import type { ServiceEmulator, ServiceName } from './context.js';
import { AwsError, isRecord } from './errors.js';
import type { FaultInjector } from './faults.js';
import {
  errorListed,
  responseProblems,
  validateRequest,
  type ModelProblem,
  type Protocol,
} from './validate.js';
import {
  credentialScopeService,
  decodeQueryInput,
  queryError,
  sendQueryError,
  sendQueryResult,
  type QueryInput,
  type QueryService,
  type QueryServiceName,
} from './query.js';

export interface CallRecord {
  service: ServiceName | QueryServiceName;
  operation: string;
  input: unknown;
  /** The input the handler saw: checked against the model, unknown members dropped. */
  accepted?: unknown;
  /** HTTP status sent; 0 when the connection was dropped without a response. */
  status: number;
  errorType?: string;
  /** Real wall-clock ms when the request arrived. */
  at: number;
  accessKeyId?: string;
}

export interface ServerOptions {
  port: number;
  region: string;
  credentials: ReadonlyMap<string, string>;
  services: readonly ServiceEmulator[];
  /** Query-protocol services, told apart by the credential scope's service name. */
  queryServices: readonly QueryService[];
  /** Throws the service's access-denied error unless the caller's IAM policies allow the call. */
  authorize(
    accessKeyId: string,
    service: ServiceName | QueryServiceName,
    operation: string,
    input: unknown,
  ): void;
  faults: FaultInjector;
  calls: CallRecord[];
  /** Brings emulated state up to the current emulated time before a call is handled. */
  catchUp(): void;
  /**
   * What to do with a response (or an error type) the service model does not allow: `off`,
   * `record` it in `violations`, or `throw` (record it and answer 500 InternalFailure instead).
   */
  checkResponses: ResponseCheck;
  violations: ModelViolation[];
}

export type ResponseCheck = 'off' | 'record' | 'throw';

/** A response the endpoint sent (or would have) that its operation's model does not allow. */
export interface ModelViolation {
  service: string;
  operation: string;
  problems: ModelProblem[];
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** Operations that change state, by AWS's verb conventions. */
const MUTATING_VERBS =
  /^(Create|Register|Update|Delete|Deregister|Stop|Continue|Put|Tag|Untag|BatchDelete|Start|Run|Submit|Set|Add|Remove|Initiate|Complete|Upload|Execute|Skip|Override)/;

export function isMutatingOperation(operation: string): boolean {
  return MUTATING_VERBS.test(operation);
}

/**
 * Dates become epoch seconds, as AWS JSON 1.1 sends timestamps; undefined members vanish.
 * (`types.isDate` rather than `instanceof`: under jest, Dates may come from another realm.)
 */
function toWire(value: unknown): unknown {
  if (types.isDate(value)) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (types.isMap(value)) return Object.fromEntries([...value].map(([k, v]) => [k, toWire(v)]));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(v);
    return out;
  }
  return value;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new AwsError('SerializationException', `Request body exceeds ${MAX_BODY_BYTES} bytes.`, 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
    // The SDK corrects its clock skew from this header, so it is the real wall clock.
    Date: new Date().toUTCString(),
  };
  if (errorType) headers['x-amzn-ErrorType'] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}

function sendError(res: ServerResponse, error: AwsError): void {
  send(res, error.status, { __type: error.type, message: error.message, ...error.fields }, error.type);
}

export class EmulatorServer {
  private readonly server: Server;
  private readonly targets: Map<string, ServiceEmulator>;
  private readonly queryServices: Map<string, QueryService>;
  private readonly pendingDelays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private closing = false;

  constructor(private readonly opts: ServerOptions) {
    this.targets = new Map(opts.services.map((s) => [s.targetPrefix, s]));
    this.queryServices = new Map(opts.queryServices.map((s) => [s.signingName, s]));
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          sendError(res, new AwsError('InternalFailure', `The emulator failed: ${String(err)}`, 500));
        }
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const delay of this.pendingDelays) {
      clearTimeout(delay.timer);
      delay.resolve();
    }
    this.pendingDelays.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.pendingDelays.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.pendingDelays.add(entry);
    });
  }

  /**
   * Injected latency, then the request fault for this call: an error to answer, 'stop' when
   * the connection was dropped (or the server is closing), 'lose' to act and then drop the
   * connection instead of answering, undefined to go on.
   */
  private async requestFault(operation: string, req: IncomingMessage, res: ServerResponse) {
    const latency = this.opts.faults.takeLatency(operation);
    if (latency > 0) await this.delay(latency);
    if (this.closing) {
      res.destroy();
      return 'stop';
    }
    const fault = this.opts.faults.takeRequestFault(operation);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return 'stop';
    }
    if (fault?.kind === 'loseAnswer') return 'lose';
    if (fault?.kind === 'throttle') return new AwsError('ThrottlingException', 'Rate exceeded');
    if (fault?.kind === 'expiredToken') {
      return new AwsError('ExpiredTokenException', 'The security token included in the request is expired');
    }
    if (fault?.kind === 'serverError') {
      return fault.status === 500
        ? new AwsError(
            'InternalFailure',
            'The request processing has failed because of an unknown error, exception or failure.',
            500,
          )
        : new AwsError('ServiceUnavailable', 'Service is unavailable. Please try again later.', fault.status);
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const body = await readBody(req).catch((err: unknown) => err);
    if (!(body instanceof Buffer)) {
      sendError(res, body instanceof AwsError ? body : new AwsError('SerializationException', String(body)));
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const signed = { method: req.method ?? 'GET', path: url.pathname, query, headers: req.headers, body };
    // STS, IAM and ELB speak the Query protocol: form in, XML out, no X-Amz-Target.
    if (
      !target &&
      String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
    ) {
      return this.handleQuery(req, res, signed, at);
    }

    const dot = target.indexOf('.');
    const service = dot > 0 ? this.targets.get(target.slice(0, dot)) : undefined;
    const operationName = dot > 0 ? target.slice(dot + 1) : target;
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      input = undefined;
    }
    const call: CallRecord | undefined = service
      ? { service: service.service, operation: operationName, input, status: 0, at }
      : undefined;
    if (call) this.opts.calls.push(call);

    const reply = (status: number, payload: unknown, errorType?: string) => {
      if (call) {
        call.status = status;
        if (errorType) call.errorType = errorType;
      }
      send(res, status, payload, errorType);
    };
    const fail = (error: AwsError) => {
      if (call) {
        call.status = error.status;
        call.errorType = error.type;
      }
      sendError(res, error);
    };

    let accessKeyId: string;
    try {
      accessKeyId = await verifySignature(signed, {
        credentials: this.opts.credentials,
        region: this.opts.region,
        signingNames: service?.signingNames ?? this.opts.services.flatMap((s) => s.signingNames),
        now: Date.now(),
      });
      if (call) call.accessKeyId = accessKeyId;
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      return fail(err);
    }

    if (req.method !== 'POST' || url.pathname !== '/' || !service) {
      return fail(
        new AwsError('UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}`),
      );
    }
    const contentType = String(req.headers['content-type'] ?? '');
    if (!contentType.startsWith(JSON_CONTENT_TYPE)) {
      return fail(
        new AwsError(
          'SerializationException',
          `Expected Content-Type ${JSON_CONTENT_TYPE}, got '${contentType}'.`,
        ),
      );
    }
    if (!isRecord(input)) {
      return fail(new AwsError('SerializationException', 'The request body must be a JSON object.'));
    }

    const fault = await this.requestFault(operationName, req, res);
    if (fault === 'stop') return;
    if (fault && fault !== 'lose') return fail(fault);

    const operation = service.operations[operationName];
    if (!operation) return fail(new AwsError('UnknownOperationException', `Unknown operation ${target}`));
    const answer = await this.invoke(service.service, operationName, input, 'json', call, (accepted) => {
      this.opts.catchUp();
      this.opts.authorize(accessKeyId, service.service, operationName, accepted);
      return operation(accepted as Record<string, unknown>);
    });
    if (answer instanceof AwsError) return fail(answer);
    if (fault === 'lose') {
      req.socket.destroy();
      return;
    }
    reply(200, answer.output);
  }

  /**
   * One call checked against the model both ways: the input validated (unknown members
   * dropped, `call.accepted` what is left), the handler run, its answer or error type checked
   * (see checkResponses). Returns the output to send (JSON: as on the wire) or the error.
   */
  private async invoke(
    service: string,
    operation: string,
    input: unknown,
    protocol: Protocol,
    call: CallRecord | undefined,
    run: (accepted: unknown) => unknown,
  ): Promise<{ output: unknown } | AwsError> {
    let accepted: unknown;
    try {
      accepted = validateRequest(service, operation, input, protocol);
    } catch (err) {
      if (err instanceof AwsError) return err;
      throw err;
    }
    if (call) call.accepted = accepted;
    try {
      const result = await run(accepted);
      const output = protocol === 'json' ? toWire(result ?? {}) : result;
      return this.checkResponse(service, operation, output ?? {}, protocol) ?? { output };
    } catch (err) {
      if (err instanceof AwsError) return this.checkErrorType(service, operation, err);
      return new AwsError('InternalFailure', `The emulator failed on ${operation}: ${String(err)}`, 500);
    }
  }

  private violation(service: string, operation: string, problems: ModelProblem[]): AwsError | undefined {
    if (this.opts.checkResponses === 'off' || problems.length === 0) return undefined;
    this.opts.violations.push({ service, operation, problems });
    if (this.opts.checkResponses !== 'throw') return undefined;
    return new AwsError(
      'InternalFailure',
      `The local endpoint's ${service} ${operation} response breaks the AWS model: ${problems
        .slice(0, 5)
        .map((p) => p.message)
        .join('; ')}`,
      500,
    );
  }

  /** The error to send instead of this response when it breaks the model (see checkResponses). */
  private checkResponse(service: string, operation: string, output: unknown, protocol: Protocol) {
    if (this.opts.checkResponses === 'off') return undefined;
    return this.violation(service, operation, responseProblems(service, operation, output, protocol));
  }

  /** A handler's error the model does not list for the operation is a violation too. */
  private checkErrorType(service: string, operation: string, error: AwsError): AwsError {
    if (this.opts.checkResponses === 'off' || errorListed(service, operation, error.type)) return error;
    const message = `${error.type} is not an error the model lists for ${operation} ("${error.message}")`;
    return this.violation(service, operation, [{ kind: 'unknown', path: '', message }]) ?? error;
  }
  /** A Query-protocol request: the service is the one whose signing name the credential scope names. */
  private async handleQuery(
    req: IncomingMessage,
    res: ServerResponse,
    signed: Parameters<typeof verifySignature>[0],
    at: number,
  ): Promise<void> {
    const scope = credentialScopeService(signed.headers.authorization);
    const service = this.queryServices.get(scope ?? '');
    const form = new URLSearchParams(signed.body.toString('utf8'));
    const operationName = form.get('Action') ?? '';
    let input: QueryInput | AwsError;
    try {
      input = decodeQueryInput(form);
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      input = err;
    }
    const call: CallRecord | undefined = service
      ? {
          service: service.service,
          operation: operationName,
          input: input instanceof AwsError ? undefined : input,
          status: 0,
          at,
        }
      : undefined;
    if (call) this.opts.calls.push(call);
    const fail = (error: AwsError) => {
      const answer = queryError(error);
      if (call) {
        call.status = answer.status;
        call.errorType = answer.type;
      }
      sendQueryError(res, answer, service?.xmlns);
    };

    let accessKeyId: string;
    try {
      accessKeyId = await verifySignature(signed, {
        credentials: this.opts.credentials,
        region: this.opts.region,
        // Routed by the scope: a scope naming no served service is refused after the signature check.
        signingNames: service ? [service.signingName] : undefined,
        now: Date.now(),
      });
      if (call) call.accessKeyId = accessKeyId;
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      return fail(err);
    }
    if (!service) {
      return fail(
        new AwsError(
          'InvalidAction',
          `The action ${operationName || '(none)'} is not valid for this web service: this endpoint serves the Query protocol for ${[...this.queryServices.keys()].join(', ')}, and the request was signed for '${scope ?? '(no scope)'}'.`,
        ),
      );
    }
    const operation = service.operations[operationName];
    if (!operation) {
      return fail(
        new AwsError(
          'InvalidAction',
          `Could not find operation ${operationName || '(none)'} for version ${service.version}`,
        ),
      );
    }
    if (input instanceof AwsError) return fail(input);

    const fault = await this.requestFault(operationName, req, res);
    if (fault === 'stop') return;
    if (fault && fault !== 'lose') return fail(fault);
    const answer = await this.invoke(service.service, operationName, input, 'query', call, (accepted) => {
      this.opts.catchUp();
      this.opts.authorize(accessKeyId, service.service, operationName, accepted);
      return operation(accepted as QueryInput, { accessKeyId });
    });
    if (answer instanceof AwsError) return fail(answer);
    if (fault === 'lose') {
      req.socket.destroy();
      return;
    }
    if (call) call.status = 200;
    sendQueryResult(res, service, operationName, answer.output as Record<string, unknown> | undefined);
  }
}
