import { describe, expect, it } from 'vitest';
import { mergeLive, stillMine } from '../src/mobile/field.ts';
import { ticket } from './fixtures.ts';

// The phone's list under live changes (issue 9): a ticket that stops being the worker's leaves
// it at once — reassigned, taken by another in 抢单, or back under review — without a reload.
describe('phone list under live changes', () => {
  it('keeps what is still mine, drops what went to someone else', () => {
    const mine = ticket({ id: 'a', assigneeId: 'w1', version: 2 });
    const offered = ticket({ id: 'b', offeredTo: ['w1', 'w2'], version: 1 });
    const list = [mine, offered];
    expect(mergeLive(list, [{ ...mine, assigneeId: 'w9', version: 3 }], 'w1').map((t) => t.id)).toEqual(['b']);
    expect(mergeLive(list, [{ ...offered, assigneeId: 'w2', version: 2 }], 'w1').map((t) => t.id)).toEqual(['a']);
    expect(mergeLive(list, [{ ...offered, assigneeId: 'w1', version: 2 }], 'w1').map((t) => t.id).sort()).toEqual(['a', 'b']);
    // An older frame never undoes a newer state, whoever it names.
    expect(mergeLive(list, [{ ...mine, assigneeId: 'w9', version: 1 }], 'w1').map((t) => t.id).sort()).toEqual(['a', 'b']);
  });

  it('stillMine mirrors the hub past the grid scope', () => {
    expect(stillMine(ticket({ assigneeId: 'w1' }), 'w1')).toBe(true);
    expect(stillMine(ticket({ assigneeId: 'w2' }), 'w1')).toBe(false);
    expect(stillMine(ticket({ offeredTo: ['w2'] }), 'w1')).toBe(false);
    expect(stillMine(ticket({}), 'w1')).toBe(true); // a team ticket of my grid, as the hub sent it
    expect(stillMine(ticket({ assigneeId: 'w1', status: 'pending_review' }), 'w1')).toBe(false);
  });
});
