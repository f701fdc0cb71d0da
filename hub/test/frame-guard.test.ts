import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { FrameGuard } from '../src/broker/frame-guard.ts';
import { closeClient, connectAs, envelope, startTestHub } from './support/test-hub.ts';

describe('MQTT frame size guard', () => {
  it('follows packet boundaries across chunks and flags only the oversize announcement', async () => {
    const seen: number[] = [];
    const guard = new FrameGuard(1000, (n) => seen.push(n));
    // PINGREQ (c0 00), a 300-byte packet split over two chunks, then one announcing 2,000,000 bytes.
    const body = Buffer.alloc(300, 1);
    expect(guard.scan(Buffer.from([0xc0, 0x00, 0x30, 0xac, 0x02]))).toBe(true);
    expect(guard.scan(body.subarray(0, 100))).toBe(true);
    expect(guard.scan(Buffer.concat([body.subarray(100), Buffer.from([0x30, 0x80, 0x89, 0x7a])]))).toBe(false);
    expect(seen).toEqual([2_000_000]);
    expect(guard.scan(Buffer.from([0xc0, 0x00]))).toBe(false); // nothing after the refusal
  });

  describe('in the hub', () => {
    let hub: HubHandle;
    beforeAll(async () => { hub = await startTestHub({ mqttMaxPayloadBytes: 4096 }); });
    afterAll(async () => { await hub?.stop(); });

    it('closes a connection that announces a giant packet without buffering it, and keeps serving others', async () => {
      const port = Number(new URL(hub.mqttUrl!).port);
      const sock = connect(port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      const closed = new Promise<void>((r) => sock.once('close', () => r()));
      sock.on('error', () => undefined);
      // A PUBLISH header announcing 200 MB, then a trickle of body that must not be awaited.
      sock.write(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x64]));
      sock.write(Buffer.alloc(1024));
      await closed;
      const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(/shaobing_messages_rejected_total\{reason="too_large"\} 1/);

      const bin = await connectAs(hub, 't1/bin-1');
      const msg = envelope('bin.telemetry', { fillPct: 3 });
      await bin.publishAsync('shaobing/v1/t1/bin/bin-1/telemetry', JSON.stringify(msg), { qos: 1 });
      expect(await hub.db.query('SELECT 1 FROM events WHERE msg_id = $1', [msg.id])).toHaveLength(1);
      await closeClient(bin);
    });
  });
});
