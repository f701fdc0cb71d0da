/*
 * The demo control-room accounts. They exist only in generated site files; a real deployment
 * writes its own operators into SITE_FILE. Documented in simulators/README.md.
 */
import type { Operator, OperatorRole } from '@shaobing/schemas';
import { hashPassword } from '@shaobing/schemas/credentials';

export const DEMO_OPERATORS: ReadonlyArray<{ username: string; password: string; role: OperatorRole; displayName: string }> = [
  { username: 'admin', password: 'admin123', role: 'admin', displayName: '系统管理员' },
  { username: 'supervisor', password: 'super123', role: 'supervisor', displayName: '网格督导' },
  { username: 'dispatcher', password: 'dispatch123', role: 'dispatcher', displayName: '中控调度员' },
  { username: 'viewer', password: 'viewer123', role: 'viewer', displayName: '值班查看' },
];

/** scrypt is deliberately slow, so the four hashes are computed once per build, in parallel. */
export async function demoOperators(): Promise<Operator[]> {
  return Promise.all(DEMO_OPERATORS.map(async (o) => ({
    username: o.username, displayName: o.displayName, role: o.role, passwordHash: await hashPassword(o.password),
  })));
}
