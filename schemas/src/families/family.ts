import type { TObject } from '@sinclair/typebox';
import type { Channel, Family } from '../common.ts';

/** One device family as data: its message types, payload schemas and numeric metrics. */
export interface FamilyDefinition {
  family: Family;
  label: { 'zh-CN': string; en: string };
  messages: Record<string, { channel: Channel; data: TObject }>;
  /** Numeric fields of a message stored as readings (time series for charts and threshold rules). */
  metrics: ReadonlyArray<{ type: string; field: string; metric: string; unit: string }>;
}
