import { describe, expect, it } from '@jest/globals';
import { inertLines, mdCode, mdFence, mdLink, mdText, oneLine } from '../../src/safe-text.js';

/** What the runner would read as a command: a line starting with `::` after whitespace, or `##[` anywhere. */
function runnerCommands(output: string): string[] {
  return output.split(/\r\n|\r|\n/).filter((line) => /^\s*::/.test(line) || line.includes('##['));
}

describe('inertLines', () => {
  it.each([
    ['::add-mask::secret'],
    ['cluster\n::add-mask::x'],
    ['a\r::set-env name=X::y'],
    ['a\r\n   ::error::fake'],
    ['\t::stop-commands::tok'],
    ['##[set-output name=x;]y'],
    ['text ##[group]x'],
    ['::::'],
    [':: '],
  ])('leaves no runner command in %j', (text) => {
    expect(runnerCommands(inertLines(text))).toEqual([]);
  });

  it('keeps ordinary text as it was, and text with :: inside a line', () => {
    expect(inertLines('deployed web:12 to demo/web')).toBe('deployed web:12 to demo/web');
    expect(inertLines('a::b')).toBe('a::b');
    expect(inertLines('one\ntwo')).toBe('one\ntwo');
  });
});

describe('markdown', () => {
  it.each([
    ['<img src=x onerror=alert(1)>'],
    ['[click](https://evil.example)'],
    ['**bold** _it_ `code`'],
    ['a | b'],
    ['line\n# heading'],
    ['<!-- ecs-deploy-pipeline:preview web -->'],
  ])('mdText(%j) renders no markup', (text) => {
    const out = mdText(text);
    expect(out).not.toMatch(/<[a-z!]/i);
    expect(out).not.toMatch(/(^|[^\\])[[`*|]/);
    expect(out).not.toContain('\n');
  });

  it('mdCode cannot be closed from inside, keeps table cells whole and has no HTML', () => {
    const out = mdCode('a`b|c</code><script>x</script>\nd');
    expect(out).toBe('<code>a`b&#124;c&lt;/code&gt;&lt;script&gt;x&lt;/script&gt; ⏎ d</code>');
  });

  it('mdFence is longer than any backtick run inside', () => {
    const block = mdFence(['ok', 'x ``````` y', '```']);
    expect(block[0]).toBe('````````');
    expect(block.at(-1)).toBe('````````');
    expect(mdFence(['plain'])[0]).toBe('```');
  });

  it.each([
    ['javascript:alert(1)', false],
    ['data:text/html,x', false],
    ['not a url', false],
    ['https://pr-1.preview.example.com/', true],
    ['http://127.0.0.1:8080/a(b)', true],
  ])('mdLink(%s) links only http(s)', (url, linked) => {
    const out = mdLink('preview', url);
    expect(out.startsWith('[preview](')).toBe(linked);
    if (linked) expect(out.slice('[preview]('.length, -1)).not.toMatch(/[()\s<>]/);
  });

  it('oneLine shows line breaks without making new lines', () => {
    expect(oneLine('a\r\nb\nc\rd')).toBe('a ⏎ b ⏎ c ⏎ d');
  });
});
