import type {
  AttachmentInfo, DeviceView, EventStats, GridCell, GridReply, KpiDrillName, KpiSnapshot, LoginReply, OperatorAction, OperatorRole, Readings, StoredEvent, StreetKpis,
  Ticket, TicketActionReply, TicketDetail, TicketDetailReply, TicketStats, TicketStatus, Worker,
  ComplaintInput, FollowUp, FollowUpBody, Localized, ProblemCandidate, AdoptedProblem, AdoptProblemBody, SeasonalWarning,
  HotspotsReply, HotspotTicketQuery, Category,
} from './contract.ts';
import { isApiErrorCode, type ApiErrorCode } from './contract.ts';

// Reply types come from the contract (schemas/src/replies.ts); these names are the client's.
export type Session = LoginReply;
export interface Page<T> { items: T[]; nextCursor: string | null }
export type TicketDetailView = TicketDetailReply;
export type GridView = GridReply;
export type Bucket = Readings['bucket'];
export type EventStatsView = EventStats;
export type TicketStatsView = TicketStats;
export type ReadingsView = Readings;

/** POST /api/complaints(/match): the complaint ticket, the chosen link and every candidate's verdict. */
export interface ComplaintView {
  ticket: Ticket;
  linked: Ticket | null;
  preempted: boolean;
  reason: Localized | null;
  candidates: Array<{ ticketId: string; verdict: 'chosen' | 'eligible' | 'ruled_out'; reason: Localized }>;
}

export type ReportKind = 'daily' | 'weekly' | 'monthly';
export interface ReportFigures {
  kind: ReportKind; label: string; current: StreetKpis; previous: StreetKpis;
  /** Seasonal warnings for the weeks after the period (issued at its end, or now while it runs). */
  warnings: Array<SeasonalWarning & { siteId: string; siteName: string }>;
  warningsAsOf: string;
}

/** A failed call: the hub's catalogue code (schemas/src/errors.ts), or what the transport said. */
export type ApiErrorKind = ApiErrorCode | 'NETWORK' | `HTTP_${number}`;

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: ApiErrorKind, message: string) { super(message); }
}

type Query = Record<string, string | number | boolean | readonly string[] | undefined | null>;

/** URL segment of an action: `request_dismiss` → `request-dismiss` (the REST route names). */
export const actionPath = (a: OperatorAction | string) => a.replaceAll('_', '-');

/** The hub's REST API (same origin: served by the hub, or proxied by Vite in development). */
export class Api {
  token: string | null = null;

  constructor(private readonly onUnauthorized: () => void, private readonly base = '') {}

  login(username: string, password: string): Promise<Session> {
    return this.request('POST', '/api/auth/login', undefined, { username, password }, false);
  }
  kpi(siteId?: string): Promise<KpiSnapshot> { return this.get('/api/kpi', { siteId }); }
  tickets(q: { siteId?: string; status?: readonly TicketStatus[]; limit?: number; cursor?: string | null }): Promise<Page<Ticket>> {
    return this.get('/api/tickets', { siteId: q.siteId, status: q.status, limit: q.limit, cursor: q.cursor });
  }
  ticket(id: string): Promise<TicketDetailView> { return this.get(`/api/tickets/${encodeURIComponent(id)}`); }
  /** The acted-on ticket, its timeline and what the caller may do next (TicketActionReply). */
  act(id: string, action: OperatorAction, body: Record<string, unknown>): Promise<TicketActionReply> {
    return this.request('POST', `/api/tickets/${encodeURIComponent(id)}/${actionPath(action)}`, undefined, body);
  }
  /** Photo evidence (multipart, field `file`); its id goes in `photos` when resolving. */
  upload(id: string, file: Blob, name = 'photo'): Promise<AttachmentInfo> {
    const fd = new FormData();
    fd.append('file', file, name);
    return this.request('POST', `/api/tickets/${encodeURIComponent(id)}/attachments`, undefined, fd);
  }
  grid(siteId: string): Promise<GridView> { return this.get('/api/grid', { siteId }); }
  devices(siteId?: string): Promise<{ items: DeviceView[] }> { return this.get('/api/devices', { siteId }); }
  events(q: { siteId?: string; limit?: number }): Promise<Page<StoredEvent>> { return this.get('/api/events', q); }
  eventStats(q: { siteId?: string; from: string; to: string; bucket: Bucket; utcOffsetMin: number }): Promise<EventStatsView> { return this.get('/api/stats/events', q); }
  ticketStats(q: { siteId?: string; from: string; to: string; bucket: Bucket; utcOffsetMin: number }): Promise<TicketStatsView> { return this.get('/api/stats/tickets', q); }
  readings(q: { siteId: string; deviceId: string; metric: string; port?: number; from: string; to: string; bucket: Bucket; utcOffsetMin: number }): Promise<ReadingsView> {
    return this.get('/api/readings', q);
  }

