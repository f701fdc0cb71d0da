import type { Logger } from 'pino';
import type { Registry } from '../site/registry.ts';
import type { Db } from './db.ts';
import { loadRegistry, readRegistryVersion, REGISTRY_CHANNEL } from './registry-store.ts';

export interface RegistrySyncOptions {
  db: Db;
  registry: Registry;
  log: Logger;
  /** Version poll, the fallback when a notification is lost (LISTEN connection down) or absent. */
  pollMs: number;
}

/**
 * Keeps this hub's in-memory Registry at the database's registry version: reloads on NOTIFY
 * (immediate) and on a version poll (bounded by pollMs when notifications are lost). A reload
 * that fails its check keeps the registry in use and is logged; the next change retries.
 * Checks never overlap: a notification during a reload queues one more check.
 */
export class RegistrySync {
  #timer: NodeJS.Timeout | null = null;
  #unlisten: (() => Promise<void>) | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  /** Reloads applied since start (tests and logs). */
  reloads = 0;

  constructor(private readonly opts: RegistrySyncOptions) {}

  async start(): Promise<void> {
    const { db, log } = this.opts;
    if (db.listen) {
      try {
        this.#unlisten = await db.listen(REGISTRY_CHANNEL, () => { void this.check(); });
      } catch (err) {
        log.warn({ err: { message: (err as Error).message } }, 'LISTEN for registry changes failed; polling only');
      }
    }
    this.#timer = setInterval(() => { void this.check(); }, this.opts.pollMs);
    this.#timer.unref();
  }

  /** Reads the version and reloads when it moved; resolves when this check (and any queued) ran. */
  check(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.reloadIfChanged();
      } while (this.#again && !this.#stopped);
    })().finally(() => { this.#running = null; });
    return this.#running;
  }

  private async reloadIfChanged(): Promise<void> {
    const { db, registry, log } = this.opts;
    try {
      if ((await readRegistryVersion(db)) <= registry.version) return;
      const stored = await loadRegistry(db);
      if (stored.file === null || stored.version <= registry.version) return;
      const from = registry.version;
      registry.replace(stored.file, stored.version);
      this.reloads++;
      log.info({ from, version: stored.version, sites: registry.sites.size, devices: registry.deviceCount }, 'registry reloaded');
    } catch (err) {
      if (this.#stopped) return;
      log.error({ err: { message: (err as Error).message } }, 'registry reload failed; the registry in use stays');
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#unlisten?.().catch(() => undefined);
    await this.#running;
  }
}
