import { DEDUP_TICKET_STATUSES, type DeviceView, type HotspotTicketQuery, type KpiSnapshot, type LiveDataMessage, type StoredEvent, type Ticket } from '../lib/contract.ts';
import { Alarm } from '../lib/alarm.ts';
import { Api, ApiError, type GridView, type Session } from '../lib/api.ts';
import { isActive } from '../lib/board.ts';
import { FrameBatcher } from '../lib/frame-batch.ts';
import { KpiStore } from '../lib/kpi-store.ts';
import { LiveConnection, type LiveStatus } from '../lib/live/connection.ts';
import { TicketIndex } from '../lib/ticket-index.ts';
import { EventTicker, eventKey } from '../lib/ticker.ts';
import { t } from './i18n.svelte.ts';

const SESSION_KEY = 'shaobing.session';
const ALARM_REPEAT_MS = 20_000;
const OFFLINE_POLL_MS = 30_000;
const DONE_STATUSES = ['resolved', 'closed', 'dismissed'] as const;

export type View = 'overview' | 'devices' | 'charts' | 'reports' | 'complaints' | 'insights' | 'plan';

/**
 * The dashboard's state and its wiring to the hub: REST snapshots, the live stream (applied
 * once per animation frame), the alarm. Components read the $state fields; `rev` and
 * `tickerRev` bump when the (non-reactive, large) ticket index and ticker change, so a frame
 * with 200 messages costs one re-render, not 200.
 */
class AppState {
  session = $state<Session | null>(null);
  siteId = $state<string | undefined>(undefined);
  sites = $state<string[]>([]);
  view = $state<View>('overview');
  /** Wall display (control-room big screen): `?wall` in the URL or the top bar's toggle. */
  wall = $state(typeof location !== 'undefined' && new URLSearchParams(location.search).has('wall'));
  conn = $state<LiveStatus>('offline');
  now = $state(Date.now());
  rev = $state(0);
  tickerRev = $state(0);
  kpi = $state.raw<KpiSnapshot | null>(null);
  kpiError = $state<string | null>(null);
  private readonly kpis = new KpiStore();
  devices = $state.raw<DeviceView[]>([]);
  grid = $state.raw<GridView | null>(null);
  gridError = $state<string | null>(null);
  /** Why the ticker's recent events could not be loaded (live events still arrive). */
  tickerError = $state<string | null>(null);
  selectedTicketId = $state<string | null>(null);
  /** The board narrowed to the tickets of a query (a hotspot's click-through); null = the live board. */
  ticketFilter = $state.raw<{ label: string; query: HotspotTicketQuery } | null>(null);
  toast = $state<string | null>(null);
  muted = $state(false);
  acknowledged = $state.raw<ReadonlySet<string>>(new Set());
  loading = $state(false);

  readonly tickets = new TicketIndex();
  readonly ticker = new EventTicker(500);
  readonly alarm = new Alarm();
  readonly api = new Api(() => this.logout(t('error.session')));
  /** Keys of every event the stream delivered (bounded), for the end-to-end test's gap check. */
  readonly seenEvents = new Set<string>();
  private live: LiveConnection | null = null;
  private readonly batcher = new FrameBatcher<LiveDataMessage>((ms) => this.apply(ms));
  private timers: ReturnType<typeof setInterval>[] = [];
  private lastBeep = 0;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;

  constructor() {
    this.muted = this.alarm.muted;
  }

  /** Picks up a stored, unexpired session (a big screen survives a reload). */
  restore(): void {
    const raw = localStorage.getItem(SESSION_KEY);
    if (!raw) return;
    try {
      const s = JSON.parse(raw) as Session;
      if (Date.parse(s.expiresAt) > Date.now() + 60_000) this.begin(s);
      else localStorage.removeItem(SESSION_KEY);
    } catch {
      localStorage.removeItem(SESSION_KEY);
    }
  }

  async login(username: string, password: string): Promise<void> {
    this.alarm.unlock();
    const s = await this.api.login(username, password);
    localStorage.setItem(SESSION_KEY, JSON.stringify(s));
    this.begin(s);
  }

  logout(message?: string): void {
    this.live?.stop();
    this.live = null;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    localStorage.removeItem(SESSION_KEY);
    this.api.token = null;
    this.session = null;
    this.selectedTicketId = null;
    this.ticketFilter = null;
    this.tickets.completeRefresh([]);
    this.ticker.clear();
    this.kpis.clear();
    this.kpi = null;
    this.toast = message ?? null;
  }

  setMuted(m: boolean): void {
    this.alarm.setMuted(m);
    this.muted = m;
  }

  acknowledgeAlarms(): void {
    this.acknowledged = new Set(this.tickets.criticalActive().map((x) => x.id));
  }

  /** Shows the board with exactly the tickets of `query` (a hotspot's drill-down). */
  showTickets(label: string, query: HotspotTicketQuery): void {
    this.ticketFilter = { label, query };
    this.view = 'overview';
  }

  async selectSite(siteId: string): Promise<void> {
    if (siteId === this.siteId) return;
    this.siteId = siteId;
    this.ticketFilter = null;
    this.ticker.clear();
    await this.refresh();
  }

  /** Debug/test hooks: drop and restore the live socket, read the stream position. */
  get liveControl() {
    return this.live;
  }

