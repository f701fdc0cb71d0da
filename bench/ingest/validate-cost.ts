/**
 * CPU of the ingest's parse + validate step per message (`npx tsx bench/ingest/validate-cost.ts`),
 * with the unstorable-text walk forced on every payload against only on payloads holding a `\u`
 * escape (what ingest does). In-process, alternating, min and median of 12 runs of 200,000.
 */
import { parsePayload, validateMessage } from '../../hub/src/ingest/validate-message.ts';

const now = Date.now();
const bodies = Array.from({ length: 1000 }, (_, n) => Buffer.from(JSON.stringify({
  id: `r-chg-${n}`, ts: new Date(now).toISOString(), type: 'charger.telemetry',
  data: { port: 1 + (n % 10), powerW: 180 + (n % 70), temperatureC: 31.5 + (n % 7), plugged: true, sessionId: `s-chg-${Math.floor(n / 50)}` },
})));
const expect = { deviceId: 'chg-1', family: 'charger', channel: 'telemetry' } as const;

function run(walkAlways: boolean): number {
  const t0 = performance.now();
  for (let r = 0; r < 200; r++) {
    for (const b of bodies) {
      const p = parsePayload(b);
      if ('reason' in p) throw new Error(p.detail);
      const m = validateMessage(p.items[0], expect, now, walkAlways || p.escaped);
      if ('reason' in m) throw new Error(m.detail);
    }
  }
  return ((performance.now() - t0) * 1000) / (200 * bodies.length);
}

const always: number[] = [];
const onEscape: number[] = [];
for (let i = 0; i < 12; i++) {
  always.push(run(true));
  onEscape.push(run(false));
}
const fig = (xs: number[]): string => { const s = [...xs].sort((x, y) => x - y); return `${s[0]!.toFixed(2)} (median ${s[6]!.toFixed(2)})`; };
console.log(`parse + validate µs/msg, min of 12: walk on every payload ${fig(always)}; walk only on a \\u escape ${fig(onEscape)}`);
