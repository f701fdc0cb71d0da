import type { RuleDecision } from '@shaobing/schemas';

/**
 * Rule decisions applied one dedup key at a time, different keys side by side. A decision is
 * one ticket's business (its dedup key names the ticket), so only decisions of the same key
 * must keep their order; a ticket write that waits (a busy database, a row an operator holds)
 * then delays its own key only, not every ticket opened after it.
 *
 * push() resolves at once while fewer than `maxPending` decisions wait, else once there is
 * room again: the rule engine awaits it, so a database that stops taking tickets still slows
 * the evaluation down instead of queueing without bound.
 */
export class DecisionLanes {
  readonly #tails = new Map<string, Promise<void>>();
  #pending = 0;
  #roomWaiters: (() => void)[] = [];

  constructor(
    /** Applies one key's decisions (made at `now`), in order; retries on its own. A throw goes to onError. */
    private readonly apply: (decisions: RuleDecision[], now: number) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly maxPending = 256,
  ) {}

  /** Decisions waiting or being applied. */
  get pending(): number {
    return this.#pending;
  }

  push(decisions: readonly RuleDecision[], now: number): Promise<void> {
    const byKey = new Map<string, RuleDecision[]>();
    for (const d of decisions) {
      const group = byKey.get(d.dedupKey);
      if (group) group.push(d);
      else byKey.set(d.dedupKey, [d]);
    }
    for (const [key, group] of byKey) {
      this.#pending += group.length;
      const run = (): Promise<void> => this.apply(group, now).catch(this.onError);
      const tail: Promise<void> = (this.#tails.get(key)?.then(run) ?? run()).then(() => this.#done(key, tail, group.length));
      this.#tails.set(key, tail);
    }
    if (this.#pending < this.maxPending) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Resolves once every decision pushed so far (and any pushed meanwhile) is applied. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }

  #done(key: string, tail: Promise<void>, n: number): void {
    this.#pending -= n;
    if (this.#tails.get(key) === tail) this.#tails.delete(key);
    if (this.#pending < this.maxPending) for (const wake of this.#roomWaiters.splice(0)) wake();
  }
}
