import type { Category, Localized, Rule, Severity } from '@shaobing/schemas';

type AlertKind = 'smoke_fire' | 'ebike_in_elevator' | 'fire_lane_blocked' | 'thrown_object' | 'bin_overflow' | 'corridor_clutter' | 'illegal_parking' | 'mixed_garbage';

interface AlertDefault {
  kind: AlertKind;
  severity: Severity;
  category: Category;
  /** The camera can see the condition end (alert_cleared, or 10 min without a repeat). */
  autoClear: boolean;
  title: Localized;
  /** What to do, appended to the detection sentence. */
  action: Localized;
}

/**
 * Below this the edge model's guess is noise: the alert is stored as an event and opens nothing.
 * From here up to the site's review bar (aiReview, default 0.8) the ticket waits for 人工核准.
 */
export const CAMERA_ALERT_FLOOR = 0.6;

/**
 * 摄像头 AI-alert defaults (DESIGN §5): one rule per alert kind from CAMERA_ALERT_FLOOR up (the
 * ticket shell holds alerts under the site's 0.8 bar for review), repeats at
 * the same camera merge into the open ticket. Smoke/fire and thrown objects never clear by
 * themselves: a person must confirm what happened.
 */
const ALERTS: readonly AlertDefault[] = [
  { kind: 'smoke_fire', severity: 'critical', category: 'fire_safety', autoClear: false,
    title: { 'zh-CN': '烟火告警：{location}', en: 'Smoke or fire: {location}' },
    action: { 'zh-CN': '请立即到场核实处置，必要时拨打119。', en: 'Verify on site now; call 119 if needed.' } },
  { kind: 'ebike_in_elevator', severity: 'high', category: 'fire_safety', autoClear: true,
    title: { 'zh-CN': '电动车进电梯：{location}', en: 'E-bike in the elevator: {location}' },
    action: { 'zh-CN': '请劝导车主推出电梯，电动自行车严禁进楼入户。', en: 'Ask the rider to take it out: e-bikes must not be taken indoors.' } },
  { kind: 'fire_lane_blocked', severity: 'high', category: 'fire_safety', autoClear: true,
    title: { 'zh-CN': '消防通道被占用：{location}', en: 'Fire lane blocked: {location}' },
    action: { 'zh-CN': '请联系车主挪车，保持消防通道畅通。', en: 'Have the vehicle moved and keep the lane clear.' } },
  { kind: 'thrown_object', severity: 'high', category: 'security', autoClear: false,
    title: { 'zh-CN': '高空抛物：{location}', en: 'Object thrown from height: {location}' },
    action: { 'zh-CN': '请到场查看有无人员受伤或财物受损，并调取录像追查。', en: 'Check for injuries or damage and review the footage.' } },
  { kind: 'bin_overflow', severity: 'normal', category: 'sanitation', autoClear: true,
    title: { 'zh-CN': '垃圾满溢：{location}', en: 'Overflowing bins: {location}' },
    action: { 'zh-CN': '请安排保洁清运。', en: 'Please send cleaning staff.' } },
  { kind: 'corridor_clutter', severity: 'normal', category: 'fire_safety', autoClear: true,
    title: { 'zh-CN': '楼道堆物：{location}', en: 'Corridor clutter: {location}' },
    action: { 'zh-CN': '杂物堵塞疏散通道，请通知住户清理。', en: 'It blocks the escape route; ask the residents to clear it.' } },
  { kind: 'illegal_parking', severity: 'normal', category: 'order', autoClear: true,
    title: { 'zh-CN': '违规停车：{location}', en: 'Illegal parking: {location}' },
    action: { 'zh-CN': '请联系车主挪车。', en: 'Please have the vehicle moved.' } },
  { kind: 'mixed_garbage', severity: 'normal', category: 'sanitation', autoClear: true,
    title: { 'zh-CN': '垃圾混投：{location}', en: 'Unsorted garbage: {location}' },
    action: { 'zh-CN': '请桶站值守人员二次分拣，并做好分类宣传。', en: 'Station staff: please re-sort it and remind residents how to sort.' } },
];

const KIND_LABEL: Record<AlertKind, Localized> = {
  smoke_fire: { 'zh-CN': '烟雾或明火', en: 'smoke or fire' },
  ebike_in_elevator: { 'zh-CN': '电动自行车进入电梯', en: 'an e-bike in the elevator' },
  fire_lane_blocked: { 'zh-CN': '消防通道被占用', en: 'a blocked fire lane' },
  thrown_object: { 'zh-CN': '高空抛物', en: 'an object thrown from height' },
  bin_overflow: { 'zh-CN': '垃圾桶满溢', en: 'overflowing bins' },
  corridor_clutter: { 'zh-CN': '楼道堆放杂物', en: 'clutter in the corridor' },
  illegal_parking: { 'zh-CN': '车辆违规停放', en: 'an illegally parked vehicle' },
  mixed_garbage: { 'zh-CN': '垃圾未分类投放', en: 'unsorted garbage' },
};

const QUIET_MS = 10 * 60_000;

function alertRule(a: AlertDefault): Rule {
  const label = KIND_LABEL[a.kind];
  const closes: Localized = a.autoClear
    ? { 'zh-CN': '画面中告警消失或 {for} 内未再出现后自动销单。', en: 'The ticket closes itself when the camera no longer sees it (or after {for} without a repeat).' }
    : { 'zh-CN': '须人工核实后办结。', en: 'An operator must confirm and close it.' };
  return {
    id: `camera.${a.kind}`, family: 'camera', kind: 'match', enabled: true,
    severity: a.severity, category: a.category, dedupScope: 'device', deviceVerifiable: a.autoClear, valueField: 'confidence',
    on: { type: 'camera.alert', where: [{ field: 'kind', op: 'eq', value: a.kind }, { field: 'confidence', op: 'gte', value: CAMERA_ALERT_FLOOR }] },
    ...(a.autoClear ? { clearOn: { type: 'camera.alert_cleared', where: [{ field: 'kind', op: 'eq', value: a.kind }] }, quietMs: QUIET_MS } : {}),
    title: a.title,
    description: {
      'zh-CN': `摄像头 {device} 识别到${label['zh-CN']}（置信度 {value}）。${a.action['zh-CN']}${closes['zh-CN']}`,
      en: `Camera {device} detected ${label.en} (confidence {value}). ${a.action.en} ${closes.en}`,
    },
  };
}

export const CAMERA_RULES: readonly Rule[] = [
  ...ALERTS.map(alertRule),
  {
    id: 'camera.offline', family: 'camera', kind: 'offline', enabled: true,
    severity: 'normal', category: 'equipment', dedupScope: 'device', deviceVerifiable: true, forMs: 10 * 60_000,
    title: { 'zh-CN': '摄像头离线：{location}', en: 'Camera offline: {location}' },
    description: {
      'zh-CN': '摄像头 {device} 已超过 {for} 没有任何消息，AI 识别已中断，请检查供电和网络。恢复上线后自动销单。',
      en: 'Camera {device} has sent nothing for more than {for}, so its AI alerts are off. Please check its power and network. The ticket closes itself when it is back online.',
    },
  },
];
