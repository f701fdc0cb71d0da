import type { DeviceView, GridCell } from './contract.ts';

export interface GridNode {
  cell: GridCell;
  children: GridNode[];
  devices: DeviceView[];
  /** Totals of this cell and everything under it. */
  total: number;
  online: number;
  openTickets: number;
}

export interface GridTree { roots: GridNode[]; unplaced: DeviceView[] }

/**
 * 街道 › 社区 › 楼院 › 单元 from the flat cell list, with devices hung on their cell and the
 * counts rolled up, so a community shows how many of its devices are offline at a glance.
 */
export function buildGridTree(cells: readonly GridCell[], devices: readonly DeviceView[], openByCell: ReadonlyMap<string, number>): GridTree {
  const nodes = new Map<string, GridNode>();
  for (const cell of cells) nodes.set(cell.id, { cell, children: [], devices: [], total: 0, online: 0, openTickets: openByCell.get(cell.id) ?? 0 });
  const roots: GridNode[] = [];
  for (const n of nodes.values()) {
    const parent = n.cell.parentId ? nodes.get(n.cell.parentId) : undefined;
    if (parent && parent !== n) parent.children.push(n);
    else roots.push(n);
  }
  const unplaced: DeviceView[] = [];
  for (const d of devices) {
    const n = nodes.get(d.cellId);
    if (n) n.devices.push(d);
    else unplaced.push(d);
  }
  const seen = new Set<GridNode>();
  const roll = (n: GridNode): void => {
    if (seen.has(n)) return; // a malformed cycle must not hang the page
    seen.add(n);
    n.children.sort((a, b) => a.cell.name.localeCompare(b.cell.name, 'zh-CN', { numeric: true }));
    n.devices.sort((a, b) => a.deviceId.localeCompare(b.deviceId, 'en', { numeric: true }));
    n.total = n.devices.length;
    n.online = n.devices.filter((d) => d.online).length;
    for (const c of n.children) {
      roll(c);
      n.total += c.total;
      n.online += c.online;
      n.openTickets += c.openTickets;
    }
  };
  for (const r of roots) roll(r);
  return { roots, unplaced };
}

/** Keeps the nodes (and their ancestors) whose devices or names match, for the filter box. */
export function filterTree(roots: readonly GridNode[], match: (d: DeviceView) => boolean, nameMatch: (c: GridCell) => boolean): GridNode[] {
  const out: GridNode[] = [];
  for (const n of roots) {
    if (nameMatch(n.cell)) { out.push(n); continue; }
    const children = filterTree(n.children, match, nameMatch);
    const devices = n.devices.filter(match);
    if (children.length || devices.length) out.push({ ...n, children, devices });
  }
  return out;
}
