import { Duplex, Transform, type TransformCallback } from 'node:stream';

/**
 * aedes' MQTT parser has no packet-size limit: a client announcing a 256 MB PUBLISH makes the
 * hub buffer all of it before ingest can say `too_large`. This guard reads each packet's
 * Remaining Length (MQTT 3.1.1 §2.2.3) as bytes stream past and closes the connection as soon
 * as one announces more than `maxFrameBytes`, before the body is buffered.
 */
export class FrameGuard extends Transform {
  private state: 'header' | 'length' | 'body' = 'header';
  private length = 0;
  private multiplier = 1;
  private remaining = 0;

  constructor(private readonly maxFrameBytes: number, private readonly onTooLarge: (announced: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'header') {
        i++;
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
      } else if (this.state === 'length') {
        const byte = chunk[i++]!;
        this.length += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        if (byte & 0x80) continue;
        if (this.length > this.maxFrameBytes) {
          this.onTooLarge(this.length);
          cb(new Error(`MQTT packet of ${this.length} bytes exceeds ${this.maxFrameBytes}`));
          return;
        }
        this.remaining = this.length;
        this.state = this.remaining > 0 ? 'body' : 'header';
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'header';
      }
    }
    cb(null, chunk);
  }
}

/** The connection (TCP socket or WebSocket stream) as aedes sees it: reads pass through a FrameGuard, writes go straight out. */
export function guardedConnection(socket: Duplex, maxFrameBytes: number, onTooLarge: (announced: number) => void): Duplex {
  const guard = new FrameGuard(maxFrameBytes, onTooLarge);
  socket.pipe(guard);
  const conn = Duplex.from({ readable: guard, writable: socket });
  const destroyAll = () => {
    socket.destroy();
    conn.destroy();
  };
  guard.on('error', destroyAll);
  socket.on('error', () => conn.destroy());
  socket.on('close', () => conn.destroy());
  conn.on('close', () => socket.destroy());
  return conn;
}
