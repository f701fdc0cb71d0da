import type { Queryable } from '../store/db.ts';
import type { RuleState } from './core/index.ts';

export interface Snapshot { state: RuleState; watermark: number; savedAt: number }

/** Saves and loads the engine's state snapshot, one row per shard (the set of sites served). */
export class RuleStateStore {
  constructor(private readonly db: Queryable, private readonly shardId: string) {}

  async load(): Promise<Snapshot | null> {
    const [row] = await this.db.query('SELECT state, watermark, saved_at FROM rule_state WHERE id = $1', [this.shardId]);
    if (!row) return null;
    return { state: row.state as RuleState, watermark: (row.watermark as Date).getTime(), savedAt: (row.saved_at as Date).getTime() };
  }

  /** `savedAt` is the engine's clock (the time the state describes), not the database's. */
  async save(state: RuleState, watermark: number, savedAt: number): Promise<void> {
    await this.db.query(
      `INSERT INTO rule_state (id, state, watermark, saved_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, watermark = EXCLUDED.watermark, saved_at = EXCLUDED.saved_at`,
      [this.shardId, JSON.stringify(state), new Date(watermark).toISOString(), new Date(savedAt).toISOString()]);
  }
}
