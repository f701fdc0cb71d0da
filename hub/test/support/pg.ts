import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { inject } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { openDb } from '../../src/store/open-db.ts';

/**
 * Helpers for tests against the PostgreSQL server that global-setup.ts provides. Each test file
 * gets its own database, so files run in parallel without seeing each other's rows.
 */

/** The server's maintenance URL, or null when there is none (never null in CI: setup throws). */
export function testServerUrl(): string | null {
  return inject('pgUrl');
}

/** A fresh, empty database on the test server (default: the main one; see global-setup.ts). */
export async function createTestDatabase(server: string | null = testServerUrl()): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  if (!server) throw new Error('no PostgreSQL test server (see hub/test/support/global-setup.ts)');
  const name = `shaobing_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(server, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(server, name);
  return {
    url,
    name,
    drop: () => admin(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * Simulates the database going away for an outage test: new connections are refused and the
 * open ones are terminated, as when the server restarts or the network drops. Works the same on
 * the private cluster and on an external TEST_DATABASE_URL server (only this database is hit).
 */
export async function makeDatabaseUnreachable(url: string): Promise<void> {
  const name = databaseName(url);
  await admin(adminUrlFor(url), async (c) => {
    await c.query(`ALTER DATABASE ${quoteIdent(name)} WITH ALLOW_CONNECTIONS false`);
    await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
  });
}

export async function restoreDatabase(url: string): Promise<void> {
  await admin(adminUrlFor(url), (c) => c.query(`ALTER DATABASE ${quoteIdent(databaseName(url))} WITH ALLOW_CONNECTIONS true`));
}

function adminUrlFor(url: string): string {
  // Administer from the server's maintenance database, never from the one being cut off.
  const server = testServerUrl();
  if (server && sameServer(server, url)) return server;
  return withDatabase(url, 'postgres');
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined); // a terminated admin session must not crash the test
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

function sameServer(a: string, b: string): boolean {
  const x = new URL(a);
  const y = new URL(b);
  return x.hostname === y.hostname && x.port === y.port;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The stores every store test runs against: the two implementations (PGlite; the server, which
 * is TimescaleDB wherever the extension is installed, always in CI), plus one extra pass on a
 * server without the extension and one under TimescaleDB's Apache-only license, since the
 * README promises the hub runs on both.
 */
export const STORE_BACKENDS = ['pglite', 'postgresql', 'postgresql-plain', 'timescaledb-apache'] as const;
export type StoreBackend = (typeof STORE_BACKENDS)[number];

function serverFor(backend: Exclude<StoreBackend, 'pglite'>): string | null {
  return backend === 'postgresql' ? testServerUrl() : backend === 'postgresql-plain' ? inject('pgPlainUrl') : inject('pgApacheUrl');
}

export interface TestStore {
  backend: StoreBackend;
  db: Db;
  /** The database URL (postgresql) or null (pglite). */
  url: string | null;
  /** Closes the Db and drops the test database. */
  close(): Promise<void>;
}

/** false only for the server backend on a machine without one (never in CI). */
export function backendAvailable(backend: StoreBackend): boolean {
  return backend === 'pglite' || serverFor(backend) !== null;
}

/** A migrated store: in-memory PGlite, or a fresh database on the test server. */
export async function openTestStore(backend: StoreBackend, log: Logger = pino({ level: 'silent' })): Promise<TestStore> {
  if (backend === 'pglite') {
    const db = await openDb({ dataDir: 'memory://', log });
    return { backend, db, url: null, close: () => db.close() };
  }
  const t = await createTestDatabase(serverFor(backend));
  const db = await openDb({ databaseUrl: t.url, dataDir: 'memory://', log });
  return {
    backend,
    db,
    url: t.url,
    close: async () => {
      await db.close();
      await t.drop();
    },
  };
}
