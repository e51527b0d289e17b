import { describe, expect, it } from '@jest/globals';
import {
  announcedWaitDue,
  cadenceDue,
  inDueWindow,
  onWatchClock,
  nextPollDelay,
  nextQuiet,
  type PollKnowledge,
  waitDue,
} from '../../../src/deploy/poll.js';

const k = (o: Partial<PollKnowledge>): PollKnowledge => ({
  now: 0,
  base: 1_000,
  quiet: 1_000,
  waitCap: 30_000,
  deadline: 600_000,
  ...o,
});

describe('nextPollDelay', () => {
  it.each<[string, Partial<PollKnowledge>, number]>([
    ['nothing predicted: the quiet interval', { quiet: 7_500 }, 7_500],
    ['never past the deadline', { now: 598_000, quiet: 7_500 }, 2_000],
    ['the deadline has come', { now: 600_000 }, 0],
    // An announced wait (termination wait: Succeeded due 60–61 s): sleep up to 30 s at a time …
    [
      'wait: far from it, the wait cap',
      { now: 1_000, due: { from: 60_000, to: 61_000, kind: 'wait' } },
      30_000,
    ],
    [
      'wait: close to it, up to one base before',
      { now: 40_000, due: { from: 60_000, to: 61_000, kind: 'wait' } },
      19_000,
    ],
    // … then densely through the window and two base intervals past it.
    [
      'wait: in the window, the base',
      { now: 59_000, due: { from: 60_000, to: 61_000, kind: 'wait' }, quiet: 15_000 },
      1_000,
    ],
    [
      'wait: just past it, still dense',
      { now: 62_500, due: { from: 60_000, to: 61_000, kind: 'wait' }, quiet: 15_000 },
      1_000,
    ],
    [
      'wait: long past it, quiet again',
      { now: 64_000, due: { from: 60_000, to: 61_000, kind: 'wait' }, quiet: 15_000 },
      15_000,
    ],
    [
      'wait: a quiet interval above the cap wins',
      { now: 0, due: { from: 200_000, to: 201_000, kind: 'wait' }, quiet: 40_000 },
      40_000,
    ],
    // A cadence estimate only makes polls denser: never longer than quiet polling.
    [
      'cadence: before it, quiet or up to the window',
      { now: 0, due: { from: 5_000, to: 9_000, kind: 'cadence' }, quiet: 7_500 },
      4_000,
    ],
    [
      'cadence: far before it, quiet',
      { now: 0, due: { from: 50_000, to: 60_000, kind: 'cadence' }, quiet: 3_375 },
      3_375,
    ],
    [
      'cadence: in it, the base',
      { now: 6_000, due: { from: 5_000, to: 9_000, kind: 'cadence' }, quiet: 7_500 },
      1_000,
    ],
  ])('%s', (_, knowledge, expected) => {
    expect(nextPollDelay(k(knowledge))).toBe(expected);
  });
});

describe('nextQuiet', () => {
  it.each([
    [1_000, true, 1_000],
    [1_000, false, 1_500],
    [12_000, false, 15_000],
  ])('from %d (changed %s) to %d', (current, changed, expected) => {
    expect(nextQuiet(current, 1_000, changed, 15_000)).toBe(expected);
  });
});

describe('predictions', () => {
  it('a wait that started between two polls ends between them plus the wait', () => {
    expect(waitDue(10_000, 12_000, 60_000)).toEqual({ from: 70_000, to: 72_000, kind: 'wait' });
    expect(waitDue(10_000, 12_000, 0)).toBeUndefined();
  });

  it.each<[number[], ReturnType<typeof cadenceDue>]>([
    [[], undefined],
    [[4_000], undefined],
    [[4_000, 14_000], { from: 21_500, to: 26_500, kind: 'cadence' }],
    [[14_000, 4_000], { from: 21_500, to: 26_500, kind: 'cadence' }],
    [[4_000, 4_000], undefined],
  ])('the next step of %j', (changes, expected) => {
    expect(cadenceDue(changes)).toEqual(expected);
  });
});

describe('announcedWaitDue: a wait timed from when AWS says it began', () => {
  it.each([
    [
      'began between the polls: timed from it',
      { after: 10_000, seenAt: 20_000, startedAt: 14_000 },
      { from: 74_000, to: 76_000 },
    ],
    [
      'a second before the last poll (clock skew): still trusted',
      { after: 10_000, seenAt: 20_000, startedAt: 9_500 },
      { from: 69_500, to: 71_500 },
    ],
    ['no time from AWS: between the polls', { after: 10_000, seenAt: 20_000 }, { from: 70_000, to: 80_000 }],
    [
      'after the poll that saw it (a clock off): between the polls',
      { after: 10_000, seenAt: 20_000, startedAt: 25_000 },
      { from: 70_000, to: 80_000 },
    ],
    [
      'long before the last poll: between the polls',
      { after: 10_000, seenAt: 20_000, startedAt: 2_000 },
      { from: 70_000, to: 80_000 },
    ],
  ])('%s', (_name, bounds, expected) => {
    expect(announcedWaitDue(bounds, 60_000)).toEqual({ ...expected, kind: 'wait' });
  });

  it('no wait, nothing due', () => {
    expect(announcedWaitDue({ after: 0, seenAt: 1_000, startedAt: 500 }, 0)).toBeUndefined();
  });

  it('an AWS time on the watch clock', () => {
    expect(onWatchClock(new Date(9_000), 500_000, new Date(10_000))).toBe(499_000);
    expect(onWatchClock(undefined, 500_000, new Date(10_000))).toBeUndefined();
  });
});

describe('inDueWindow: where polls are dense and do not grow the back-off', () => {
  const due = { from: 10_000, to: 12_000, kind: 'wait' as const };
  it.each([
    [undefined, 10_000, false],
    [due, 8_999, false],
    [due, 9_000, true],
    [due, 12_000, true],
    [due, 14_000, true],
    [due, 14_001, false],
  ])('%j at %d: %s', (d, now, expected) => {
    expect(inDueWindow(d, now, 1_000)).toBe(expected);
  });
});
