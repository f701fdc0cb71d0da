/** Messages between the ingest benchmark's orchestrator, its server child and its load generators. */

export interface ClientSpec {
  username: string;
  password: string;
  deviceId: string;
  topic: string;
}

export type LoadPlan =
  /** Closed loop: every connection keeps `window` QoS 1 publishes in flight for `ms`. */
  | { kind: 'closed'; window: number; ms: number }
  /**
   * Open loop: `ratePerSec` publishes spread over the connections, whatever the acks do. With
   * `probeEveryMs`, a watching generator also sends a `charger.smoke` (which opens a ticket)
   * that often and times it to the ticket's frame on its live WebSocket.
   */
  | { kind: 'open'; ratePerSec: number; ms: number; probeEveryMs?: number };

export type ToLoadGen =
  | { cmd: 'connect'; url: string; clients: ClientSpec[]; runId: string; concurrency: number }
  | { cmd: 'run'; plan: LoadPlan }
  | { cmd: 'storm'; }
  /** Logs in as an operator and follows the hub's live feed (for ticket-frame latency). */
  | { cmd: 'watch'; httpUrl: string; username: string; password: string }
  | { cmd: 'exit' };

export interface LoadResult {
  sent: number;
  acked: number;
  failed: number;
  ms: number;
  /** Ids of every acknowledged message: the server checks each is stored. */
  ackedIds: string[];
  /** PUBACK latencies in ms (open loop: from the scheduled send time). */
  latencies: number[];
  /** CPU the load generator itself spent, µs (to see when it, not the server, is the bound). */
  cpuUs: number;
  payloadBytes: number;
  /** Probes sent, and ms from each probe's publish to its ticket frame (those that arrived). */
  probes: number;
  ticketLatencies: number[];
}

export type FromLoadGen =
  | { ev: 'connected'; ms: number; failed: number }
  | { ev: 'watching' }
  | { ev: 'result'; result: LoadResult }
  | { ev: 'stormed'; ms: number; failed: number };

export type ServerTarget = 'aedes' | 'hub-pg' | 'hub-pglite';

export type ToServer =
  | { cmd: 'start'; target: ServerTarget; databaseUrl?: string; siteFile: string; dataDir?: string }
  | { cmd: 'mark' }
  | { cmd: 'verify'; ackedIds: string[] }
  | { cmd: 'stop' };

export type FromServer =
  | { ev: 'started'; url: string; httpUrl?: string }
  | { ev: 'marked'; cpuUs: number; rss: number; at: number }
  | { ev: 'verified'; rows: number; missing: number; duplicates: number; cpuUs: number; rssPeak: number }
  | { ev: 'stopped' };
