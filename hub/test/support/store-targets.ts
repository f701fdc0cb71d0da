import { inject } from 'vitest';
import { createTestDatabase } from './pg.ts';

/** The two stores every storage-facing suite runs against. */
export interface StoreTarget { name: string; kind: 'pglite' | 'pg'; databaseUrl(): Promise<string | null>; cleanup(): Promise<void> }

export function storeTargets(): StoreTarget[] {
  const targets: StoreTarget[] = [{ name: 'embedded PGlite', kind: 'pglite', databaseUrl: async () => null, cleanup: async () => undefined }];
  if (inject('pgUrl')) {
    let drop: (() => Promise<void>) | null = null;
    targets.push({
      name: 'PostgreSQL server',
      kind: 'pg',
      async databaseUrl() {
        const db = await createTestDatabase();
        drop = db.drop;
        return db.url;
      },
      cleanup: async () => { await drop?.(); },
    });
  }
  return targets;
}
