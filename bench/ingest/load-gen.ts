/**
 * Load generator of the ingest benchmark: runs in its own process (forked by the orchestrator),
 * so the clients' CPU is not the server's. Real mqtt.js clients, QoS 1, the contract's envelope.
 */
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import type { ClientSpec, FromLoadGen, LoadPlan, LoadResult, ToLoadGen } from './protocol.ts';

interface Conn { c: MqttClient; spec: ClientSpec; seq: number }

let conns: Conn[] = [];
let url = '';
let runId = '';

const send = (m: FromLoadGen): void => { process.send!(m); };

// ---- publish → ticket frame, seen on the hub's live WebSocket ----------------------------
let live: WebSocket | null = null;
/** Probe publish times per device, oldest first; a ticket frame for the device answers the oldest. */
const probeSentAt = new Map<string, number[]>();
let ticketLatencies: number[] = [];

interface LiveFrame { kind: string; seq?: number; payload?: { epoch?: string }; messages?: { kind: string; payload: { ticket?: { deviceId?: string } } }[] }

async function watch(httpUrl: string, username: string, password: string): Promise<void> {
  const res = await fetch(`${httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (!res.ok) throw new Error(`live login: HTTP ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  const ws = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (raw: Buffer) => {
      const at = performance.now();
      const f = JSON.parse(raw.toString()) as LiveFrame;
      if (f.kind === 'hello') {
        ws.send(JSON.stringify({ kind: 'resume', lastSeq: f.seq, epoch: f.payload?.epoch }));
        resolve();
      }
      for (const m of f.messages ?? []) {
        const device = m.kind === 'ticket' ? m.payload.ticket?.deviceId : undefined;
        const sent = device ? probeSentAt.get(device) : undefined;
        if (sent?.length) ticketLatencies.push(at - sent.shift()!);
      }
    });
  });
  live = ws;
}

function probe(conn: Conn): void {
  const id = `${runId}-${conn.spec.deviceId}-smoke-${++conn.seq}`;
  const body = JSON.stringify({ id, ts: new Date().toISOString(), type: 'charger.smoke', data: { port: 1 } });
  const list = probeSentAt.get(conn.spec.deviceId) ?? [];
  list.push(performance.now());
  probeSentAt.set(conn.spec.deviceId, list);
  conn.c.publish(conn.spec.topic.replace(/\/telemetry$/, '/event'), body, { qos: 1 });
}

function payload(conn: Conn): { id: string; body: string } {
  const n = ++conn.seq;
  const id = `${runId}-${conn.spec.deviceId}-${n}`;
  // ~220 bytes: a charger port's telemetry with its session id, as the contract defines it.
  const body = JSON.stringify({
    id, ts: new Date().toISOString(), type: 'charger.telemetry',
    data: { port: 1 + (n % 10), powerW: 180 + (n % 70), temperatureC: 31.5 + (n % 7), plugged: true, sessionId: `s-${conn.spec.deviceId}-${Math.floor(n / 50)}` },
  });
  return { id, body };
}

async function connectAll(clients: ClientSpec[], concurrency: number): Promise<number> {
  let failed = 0;
  let next = 0;
  const out: Conn[] = new Array(clients.length);
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, async () => {
    for (let i = next++; i < clients.length; i = next++) {
      const spec = clients[i]!;
      try {
        const c = await mqtt.connectAsync(url, { username: spec.username, password: spec.password, clientId: spec.username, reconnectPeriod: 0, connectTimeout: 30_000, keepalive: 120 });
        out[i] = { c, spec, seq: out[i]?.seq ?? 0 };
      } catch {
        failed++;
      }
    }
  }));
  conns = out.filter(Boolean);
  return failed;
}

async function runPlan(plan: LoadPlan): Promise<LoadResult> {
  const ackedIds: string[] = [];
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  let payloadBytes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  ticketLatencies = [];
  probeSentAt.clear();
  let probes = 0;
  const publish = async (conn: Conn, scheduledAt: number): Promise<void> => {
    const { id, body } = payload(conn);
    payloadBytes = body.length;
    sent++;
    try {
      await conn.c.publishAsync(conn.spec.topic, body, { qos: 1 });
      latencies.push(performance.now() - scheduledAt);
      ackedIds.push(id);
    } catch {
      failed++;
    }
  };
  if (plan.kind === 'closed') {
    const until = t0 + plan.ms;
    await Promise.all(conns.flatMap((conn) => Array.from({ length: plan.window }, async () => {
      while (performance.now() < until) await publish(conn, performance.now());
    })));
  } else {
    // Open loop: a 1 ms tick sends what the schedule says is due, round-robin over connections
    // (latency counts from the scheduled time, so a coarser tick would add up to its length to every figure).
    const pending: Promise<void>[] = [];
    const interval = 1000 / plan.ratePerSec;
    let due = 0;
    let rr = 0;
    const probeEvery = live ? plan.probeEveryMs : undefined;
    let nextProbe = probeEvery ?? Infinity;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now() - t0;
        const end = Math.min(now, plan.ms);
        while (due * interval <= end) {
          pending.push(publish(conns[rr++ % conns.length]!, t0 + due * interval));
          due++;
        }
        // One device per probe, round-robin: each opens (or adds to) its own ticket.
        if (now >= nextProbe && now < plan.ms) {
          probe(conns[probes++ % conns.length]!);
          nextProbe += probeEvery!;
        }
        if (now >= plan.ms) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    await Promise.all(pending);
  }
  const ms = performance.now() - t0;
  // Ticket frames still on their way (the rule, the ticket's commit, the feed) get a moment.
  const settleBy = performance.now() + 2_000;
  while (probes > 0 && ticketLatencies.length < probes && performance.now() < settleBy) await new Promise((r) => setTimeout(r, 20));
  const cpu = process.cpuUsage(cpu0);
  return { sent, acked: ackedIds.length, failed, ms, ackedIds, latencies, cpuUs: cpu.user + cpu.system, payloadBytes, probes, ticketLatencies: [...ticketLatencies] };
}

/** Every connection dropped and reconnected at once. */
async function storm(): Promise<{ ms: number; failed: number }> {
  const specs = conns.map((c) => c.spec);
  await Promise.all(conns.map((c) => new Promise<void>((r) => c.c.end(true, {}, () => r()))));
  const t0 = performance.now();
  const failed = await connectAll(specs, specs.length);
  return { ms: performance.now() - t0, failed };
}

process.on('message', (m: ToLoadGen) => {
  void (async () => {
    switch (m.cmd) {
      case 'connect': {
        url = m.url;
        runId = m.runId;
        const t0 = performance.now();
        const failed = await connectAll(m.clients, m.concurrency);
        send({ ev: 'connected', ms: performance.now() - t0, failed });
        break;
      }
      case 'run':
        send({ ev: 'result', result: await runPlan(m.plan) });
        break;
      case 'watch':
        await watch(m.httpUrl, m.username, m.password);
        send({ ev: 'watching' });
        break;
      case 'storm': {
        const r = await storm();
        send({ ev: 'stormed', ...r });
        break;
      }
      case 'exit':
        live?.close();
        await Promise.all(conns.map((c) => new Promise<void>((r) => c.c.end(true, {}, () => r()))));
        process.exit(0);
    }
  })().catch((err: unknown) => {
    console.error('load-gen:', err);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
