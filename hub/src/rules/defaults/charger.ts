import type { Rule } from '@shaobing/schemas';

/** 充电桩 e-bike charger defaults (DESIGN §5): per port where the message has one. */
export const CHARGER_RULES: readonly Rule[] = [
  {
    id: 'charger.overheat', family: 'charger', kind: 'threshold', enabled: true,
    severity: 'critical', category: 'fire_safety', dedupScope: 'device', deviceVerifiable: true, keyFields: ['port'],
    on: { type: 'charger.telemetry', where: [{ field: 'temperatureC', op: 'gte', value: 65 }] }, forMs: 0,
    clearWhen: [{ field: 'temperatureC', op: 'lt', value: 55 }],
    title: { 'zh-CN': '充电口过热：{location} {data.port}号口', en: 'Charging port overheating: {location}, port {data.port}' },
    description: {
      'zh-CN': '充电桩 {device} 第{data.port}号口温度 {value}℃（≥{threshold}℃），有起火风险，请立即远程断电并到场检查。温度恢复正常后设备自动销单。',
      en: 'Charger {device} port {data.port} is at {value} °C (≥ {threshold} °C): fire risk. Cut the power now and inspect it. The ticket closes itself when the temperature is back to normal.',
    },
  },
  {
    id: 'charger.smoke', family: 'charger', kind: 'match', enabled: true,
    severity: 'critical', category: 'fire_safety', dedupScope: 'device', deviceVerifiable: false,
    on: { type: 'charger.smoke' },
    title: { 'zh-CN': '充电桩冒烟：{location}', en: 'Smoke at charger: {location}' },
    description: {
      'zh-CN': '充电桩 {device} 检测到烟雾，请立即断电、疏散周边人员并到场处置，必要时拨打119。',
      en: 'Charger {device} detected smoke. Cut the power, keep people away and go now; call 119 if needed.',
    },
  },
  {
    id: 'charger.overload', family: 'charger', kind: 'threshold', enabled: true,
    severity: 'high', category: 'fire_safety', dedupScope: 'device', deviceVerifiable: true, keyFields: ['port'],
    on: { type: 'charger.telemetry', where: [{ field: 'powerW', op: 'gt', value: 1000 }] }, forMs: 0,
    clearWhen: [{ field: 'powerW', op: 'lte', value: 800 }],
    title: { 'zh-CN': '充电功率超限：{location} {data.port}号口', en: 'Charging overload: {location}, port {data.port}' },
    description: {
      'zh-CN': '充电桩 {device} 第{data.port}号口功率 {value}W（>{threshold}W），疑似改装电池或违规大功率充电，请到场检查。功率恢复正常后设备自动销单。',
      en: 'Charger {device} port {data.port} draws {value} W (> {threshold} W): possibly a modified battery. Please inspect. The ticket closes itself when the power is back to normal.',
    },
  },
  {
    // "< 30 W for 60 min, then still plugged 30 min": one declarative threshold held 90 min.
    id: 'charger.full_not_unplugged', family: 'charger', kind: 'threshold', enabled: true,
    severity: 'normal', category: 'order', dedupScope: 'device', deviceVerifiable: true, keyFields: ['port'],
    on: { type: 'charger.telemetry', where: [{ field: 'powerW', op: 'lt', value: 30 }, { field: 'plugged', op: 'eq', value: true }] },
    forMs: 90 * 60_000,
    clearWhen: [{ field: 'plugged', op: 'eq', value: false }], clearOn: { type: 'charger.session_stop' },
    title: { 'zh-CN': '充满未拔：{location} {data.port}号口', en: 'Charged but still plugged in: {location}, port {data.port}' },
    description: {
      'zh-CN': '充电桩 {device} 第{data.port}号口已充满（功率低于{threshold}W）且插头 {for} 未拔，占用充电口并有过充风险，请通知车主取车。拔出插头后自动销单。',
      en: 'Charger {device} port {data.port} has finished (below {threshold} W) but stayed plugged in for {for}, blocking the port and risking overcharge. Please tell the owner. The ticket closes itself when it is unplugged.',
    },
  },
  {
    id: 'charger.long_session', family: 'charger', kind: 'duration', enabled: true,
    severity: 'normal', category: 'fire_safety', dedupScope: 'device', deviceVerifiable: true, keyFields: ['port'],
    start: { type: 'charger.session_start' },
    stop: [{ type: 'charger.session_stop' }, { type: 'charger.telemetry', where: [{ field: 'plugged', op: 'eq', value: false }] }],
    forMs: 8 * 3600_000, onRepeatStart: 'restart',
    title: { 'zh-CN': '充电超时：{location} {data.port}号口', en: 'Charging too long: {location}, port {data.port}' },
    description: {
      'zh-CN': '充电桩 {device} 第{data.port}号口连续充电已超过 {for}，请提醒车主结束充电，防止过充起火。充电结束后自动销单。',
      en: 'Charger {device} port {data.port} has been charging for more than {for}. Remind the owner to stop, to avoid overcharging. The ticket closes itself when the session ends.',
    },
  },
  {
    id: 'charger.fault', family: 'charger', kind: 'match', enabled: true,
    severity: 'normal', category: 'equipment', dedupScope: 'device', deviceVerifiable: false,
    on: { type: 'charger.fault' },
    title: { 'zh-CN': '充电桩故障：{location}', en: 'Charger fault: {location}' },
    description: {
      'zh-CN': '充电桩 {device} 上报故障（代码 {data.code}），请安排维修人员检修。',
      en: 'Charger {device} reported fault code {data.code}. Please send maintenance.',
    },
  },
  {
    id: 'charger.offline', family: 'charger', kind: 'offline', enabled: true,
    severity: 'normal', category: 'equipment', dedupScope: 'device', deviceVerifiable: true, forMs: 30 * 60_000,
    title: { 'zh-CN': '充电桩离线：{location}', en: 'Charger offline: {location}' },
    description: {
      'zh-CN': '充电桩 {device} 已超过 {for} 没有心跳（正常每30秒一次），远程监测和断电已失效，请检查供电和网络。恢复上线后自动销单。',
      en: 'Charger {device} has missed its heartbeat (every 30 s) for more than {for}, so remote monitoring and cut-off are down. Please check its power and network. The ticket closes itself when it is back online.',
    },
  },
];
