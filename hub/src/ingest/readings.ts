import { FAMILY_DEFINITIONS } from '@shaobing/schemas';
import type { IngestedEvent, Reading } from '../events.ts';

/** type → numeric fields to keep as readings, from the families' metric declarations. */
const METRICS_BY_TYPE = new Map<string, { field: string; metric: string }[]>();
for (const def of Object.values(FAMILY_DEFINITIONS)) {
  for (const m of def.metrics) {
    const list = METRICS_BY_TYPE.get(m.type) ?? [];
    list.push({ field: m.field, metric: m.metric });
    METRICS_BY_TYPE.set(m.type, list);
  }
}

export function extractReadings(e: IngestedEvent): Reading[] {
  const metrics = METRICS_BY_TYPE.get(e.type);
  if (!metrics) return [];
  const port = typeof e.data.port === 'number' ? e.data.port : 0;
  const out: Reading[] = [];
  for (const { field, metric } of metrics) {
    const value = e.data[field];
    if (typeof value === 'number' && Number.isFinite(value)) {
      out.push({ siteId: e.siteId, deviceId: e.deviceId, metric, port, value, msgId: e.msgId, ts: e.ts });
    }
  }
  return out;
}