  private begin(s: Session): void {
    this.session = s;
    this.api.token = s.token;
    this.siteId = s.siteIds?.[0];
    this.sites = s.siteIds ?? [];
    this.live = new LiveConnection({
      url: () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?token=${encodeURIComponent(s.token)}`,
      onMessages: (ms) => this.batcher.push(...ms),
      onRefresh: () => void this.refresh(),
      onStatus: (st) => { this.conn = st; },
      onAuthFailed: () => this.logout(t('error.session')),
    });
    this.live.start();
    this.timers.push(
      setInterval(() => this.tick(), 1000),
      // Without a live stream (hub unreachable, proxy without WebSocket) fall back to polling.
      setInterval(() => { if (this.conn !== 'live') void this.refresh(); }, OFFLINE_POLL_MS),
      setTimeout(() => { if (this.conn !== 'live') void this.refresh(); }, 3000),
    );
  }

  /**
   * Reloads everything over REST (first connect, a reset, a site switch). A request while one
   * runs queues exactly one more: the snapshot must start after the stream position it pairs
   * with, or changes in between would be lost.
   */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        await this.doRefresh();
      } while (this.refreshAgain);
    })().finally(() => { this.refreshing = null; });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    this.loading = true;
    try {
      if (!this.siteId) await this.discoverSites();
      const siteId = this.siteId;
      this.tickets.beginRefresh();
      const ticketsP = Promise.all([
        this.api.all((cursor) => this.api.tickets({ siteId, status: DEDUP_TICKET_STATUSES, limit: 500, cursor }), 5000),
        this.api.tickets({ siteId, status: DONE_STATUSES, limit: 200 }).then((p) => p.items),
      ]).then(([active, done]) => {
        this.tickets.completeRefresh([...active, ...done]);
        this.rev++;
      }).catch((err: unknown) => {
        this.tickets.abortRefresh();
        this.toast = errorText(err);
      });
      const eventsP = this.api.events({ siteId, limit: 100 }).then((p) => {
        this.ticker.add(p.items);
        this.tickerRev++;
        this.tickerError = null;
      }).catch((err: unknown) => {
        this.tickerError = errorText(err);
      });
      await Promise.all([ticketsP, eventsP, this.loadKpi(), this.loadDevices()]);
    } finally {
      this.loading = false;
    }
  }

  private async discoverSites(): Promise<void> {
    const { items } = await this.api.devices();
    this.sites = [...new Set(items.map((d) => d.siteId))].sort();
    this.siteId = this.sites[0];
  }

  /** The one KPI fetch, on (re)connect, reset and site switch; the stream keeps it current. */
  async loadKpi(): Promise<void> {
    const siteId = this.siteId;
    this.kpis.show(siteId);
    this.kpi = this.kpis.current;
    try {
      const s = await this.api.kpi(siteId);
      if (this.siteId === siteId) this.offerKpi(s);
      this.kpiError = null;
    } catch (err) {
      this.kpiError = errorText(err);
    }
  }

  async loadDevices(): Promise<void> {
    try {
      const [devices, grid] = await Promise.all([
        this.api.devices(this.siteId),
        this.siteId ? this.api.grid(this.siteId) : Promise.resolve(null),
      ]);
      this.devices = devices.items;
      this.grid = grid;
      this.gridError = null;
    } catch (err) {
      this.gridError = errorText(err);
    }
  }

  /** Applies one frame's worth of live messages. */
  private apply(messages: LiveDataMessage[]): void {
    const events: StoredEvent[] = [];
    let ticketsChanged = false;
    let alarm = false;
    let presence: Map<string, { online: boolean; lastSeen: string | null }> | null = null;
    for (const m of messages) {
      if (m.kind === 'event') {
        const e = m.payload;
        if (this.seenEvents.size < 50_000) this.seenEvents.add(eventKey(e));
        if (!this.siteId || e.siteId === this.siteId) events.push(e);
      } else if (m.kind === 'ticket') {
        const tk = m.payload.ticket;
        if (!tk?.id || (this.siteId && tk.siteId !== this.siteId)) continue;
        const before = this.tickets.get(tk.id);
        if (this.tickets.upsert(tk) !== 'stale') {
          ticketsChanged = true;
          if (isCriticalActive(tk) && !(before && isCriticalActive(before)) && !this.acknowledged.has(tk.id)) alarm = true;
        }
      } else if (m.kind === 'presence') {
        presence ??= new Map();
        presence.set(`${m.payload.siteId}/${m.payload.deviceId}`, { online: m.payload.online, lastSeen: m.payload.lastSeen });
      } else if (m.kind === 'kpi') {
        this.offerKpi(m.payload);
      }
    }
    if (events.length && this.ticker.add(events)) this.tickerRev++;
    if (ticketsChanged) {
      this.tickets.pruneFinished(500);
      this.rev++;
    }
    if (presence && this.devices.length) {
      const p = presence;
      this.devices = this.devices.map((d) => {
        const u = p.get(`${d.siteId}/${d.deviceId}`);
        return u ? { ...d, online: u.online, lastSeen: u.lastSeen } : d;
      });
    }
    if (alarm) this.ring();
  }

  private offerKpi(s: KpiSnapshot): void {
    if (this.kpis.offer(s)) this.kpi = this.kpis.current;
  }

  private tick(): void {
    this.now = Date.now();
    const unacked = this.tickets.criticalActive().some((x) => !this.acknowledged.has(x.id));
    if (unacked && this.now - this.lastBeep >= ALARM_REPEAT_MS) this.ring();
  }

  private ring(): void {
    this.lastBeep = Date.now();
    this.alarm.beep();
  }
}

function isCriticalActive(x: Ticket): boolean {
  return x.severity === 'critical' && isActive(x);
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 0) return t('error.network');
    if (err.status === 403) return t('error.forbidden');
    if (err.status === 503 || err.status === 404) return t('error.unavailable', { message: `${err.status} ${err.message}` });
    return t('error.generic', { message: err.message });
  }
  return t('error.generic', { message: err instanceof Error ? err.message : String(err) });
}

export const app = new AppState();
