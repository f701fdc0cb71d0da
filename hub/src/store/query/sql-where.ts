/** Builds `WHERE a = $1 AND …` with positional parameters; values undefined are skipped. */
export class Where {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  /** `clause` uses `?` for the one parameter, e.g. `site_id = ?`. */
  add(clause: string, value: unknown): this {
    if (value === undefined || value === null) return this;
    this.params.push(value);
    this.parts.push(clause.replace('?', `$${this.params.length}`));
    return this;
  }

  /** Adds a clause with several parameters, `?` replaced in order. */
  addMany(clause: string, values: unknown[]): this {
    let c = clause;
    for (const v of values) {
      this.params.push(v);
      c = c.replace('?', `$${this.params.length}`);
    }
    this.parts.push(c);
    return this;
  }

  /** Rows of these sites only; null = every site (an operator who sees them all). */
  inSites(sites: readonly string[] | null): this {
    return sites === null ? this : this.add('site_id = ANY(?::text[])', sites);
  }

  /** `col` in [from, to) (ISO times); an absent bound is open. */
  during(col: string, from: string | undefined, to: string | undefined): this {
    return this.add(`${col} >= ?::timestamptz`, from).add(`${col} < ?::timestamptz`, to);
  }

  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}
