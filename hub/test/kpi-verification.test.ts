import { describe, expect, it } from 'vitest';
import type { Ticket } from '@shaobing/schemas';
import { computeKpis, computeStreetKpis, rate, verificationOf } from '../src/kpi/core/index.ts';
import { reportWorkbook } from '../src/kpi/report-excel.ts';
import ExcelJS from 'exceljs';
import { unconfirmedResolutions } from '../src/tickets/core/index.ts';
import { DISPATCHER, evidence, HOUR, INDEX, makeTicket, MIN, must, SYSTEM } from './tickets-fixtures.ts';

// The 解决率 counts proven resolutions only (issue 9 item 5): device-verified and photo-evidenced.
// Hand-built histories through the real state machine; every figure worked out by hand.
const D = Date.parse('2026-03-02T00:00:00.000Z');
const P = { from: D, to: D + 24 * HOUR };
const NOW = D + 25 * HOUR;

const accept = (t: Ticket, at: number): Ticket => must(must(t, { kind: 'dispatch' }, DISPATCHER, at - MIN), { kind: 'accept' }, DISPATCHER, at);
const bin = (at: number): Ticket => makeTicket({ severity: 'normal', deviceVerifiable: true }, at);
const complaint = (at: number): Ticket => makeTicket({ severity: 'normal', deviceVerifiable: false, origin: 'complaint' }, at);

function day(): Ticket[] {
  // a: the bin's sensor saw it emptied after the cleaner accepted → device.
  const a = must(accept(bin(D + 8 * HOUR), D + 8.5 * HOUR), { kind: 'resolve_by_device', evidence: evidence(1) }, SYSTEM, D + 9 * HOUR);
  // b: the cleaner resolved by hand, the bin's next reading confirmed it → device.
  let b = must(accept(bin(D + 8 * HOUR), D + 8.5 * HOUR), { kind: 'resolve', note: '已清运' }, DISPATCHER, D + 9 * HOUR);
  b = must(b, { kind: 'confirm_by_device', evidence: evidence(2) }, SYSTEM, D + 9 * HOUR + MIN);
  // c: resolved by hand, the device has not confirmed yet → unverified (awaiting), not in the 解决率.
  const c = must(accept(bin(D + 10 * HOUR), D + 10.5 * HOUR), { kind: 'resolve', note: '已清运' }, DISPATCHER, D + 11 * HOUR);
  // d: a complaint resolved with a photo → photo.
  const d = must(accept(complaint(D + 9 * HOUR), D + 9.5 * HOUR), { kind: 'resolve', note: '已处理', photos: ['att-1'] }, DISPATCHER, D + 10 * HOUR);
  // e: a complaint resolved with a note only (the site waived photos) → unverified.
  const e = must(accept(complaint(D + 9 * HOUR), D + 9.5 * HOUR), { kind: 'resolve', note: '已处理' }, DISPATCHER, D + 10 * HOUR);
  // f: still open.
  const f = complaint(D + 12 * HOUR);
  return [a, b, c, d, e, f];
}

describe('解决率 and the three kinds of resolution', () => {
  it('verificationOf: device, photo, unverified (awaiting device included), null when not resolved', () => {
    const [a, b, c, d, e, f] = day();
    expect([a, b, c, d, e, f].map((t) => verificationOf(t!))).toEqual(['device', 'device', 'unverified', 'photo', 'unverified', null]);
  });

  it('tickets stored before `verification` existed are judged by who resolved them and their photos', () => {
    const [a, , , d, e] = day();
    const strip = (t: Ticket): Ticket => {
      const { verification: _v, ...rest } = t.resolution!;
      return { ...t, resolution: rest };
    };
    expect([strip(a!), strip(d!), strip(e!)].map(verificationOf)).toEqual(['device', 'photo', 'unverified']);
  });

  it('the 解决率 counts device + photo only; each kind is reported and drillable', () => {
    const h = day();
    const k = computeKpis(h, P, NOW);
    expect(k.resolutionRate).toEqual(rate(3, 6)); // a, b, d of six (c, e resolved but unproven; f open)
    expect([k.resolvedDevice, k.resolvedPhoto, k.resolvedUnverified]).toEqual([2, 1, 2]);
    const { report, drill } = computeStreetKpis(h, P, NOW, new Map([['site1', { name: '一号站', index: INDEX }]]));
    expect(report.total.resolutionRate).toEqual(rate(3, 6));
    expect([report.total.resolvedDevice, report.total.resolvedPhoto, report.total.resolvedUnverified]).toEqual([2, 1, 2]);
    expect(drill('total', '', 'resolved')).toEqual([h[0]!.id, h[1]!.id, h[3]!.id]);
    expect(drill('total', '', 'resolvedDevice')).toEqual([h[0]!.id, h[1]!.id]);
    expect(drill('total', '', 'resolvedPhoto')).toEqual([h[3]!.id]);
    expect(drill('total', '', 'resolvedUnverified')).toEqual([h[2]!.id, h[4]!.id]);
    expect(drill('total', '', 'unresolved')).toEqual([h[2]!.id, h[4]!.id, h[5]!.id]);
  });

  it('a fake closure that reopens leaves the 解决率 and the resolved lists', () => {
    const [, , c] = day();
    const at = D + 11 * HOUR + 3 * MIN; // past confirmBy (2 min)
    const [due] = unconfirmedResolutions([c!], at, () => 'fill 93%');
    const reopened = must(c!, due!.action, SYSTEM, at);
    expect(reopened.status).toBe('reopened');
    const k = computeKpis([reopened], P, NOW);
    expect(k.resolutionRate).toEqual(rate(0, 1));
    expect(k.resolvedUnverified).toBe(0);
  });

  it('the report workbook has a column per kind', async () => {
    const { report } = computeStreetKpis(day(), P, NOW, new Map([['site1', { name: '一号站', index: INDEX }]]));
    const wb = new ExcelJS.Workbook();
    const bytes = await reportWorkbook('日报', report);
    await wb.xlsx.load(new Uint8Array(bytes).buffer);
    const sheet = wb.getWorksheet('总览')!;
    const header = (sheet.getRow(4).values as ExcelJS.CellValue[]).slice(1);
    const values = (sheet.getRow(5).values as ExcelJS.CellValue[]).slice(1);
    const col = (name: string): ExcelJS.CellValue => values[header.indexOf(name)];
    expect(col('解决率%')).toBe(50);
    expect([col('设备核验'), col('照片佐证'), col('未核验')]).toEqual([2, 1, 2]);
  });
});
