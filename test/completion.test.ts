// Shell completion is generated from the verb table: every verb and option
// appears, and the scripts work in the shells that are installed here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERBS } from '../client/cli/main.ts';
import { completionScript } from '../client/cli/completion.ts';
import { shouldColor } from '../client/cli/format.ts';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const needs = (cmd: string) => {
  if (has(cmd)) return false;
  console.warn(`skipped: needs ${cmd}`);
  return true;
};

function bashComplete(words: string[]): string[] {
  const script = `${completionScript('bash', VERBS)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _portmand; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('portmand completion', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it(`${shell}: names every verb and every option of each`, () => {
      const text = completionScript(shell, VERBS);
      for (const v of VERBS) {
        expect(text).toContain(v.name);
        for (const o of Object.keys(v.options)) expect(text).toContain(shell === 'fish' ? `-l ${o}` : `--${o}`);
      }
    });
    it.skipIf(needs(shell))(`${shell}: the script parses`, () => {
      // From a file: fish 3.6 cannot read a script from a pipe ("Unable to read input file").
      const dir = mkdtempSync(path.join(tmpdir(), 'pm-completion-'));
      try {
        const file = path.join(dir, `portmand.${shell}`);
        writeFileSync(file, completionScript(shell, VERBS));
        const r = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it.skipIf(needs('bash'))("bash completes verbs, a verb's options and its fixed arguments, and not the value of an option", () => {
    expect(bashComplete(['portmand', 'se'])).toEqual(['set-port', 'service']);
    expect(bashComplete(['portmand', 'ser'])).toEqual(['service']);
    expect(bashComplete(['portmand', 'service', 'un'])).toEqual(['uninstall']);
    expect(bashComplete(['portmand', '--socket', '/tmp/s', 'logs', '--le'])).toEqual(['--level']);
    expect(bashComplete(['portmand', 'completion', ''])).toEqual(expect.arrayContaining(['bash', 'zsh', 'fish']));
    expect(bashComplete(['portmand', 'logs', '--since', ''])).toEqual([]);
  });
});

describe('colour', () => {
  it.each([
    [true, {}, true],
    [true, { NO_COLOR: '1' }, false],
    [true, { TERM: 'dumb' }, false],
    [false, { FORCE_COLOR: '1' }, true],
    [false, { FORCE_COLOR: '' }, true],
    [true, { FORCE_COLOR: '0' }, false],
    [true, { FORCE_COLOR: '1', NO_COLOR: '1' }, true],
    [false, {}, false],
  ])('isTTY=%s env=%j -> %s', (isTTY, env, expected) => {
    expect(shouldColor({ isTTY }, env)).toBe(expected);
  });
});
