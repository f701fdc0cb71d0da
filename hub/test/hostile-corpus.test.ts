import { readFileSync } from 'node:fs';
import { REJECT_REASONS } from '@shaobing/schemas';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../src/hub.ts';
import { Rng } from '../../simulators/src/random.ts';
import { closeClient, connectAs, envelope, eventually, startTestHub } from './support/test-hub.ts';

/*
 * The checked-in hostile corpus (hub/test/fixtures/hostile/corpus.json) and a seeded random
 * fuzzer, published by a real mqtt.js client to a real hub: nothing crashes, every case is
 * refused with its documented reason (the exact counter moves by one) or stored inert.
 */

interface Case { name: string; topic: string; payload: string; expect: (typeof REJECT_REASONS)[number] | 'accepted' }
const CORPUS = (JSON.parse(readFileSync(new URL('./fixtures/hostile/corpus.json', import.meta.url), 'utf8')) as { cases: Case[] }).cases;
const BIN = 't1/bin-1';

function payloadOf(c: Case, id: string): Buffer {
  if (c.payload.startsWith('hex:')) return Buffer.from(c.payload.slice(4), 'hex');
  const rep = /^repeat:(.):(\d+)$/.exec(c.payload);
  if (rep) return Buffer.from(rep[1]!.repeat(Number(rep[2])));
  return Buffer.from(c.payload.replaceAll('{id}', id).replaceAll('{now}', new Date().toISOString()));
}

async function counters(hub: HubHandle): Promise<Record<string, number>> {
  const text = await (await fetch(`${hub.httpUrl}/metrics`)).text();
  const out: Record<string, number> = { accepted: 0 };
  for (const m of text.matchAll(/^shaobing_messages_rejected_total\{reason="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  for (const m of text.matchAll(/^shaobing_messages_accepted_total\{[^}]*\} (\d+)$/gm)) out.accepted! += Number(m[1]);
  return out;
}

/** Publishes at QoS 1 and waits for the PUBACK or for the hub to close the connection. */
async function send(c: MqttClient, topic: string, payload: Buffer): Promise<'acked' | 'closed'> {
  return new Promise((resolve) => {
    const onClose = () => resolve('closed');
    c.once('close', onClose);
    c.publish(topic, payload, { qos: 1 }, (err) => {
      c.off('close', onClose);
      resolve(err ? 'closed' : 'acked');
    });
  });
}

describe('hostile corpus and fuzzer', () => {
  let hub: HubHandle;
  let client: MqttClient;
  beforeAll(async () => { hub = await startTestHub({ mqttRateLimitPerSec: 100_000 }); });
  afterAll(async () => {
    if (client) await closeClient(client);
    await hub?.stop();
  });

  async function connected(): Promise<MqttClient> {
    if (!client?.connected) {
      client = await connectAs(hub, BIN);
      client.on('error', () => undefined);
    }
    return client;
  }

  it(`refuses each of the ${CORPUS.length} corpus cases with its documented reason or stores it inert`, async () => {
    const results: [string, string][] = [];
    for (const [i, c] of CORPUS.entries()) {
      const id = `hostile-${i}`;
      const before = await counters(hub);
      const key = c.expect;
      const outcome = await send(await connected(), c.topic, payloadOf(c, id));
      const moved = await eventually(async () => {
        const after = await counters(hub);
        const changed = Object.keys(after).filter((k) => (after[k] ?? 0) !== (before[k] ?? 0));
        return changed.length ? changed.map((k) => `${k}+${(after[k] ?? 0) - (before[k] ?? 0)}`).join(',') : null;
      }, 5000).catch(() => 'nothing counted');
      results.push([c.name, `${moved}${key === 'forbidden_topic' ? ` ${outcome}` : ''}`]);
    }
    const expected = CORPUS.map((c) => [c.name, `${c.expect}+1${c.expect === 'forbidden_topic' ? ' closed' : ''}`]);
    expect(results).toEqual(expected);
    // Stored inert and verbatim: the injection strings are data, and nothing polluted a prototype.
    const accepted = CORPUS.map((c, i) => [c, payloadOf(c, `hostile-${i}`)] as const).filter(([c]) => c.expect === 'accepted');
    for (const [c, payload] of accepted) {
      const doc = JSON.parse(payload.toString('utf8')) as { id: string } | { id: string }[];
      const msgId = Array.isArray(doc) ? doc[0]!.id : doc.id;
      const rows = await hub.db.query<{ msg_id: string }>('SELECT msg_id FROM events WHERE msg_id = $1', [msgId]);
      expect([c.name, rows.length]).toEqual([c.name, 1]);
    }
    const [proto] = await hub.db.query<{ data: Record<string, unknown> }>(`SELECT data FROM events WHERE data::text LIKE '%polluted%'`);
    expect(Object.keys(proto!.data)).toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect((await fetch(`${hub.httpUrl}/healthz`)).status).toBe(200);
  });

  it('survives 400 seeded random mutations: each one stored or refused with a contract reason', async () => {
    const rng = new Rng('hostile-fuzz-1');
    const N = 400;
    const before = await counters(hub);
    const tokens = ['"', '\\', '{', '}', '[', ']', ',', ':', 'null', '1e999', '-', '\u0000', '\ud800', '__proto__', '"ts":', '9'.repeat(40)];
    for (let i = 0; i < N; i++) {
      const base = Buffer.from(JSON.stringify(envelope('bin.telemetry', { fillPct: rng.int(0, 100), temperatureC: 20 }, `fuzz-${i}`)));
      let bytes = Buffer.from(base);
      for (let k = rng.int(1, 4); k > 0; k--) {
        const at = rng.int(0, bytes.length - 1);
        switch (rng.int(0, 3)) {
          case 0: bytes[at] = rng.int(0, 255); break; // random byte
          case 1: bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + rng.int(1, 8)))]); break; // delete
          case 2: bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(rng.pick(tokens)), bytes.subarray(at)]); break; // insert
          default: bytes = bytes.subarray(0, at); // truncate
        }
      }
      expect(await send(await connected(), 'shaobing/v1/t1/bin/bin-1/telemetry', bytes)).toBe('acked');
    }
    const after = await eventually(async () => {
      const a = await counters(hub);
      const total = Object.keys(a).reduce((s, k) => s + (a[k]! - (before[k] ?? 0)), 0);
      return total >= N ? a : null;
    });
    const delta: Record<string, number> = {};
    for (const k of Object.keys(after)) if (after[k] !== (before[k] ?? 0)) delta[k] = after[k]! - (before[k] ?? 0);
    // Every mutation is accounted for exactly once, under a reason of the contract.
    expect(Object.values(delta).reduce((s, v) => s + v, 0)).toBe(N);
    for (const k of Object.keys(delta)) expect(['accepted', ...REJECT_REASONS]).toContain(k);
    expect((await fetch(`${hub.httpUrl}/healthz`)).status).toBe(200);
    console.log(`[fuzz] ${N} mutations (seed hostile-fuzz-1): ${JSON.stringify(delta)}`);
  });
});