  // ---- report screens (issue 10) ----
  reportFigures(kind: ReportKind, q: { siteId?: string; period?: string }): Promise<ReportFigures> {
    return this.get(`/api/reports/${kind}/figures`, q);
  }
  drill(q: { siteId?: string; from: string; to: string; dimension: string; id: string; figure: KpiDrillName }): Promise<{ ticketIds: string[] }> {
    return this.get('/api/kpi/drill', q);
  }
  // ---- complaint intake, 回访, 二次办理 (issue 10) ----
  complaintMatch(body: ComplaintInput): Promise<ComplaintView> { return this.request('POST', '/api/complaints/match', undefined, body); }
  complaint(body: ComplaintInput): Promise<ComplaintView> { return this.request('POST', '/api/complaints', undefined, body); }
  followUp(ticketId: string, body: FollowUpBody): Promise<{ ticket: Ticket; followUp: FollowUp }> {
    return this.request('POST', `/api/tickets/${encodeURIComponent(ticketId)}/follow-up`, undefined, body);
  }
  secondHandling(siteId?: string): Promise<{ items: Array<{ followUp: FollowUp; ticket: Ticket }> }> { return this.get('/api/follow-ups/second-handling', { siteId }); }
  // ---- 每月一题, seasonal warnings (issue 10) ----
  monthlyProblem(siteId: string, month: string): Promise<{ candidates: ProblemCandidate[]; adopted: AdoptedProblem[] }> {
    return this.get('/api/insights/monthly-problem', { siteId, month });
  }
  adoptProblem(body: AdoptProblemBody): Promise<AdoptedProblem> { return this.request('POST', '/api/insights/monthly-problem/adopt', undefined, body); }
  seasonal(siteId: string): Promise<{ items: SeasonalWarning[] }> { return this.get('/api/insights/seasonal', { siteId }); }
  // ---- 高频点位 on the site plan (issue 10) ----
  hotspots(q: { siteId: string; category?: Category; from?: string; to?: string }): Promise<HotspotsReply> { return this.get('/api/insights/hotspots', q); }
  /** The ticket list with a hotspot's filter (its `tickets` query), one page. */
  ticketsWhere(q: HotspotTicketQuery, cursor: string | null = null, limit = 500): Promise<Page<Ticket>> {
    return this.get('/api/tickets', { ...q, limit, cursor });
  }
  /** A file download with the bearer token (a plain link could not carry it). */
  async download(path: string, query: Query, filename: string): Promise<void> {
    const res = await fetch(this.base + path + queryString(query), { headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, res.statusText);
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url; a.download = filename; a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** Every page of a cursor-paginated list, up to `max` items. */
  async all<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>, max = 5000): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<T> = await fetchPage(cursor);
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && out.length < max);
    return out;
  }

  private get<T>(path: string, query?: Query): Promise<T> {
    return this.request('GET', path, query);
  }

  private async request<T>(method: 'GET' | 'POST', path: string, query?: Query, body?: unknown, auth = true): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.base + path + queryString(query), {
        method,
        // FormData sets its own multipart content type (with the boundary).
        headers: { ...(body !== undefined && !(body instanceof FormData) ? { 'content-type': 'application/json' } : {}), ...(auth && this.token ? { authorization: `Bearer ${this.token}` } : {}) },
        body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
    }
    const text = await res.text();
    const data: unknown = text ? safeJson(text) : null;
    if (!res.ok) {
      const code = field(data, 'code');
      const message = field(data, 'message');
      if (res.status === 401 && auth) this.onUnauthorized();
      throw new ApiError(res.status, isApiErrorCode(code) ? code : `HTTP_${res.status}`, typeof message === 'string' ? message : res.statusText);
    }
    return data as T;
  }
}

function field(data: unknown, name: string): unknown {
  return typeof data === 'object' && data !== null ? Reflect.get(data, name) : undefined;
}

export function queryString(q?: Query): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, String(x));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

function safeJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return { message: text.slice(0, 200) }; }
}
