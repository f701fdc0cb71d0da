import { hostname } from 'node:os';
import { HUB_ID_PATTERN } from '../config.ts';
const VALID = new RegExp(HUB_ID_PATTERN);

let startedInProcess = 0;

/**
 * This process's identity in the cluster: MQTT client ids (`<hubId>-ingest-<i>`) and lease
 * holders are named after it, so two hubs never share one. An explicit HUB_ID is stable across
 * restarts (persistent broker sessions resume); the default — host and pid, plus a counter when
 * one process starts several hubs (tests) — is unique but changes on every start.
 */
export function resolveHubId(configured: string | null, host = hostname(), pid = process.pid): { id: string; stable: boolean } {
  if (configured !== null) {
    if (!VALID.test(configured)) throw new Error(`HUB_ID ${JSON.stringify(configured)} must match ${HUB_ID_PATTERN}`);
    return { id: configured, stable: true };
  }
  const n = ++startedInProcess;
  const safeHost = host.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 30) || 'hub';
  return { id: `${safeHost}-${pid}${n > 1 ? `-${n}` : ''}`, stable: false };
}
