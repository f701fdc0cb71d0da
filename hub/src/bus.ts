import { EventEmitter } from 'node:events';
import type { IngestedEvent } from './events.ts';
import type { PresenceChange } from './devices/presence.ts';
import type { TicketChange } from '@shaobing/schemas';

/**
 * One ticket change on the bus. The ticket service sends a full Ticket in `ticket` and every
 * TicketChange field; `action` is the state-machine action (`dispatch`, `sla_warn`, `open`…).
 * `ticket` stays loosely typed so other producers (tests) may send partial payloads.
 */
export interface TicketBusChange {
  ticketId: string;
  siteId: string;
  action: string;
  ticket: unknown;
  kind?: TicketChange['kind'];
  from?: TicketChange['from'];
  at?: string;
  actor?: string;
  note?: string;
  deadline?: TicketChange['deadline'];
  notify?: TicketChange['notify'];
}

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
  /** The ticket service sends a KpiSnapshot (today, one site) after each SLA sweep. */
  'kpi.updated': [snapshot: unknown];
}

export class HubBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });
  constructor() {
    // Many WebSocket sessions subscribe; the default cap of 10 would only warn.
    this.emitter.setMaxListeners(0);
  }
  on<K extends keyof HubEventMap>(event: K, listener: (...args: HubEventMap[K]) => void): () => void {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return () => this.emitter.off(event, listener as (...args: unknown[]) => void);
  }
  emit<K extends keyof HubEventMap>(event: K, ...args: HubEventMap[K]): void {
    this.emitter.emit(event, ...args);
  }
}
