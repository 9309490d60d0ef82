// Every input fuzzing (or crafting) found that crashed, hung or was accepted with impossible shapes
// stays a fixture: it must now open cleanly or be refused with its one-line message naming the file.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isInputError, readingFile } from '../../src/core/errors';
import { TARGETS } from '../fuzz/targets';

interface Case { file: string; reader: string; was: string; error?: string; opens?: boolean }
const DIR = 'test/fixtures/fuzz/';
const { cases } = JSON.parse(readFileSync(DIR + 'expected.json', 'utf8')) as { cases: Case[] };

describe('fuzz fixtures', () => {
  it.each(cases.map((c) => [c.file, c] as const))('%s', (file, c) => {
    const target = TARGETS.find((t) => t.name === c.reader)!;
    const bytes = new Uint8Array(readFileSync(DIR + file));
    if (c.opens) {
      // run() returns a description of any impossible shape in what it accepted.
      expect(target.run(bytes)).toBeUndefined();
      return;
    }
    let err: unknown;
    try {
      readingFile(file, () => target.run(bytes));
    } catch (e) {
      err = e;
    }
    expect(isInputError(err), String(err)).toBe(true);
    const message = (err as Error).message;
    expect(message).toMatch(new RegExp(c.error!));
    expect(message).toContain(file);
    expect(message).not.toMatch(/[\u0000-\u001f\u007f]/);
  });
});
