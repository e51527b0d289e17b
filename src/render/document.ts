import {
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  visit,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import { Problems, UserError, type Problem } from '../errors.js';

/** A field's location in a document: object keys and list indexes, outermost first. */
export type FieldPath = (string | number)[];

export interface ParsedDocument {
  value: unknown;
  /** The 1-based line a field was written on, when the source has that field. */
  lineOf(path: FieldPath): number | undefined;
}

/** Task definitions and appspecs are a few KiB; anything near this size is not one. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;
/**
 * yaml's guard against "billion laughs": it weighs each alias use by the aliases inside what
 * it points to. Sharing a few blocks (environment lists, log settings) stays far below it.
 */
const MAX_ALIAS_COUNT = 100;
/**
 * Aliases below the alias-count guard can still repeat a large anchored value. Without
 * aliases the content of a document cannot outgrow its source, so the same limit applies.
 */
const MAX_EXPANDED_SIZE = MAX_DOCUMENT_BYTES;
const MAX_DEPTH = 100;
/** After a YAML syntax error the parser often reports knock-on errors; the first few matter. */
const MAX_SYNTAX_PROBLEMS = 10;

/**
 * Parses a JSON or YAML document (YAML 1.2, with `<<` merge keys). A `.json` file is read as
 * strict JSON, so its errors name JSON's rules and positions. Refuses documents over 1 MiB,
 * alias bombs, duplicate keys, several documents in one file and roots that are not objects,
 * all as one UserError whose problems carry file, line and column.
 */
export function parseDocument(text: string, file: string, where: string): ParsedDocument {
  const source = `${where} (${file})`;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw new UserError({
      where: source,
      what: `The file is ${bytes} bytes; documents over 1 MiB (${MAX_DOCUMENT_BYTES} bytes) are refused.`,
      fix: `Point the \`${where}\` input at the document itself; a task definition or appspec is a few KiB.`,
      file,
      line: 1,
    });
  }
  // A byte order mark is invisible in editors, so positions are counted without it.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const parsed = /\.json$/i.test(file) ? parseJson(body, file, where) : parseYaml(body, file, where);
  if (!isRecord(parsed.value)) {
    throw new UserError({
      where: source,
      what: `The document is ${describeValue(parsed.value)}, not an object of fields.`,
      fix: `Make the file's top level a mapping of field names to values (\`${where}\` expects an object).`,
      file,
      line: parsed.lineOf([]) ?? 1,
    });
  }
  return parsed;
}

/**
 * A plain object (not a list, null, Date, Map…): what both JSON and YAML mappings become.
 * Compared by shape rather than with this realm's Object.prototype, because structuredClone
 * and test sandboxes hand over objects from another realm.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** `containerDefinitions[0].portMappings[1].containerPort`, the way the AWS docs name fields. */
export function formatFieldPath(path: FieldPath): string {
  return path
    .map((segment, i) => {
      if (typeof segment === 'number') return `[${segment}]`;
      if (/^[A-Za-z_$][\w$-]*$/.test(segment)) return i === 0 ? segment : `.${segment}`;
      return `[${JSON.stringify(segment)}]`;
    })
    .join('');
}

/** The line of a field, or of its closest written ancestor when the field itself is missing. */
export function lineNear(parsed: ParsedDocument, path: FieldPath): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const line = parsed.lineOf(path.slice(0, n));
    if (line !== undefined) return line;
  }
  return undefined;
}

/** Problems about the fields of one document, each pointed at its line when it came from a file. */
export class FieldProblems {
  constructor(
    private readonly origin: { source: string; file?: string; parsed?: ParsedDocument; prefix?: FieldPath },
    readonly problems = new Problems(),
  ) {}

  /** The same problem list, for paths inside `prefix` (the task definition in a wrapper). */
  within(prefix: FieldPath): FieldProblems {
    return new FieldProblems(
      { ...this.origin, prefix: [...(this.origin.prefix ?? []), ...prefix] },
      this.problems,
    );
  }

  at(path: FieldPath, what: string, fix: string): void {
    const { source, file, parsed, prefix = [] } = this.origin;
    const full = [...prefix, ...path];
    const line = parsed ? lineNear(parsed, full) : undefined;
    this.problems.add({
      where: full.length > 0 ? `${source}: ${formatFieldPath(full)}` : source,
      what,
      fix,
      ...(file !== undefined && { file }),
      ...(line !== undefined && { line }),
    });
  }

  /** A problem with an input rather than with a field of the document. */
  add(problem: Problem): void {
    this.problems.add(problem);
  }

  throwIfAny(): void {
    this.problems.throwIfAny();
  }
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return isRecord(value) ? 'an object' : `a ${value.constructor.name} value`;
  return `the ${typeof value} ${String(value)}`;
}

