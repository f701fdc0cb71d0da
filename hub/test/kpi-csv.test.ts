import { describe, expect, it } from 'vitest';
import { csvCell, rankingCsvRows, seasonalCsvRows, toCsv } from '../src/kpi/core/index.ts';

describe('toCsv (RFC 4180)', () => {
  it('joins with commas and CRLF, quotes only when needed', () => {
    expect(toCsv([['a', 'b'], [1, 2.5]])).toBe('a,b\r\n1,2.5\r\n');
    expect(toCsv([])).toBe('');
    expect(csvCell('x,y')).toBe('"x,y"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"');
    expect(csvCell('社区一')).toBe('社区一');
  });

  it('empty for null, undefined and non-finite numbers; booleans as words', () => {
    expect(toCsv([[null, undefined, Number.NaN, Infinity, true, false]])).toBe(',,,,true,false\r\n');
  });

  it('defuses formula injection in text cells', () => {
    expect(csvCell('=HYPERLINK("http://evil")')).toBe('"\'=HYPERLINK(""http://evil"")"');
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tcmd')).toBe("'\tcmd");
    expect(csvCell('a=b')).toBe('a=b');
    // Our own numbers are data, not formulas.
    expect(csvCell(-3)).toBe('-3');
  });

  it('exports a ranking with percentages', () => {
    const rows = rankingCsvRows([{
      id: 'w-1', rank: 1, tickets: 3, overdue: 0,
      responseRate: { value: 2 / 3, numerator: 2, denominator: 3 },
      resolutionRate: { value: 1, numerator: 3, denominator: 3 },
      satisfactionRate: { value: null, numerator: 0, denominator: 0 },
      resolvedDevice: 2, resolvedPhoto: 1, resolvedUnverified: 0,
    }, {
      // A report stored before the split: its cells stay blank, not 0.
      id: 'w-2', rank: 2, tickets: 1, overdue: 1,
      responseRate: { value: 0, numerator: 0, denominator: 1 },
      resolutionRate: { value: 0, numerator: 0, denominator: 1 },
      satisfactionRate: { value: null, numerator: 0, denominator: 0 },
    }], (id) => (id === 'w-1' ? '张网格' : id), '测试街道');
    expect(toCsv(rows)).toBe('site,rank,name,id,tickets,response_rate_pct,resolution_rate_pct,satisfaction_rate_pct,overdue,resolved_device,resolved_photo,resolved_unverified\r\n'
      + '测试街道,1,张网格,w-1,3,66.67,100,,0,2,1,0\r\n测试街道,2,w-2,w-2,1,0,0,,1,,,\r\n');
  });
});

describe('the seasonal warnings section of a report CSV', () => {
  it('follows the ranking after a blank line, header always, names and reasons in Chinese, formulas guarded', () => {
    expect(toCsv(seasonalCsvRows([]))).toBe('\r\nsite,seasonal_warning_category,place,basis,ratio,tickets,reason\r\n');
    const csv = toCsv(seasonalCsvRows([{
      site: '测试街道',
      warning: { category: 'fire_safety', placeId: 'P1', placeName: '=HYPERLINK("x")', basis: 'same_weeks_earlier_year', ratio: 2.4444, count: 11, reason: { 'zh-CN': '一号院消防安全类工单往年同期 ×2.4', en: 'x' } },
    }]));
    expect(csv.split('\r\n')[2]).toBe('测试街道,消防安全,"\'=HYPERLINK(""x"")",往年同期,2.4,11,一号院消防安全类工单往年同期 ×2.4');
  });
});
