import { describe, expect, it } from '@jest/globals';
import { UserError, type Problem } from '../../../src/errors.js';
import { formatFieldPath, lineNear, parseDocument } from '../../../src/render/document.js';

/** The problems parseDocument throws, or a failure when it throws none. */
function problemsOf(text: string, file: string): Problem[] {
  try {
    parseDocument(text, file, 'task-definition');
  } catch (e) {
    if (e instanceof UserError) return e.problems;
    throw e;
  }
  throw new Error(`expected ${file} to be refused`);
}

describe('parseDocument', () => {
  it.each([
    ['JSON', 'td.json', '{"family": "web", "cpu": "256", "tags": [], "n": -1.5e2, "s": "a\\"b\\u00e9\\n"}'],
    [
      'JSON with a BOM and CRLF',
      'td.JSON',
      '\uFEFF{\r\n  "family": "web",\r\n  "cpu": "256", "tags": [], "n": -150, "s": "a\\"bé\\n"\r\n}',
    ],
    ['YAML', 'td.yaml', 'family: web\ncpu: "256"\ntags: []\nn: -1.5e2\ns: "a\\"bé\\n"\n'],
    [
      'JSON in a .yml file',
      'td.yml',
      '{"family": "web", "cpu": "256", "tags": [], "n": -150, "s": "a\\"bé\\n"}',
    ],
  ])('reads %s', (_, file, text) => {
    expect(parseDocument(text, file, 'task-definition').value).toEqual({
      family: 'web',
      cpu: '256',
      tags: [],
      n: -150,
      s: 'a"bé\n',
    });
  });

  it.each([
    ['{"a": 1, "b": [true, false, null, 0, -0.5, 1E3, ""], "c": {"d": {}}, "e": "\\/\\b\\f\\t\\r"}'],
    ['{"__proto__": {"polluted": true}, "x": [[], [[]]]}'],
    [' { "k" : [ 1 , 2 ] } '],
  ])('reads %s exactly as JSON.parse does', (text) => {
    const value = parseDocument(text, 'x.json', 'task-definition').value;
    expect(value).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('keeps YAML 1.2 scalars as YAML 1.2 reads them', () => {
    const value = parseDocument(
      'a: yes\nb: 0.0\nc: 0755\nd: 2026-01-01\ne: ~\nf: "8080"\n',
      'x.yaml',
      'w',
    ).value;
    expect(value).toEqual({ a: 'yes', b: 0, c: 755, d: '2026-01-01', e: null, f: '8080' });
  });

  it('follows anchors and merge keys', () => {
    const text = 'defaults: &d {essential: true, cpu: 128}\nweb:\n  <<: *d\n  cpu: 256\nlist: [*d]\n';
    expect(parseDocument(text, 'x.yaml', 'w').value).toEqual({
      defaults: { essential: true, cpu: 128 },
      web: { essential: true, cpu: 256 },
      list: [{ essential: true, cpu: 128 }],
    });
  });

  describe('lineOf', () => {
    const json = [
      '{',
      '  "family": "web",',
      '  "containerDefinitions": [',
      '    {',
      '      "name": "web",',
      '      "portMappings": [{ "containerPort": 80 },',
      '        { "containerPort": 443 }]',
      '    }',
      '  ]',
      '}',
    ].join('\n');
    const yaml = [
      'family: web',
      'containerDefinitions:',
      '  - name: web',
      '    portMappings:',
      '      - containerPort: 80',
      '      - containerPort: 443',
      'shared: &s',
      '  x: 1',
      'merged:',
      '  <<: *s',
      '  y: 2',
    ].join('\n');
    it.each([
      ['td.json', [], 1],
      ['td.json', ['family'], 2],
      ['td.json', ['containerDefinitions'], 3],
      ['td.json', ['containerDefinitions', 0], 4],
      ['td.json', ['containerDefinitions', 0, 'name'], 5],
      ['td.json', ['containerDefinitions', 0, 'portMappings', 0, 'containerPort'], 6],
      ['td.json', ['containerDefinitions', 0, 'portMappings', 1], 7],
      ['td.json', ['containerDefinitions', 0, 'portMappings', 1, 'containerPort'], 7],
      ['td.json', ['containerDefinitions', 1], undefined],
      ['td.json', ['nope'], undefined],
      ['td.json', ['family', 'x'], undefined],
      ['td.yaml', [], 1],
      ['td.yaml', ['family'], 1],
      ['td.yaml', ['containerDefinitions', 0, 'name'], 3],
      ['td.yaml', ['containerDefinitions', 0, 'portMappings', 1], 6],
      ['td.yaml', ['containerDefinitions', 0, 'portMappings', 1, 'containerPort'], 6],
      ['td.yaml', ['merged', 'y'], 11],
      ['td.yaml', ['merged', 'x'], 8],
      ['td.yaml', ['containerDefinitions', 2], undefined],
      ['td.yaml', ['containerDefinitions', 'name'], undefined],
    ] as const)('%s %j → line %s', (file, path, line) => {
      expect(parseDocument(file === 'td.json' ? json : yaml, file, 'w').lineOf([...path])).toBe(line);
    });

    it('lineNear falls back to the closest written ancestor', () => {
      const parsed = parseDocument(yaml, 'td.yaml', 'w');
      expect(lineNear(parsed, ['containerDefinitions', 0, 'image'])).toBe(3);
      expect(lineNear(parsed, ['missing', 'deeper'])).toBe(1);
    });
  });

  it.each([
    [
      'a trailing comma',
      'td.json',
      '{\n  "family": "web",\n}',
      { line: 2, column: 18, what: expect.stringContaining("no comma before '}'") },
    ],
    [
      'a comment',
      'td.json',
      '{\n  // the family\n  "family": "web"\n}',
      { line: 2, column: 3, what: expect.stringContaining('JSON has no comments') },
    ],
    [
      'single quotes',
      'td.json',
      "{'family': 'web'}",
      { line: 1, column: 2, what: expect.stringContaining('double quotes') },
    ],
    [
      'a raw tab in a string',
      'td.json',
      '{"family": "we\tb"}',
      { line: 1, column: 15, what: expect.stringContaining('control character') },
    ],
    [
      'a bad escape',
      'td.json',
      '{\n"path": "C:\\dir"}',
      { line: 2, column: 12, what: expect.stringContaining('backslash') },
    ],
    [
      'an unclosed string',
      'td.json',
      '{"family": "web}',
      { line: 1, column: 12, what: expect.stringContaining('never closed') },
    ],
    [
      'a missing end',
      'td.json',
      '{"containerDefinitions": [\n',
      { line: 2, column: 1, what: expect.stringContaining('ends where a value was expected') },
    ],
    [
      'a missing comma',
      'td.json',
      '{"a": 1\n "b": 2}',
      { line: 2, column: 2, what: expect.stringContaining("where ',' or '}' was expected") },
    ],
    [
      'content after the document',
      'td.json',
      '{"a": 1} {"b": 2}',
      { line: 1, column: 10, what: expect.stringContaining('more after the end') },
    ],
    ['a bare word', 'td.json', '{"a": yes}', { line: 1, column: 7 }],
    [
      'nesting past 100 levels',
      'td.json',
      '['.repeat(200) + ']'.repeat(200),
      { line: 1, column: 102, what: expect.stringContaining('nested more than 100') },
    ],
    [
      'a tab used as indentation',
      'td.yaml',
      'family: web\ncontainerDefinitions:\n\t- name: web\n',
      { line: 3, column: 1, what: expect.stringContaining('Invalid YAML') },
    ],
    [
      'an unclosed flow sequence',
      'td.yaml',
      'family: web\nrequiresCompatibilities: [FARGATE\n',
      { line: 3, what: expect.stringContaining('Invalid YAML') },
    ],
    [
      'a CloudFormation tag',
      'td.yaml',
      'family: web\ntaskRoleArn: !GetAtt Role.Arn\n',
      { line: 2, column: 14, what: expect.stringContaining('not by CloudFormation') },
    ],
  ])('refuses %s with its position', (_, file, text, expected) => {
    const problems = problemsOf(text, file);
    expect(problems[0]).toMatchObject({ where: `task-definition (${file})`, file, ...expected });
  });

  it.each([
    [
      'td.json',
      '{\n  "family": "web",\n  "cpu": "256",\n  "family": "api",\n  "cpu": "512"\n}',
      [
        {
          line: 4,
          column: 3,
          what: 'The key "family" appears twice in the same object; only one value could be used.',
        },
        {
          line: 5,
          column: 3,
          what: 'The key "cpu" appears twice in the same object; only one value could be used.',
        },
      ],
    ],
    [
      'td.yaml',
      'family: web\ncontainerDefinitions:\n  - name: a\n    name: b\nfamily: api\n',
      [
        {
          line: 4,
          column: 5,
          what: 'The key "name" appears twice in the same mapping; only one value could be used.',
        },
        {
          line: 5,
          column: 1,
          what: 'The key "family" appears twice in the same mapping; only one value could be used.',
        },
      ],
    ],
  ])('refuses duplicate keys in %s, every one of them', (file, text, expected) => {
    expect(problemsOf(text, file)).toMatchObject(expected);
  });

  it.each([
    ['several YAML documents', 'td.yaml', 'family: a\n---\nfamily: b\n', 2, /2 YAML documents/],
    ['an empty file', 'td.yaml', '', 1, /empty/],
    ['a file of comments', 'td.yaml', '# nothing here\n', 1, /empty/],
    ['a list root', 'td.yaml', '- family: web\n', 1, /is a list, not an object/],
    ['a string root', 'td.yaml', 'family\n', 1, /the string "family", not an object/],
    ['a null root', 'td.json', 'null', 1, /is empty, not an object/],
    ['a number root', 'td.json', '\n42', 2, /the number 42/],
    ['a complex key', 'td.yaml', 'family: web\n? [a, b]\n: c\n', 2, /list or mapping is used as a key/],
    ['a timestamp', 'td.yaml', 'family: web\nat: !!timestamp 2026-01-01\n', 2, /Date value .* no JSON form/],
    ['a set', 'td.yaml', 'family: web\ns: !!set {a, b}\n', 2, /Set value/],
    ['infinity', 'td.yaml', 'family: web\ncpu: .inf\n', 2, /Infinity is not a number JSON can hold/],
    ['a self-referencing alias', 'td.yaml', 'family: web\nloop: &l\n  - *l\n', 3, /endless/],
  ])('refuses %s', (_, file, text, line, what) => {
    const [problem, ...rest] = problemsOf(text, file);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ file, line });
    expect(problem!.what).toMatch(what);
    expect(problem!.fix.length).toBeGreaterThan(0);
  });

  it('refuses documents over 1 MiB before parsing them', () => {
    const text = `{"family": "web", "pad": "${'x'.repeat(1024 * 1024)}"}`;
    const [problem] = problemsOf(text, 'td.json');
    expect(problem).toMatchObject({ file: 'td.json', line: 1 });
    expect(problem!.what).toMatch(/over 1 MiB/);
  });

  it('counts bytes, not characters, against the size limit', () => {
    const text = `a: "${'é'.repeat(600 * 1024)}"\n`;
    expect(text.length).toBeLessThan(1024 * 1024);
    expect(problemsOf(text, 'td.yaml')[0]!.what).toMatch(/over 1 MiB/);
  });

  it('refuses a billion-laughs alias bomb through the alias count', () => {
    const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (const [name, prev] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
      ['f', 'e'],
      ['g', 'f'],
      ['h', 'g'],
      ['i', 'h'],
    ]) {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const start = Date.now();
    const [problem] = problemsOf(lines.join('\n'), 'td.yaml');
    expect(Date.now() - start).toBeLessThan(5000);
    expect(problem!.what).toMatch(/aliases .* expand too far/);
    expect(problem).toMatchObject({ line: 2, column: 8 });
  });

  it('refuses a few aliases of a huge value by the expanded size', () => {
    const text = `a: &big "${'x'.repeat(400 * 1024)}"\nb: *big\nc: *big\n`;
    const [problem] = problemsOf(text, 'td.yaml');
    expect(problem!.what).toMatch(/grows past 1048576 characters/);
    expect(problem).toMatchObject({ where: 'task-definition (td.yaml): c', line: 3 });
  });

  it('accepts ordinary sharing through anchors', () => {
    const text = 'env: &env [{name: A, value: "1"}]\nweb: {environment: *env}\nworker: {environment: *env}\n';
    expect(parseDocument(text, 'td.yaml', 'w').value).toEqual({
      env: [{ name: 'A', value: '1' }],
      web: { environment: [{ name: 'A', value: '1' }] },
      worker: { environment: [{ name: 'A', value: '1' }] },
    });
  });

  it('reports every YAML syntax error at once, capped at ten', () => {
    const text = Array.from({ length: 30 }, (_, i) => `k${i}: [a\n`).join('');
    const problems = problemsOf(text, 'td.yaml');
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(problems.every((p) => p.file === 'td.yaml' && p.what.startsWith('Invalid YAML: '))).toBe(true);
  });
});

describe('formatFieldPath', () => {
  it.each([
    [['family'], 'family'],
    [
      ['containerDefinitions', 0, 'portMappings', 1, 'containerPort'],
      'containerDefinitions[0].portMappings[1].containerPort',
    ],
    [['Resources', 0, 'TargetService'], 'Resources[0].TargetService'],
    [['tags', 'odd key'], 'tags["odd key"]'],
    [[], ''],
  ] as const)('%j → %s', (path, text) => {
    expect(formatFieldPath([...path])).toBe(text);
  });
});