const pathKey = (path: FieldPath): string => JSON.stringify(path);

// ---------------------------------------------------------------------------------------
// JSON

class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

const JSON_SYNTAX_FIX = 'Correct the JSON at this position.';

/**
 * A strict JSON reader (RFC 8259) that, unlike JSON.parse, reports duplicate keys and
 * remembers where each field was written.
 */
class JsonReader {
  private pos = 0;
  private readonly lineStarts: number[] = [0];
  readonly lines = new Map<string, number>();
  readonly duplicates: { key: string; offset: number }[] = [];

  constructor(private readonly text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }

  read(): unknown {
    this.skipSpace();
    const value = this.value([], 0);
    this.skipSpace();
    if (this.pos < this.text.length) {
      throw new JsonSyntaxError(
        this.pos,
        'There is more after the end of the JSON document.',
        'Remove it; a JSON file holds exactly one value.',
      );
    }
    return value;
  }

  private value(path: FieldPath, depth: number): unknown {
    if (depth > MAX_DEPTH) {
      throw new JsonSyntaxError(
        this.pos,
        `Values are nested more than ${MAX_DEPTH} levels deep.`,
        'Flatten the document.',
      );
    }
    this.lines.set(pathKey(path), this.position(this.pos).line);
    const c = this.text[this.pos];
    if (c === '{') return this.object(path, depth);
    if (c === '[') return this.array(path, depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.unexpected('a value');
  }

  private object(path: FieldPath, depth: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return result;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.unexpected('a property name in double quotes');
      const keyOffset = this.pos;
      const key = this.string();
      if (seen.has(key)) this.duplicates.push({ key, offset: keyOffset });
      seen.add(key);
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.unexpected(`':' after the property name ${JSON.stringify(key)}`);
      this.pos++;
      this.skipSpace();
      const childPath = [...path, key];
      const value = this.value(childPath, depth + 1);
      // The key's line, not the value's, is where a reader looks for a field.
      this.lines.set(pathKey(childPath), this.position(keyOffset).line);
      // defineProperty keeps a "__proto__" key as data, as JSON.parse does.
      Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return result;
      }
      if (this.text[this.pos] !== ',') this.unexpected("',' or '}'");
      const comma = this.pos++;
      this.skipSpace();
      if (this.text[this.pos] === '}') this.trailingComma(comma, '}');
    }
  }

  private array(path: FieldPath, depth: number): unknown[] {
    const result: unknown[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return result;
    }
    for (;;) {
      result.push(this.value([...path, result.length], depth + 1));
      this.skipSpace();
      if (this.text[this.pos] === ']') {
        this.pos++;
        return result;
      }
      if (this.text[this.pos] !== ',') this.unexpected("',' or ']'");
      const comma = this.pos++;
      this.skipSpace();
      if (this.text[this.pos] === ']') this.trailingComma(comma, ']');
    }
  }

  private string(): string {
    const start = this.pos;
    let i = start + 1;
    for (;;) {
      const c = this.text.charCodeAt(i);
      if (Number.isNaN(c)) {
        throw new JsonSyntaxError(start, 'This string is never closed.', 'Add the closing double quote.');
      }
      if (c === 0x22) break;
      if (c < 0x20) {
        throw new JsonSyntaxError(
          i,
          'A line break or other control character is written raw inside a string.',
          'Write it as an escape (\\n, \\t) or close the string before the line ends.',
        );
      }
      if (c === 0x5c) {
        const escape = /^(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/.exec(this.text.slice(i + 1, i + 6));
        if (!escape) {
          throw new JsonSyntaxError(
            i,
            'This backslash starts no valid JSON escape.',
            'Write a literal backslash as \\\\ (Windows paths and regular expressions need it doubled).',
          );
        }
        i += 1 + escape[0].length;
      } else {
        i++;
      }
    }
    this.pos = i + 1;
    // The slice is a proven valid JSON string literal; JSON.parse decodes its escapes.
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  private number(): number {
    const match = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    match.lastIndex = this.pos;
    const m = match.exec(this.text);
    if (!m) return this.unexpected('a number');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  private trailingComma(comma: number, close: string): never {
    throw new JsonSyntaxError(
      comma,
      `JSON allows no comma before '${close}'.`,
      'Remove the comma after the last item.',
    );
  }

  private unexpected(expected: string): never {
    const c = this.text[this.pos];
    if (c === undefined) {
      throw new JsonSyntaxError(
        this.pos,
        `The document ends where ${expected} was expected.`,
        'Close every { and [ that is opened; the end of the file is missing.',
      );
    }
    if (c === '/' || c === '#') {
      throw new JsonSyntaxError(
        this.pos,
        'JSON has no comments.',
        'Remove the comment, or rename the file to .yaml: YAML allows # comments and reads JSON too.',
      );
    }
    if (c === "'") {
      throw new JsonSyntaxError(
        this.pos,
        'JSON strings and names use double quotes.',
        'Replace the single quotes with double quotes.',
      );
    }
    throw new JsonSyntaxError(
      this.pos,
      `Found ${JSON.stringify(c)} where ${expected} was expected.`,
      JSON_SYNTAX_FIX,
    );
  }
}

function parseJson(text: string, file: string, where: string): ParsedDocument {
  const source = `${where} (${file})`;
  const reader = new JsonReader(text);
  let value: unknown;
  try {
    value = reader.read();
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    const { line, column } = reader.position(e.offset);
    throw new UserError({
      where: source,
      what: `Invalid JSON: ${e.message}`,
      fix: e.fix,
      file,
      line,
      column,
    });
  }
  const problems = new Problems();
  for (const { key, offset } of reader.duplicates) {
    problems.add({
      where: source,
      what: `The key ${JSON.stringify(key)} appears twice in the same object; only one value could be used.`,
      fix: `Keep one ${JSON.stringify(key)} in this object and delete or merge the other.`,
      file,
      ...reader.position(offset),
    });
  }
  problems.throwIfAny();
  const lines = reader.lines;
  return { value, lineOf: (path) => lines.get(pathKey(path)) };
}

// ---------------------------------------------------------------------------------------
// YAML

function parseYaml(text: string, file: string, where: string): ParsedDocument {
  const source = `${where} (${file})`;
  const lineCounter = new LineCounter();
  const at = (offset: number): Pick<Problem, 'file' | 'line' | 'column'> => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const docs = parseAllDocuments(text, {
    version: '1.2',
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    lineCounter,
  });
  const doc = docs[0];
  if (!doc || doc.contents === null) {
    throw new UserError({
      where: source,
      what: 'The document is empty.',
      fix: `Point the \`${where}\` input at a file that holds the document.`,
      file,
      line: 1,
    });
  }
  const problems = new Problems();
  if (docs.length > 1) {
    problems.add({
      where: source,
      what: `The file holds ${docs.length} YAML documents separated by ---; exactly one is expected.`,
      fix: 'Keep one document in the file: delete the --- line and what follows it, or split the file.',
      ...at(docs[1]!.range[0]),
    });
  }
  const seen = new Set<string>();
  for (const issue of [...doc.errors, ...doc.warnings]) {
    const problem = yamlIssueProblem(issue, doc, text, source, at);
    const key = `${problem.line}:${problem.what}`;
    if (seen.has(key) || seen.size >= MAX_SYNTAX_PROBLEMS) continue;
    seen.add(key);
    problems.add(problem);
  }
  // A syntax error leaves a half-built tree whose shape is not worth judging.
  problems.throwIfAny();
  checkPlainKeys(doc, source, at, problems);
  problems.throwIfAny();

  const lineOf = (path: FieldPath): number | undefined => {
    const offset = yamlOffsetOf(doc, path);
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  const value = yamlValue(doc, source, at);
  const parsed: ParsedDocument = { value, lineOf };
  const fault = findNonJsonValue(value);
  if (fault) {
    const line = lineNear(parsed, fault.path);
    throw new UserError({
      where: fault.path.length > 0 ? `${source}: ${formatFieldPath(fault.path)}` : source,
      what: fault.what,
      fix: fault.fix,
      file,
      ...(line !== undefined && { line }),
    });
  }
  return parsed;
}

type At = (offset: number) => Pick<Problem, 'file' | 'line' | 'column'>;
type YamlDocument = ReturnType<typeof parseAllDocuments>[number];

/** yaml would turn a list or map used as a key into a string (and print a warning). */
function checkPlainKeys(doc: YamlDocument, source: string, at: At, problems: Problems): void {
  visit(doc, {
    Pair(_, pair) {
      if (isCollection(pair.key)) {
        problems.add({
          where: source,
          what: 'A list or mapping is used as a key; fields are named by plain text.',
          fix: 'Write the key as plain text (a "? " line starts a complex key in YAML).',
          ...at(pair.key.range?.[0] ?? 0),
        });
      }
    },
  });
}

/** The document as plain values; aliases that expand too far are refused. */
function yamlValue(doc: YamlDocument, source: string, at: At): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    throw new UserError({
      where: source,
      what: `The document's aliases (*name) expand too far (past yaml's limit of ${MAX_ALIAS_COUNT} weighted alias uses), the shape of a "billion laughs" attack.`,
      fix: 'Write the repeated values out, or use fewer nested anchors (&name) and aliases.',
      ...at(firstAliasOffset(doc)),
    });
  }
}

function yamlIssueProblem(
  issue: { code: string; message: string; pos: [number, number] },
  doc: Document,
  text: string,
  source: string,
  at: (offset: number) => Pick<Problem, 'file' | 'line' | 'column'>,
): Problem {
  const position = at(issue.pos[0]);
  if (issue.code === 'DUPLICATE_KEY') {
    const key = keyAt(doc, issue.pos[0]) ?? text.slice(issue.pos[0], issue.pos[1]);
    return {
      where: source,
      what: `The key ${JSON.stringify(key)} appears twice in the same mapping; only one value could be used.`,
      fix: `Keep one ${JSON.stringify(key)} in this mapping and delete or merge the other.`,
      ...position,
    };
  }
  if (issue.code === 'TAG_RESOLVE_FAILED') {
    return {
      where: source,
      what: `${issue.message}. This file is read as plain YAML, not by CloudFormation, so tags such as !Ref or !Sub are not expanded.`,
      fix: 'Write the value itself (for example the full ARN) instead of the tag.',
      ...position,
    };
  }
  return {
    where: source,
    what: `Invalid YAML: ${issue.message}.`,
    fix: 'Correct the YAML at this position (indent with spaces only, and quote values that contain ": " or start with a special character).',
    ...position,
  };
}

function keyAt(doc: Document, offset: number): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = String(pair.key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_, alias) {
      offset = alias.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

/** Where a field's key (or a list item) starts, following aliases and merge keys. */
function yamlOffsetOf(doc: Document, path: FieldPath): number | undefined {
  let node: unknown = doc.contents;
  let offset = (node as Node | null)?.range?.[0];
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = findPair(doc, node, segment);
      if (!pair) return undefined;
      offset = (pair.key as Node).range?.[0];
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (node === undefined) return undefined;
      offset = (node as Node).range?.[0];
    } else {
      return undefined;
    }
  }
  return offset;
}

