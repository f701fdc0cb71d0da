import { LIVE_CLOSE, type LiveDataMessage, type LiveServerFrame } from '../contract.ts';
import { SeqTracker } from './tracker.ts';

/** The part of the browser WebSocket the connection uses (tests pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type LiveStatus = 'connecting' | 'live' | 'offline';

export interface LiveConnectionOptions {
  url: () => string;
  onMessages: (messages: LiveDataMessage[]) => void;
  /** State may be stale (first connect, reset, other epoch): reload it over REST. */
  onRefresh: () => void;
  onStatus: (s: LiveStatus) => void;
  /** The hub refused the token (expired, or the operator is gone). */
  onAuthFailed: () => void;
  createSocket?: (url: string) => SocketLike;
  backoffMs?: { initial: number; max: number };
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
  random?: () => number;
}

const { tokenExpired: CLOSE_TOKEN_EXPIRED, forbidden: CLOSE_FORBIDDEN } = LIVE_CLOSE;

/**
 * The dashboard's end of the live feed: connects, resumes from the last seq after every drop
 * (exponential backoff with jitter), asks for a REST reload when the hub says so.
 */
export class LiveConnection {
  readonly tracker = new SeqTracker();
  reconnects = 0;
  private socket: SocketLike | null = null;
  private timer: unknown = null;
  private attempt = 0;
  private stopped = true;
  private suspended = false;

  constructor(private readonly opts: LiveConnectionOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearRetry();
    this.detach('bye');
    this.tracker.clear();
  }

  /** Drops the socket and stays down until resume() (used by the e2e test and the status button). */
  suspend(): void {
    this.suspended = true;
    this.clearRetry();
    this.detach('suspended');
    this.opts.onStatus('offline');
  }

  resume(): void {
    this.suspended = false;
    this.attempt = 0;
    this.clearRetry();
    if (!this.socket) this.connect();
  }

  /** Reconnects now (keeps the position: the hub replays what was missed). */
  reconnectNow(): void {
    this.detach('reconnect');
    this.attempt = 0;
    this.clearRetry();
    this.connect();
  }

  /** Closes the current socket and forgets it at once, so its late close event is ignored. */
  private detach(reason: string): void {
    const s = this.socket;
    this.socket = null;
    s?.close(1000, reason);
  }

  private connect(): void {
    if (this.stopped || this.suspended || this.socket) return;
    this.opts.onStatus('connecting');
    const create = this.opts.createSocket ?? ((u: string) => new WebSocket(u) as unknown as SocketLike);
    const s = create(this.opts.url());
    this.socket = s;
    s.onmessage = (ev) => this.onFrame(s, ev.data);
    s.onerror = () => undefined; // onclose follows and handles it
    s.onclose = (ev) => {
      if (this.socket !== s) return;
      this.socket = null;
      this.opts.onStatus('offline');
      if (ev.code === CLOSE_TOKEN_EXPIRED || ev.code === CLOSE_FORBIDDEN) {
        this.stopped = true;
        this.opts.onAuthFailed();
        return;
      }
      this.scheduleRetry();
    };
  }

  private onFrame(s: SocketLike, data: unknown): void {
    if (this.socket !== s || typeof data !== 'string') return;
    let frame: LiveServerFrame;
    try {
      frame = JSON.parse(data) as LiveServerFrame;
    } catch {
      return;
    }
    if (frame.kind === 'hello') {
      const d = this.tracker.onHello(frame);
      s.send(JSON.stringify({ kind: 'resume', ...d.resume }));
      this.attempt = 0;
      this.opts.onStatus('live');
      if (d.refresh) this.opts.onRefresh();
    } else if (frame.kind === 'replay') {
      // Another hub serves our database position: what we missed, without a reload.
      const messages = this.tracker.onReplay(frame);
      if (messages.length) this.opts.onMessages(messages);
    } else if (frame.kind === 'reset') {
      this.tracker.onReset(frame);
      this.opts.onRefresh();
    } else if (frame.kind === 'batch') {
      const r = this.tracker.onBatch(frame);
      if (!r.ok) {
        // Never apply past a hole: reconnect and let the hub replay from our position.
        this.reconnectNow();
        return;
      }
      if (r.messages.length) this.opts.onMessages(r.messages);
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.suspended) return;
    const { initial, max } = this.opts.backoffMs ?? { initial: 500, max: 15_000 };
    const base = Math.min(max, initial * 2 ** this.attempt++);
    // Jitter: a hub restart must not see every control room reconnect in the same millisecond.
    const ms = base / 2 + (this.opts.random ?? Math.random)() * (base / 2);
    this.reconnects++;
    const set = this.opts.setTimer ?? ((fn, t) => setTimeout(fn, t));
    this.timer = set(() => { this.timer = null; this.connect(); }, ms);
  }

  private clearRetry(): void {
    if (this.timer !== null) (this.opts.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>)))(this.timer);
    this.timer = null;
  }
}
