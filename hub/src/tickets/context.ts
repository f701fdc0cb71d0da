import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { HubBus } from '../bus.ts';
import { HubError, type ErrorCode } from '../errors.ts';
import type { Registry } from '../site/registry.ts';
import type { Db, Queryable } from '../store/db.ts';
import type { TicketWrite } from './ticket-writer.ts';
import { buildGridIndex, type GridIndex, type SlaPolicy, type TicketError } from './core/index.ts';

/** What the ticket shell's parts share: the store, the bus, the grid indexes and the SLA policy. */
export interface TicketContext {
  db: Db;
  bus: HubBus;
  log: Logger;
  registry: Registry;
  policy: SlaPolicy;
  /** Grid index per site, built once from the site file (routing, complaint matching, KPIs). */
  indexes: ReadonlyMap<string, GridIndex>;
  newId(now: number): string;
  /** Called inside the commit's transaction with the writes that landed: the notification outbox. */
  outbox?: OutboxHook;
}

export type OutboxHook = (tx: Queryable, landed: readonly TicketWrite[]) => Promise<void>;

export function buildIndexes(registry: Registry): Map<string, GridIndex> {
  const out = new Map<string, GridIndex>();
  for (const [id, site] of registry.sites) out.set(id, buildGridIndex(site.grid, site.workers));
  return out;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * `T20260302-7K3M9QXA`: the UTC day makes ids readable on the phone to a grid worker; 40 random
 * bits keep two hub processes from colliding (≈5·10⁻⁵ chance at 10k tickets a day; a collision
 * is a primary-key violation, and the caller retries with a fresh id).
 */
export function newTicketId(now: number): string {
  const day = new Date(now).toISOString().slice(0, 10).replaceAll('-', '');
  const bytes = randomBytes(5);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let s = '';
  for (let i = 0; i < 8; i++) { s = CROCKFORD[Number(bits & 31n)]! + s; bits >>= 5n; }
  return `T${day}-${s}`;
}

/** A core refusal as an API error. A stale `version` is the catalogue's generic conflict. */
export function hubErrorOf(e: TicketError): HubError {
  const code: ErrorCode = e.code === 'HUB_ERR_VERSION_CONFLICT' ? 'HUB_ERR_CONFLICT' : e.code;
  return new HubError(code, e.message);
}

/** PostgreSQL unique_violation (any unique index): the dedup index, or a ticket-id collision. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '23505';
}
