import type { Rule } from '@shaobing/schemas';

/** 垃圾桶 garbage-bin defaults (DESIGN §5). Sanitation tickets route to the cleaning team. */
export const BIN_RULES: readonly Rule[] = [
  {
    id: 'bin.full', family: 'bin', kind: 'threshold', enabled: true,
    severity: 'normal', category: 'sanitation', dedupScope: 'device', deviceVerifiable: true,
    on: { type: 'bin.telemetry', where: [{ field: 'fillPct', op: 'gte', value: 80 }] }, forMs: 120_000,
    // Hysteresis: a bin hovering around 80 % must not flap; only an emptied bin closes the ticket.
    clearWhen: [{ field: 'fillPct', op: 'lt', value: 30 }], clearOn: { type: 'bin.emptied' },
    title: { 'zh-CN': '垃圾桶将满：{location}', en: 'Bin nearly full: {location}' },
    description: {
      'zh-CN': '垃圾桶 {device} 满溢度 {value}%（≥{threshold}%）已持续 {for}，请安排保洁清运。清空后设备自动销单。',
      en: 'Bin {device} has been {value}% full (≥ {threshold}%) for {for}. Please send cleaning staff. The ticket closes itself when the sensor reads the bin empty.',
    },
  },
  {
    id: 'bin.hot', family: 'bin', kind: 'threshold', enabled: true,
    severity: 'critical', category: 'fire_safety', dedupScope: 'device', deviceVerifiable: true,
    on: { type: 'bin.telemetry', where: [{ field: 'temperatureC', op: 'gte', value: 60 }] }, forMs: 0,
    clearWhen: [{ field: 'temperatureC', op: 'lt', value: 45 }],
    title: { 'zh-CN': '垃圾桶高温（疑似起火）：{location}', en: 'Bin overheating (possible fire): {location}' },
    description: {
      'zh-CN': '垃圾桶 {device} 内温度达 {value}℃（≥{threshold}℃），疑似有烟头等火源或阴燃，请立即到场处置。温度恢复正常后设备自动销单。',
      en: 'Bin {device} reads {value} °C (≥ {threshold} °C): possibly smouldering waste. Go and deal with it now. The ticket closes itself when the temperature is back to normal.',
    },
  },
  {
    id: 'bin.offline', family: 'bin', kind: 'offline', enabled: true,
    severity: 'normal', category: 'equipment', dedupScope: 'device', deviceVerifiable: true, forMs: 10 * 60_000,
    title: { 'zh-CN': '垃圾桶传感器离线：{location}', en: 'Bin sensor offline: {location}' },
    description: {
      'zh-CN': '垃圾桶传感器 {device} 已超过 {for} 没有任何消息，请检查电池和网络。设备恢复上线后自动销单。',
      en: 'Bin sensor {device} has sent nothing for more than {for}. Please check its battery and network. The ticket closes itself when it is back online.',
    },
  },
];
