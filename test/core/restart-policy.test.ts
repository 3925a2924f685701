import { describe, expect, it } from 'vitest';
import { moveWhy, restartEnv, restartsOnMove, runError } from '../../daemon/core/restart-policy.ts';
import type { AssignmentEvent } from '../../daemon/core/state.ts';

const line = (service: string, port: number | null, why: string): AssignmentEvent => ({
  at: '2024-01-01T00:00:00.000Z',
  service,
  port,
  previous: null,
  why,
});
const cmd = { command: ['true'] };

describe('restartsOnMove', () => {
  it.each([
    ['no action', {}, 'setPort', false],
    ['notify (the default) and an operator move', { restart: cmd }, 'setPort', false],
    ['restart policy and setPort', { restart: cmd, onPortChange: 'restart' as const }, 'setPort', true],
    ['restart policy and a resolution', { restart: cmd, onPortChange: 'restart' as const }, 'resolve:swap', true],
    ['the daemon moved it on its own', { restart: cmd }, 'resolve:auto:daemon', true],
    ['it registered itself on the new port', { restart: cmd, onPortChange: 'restart' as const }, 'register:update', false],
    ['no history line', { restart: cmd, onPortChange: 'restart' as const }, null, false],
  ])('%s', (_what, s, why, expected) => {
    expect(restartsOnMove(s, why)).toBe(expected);
  });
});

describe('moveWhy', () => {
  it('finds the newest line that put the service on the port', () => {
    const h = [line('a', 5000, 'register'), line('b', 6000, 'register'), line('a', 5001, 'setPort'), line('a', 5000, 'resolve:manual')];
    expect(moveWhy(h, 'a', 5000)).toBe('resolve:manual');
    expect(moveWhy(h, 'a', 5001)).toBe('setPort');
    expect(moveWhy(h, 'a', 7000)).toBeNull();
  });
});

describe('restartEnv', () => {
  it("sets portmand's variables over the service's own", () => {
    expect(restartEnv({ name: 'web', port: 5001 }, { MODE: 'x' }, 5000)).toEqual({
      MODE: 'x',
      PORT: '5001',
      PORTMAND_PORT: '5001',
      PORTMAND_SERVICE: 'web',
      PORTMAND_PREVIOUS_PORT: '5000',
    });
    expect(restartEnv({ name: 'web', port: 5001 }, undefined, undefined)).not.toHaveProperty('PORTMAND_PREVIOUS_PORT');
  });
});

describe('runError', () => {
  it.each([
    [{ exitCode: 0, signal: null, timedOut: false }, undefined],
    [{ exitCode: 2, signal: null, timedOut: false }, 'exited with code 2'],
    [{ exitCode: null, signal: 'SIGKILL', timedOut: true }, 'timed out after 5 s; its process group was killed'],
    [{ exitCode: null, signal: 'SIGSEGV', timedOut: false }, 'ended by SIGSEGV'],
    [{ exitCode: null, signal: null, timedOut: false, spawnError: 'ENOENT' }, 'cannot start the command: ENOENT'],
  ])('%j', (o, expected) => {
    expect(runError(o, 5)).toBe(expected);
  });
});
