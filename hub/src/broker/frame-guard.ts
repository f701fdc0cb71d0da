import type { Duplex } from 'node:stream';

/**
 * aedes' MQTT parser has no packet-size limit: a client announcing a 256 MB PUBLISH makes the
 * hub buffer all of it before ingest can say `too_large`. This guard reads each packet's
 * Remaining Length (MQTT 3.1.1 §2.2.3) as bytes stream past and says stop as soon as one
 * announces more than `maxFrameBytes`, before the body is buffered.
 */
export class FrameGuard {
  /** Set once a packet announced too much: nothing after it is handed on. */
  failed = false;
  private state: 'header' | 'length' | 'body' = 'header';
  private length = 0;
  private multiplier = 1;
  private remaining = 0;
  private header = 0;
  /** Start of the current PUBLISH body, kept only while its topic is being read. */
  private head: Buffer[] | null = null;
  private headBytes = 0;
  private headNeed = 0;
  private wildcard = false;

  constructor(private readonly maxFrameBytes: number, private readonly onTooLarge: (announced: number) => void, private readonly onWildcardPublish?: (publish: WildcardPublish) => void) {}

  /**
   * aedes closes a connection that publishes to a topic with `+`/`#` before any hook runs; the
   * guard sees the topic first, so the refusal can be counted and dead-lettered with its bytes.
   */
  private collect(bytes: Buffer, packetEnds: boolean): void {
    this.head!.push(bytes);
    this.headBytes += bytes.length;
    const buf = Buffer.concat(this.head!);
    this.head = [buf];
    if (!this.wildcard && buf.length >= 2) {
      const topicLen = buf.readUInt16BE(0);
      const topicEnd = 2 + Math.min(topicLen, MAX_TOPIC_BYTES);
      if (buf.length >= topicEnd || packetEnds) {
        const topic = buf.subarray(2, topicEnd);
        if (!topic.includes(0x23) && !topic.includes(0x2b)) {
          this.head = null;
          return;
        }
        this.wildcard = true;
        this.headNeed = 2 + topicLen + ((this.header >> 1) & 3 ? 2 : 0) + MAX_PAYLOAD_SAMPLE;
      } else {
        this.headNeed = topicEnd;
      }
    }
    if (this.wildcard && (packetEnds || this.headBytes >= this.headNeed)) {
      const topicLen = buf.readUInt16BE(0);
      const payloadAt = 2 + topicLen + ((this.header >> 1) & 3 ? 2 : 0);
      this.onWildcardPublish!({ topic: buf.subarray(2, Math.min(buf.length, 2 + topicLen)).toString('utf8'), payload: buf.subarray(Math.min(buf.length, payloadAt)) });
      this.head = null;
    }
  }

  /** Follows packet boundaries through `chunk`; false when a packet is too large (the connection must close). */
  scan(chunk: Buffer): boolean {
    if (this.failed) return false;
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'header') {
        this.header = chunk[i++]!;
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
      } else if (this.state === 'length') {
        const byte = chunk[i++]!;
        this.length += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        if (byte & 0x80) continue;
        if (this.length > this.maxFrameBytes) {
          this.failed = true;
          this.onTooLarge(this.length);
          return false;
        }
        this.remaining = this.length;
        this.state = this.remaining > 0 ? 'body' : 'header';
        if (this.onWildcardPublish && this.header >> 4 === 3 && this.remaining > 0) {
          this.head = [];
          this.headBytes = 0;
          this.headNeed = 2;
          this.wildcard = false;
        }
      } else {
        let take = Math.min(this.remaining, chunk.length - i);
        while (this.head && take > 0) {
          const want = Math.min(take, this.headNeed - this.headBytes);
          this.collect(chunk.subarray(i, i + want), this.remaining === want);
          i += want;
          this.remaining -= want;
          take -= want;
        }
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) {
          this.state = 'header';
          this.head = null;
        }
      }
    }
    return true;
  }
}

const MAX_TOPIC_BYTES = 1024;
const MAX_PAYLOAD_SAMPLE = 2048;

/** A PUBLISH whose topic holds a wildcard, as far as the guard read it (payload truncated). */
export interface WildcardPublish { topic: string; payload: Buffer }

/** What the hub may hold for a connection that does not read, and who hears when it is cut. */
export interface SendLimit { maxBytes: number; onOverflow: (buffered: number) => void }

/**
 * Guards a connection (TCP socket or WebSocket stream) in place, with no wrapper stream, so the
 * PUBACKs aedes writes in one tick (it corks the connection until the next tick) leave in one
 * writev instead of one write per buffer.
 * - Reads: aedes reads with `read()` on 'readable', so every byte it parses passes the guard
 *   first, and a packet that announces too much closes the connection before aedes sees it.
 * - Writes (with `send`): never report backpressure to aedes. aedes waits for 'drain' before
 *   it completes a delivery, and the PUBACK of every publisher forwarded to a subscriber waits
 *   on that delivery: one subscriber that stopped reading would hold every device's PUBACK for
 *   aedes' drainTimeout. Instead the bytes waiting in the socket are bounded here, and a
 *   connection over `send.maxBytes` is closed.
 */
export function guardedConnection(socket: Duplex, maxFrameBytes: number, onTooLarge: (announced: number) => void, onWildcardPublish?: (publish: WildcardPublish) => void, send?: SendLimit): Duplex {
  const guard = new FrameGuard(maxFrameBytes, onTooLarge, onWildcardPublish);
  const read = socket.read.bind(socket);
  socket.read = (size?: number): Buffer | null => {
    if (guard.failed) return null;
    const chunk = read(size) as Buffer | string | null;
    if (chunk === null) return null;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (guard.scan(bytes)) return bytes;
    socket.destroy();
    return null;
  };
  if (send) {
    const write = socket.write.bind(socket) as (chunk: Buffer | string, cb?: (err?: Error | null) => void) => boolean;
    const bounded = (chunk: Buffer | string, encOrCb?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean => {
      const done = typeof encOrCb === 'function' ? encOrCb : cb;
      if (socket.destroyed) {
        done?.();
        return true;
      }
      write(chunk, done);
      if (socket.writableLength > send.maxBytes) {
        send.onOverflow(socket.writableLength);
        socket.destroy();
      }
      return true;
    };
    socket.write = bounded as Duplex['write'];
  }
  return socket;
}
