/** The phone page's own catalogue (zh-CN first, en): kept apart from the board's. */
export const M_ZH = {
  'm.title': '哨兵 · 网格员', 'm.login': '登录', 'm.username': '网格员编号', 'm.password': '密码', 'm.logout': '退出',
  'm.mine': '我的工单', 'm.none': '暂无工单', 'm.back': '返回', 'm.left': '剩 {t}', 'm.overdue': '已超时 {t}',
  'm.respondBy': '响应时限', 'm.resolveBy': '办结时限', 'm.location': '位置', 'm.reading': '设备读数', 'm.evidence': '证据',
  'm.timeline': '处理记录', 'm.deliveries': '通知', 'm.note': '说明', 'm.reason': '求助原因', 'm.photo': '拍照/上传照片', 'm.grab': '抢单', 'm.photoNeeded': '办结须上传至少一张现场照片',
  'm.accept': '接单', 'm.arrive': '到场', 'm.resolve': '办结', 'm.escalate': '求助', 'm.submit': '提交', 'm.arrivedAt': '到场时间',
  'm.awaiting': '已办结，等待设备确认', 'm.uploaded': '已上传 {n} 张', 'm.error': '出错：{m}', 'm.offline': '网络断开，重连中…',
  'm.status.open': '待派单', 'm.status.dispatched': '待接单', 'm.status.accepted': '处理中', 'm.status.resolved': '已办结',
  'm.status.closed': '已关闭', 'm.status.dismissed': '已剔除', 'm.status.reopened': '再派件', 'm.lang': 'EN',
} as const;
export type MKey = keyof typeof M_ZH;
export const M_EN: Record<MKey, string> = {
  'm.title': 'Shaobing · Field', 'm.login': 'Sign in', 'm.username': 'Worker id', 'm.password': 'Password', 'm.logout': 'Sign out',
  'm.mine': 'My tickets', 'm.none': 'No tickets', 'm.back': 'Back', 'm.left': '{t} left', 'm.overdue': 'Overdue by {t}',
  'm.respondBy': 'Respond by', 'm.resolveBy': 'Resolve by', 'm.location': 'Location', 'm.reading': 'Device reading', 'm.evidence': 'Evidence',
  'm.timeline': 'Timeline', 'm.deliveries': 'Notifications', 'm.note': 'Note', 'm.reason': 'Why you need help', 'm.photo': 'Take/upload photo', 'm.grab': 'Take it (first come)', 'm.photoNeeded': 'Resolving needs at least one photo',
  'm.accept': 'Accept', 'm.arrive': 'Arrived', 'm.resolve': 'Resolve', 'm.escalate': 'Ask for help', 'm.submit': 'Submit', 'm.arrivedAt': 'Arrived at',
  'm.awaiting': 'Resolved, awaiting device confirmation', 'm.uploaded': '{n} photo(s) uploaded', 'm.error': 'Error: {m}', 'm.offline': 'Offline, reconnecting…',
  'm.status.open': 'Open', 'm.status.dispatched': 'To accept', 'm.status.accepted': 'In progress', 'm.status.resolved': 'Resolved',
  'm.status.closed': 'Closed', 'm.status.dismissed': 'Dismissed', 'm.status.reopened': 'Reopened', 'm.lang': '中文',
};
export type MLocale = 'zh-CN' | 'en';
export function mt(locale: MLocale, key: MKey, params: Record<string, string | number> = {}): string {
  const text = (locale === 'en' ? M_EN : M_ZH)[key];
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}
