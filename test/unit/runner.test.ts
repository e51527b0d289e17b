import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { commandLine, getState, keyValueEntry, saveState, setOutput } from '../../src/runner.js';

describe('commandLine', () => {
  it.each([
    ['warning', {}, 'plain', '::warning::plain'],
    ['error', {}, '100% done\r\nnext', '::error::100%25 done%0D%0Anext'],
    ['error', { title: 'a: b, c', file: undefined, line: 3 }, 'm', '::error title=a%3A b%2C c,line=3::m'],
    ['add-mask', {}, '::stop-commands::x', '::add-mask::::stop-commands::x'],
    ['debug', { title: '' }, 'line1\nline2', '::debug::line1%0Aline2'],
  ])('%s %j %j', (name, props, message, expected) => {
    expect(commandLine(name, props, message)).toBe(expected);
    // One command is always one line, whatever the message held.
    expect(commandLine(name, props, message)).not.toMatch(/[\r\n]/);
  });
});

describe('runner files', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('writes outputs and state as name<<delimiter entries the runner reads back', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'runner-'));
    process.env.GITHUB_OUTPUT = path.join(dir, 'out');
    process.env.GITHUB_STATE = path.join(dir, 'state');
    await writeFile(process.env.GITHUB_OUTPUT, '');
    await writeFile(process.env.GITHUB_STATE, '');
    setOutput('deployment-id', 'd-1\nsecond line');
    saveState('record', '{"a":1}');
    const out = await readFile(process.env.GITHUB_OUTPUT, 'utf8');
    const [first, value, second, end] = out.split(os.EOL);
    expect(first).toMatch(/^deployment-id<<ghadelimiter_[0-9a-f-]{36}$/);
    expect(value).toBe('d-1');
    expect(second).toBe('second line');
    expect(end).toBe(first?.split('<<')[1]);
    expect(await readFile(process.env.GITHUB_STATE, 'utf8')).toMatch(/^record<<(\S+)\n\{"a":1\}\n\1\n$/);
  });

  it('starts each entry with the name and a fresh random delimiter', () => {
    expect(keyValueEntry('a', 'b')).toMatch(/^a<<ghadelimiter_/);
    expect(keyValueEntry('a', 'b')).not.toBe(keyValueEntry('a', 'b'));
  });

  it('reads state from STATE_<name>, empty when unset', () => {
    process.env.STATE_record = 'x';
    expect(getState('record')).toBe('x');
    expect(getState('missing')).toBe('');
  });
});
