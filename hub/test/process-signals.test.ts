import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/hub-process.ts';
import { createTestDatabase } from './support/pg.ts';
import { writeTestSiteFile } from './support/test-site.ts';

/**
 * SIGTERM/SIGINT end every long-running process cleanly, whenever they arrive: while the hub is
 * still opening its store, through `npm start` (npm forwards the signal; a shell or tsx's own
 * wrapper between npm and the hub used not to), and while the simulator is still connecting its
 * fleet. Each process is the real entry point an operator runs.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run { child: ChildProcess; out: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

function run(cmd: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { child, out: () => out, exited };
}

async function until(what: string, cond: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether something still accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(true));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
}

describe('signals end the processes cleanly', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let siteFile: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    siteFile = await writeTestSiteFile();
  });
  afterAll(async () => { await db?.drop(); });

  async function hubEnv(): Promise<Record<string, string>> {
    return { DATABASE_URL: db.url, SITE_FILE: siteFile, MQTT_PORT: String(await freePort()), HTTP_PORT: String(await freePort()), LOG_LEVEL: 'info' };
  }

  it('a SIGTERM while the hub is still starting stops it cleanly once started (exit 0, store closed)', async () => {
    const hub = run(process.execPath, ['--import', 'tsx', 'hub/src/main.ts'], await hubEnv());
    // Its first log line: the process is up but nowhere near listening (store, migrations, broker to come).
    await until('the first log line', () => hub.out().includes('"level"'));
    expect(hub.out()).not.toContain('shaobing: mqtt');
    hub.child.kill('SIGTERM');
    const { code, signal } = await hub.exited;
    expect({ code, signal }, hub.out().slice(-3000)).toEqual({ code: 0, signal: null });
    expect(hub.out()).toContain('stop requested during start-up');
    expect(hub.out()).toContain('stopped cleanly');
  }, 150_000);

  it('`npm start`: a SIGTERM to npm reaches the hub, which stops cleanly and frees its ports', async () => {
    const env = await hubEnv();
    const npm = run('npm', ['start', '--silent'], env);
    await until('the hub to listen', () => npm.out().includes('shaobing: mqtt '));
    npm.child.kill('SIGTERM');
    await npm.exited;
    // npm may exit before the hub has finished: the hub's own goodbye and its freed ports say it ran its shutdown.
    await until('the hub to stop', () => npm.out().includes('stopped cleanly'), 60_000);
    for (const port of [Number(env.MQTT_PORT), Number(env.HTTP_PORT)]) {
      const end = Date.now() + 20_000;
      while (await listening(port) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(await listening(port), `port ${port} still in use`).toBe(false);
    }
  }, 150_000);

  it('the simulator stops cleanly on SIGTERM while its fleet is still connecting (exit 0)', async () => {
    // A broker that accepts TCP and never answers CONNECT: the simulator stays in its connect phase.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => { sockets.add(s); s.resume(); s.on('error', () => {}); s.on('close', () => sockets.delete(s)); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const sim = run(process.execPath, ['--import', 'tsx', 'simulators/src/cli.ts', '--url', `mqtt://127.0.0.1:${port}`, '--size', 'small'], {});
      await until('the simulator to be connecting', () => sockets.size > 0);
      sim.child.kill('SIGTERM');
      const { code, signal } = await sim.exited;
      expect({ code, signal }, sim.out().slice(-3000)).toEqual({ code: 0, signal: null });
      expect(sim.out()).toContain('SIGTERM: disconnecting');
      await until('its sockets to close', () => sockets.size === 0, 10_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  }, 60_000);
});
