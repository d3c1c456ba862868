import { type ChildProcess, spawn } from 'node:child_process';
import { Socket } from 'node:net';

/**
 * Child-process plumbing shared by the emulators: capture output for error messages, stop with
 * SIGTERM then SIGKILL, and a watchdog so that no emulator outlives the platform process even when
 * that process is killed with SIGKILL (where no exit handler runs).
 */

/** How long a child gets to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;
/** Lines of output kept per child, shown when it fails to start. */
const TAIL_LINES = 40;

/** A child process the platform owns. */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves when the child has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines the child wrote to stdout and stderr. */
  tail(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the child is gone. */
  stop(): Promise<void>;
}

/**
 * Takes ownership of `child`: drains its pipes (a full pipe would block it), remembers the last lines
 * for error messages and registers it with the watchdog.
 */
export function manage(name: string, child: ChildProcess, watchdog?: Watchdog): ManagedProcess {
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A spawn failure (ENOENT) emits 'error' and may never emit 'exit'.
    child.once('error', (error) => {
      keep(Buffer.from(String(error)));
      resolve({ code: null, signal: null });
    });
  });

  if (child.pid !== undefined) watchdog?.watch(child.pid);
  void exited.then(() => {
    if (child.pid !== undefined) watchdog?.unwatch(child.pid);
  });

  return {
    name,
    child,
    exited,
    tail: () => lines.join('\n'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Kills registered processes when the platform process disappears. */
export interface Watchdog {
  watch(pid: number): void;
  unwatch(pid: number): void;
  /** Stops the watchdog itself (after the children were stopped normally). */
  stop(): Promise<void>;
}

// The watchdog reads "+pid" / "-pid" lines on stdin. Its stdin is a pipe from the platform process,
// so it reaches end-of-file exactly when that process is gone, however it died.
const WATCHDOG_SOURCE = `
const pids = new Set();
let buffer = '';
process.on('SIGINT', () => {});
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  let i;
  while ((i = buffer.indexOf('\\n')) >= 0) {
    const line = buffer.slice(0, i); buffer = buffer.slice(i + 1);
    const pid = Number(line.slice(1));
    if (line[0] === '+') pids.add(pid); else if (line[0] === '-') pids.delete(pid);
    else if (line === 'exit') process.exit(0);
  }
});
process.stdin.on('end', () => {
  const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  for (const pid of pids) { try { process.kill(pid, 'SIGTERM'); } catch {} }
  const deadline = Date.now() + ${STOP_GRACE_MS};
  const poll = setInterval(() => {
    const left = [...pids].filter(alive);
    if (left.length > 0 && Date.now() < deadline) return;
    for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch {} }
    clearInterval(poll);
    process.exit(0);
  }, 100);
});
`;

/** Starts the watchdog process (one per platform; about 40 MB while it runs). */
export function startWatchdog(): Watchdog {
  const proc = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], { stdio: ['pipe', 'ignore', 'ignore'] });
  // Neither the process nor its pipe may keep the platform's event loop alive.
  proc.unref();
  if (proc.stdin instanceof Socket) proc.stdin.unref();
  proc.stdin?.on('error', () => {});
  const send = (line: string): void => {
    if (proc.stdin?.writable) proc.stdin.write(`${line}\n`);
  };
  return {
    watch: (pid) => send(`+${pid}`),
    unwatch: (pid) => send(`-${pid}`),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      // Hold the event loop until it has exited, or a caller awaiting stop() would be dropped.
      proc.ref();
      send('exit');
      proc.stdin?.end();
      await gone;
    },
  };
}

/**
 * Polls `probe` until it resolves true, the child exits, or `timeoutMs` passes; the error names the
 * service and shows the child's last output.
 */
export async function waitUntilReady(
  service: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void service.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(
        `${service.name} exited while starting. Its last output:\n${service.tail() || '(none)'}`,
      );
    }
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `${service.name} did not become ready within ${timeoutMs / 1000} s. Its last output:\n${service.tail() || '(none)'}`,
  );
}