function findPair(doc: Document, map: YAMLMap, segment: string | number, depth = 0): Pair | undefined {
  const isMerge = (pair: Pair) => isScalar(pair.key) && typeof pair.key.value === 'symbol';
  const own = map.items.find(
    (p) => !isMerge(p) && isScalar(p.key) && String(p.key.value) === String(segment),
  );
  if (own || depth > MAX_DEPTH) return own;
  // Keys brought in by `<<: *anchor` (or a list of anchors) live in the anchored mapping.
  for (const merge of map.items.filter(isMerge)) {
    const sources = isSeq(merge.value) ? merge.value.items : [merge.value];
    for (const item of sources) {
      const target = isAlias(item) ? item.resolve(doc) : item;
      const pair = isMap(target) ? findPair(doc, target, segment, depth + 1) : undefined;
      if (pair) return pair;
    }
  }
  return undefined;
}

/**
 * The first value JSON could not hold (YAML also knows dates, sets, binary, infinity), a
 * cycle made with an alias to its own ancestor, or the point where expanding aliases makes
 * the content bigger than a source document may be.
 */
function findNonJsonValue(root: unknown): { path: FieldPath; what: string; fix: string } | undefined {
  let size = 0;
  const ancestors = new Set<object>();
  const walk = (
    value: unknown,
    path: FieldPath,
  ): { path: FieldPath; what: string; fix: string } | undefined => {
    size += 1;
    if (typeof value === 'string') size += value.length;
    if (size > MAX_EXPANDED_SIZE) {
      return {
        path,
        what: `With its aliases (*name) expanded, the document grows past ${MAX_EXPANDED_SIZE} characters.`,
        fix: 'Repeat large values less often; a task definition or appspec is a few KiB.',
      };
    }
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
    if (typeof value === 'number') {
      return Number.isFinite(value)
        ? undefined
        : { path, what: `${value} is not a number JSON can hold.`, fix: 'Write a finite number.' };
    }
    if (path.length > MAX_DEPTH) {
      return {
        path,
        what: `Values are nested more than ${MAX_DEPTH} levels deep.`,
        fix: 'Flatten the document.',
      };
    }
    if (!Array.isArray(value) && !isRecord(value)) {
      return {
        path,
        what: `This is ${describeValue(value)} (from a YAML tag such as !!timestamp, !!set or !!binary), which has no JSON form.`,
        fix: 'Write the value as a plain string, number, list or mapping.',
      };
    }
    if (ancestors.has(value)) {
      return {
        path,
        what: 'An alias (*name) refers to a mapping or list that contains it, which makes an endless document.',
        fix: 'Point the alias at an anchor (&name) outside the value that holds it.',
      };
    }
    ancestors.add(value);
    const entries: [string | number, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.entries(value);
    for (const [key, child] of entries) {
      if (typeof key === 'string') size += key.length;
      const fault = walk(child, [...path, key]);
      if (fault) return fault;
    }
    ancestors.delete(value);
    return undefined;
  };
  return walk(root, []);
}
