import { afterAll, beforeAll, describe } from 'vitest';
import { backendAvailable, openTestStore, STORE_BACKENDS, type StoreBackend, type TestStore } from './pg.ts';

/**
 * One suite per store backend (STORE_BACKENDS), each on its own freshly migrated store opened
 * before the suite's tests and closed after them. `body` gets a handle whose `db` and `url`
 * are those of the backend's open store (read them inside tests and hooks, not while the
 * suite is being declared). A server backend this machine does not have is skipped (never in
 * CI: global-setup throws instead), so the server suites cannot vanish quietly.
 */
export function describeEachStore(title: string, body: (store: TestStore) => void, backends: readonly StoreBackend[] = STORE_BACKENDS): void {
  describe.each(backends)(title, (backend) => {
    describe.skipIf(!backendAvailable(backend))('', () => {
      let open: TestStore | undefined;
      const current = (): TestStore => {
        if (!open) throw new Error(`the ${backend} store is open only inside tests and hooks`);
        return open;
      };
      const store: TestStore = {
        backend,
        get db() { return current().db; },
        get url() { return current().url; },
        close: () => current().close(),
      };
      beforeAll(async () => { open = await openTestStore(backend); });
      afterAll(async () => { await open?.close(); });
      body(store);
    });
  });
}
