import { fork } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenBroker, type BrokerListeners } from '../src/broker/broker.ts';

/*
 * A reconnect storm: many devices connect while the hub is busy (here: its event loop blocked,
 * so nothing is accepted). The kernel completes the TCP handshakes itself as long as the
 * listener's accept queue has room; past it, SYNs are dropped and those devices wait for TCP's
 * retransmission (1 s, then 3, 7, 15, 31 s). With Node's default queue (511) 10,000 devices took
 * ~30 s to come back; the listener's queue must hold a storm.
 */
const STORM = 1200;
const CHILD = `
const net = require('node:net');
process.on('message', ({ port, n }) => {
  const socks = [];
  let connected = 0;
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1', () => { connected++; });
    s.on('error', () => {});
    socks.push(s);
  }
  // Before the first SYN retransmission (1 s): a dropped SYN has not been retried yet.
  setTimeout(() => { process.send({ connected }); for (const s of socks) s.destroy(); }, 800);
});
process.send('ready');
`;

describe('broker listener under a connect storm', () => {
  let broker: Aedes;
  let listeners: BrokerListeners;

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    listeners = await listenBroker(broker, '127.0.0.1', 0, null, { maxFrameBytes: 65_536, onTooLarge: () => undefined });
  });
  afterAll(async () => {
    await listeners?.close();
    await new Promise<void>((r) => broker.close(() => r()));
  });

  it(`holds ${STORM} connections that arrive while the hub accepts none`, async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'shaobing-storm-')), 'storm.cjs');
    writeFileSync(file, CHILD);
    const child = fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      await new Promise<void>((r) => child.once('message', () => r()));
      const result = new Promise<{ connected: number }>((r) => child.once('message', (m) => r(m as { connected: number })));
      child.send({ port: listeners.tcpPort, n: STORM });
      // The hub is busy: its event loop accepts nothing while the storm arrives.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_000);
      const { connected } = await result;
      expect(connected).toBe(STORM);
    } finally {
      child.kill();
    }
  }, 30_000);
});
