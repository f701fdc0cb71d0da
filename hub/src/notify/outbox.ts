import type { NotifyChannel } from '@shaobing/schemas';
import type { Registry } from '../site/registry.ts';
import type { OutboxHook } from '../tickets/context.ts';
import { ancestorAtLevel, buildGridIndex, type GridIndex } from '../tickets/core/index.ts';
import { insertOutbox } from './outbox-repo.ts';
import { planNotifications, type NotifyDirectory } from './plan.ts';

/** The site file's channels (workers', groups') plus the global ones, as the planner reads them. */
export function directoryOf(registry: Registry, global: readonly NotifyChannel[], publicUrl?: string): NotifyDirectory {
  let indexes = new Map<string, GridIndex>();
  const build = () => {
    indexes = new Map();
    for (const [id, site] of registry.sites) indexes.set(id, buildGridIndex(site.grid, site.workers));
  };
  build();
  registry.onChange(build); // the registry can change while the hub runs (store/registry-sync.ts)
  return {
    workerChannels: (siteId, workerId) => registry.worker(siteId, workerId)?.notify ?? [],
    groupOf: (siteId, cellId, level) => {
      const index = indexes.get(siteId);
      const cell = index ? ancestorAtLevel(index, cellId, level) : undefined;
      const g = cell ? registry.sites.get(siteId)?.notify?.groups?.find((x) => x.cellId === cell.id) : undefined;
      return g ? { cellId: g.cellId, channels: g.channels } : undefined;
    },
    global,
    quietHours: (siteId) => registry.sites.get(siteId)?.notify?.quietHours,
    timezone: (siteId) => registry.sites.get(siteId)?.timezone ?? 'Asia/Shanghai',
    ...(publicUrl ? { publicUrl } : {}),
  };
}

/**
 * The ticket writer's outbox hook: the notifications of the writes that landed, inserted in
 * the same transaction (a rolled-back change notifies nobody; a committed one is never lost).
 */
export function outboxHook(dir: NotifyDirectory): OutboxHook {
  return async (tx, landed) => {
    const rows = landed.flatMap((w) => w.events.flatMap((e) => planNotifications(e.change, e.action, dir, Date.parse(e.change.at))));
    await insertOutbox(tx, rows);
  };
}
