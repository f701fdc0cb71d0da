import type { UserRole } from './site.ts';

/** What an operator's login token (JWT) carries; REST and /ws read the same claims. */
export interface OperatorClaims {
  /** The operator's username. */
  sub: string;
  role: UserRole;
  /** Sites the operator may see; null = every site. */
  sites: string[] | null;
}
