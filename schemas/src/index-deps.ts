// Re-exports used by modules that index.ts itself re-exports, to avoid an import cycle.
export { Id } from './common.ts';
export { Team } from './site.ts';
