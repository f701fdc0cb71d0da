import type { KpiSnapshot, TicketChange } from '@shaobing/schemas';
import type { Logger } from 'pino';
import type { IngestedEvent } from './events.ts';
import type { PresenceChange } from './devices/presence.ts';

/**
 * One ticket change on the bus: the committed TicketChange plus the ids the live feed routes
 * by and `action`, the state-machine action (`dispatch`, `sla_warn`, `open`…).
 */
export type TicketBusChange = TicketChange & { ticketId: string; siteId: string; action: string; /** tickets.change_seq, when read back from the database (cluster ticket tail). */ changeSeq?: number };

/**
 * The hub's internal, typed event bus: producers (store, presence, tickets, KPIs) announce,
 * consumers (rules, live feed) listen. Extend the map, never emit untyped strings.
 */
export interface HubEventMap {
  /** Newly committed device messages (redeliveries excluded), in commit order. */
  'events.stored': [events: IngestedEvent[]];
  'device.presence': [change: PresenceChange];
  /** A ticket changed: opened, transitioned, occurrence added, SLA warned/escalated. */
  'ticket.changed': [change: TicketBusChange];
  /** Today's KPIs of one site, after each SLA sweep (kpi-service.ts). */
  'kpi.updated': [snapshot: KpiSnapshot];
}

type Listener<K extends keyof HubEventMap> = (...args: HubEventMap[K]) => unknown;
interface Entry<K extends keyof HubEventMap> { owner: string; fn: Listener<K> }

/**
 * Producers emit after their work is committed, so a listener's failure must not undo or fail
 * it: each listener runs isolated, and a throw (or a rejected promise) is logged under the
 * listener's owner and counted, never passed back to the emitter.
 */
export class HubBus {
  private readonly listeners: { [K in keyof HubEventMap]: Set<Entry<K>> } = {
    'events.stored': new Set(), 'device.presence': new Set(), 'ticket.changed': new Set(), 'kpi.updated': new Set(),
  };
  /** Listener failures per owner. */
  readonly failures = new Map<string, number>();

  constructor(private readonly log?: Logger) {}

  /** Subscribes `listener` (named by `owner` in logs); returns the unsubscribe function. */
  on<K extends keyof HubEventMap>(event: K, listener: Listener<K>, owner = 'unnamed'): () => void {
    const set: Set<Entry<K>> = this.listeners[event];
    const entry: Entry<K> = { owner, fn: listener };
    set.add(entry);
    return () => { set.delete(entry); };
  }

  emit<K extends keyof HubEventMap>(event: K, ...args: HubEventMap[K]): void {
    const set: Set<Entry<K>> = this.listeners[event];
    for (const { owner, fn } of [...set]) {
      try {
        const r = fn(...args);
        if (r instanceof Promise) r.catch((err: unknown) => this.failed(event, owner, err));
      } catch (err) {
        this.failed(event, owner, err);
      }
    }
  }

  private failed(event: keyof HubEventMap, owner: string, err: unknown): void {
    this.failures.set(owner, (this.failures.get(owner) ?? 0) + 1);
    if (this.log) this.log.error({ err, event, listener: owner }, 'bus listener failed; the emitter carries on');
    else console.error(`bus listener ${owner} failed on ${event}:`, err);
  }
}
