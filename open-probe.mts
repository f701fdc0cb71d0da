import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openDb } from './hub/src/store/open-db.ts';
const dir = await mkdtemp(join(tmpdir(), 'probe-'));
for (const label of ['first open', 'reopen']) {
  const t = Date.now();
  const db = await openDb({ dataDir: join(dir, 'data'), log: pino({ level: 'silent' }) });
  const opened = Date.now() - t;
  await db.query('SELECT 1');
  await db.close();
  console.log(label, opened, 'ms');
}
