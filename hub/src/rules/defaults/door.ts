import type { Rule } from '@shaobing/schemas';

/** 门禁 door-access defaults (DESIGN §5). Data only; per-site overrides go in RULES_FILE. */
export const DOOR_RULES: readonly Rule[] = [
  {
    // What a control room wants: the controller's own held_open alarm comes late or not at all
    // on many models, so we time opened → closed ourselves.
    id: 'door.held_open', family: 'door', kind: 'duration', enabled: true,
    severity: 'normal', category: 'security', dedupScope: 'device', deviceVerifiable: true, dedupGroup: 'door.held_open',
    start: { type: 'door.opened' }, stop: [{ type: 'door.closed' }], forMs: 60_000, onRepeatStart: 'keep',
    title: { 'zh-CN': '单元门长时间未关：{location}', en: 'Door held open: {location}' },
    description: {
      'zh-CN': '门禁 {device} 开门后超过 {for} 未关闭，存在尾随进入等安全隐患，请到场关门并查明原因。门关闭后自动销单。',
      en: 'Door {device} has stayed open for more than {for}: risk of tailgating. Please close it and find out why. The ticket closes itself when the door reports closed.',
    },
  },
  {
    // The controller's own alarm: same ticket as door.held_open (shared dedup group).
    id: 'door.held_open_reported', family: 'door', kind: 'match', enabled: true,
    severity: 'normal', category: 'security', dedupScope: 'device', deviceVerifiable: true, dedupGroup: 'door.held_open',
    on: { type: 'door.held_open', where: [{ field: 'durationS', op: 'gt', value: 60 }] }, clearOn: { type: 'door.closed' },
    title: { 'zh-CN': '单元门长时间未关：{location}', en: 'Door held open: {location}' },
    description: {
      'zh-CN': '门禁 {device} 报告门已持续打开 {value} 秒，请到场关门并查明原因。门关闭后自动销单。',
      en: 'Door {device} reports it has been open for {value} s. Please close it and find out why. The ticket closes itself when the door reports closed.',
    },
  },
  {
    id: 'door.forced', family: 'door', kind: 'match', enabled: true,
    severity: 'critical', category: 'security', dedupScope: 'device', deviceVerifiable: false,
    on: { type: 'door.forced' },
    title: { 'zh-CN': '门被强行打开：{location}', en: 'Door forced open: {location}' },
    description: {
      'zh-CN': '门禁 {device} 检测到未经授权的强行开门，请安保人员立即到场核查并调取监控。',
      en: 'Door {device} was opened without authorisation. Security staff: go and check now, and review the camera footage.',
    },
  },
  {
    id: 'door.tamper', family: 'door', kind: 'match', enabled: true,
    severity: 'high', category: 'security', dedupScope: 'device', deviceVerifiable: false,
    on: { type: 'door.tamper' },
    title: { 'zh-CN': '门禁设备被破坏：{location}', en: 'Door controller tampered with: {location}' },
    description: {
      'zh-CN': '门禁 {device} 触发防拆报警，设备可能被撬动或破坏，请到场检查。',
      en: 'The tamper switch of door controller {device} tripped: it may have been pried open or damaged. Please inspect it.',
    },
  },
  {
    id: 'door.denied_burst', family: 'door', kind: 'count', enabled: true,
    severity: 'high', category: 'security', dedupScope: 'device', deviceVerifiable: false,
    on: { type: 'door.access_denied' }, minCount: 5, windowMs: 120_000,
    title: { 'zh-CN': '频繁刷卡失败：{location}', en: 'Repeated access denied: {location}' },
    description: {
      'zh-CN': '门禁 {device} 在 {window} 内被拒绝开门 {count} 次，疑似有人试图非法进入，请安保人员到场核查。',
      en: 'Door {device} refused access {count} times within {window}: someone may be trying to get in. Security staff: please check.',
    },
  },
  {
    id: 'door.elderly_inactivity', family: 'door', kind: 'absence', enabled: true,
    severity: 'high', category: 'care', dedupScope: 'unit', deviceVerifiable: true,
    activity: ['door.opened', 'door.closed', 'door.access_granted', 'door.held_open'], forMs: 24 * 3600_000, requireElderlyCare: true,
    title: { 'zh-CN': '关爱提醒：独居老人单元 {for} 无开门记录', en: 'Welfare check: no door activity for {for}' },
    description: {
      'zh-CN': '关爱单元（{location}）的门禁 {device} 已连续 {for} 没有任何开门记录，请网格员尽快上门或电话探望老人。有开门记录后自动销单。',
      en: 'The door {device} of a care unit ({location}) has had no activity for {for}. Grid worker: please visit or call the elderly resident. The ticket closes itself when the door is used again.',
    },
  },
  {
    id: 'door.offline', family: 'door', kind: 'offline', enabled: true,
    severity: 'normal', category: 'equipment', dedupScope: 'device', deviceVerifiable: true, forMs: 10 * 60_000,
    title: { 'zh-CN': '门禁离线：{location}', en: 'Door controller offline: {location}' },
    description: {
      'zh-CN': '门禁 {device} 已超过 {for} 没有任何消息，请检查供电和网络。设备恢复上线后自动销单。',
      en: 'Door controller {device} has sent nothing for more than {for}. Please check its power and network. The ticket closes itself when it is back online.',
    },
  },
];
