import type { GridCell } from './contract.ts';

export interface PlaceOption { id: string; name: string; level: GridCell['level']; depth: number }

/** The grid tree as an indented pick list (街道 › 社区 › 楼院 › 单元), depth-first, by name. */
export function placeOptions(cells: readonly GridCell[]): PlaceOption[] {
  const children = new Map<string | undefined, GridCell[]>();
  const ids = new Set(cells.map((c) => c.id));
  for (const c of cells) {
    const parent = c.parentId !== undefined && ids.has(c.parentId) ? c.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), c]);
  }
  const out: PlaceOption[] = [];
  const seen = new Set<string>();
  const walk = (parent: string | undefined, depth: number): void => {
    const list = [...(children.get(parent) ?? [])].sort((a, b) => a.name.localeCompare(b.name, 'zh-CN', { numeric: true }));
    for (const c of list) {
      if (seen.has(c.id)) continue; // a malformed cycle must not hang the page
      seen.add(c.id);
      out.push({ id: c.id, name: c.name, level: c.level, depth });
      walk(c.id, depth + 1);
    }
  };
  walk(undefined, 0);
  return out;
}
