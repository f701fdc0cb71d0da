import { describe, expect, it } from 'vitest';
import type { GridCell, Worker } from '@shaobing/schemas';
import { ancestorAtLevel, ancestry, buildGridIndex, routeTicket } from '../src/tickets/core/index.ts';
import { GRID, INDEX, WORKERS } from './tickets-fixtures.ts';

describe('routeTicket', () => {
  it('picks the worker of the cell whose team matches the category', () => {
    expect(routeTicket({ cellId: 'P1', category: 'sanitation' }, INDEX)).toMatchObject({ assigneeId: 'w-clean', team: 'cleaning' });
    expect(routeTicket({ cellId: 'P1', category: 'fire_safety' }, INDEX)).toMatchObject({ assigneeId: 'w-sec', team: 'security' });
  });

  it('falls back to any worker of the same cell before walking up', () => {
    // U1 has only a care worker; a bin there still goes to the unit's own grid worker.
    expect(routeTicket({ cellId: 'U1', category: 'sanitation' }, INDEX).assigneeId).toBe('w-u1');
    expect(routeTicket({ cellId: 'U1', category: 'care' }, INDEX).assigneeId).toBe('w-u1');
  });

  it('walks up the grid when the cell is unstaffed, team first at each level', () => {
    expect(routeTicket({ cellId: 'U2', category: 'sanitation' }, INDEX).assigneeId).toBe('w-clean'); // U2 → P1
    expect(routeTicket({ cellId: 'U3', category: 'care' }, INDEX).assigneeId).toBe('w-comm'); // U3 → P2 → C1
    expect(routeTicket({ cellId: 'U3', category: 'equipment' }, INDEX).assigneeId).toBe('w-comm'); // no maintenance: anyone at C1
    expect(routeTicket({ cellId: 'P3', category: 'sanitation' }, INDEX).assigneeId).toBe('w-street-clean'); // P3 → C2 → S1
  });

  it('builds the escalation ladder from the community and street levels', () => {
    expect(routeTicket({ cellId: 'U2', category: 'security' }, INDEX).ladder).toEqual({ grid: 'w-sec', community: 'w-comm', street: 'w-street' });
    expect(routeTicket({ cellId: 'U2', category: 'sanitation' }, INDEX).ladder).toEqual({ grid: 'w-clean', community: 'w-comm', street: 'w-street-clean' });
    expect(routeTicket({ cellId: 'P3', category: 'security' }, INDEX).ladder).toEqual({ grid: 'w-street', community: null, street: 'w-street' });
  });

  it('returns no assignee for an unknown cell, and survives a cyclic grid', () => {
    expect(routeTicket({ cellId: 'nowhere', category: 'care' }, INDEX)).toEqual({ assigneeId: null, team: 'care', ladder: { grid: null, community: null, street: null } });
    const cyclic: GridCell[] = [
      { id: 'A', level: 'unit', name: 'a', parentId: 'B' },
      { id: 'B', level: 'compound', name: 'b', parentId: 'A' },
    ];
    const idx = buildGridIndex(cyclic, []);
    expect(ancestry(idx, 'A').map((c) => c.id)).toEqual(['A', 'B']);
    expect(routeTicket({ cellId: 'A', category: 'care' }, idx).assigneeId).toBeNull();
  });

  it('spreads work by load among equally suited workers, deterministically', () => {
    const workers: Worker[] = [...WORKERS, { id: 'w-clean-2', name: '保洁二', cellId: 'P1', teams: ['cleaning'] }];
    const idx = buildGridIndex(GRID, workers);
    expect(routeTicket({ cellId: 'P1', category: 'sanitation' }, idx).assigneeId).toBe('w-clean');
    const load = new Map([['w-clean', 3], ['w-clean-2', 1], ['w-sec', 0]]);
    expect(routeTicket({ cellId: 'P1', category: 'sanitation' }, idx, load).assigneeId).toBe('w-clean-2');
  });

  it('finds the community of a cell', () => {
    expect(ancestorAtLevel(INDEX, 'U3', 'community')?.id).toBe('C1');
    expect(ancestorAtLevel(INDEX, 'S1', 'community')).toBeUndefined();
  });
});
