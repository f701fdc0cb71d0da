import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The hub as a separate process (`npm start`'s entry point), for tests that kill it, stop its
 * database or measure its memory: what runs is what an operator runs, and its RSS is its own.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface HubProcess {
  child: ChildProcess;
  /** stdout + stderr so far (for failure messages). */
  output(): string;
  /** SIGTERM (or `signal`) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the hub with `env` over the test process's environment (and `nodeArgs` for node, e.g. --cpu-prof); resolves at its "shaobing: mqtt" line. */
export async function spawnHub(env: Record<string, string>, phase: string, nodeArgs: readonly string[] = []): Promise<HubProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(ROOT, 'hub/src/main.ts')], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-200_000); });
  child.stderr!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-200_000); });
  await new Promise<void>((resolve, reject) => {
    // Generous: a cold embedded store (migrations, TimescaleDB) on a loaded CI machine is slow.
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`hub did not start (${phase}): ${out.slice(-2000)}`)); }, 150_000);
    const onData = () => { if (out.includes('shaobing: mqtt ')) { clearTimeout(timer); child.off('exit', onExit); resolve(); } };
    const onExit = (code: number | null) => { clearTimeout(timer); reject(new Error(`hub exited with ${code} (${phase}): ${out.slice(-2000)}`)); };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
  return {
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill(signal);
      return exited;
    },
  };
}

/** Resident set size of a process in bytes (Linux /proc), or null when it is gone. */
export async function rssOf(pid: number): Promise<number | null> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  const kb = status && /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : null;
}

export const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;
