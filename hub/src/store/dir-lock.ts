import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export class DataDirInUseError extends Error {}

/**
 * PGlite is one process's database: two hubs opening the same DATA_DIR would corrupt it. A
 * lock file holding the owner's pid makes the second refuse with a clear message; a lock left
 * by a process that no longer runs (a crash) is taken over.
 */
export function lockDataDir(dir: string): () => void {
  // Beside the directory, not in it: PostgreSQL wants its data directory to itself.
  const path = join(dirname(dir), `${basename(dir)}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => { try { unlinkSync(path); } catch { /* already gone */ } };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const text = readFileSync(path, 'utf8').trim();
      const owner = Number(text);
      // Empty: another hub is between creating the file and writing its pid — it holds the lock.
      const fresh = Date.now() - statSync(path).mtimeMs < 10_000;
      if ((text === '' && fresh) || (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner))) {
        throw new DataDirInUseError(`DATA_DIR ${dir} is in use by another hub (pid ${text || 'starting'}); give each hub its own DATA_DIR, or use DATABASE_URL to share a database server`);
      }
      unlinkSync(path); // stale: its owner is gone
    }
  }
  throw new DataDirInUseError(`cannot lock DATA_DIR ${dir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
