import ExcelJS from 'exceljs';
import type { KpiDimension, KpiFigures, Rate, SeasonalWarning, StreetKpis } from '@shaobing/schemas';
import { CATEGORY_LABEL } from '../tickets/core/complaint.ts';
import { WARNING_BASIS_ZH } from './core/csv.ts';

const pct = (r: Rate): number | null => (r.value === null ? null : Math.round(r.value * 10000) / 100);
const minutes = (ms: number | null): number | null => (ms === null ? null : Math.round(ms / 6000) / 10);

/** The columns of every sheet: the figures a street office posts, in its words. */
const COLUMNS: ReadonlyArray<{ header: string; width: number; value: (f: KpiFigures) => number | null }> = [
  { header: '工单数', width: 8, value: (f) => f.tickets },
  { header: '响应率%', width: 9, value: (f) => pct(f.responseRate) },
  { header: '解决率%', width: 9, value: (f) => pct(f.resolutionRate) },
  { header: '设备核验', width: 9, value: (f) => f.resolvedDevice },
  { header: '照片佐证', width: 9, value: (f) => f.resolvedPhoto },
  { header: '未核验', width: 8, value: (f) => f.resolvedUnverified },
  { header: '满意率%', width: 9, value: (f) => pct(f.satisfactionRate) },
  { header: '双是率%', width: 9, value: (f) => pct(f.doubleYesRate) },
  { header: '见面率%', width: 9, value: (f) => pct(f.visitRate) },
  { header: '剔除率%', width: 9, value: (f) => pct(f.dismissalRate) },
  { header: '自动核销', width: 9, value: (f) => f.autoResolved },
  { header: '诉求数', width: 8, value: (f) => f.complaints },
  { header: '万人诉求率', width: 11, value: (f) => (f.complaintsPer10k === null ? null : Math.round(f.complaintsPer10k * 100) / 100) },
  { header: '超期', width: 7, value: (f) => f.overdue },
  { header: '平均响应(分钟)', width: 13, value: (f) => minutes(f.meanTimeToRespondMs) },
  { header: '响应中位数(分钟)', width: 14, value: (f) => minutes(f.medianTimeToRespondMs) },
  { header: '平均办结(分钟)', width: 13, value: (f) => minutes(f.meanTimeToResolveMs) },
];

const SHEETS: ReadonlyArray<[KpiDimension, string]> = [
  ['community', '社区排名'], ['compound', '楼院排名'], ['worker', '网格员绩效'], ['category', '类别'], ['propertyCompany', '物业公司'], ['site', '站点'],
];

/**
 * A report as an .xlsx workbook (exceljs): an overview sheet, then one ranked sheet per group,
 * names (not ids) in the first columns, rates in percent; last, the seasonal warnings (季节性预警)
 * for the weeks after the period, each with its reason. Strings are written as strings, so a
 * resident's "=cmd" is never a formula.
 */
export async function reportWorkbook(title: string, report: StreetKpis, warnings: ReadonlyArray<{ site: string; warning: SeasonalWarning }> = []): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Shaobing 哨兵';
  wb.created = new Date(report.generatedAt);
  const overview = wb.addWorksheet('总览');
  overview.addRow([title]).font = { bold: true, size: 14 };
  overview.addRow(['统计区间', report.period.from, report.period.to]);
  overview.addRow([]);
  overview.addRow(COLUMNS.map((c) => c.header)).font = { bold: true };
  overview.addRow(COLUMNS.map((c) => c.value(report.total)));
  for (const [dim, name] of SHEETS) {
    const ws = wb.addWorksheet(name);
    ws.columns = [{ header: '名次', width: 6 }, { header: '名称', width: 24 }, ...COLUMNS.map((c) => ({ header: c.header, width: c.width }))];
    ws.getRow(1).font = { bold: true };
    for (const r of report.groups[dim]) ws.addRow([r.rank, r.name, ...COLUMNS.map((c) => c.value(r.figures))]);
  }
  const ws = wb.addWorksheet('季节性预警');
  ws.columns = [
    { header: '站点', width: 14 }, { header: '类别', width: 10 }, { header: '地点', width: 20 }, { header: '依据', width: 10 },
    { header: '倍数', width: 7 }, { header: '工单数', width: 8 }, { header: '原因', width: 70 },
  ];
  ws.getRow(1).font = { bold: true };
  for (const { site, warning: w } of warnings) {
    ws.addRow([site, CATEGORY_LABEL[w.category]['zh-CN'], w.placeName, WARNING_BASIS_ZH[w.basis], Math.round(w.ratio * 10) / 10, w.count, w.reason['zh-CN']]);
  }
  if (warnings.length === 0) ws.addRow(['暂无预警']);
  return Buffer.from(await wb.xlsx.writeBuffer());
}
