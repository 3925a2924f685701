// `portmand top` in a real terminal: tmux runs it against a real daemon; the
// test types keys with send-keys and reads the screen with capture-pane.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, useDaemon } from './harness.ts';

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// A tmux server of our own, so nothing else running tmux is touched.
const SERVER = `pm-top-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SERVER, '-f', '/dev/null', ...args], { encoding: 'utf8' });
const daemon = useDaemon({ env: { PORTMAND_HEALTH_INTERVAL: '3600' } });

afterAll(() => {
  if (hasTmux) {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  }
});

/** Starts `portmand top` in a new window; after it exits the shell reports its code and the terminal modes. */
function startTop(session: string, width = 120, height = 40): void {
  // One echo, so the whole report is on screen at once.
  const report = `code=$?; modes=$(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '); echo "EXITED $code $modes END"; sleep 600`;
  tmux(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    String(width),
    '-y',
    String(height),
    '-e',
    `PORTMAND_SOCKET=${daemon().socket}`,
    '-e',
    'NO_COLOR=',
    `${process.execPath} ${CLI} top; ${report}`,
  );
}

/** The screen once `ready` holds (tmux has no event to await, so the pane is read until it does). */
async function screenWhen(session: string, ready: (screen: string) => boolean): Promise<string> {
  let screen = '';
  for (let i = 0; i < 150; i++) {
    screen = tmux('capture-pane', '-p', '-t', session);
    if (ready(screen)) return screen;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the screen never got there:\n${screen}`);
}

const flags = (session: string) => tmux('display', '-p', '-t', session, '#{alternate_on} #{cursor_flag}').trim();

describe.skipIf(!hasTmux)('portmand top in a terminal', () => {
  it('shows a registered service, updates when a conflict opens, and leaves the terminal sane after q', async () => {
    const pm = daemon().client({ sendPid: false });
    await pm.service.register({ name: 'tp-web', port: 23611, tags: ['ui'] });
    startTop('a');
    const first = await screenWhen('a', (s) => s.includes('tp-web'));
    expect(first).toMatch(/tp-web\s+23611\s+registered/);
    expect(first).toContain('Open conflicts (0)');
    expect(first).toMatch(/registered\s+[█░]+/); // the range bar
    expect(flags('a')).toBe('1 0'); // alternate screen, cursor hidden

    await pm.service.register({ name: 'tp-clash', port: 23611 });
    const clash = await screenWhen('a', (s) => s.includes('Open conflicts (1)'));
    expect(clash).toMatch(/duplicate_assignment\s+critical\s+tp-clash,tp-web/);
    expect(clash).toMatch(/conflict_detected/);

    // Filter by tag, then show the one service left.
    tmux('send-keys', '-t', 'a', 't');
    const tagged = await screenWhen('a', (s) => s.includes('tag ui'));
    expect(tagged).not.toMatch(/tp-clash\s+23611/);
    tmux('send-keys', '-t', 'a', 'Enter');
    const detail = await screenWhen('a', (s) => /port\s+23611\/tcp on 0\.0\.0\.0/.test(s));
    expect(detail).toMatch(/tags\s+ui/);

    tmux('send-keys', '-t', 'a', 'q');
    const after = await screenWhen('a', (s) => s.includes(' END'));
    expect(after).toMatch(/EXITED 0 icanon echo +END/);
    expect(flags('a')).toBe('0 1');
  });

  it('restores the terminal on SIGINT and redraws on resize', async () => {
    startTop('b', 100, 30);
    await screenWhen('b', (s) => s.includes('tp-web'));
    tmux('resize-window', '-t', 'b', '-x', '60', '-y', '30');
    const narrow = await screenWhen('b', (s) => s.split('\n').some((l) => l.startsWith('  registered')) && !s.includes('LATENCY'));
    expect(narrow.split('\n').every((l) => l.length <= 60)).toBe(true);

    const shell = tmux('display', '-p', '-t', 'b', '#{pane_pid}').trim();
    const node = execFileSync('pgrep', ['-P', shell], { encoding: 'utf8' }).trim().split('\n')[0]!;
    process.kill(Number(node), 'SIGINT');
    const after = await screenWhen('b', (s) => s.includes(' END'));
    expect(after).toMatch(/EXITED 0 icanon echo +END/);
    expect(flags('b')).toBe('0 1');
  });

  it('prints a snapshot and exits when stdout is not a terminal', async () => {
    const r = await daemon().cli(['top']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('portmand top  snapshot');
    expect(r.stdout).toMatch(/tp-web\s+23611\s+registered/);
    expect(r.stdout).not.toContain('\x1b');
    const json = JSON.parse((await daemon().cli(['top', '--json'])).stdout) as { services: Array<{ name: string }> };
    expect(json.services.map((s) => s.name)).toContain('tp-web');
  });
});
