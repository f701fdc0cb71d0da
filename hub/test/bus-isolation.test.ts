import { Writable } from 'node:stream';
import type { RuleDecision, Ticket } from '@shaobing/schemas';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubBus } from '../src/bus.ts';
import type { HubHandle } from '../src/hub.ts';
import { login, startTestHub } from './support/test-hub.ts';
import { fakeEvent, openedChange } from './live-support.ts';

/*
 * Producers emit after COMMIT: a listener that throws must neither fail the producer nor
 * starve the other listeners; it is logged under its owner's name.
 */
describe('bus listeners are isolated', () => {
  it('a throwing or rejecting listener is logged by owner; the emitter and the other listeners carry on', async () => {
    const lines: Array<{ listener?: string; event?: string; msg?: string }> = [];
    const log = pino({ level: 'error' }, new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } }));
    const bus = new HubBus(log);
    const seen: string[] = [];
    bus.on('ticket.changed', () => { throw new Error('boom'); }, 'sync-thrower');
    bus.on('ticket.changed', async () => { throw new Error('later boom'); }, 'async-thrower');
    bus.on('ticket.changed', (c) => { seen.push(c.ticketId); }, 'counter');
    expect(() => bus.emit('ticket.changed', openedChange('t9', 'a'))).not.toThrow();
    bus.emit('events.stored', [fakeEvent()]); // no listener: nothing happens
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['t9']);
    expect(Object.fromEntries(bus.failures)).toEqual({ 'sync-thrower': 1, 'async-thrower': 1 });
    expect(lines.map((l) => [l.listener, l.event])).toEqual([['sync-thrower', 'ticket.changed'], ['async-thrower', 'ticket.changed']]);
  });

  describe('in a running hub', () => {
    let hub: HubHandle;
    beforeAll(async () => { hub = await startTestHub(); });
    afterAll(async () => { await hub?.stop(); });

    it('an operator action whose listener throws after COMMIT still answers 200, and the action is stored', async () => {
      const d: RuleDecision = {
        kind: 'open', ruleId: 'bin-overflow', siteId: 't1', deviceId: 'bin-1', cellId: 'yard-1', dedupKey: 'bin-overflow:t1:bus',
        severity: 'normal', category: 'sanitation', deviceVerifiable: true, title: { 'zh-CN': '满溢', en: 'overflow' }, description: { 'zh-CN': '', en: '' },
        evidence: { eventKey: 't1/bin-1/bus', ts: new Date().toISOString(), type: 'bin.telemetry', deviceId: 'bin-1', summary: 'fill 90%' },
      };
      await hub.tickets.applyDecisions([d]);
      const [row] = await hub.db.query(`SELECT doc FROM tickets WHERE dedup_key = 'bin-overflow:t1:bus'`);
      const ticket = row!.doc as Ticket;
      hub.bus.on('ticket.changed', () => { throw new Error('listener bug'); }, 'faulty-listener');

      const res = await fetch(`${hub.httpUrl}/api/tickets/${ticket.id}/dispatch`, {
        method: 'POST', headers: { authorization: `Bearer ${await login(hub, 'admin')}`, 'content-type': 'application/json' }, body: '{}',
      });
      expect(res.status).toBe(200);
      const [after] = await hub.db.query('SELECT status, version FROM tickets WHERE id = $1', [ticket.id]);
      expect(after).toMatchObject({ status: 'dispatched', version: ticket.version + 1 });
      expect(hub.bus.failures.get('faulty-listener')).toBe(1);
    });
  });
});
