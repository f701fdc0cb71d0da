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

  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}
