import type { Localized } from '@shaobing/schemas';
import { formatValue } from './conditions.ts';

export type Lang = keyof Localized;
export const LANGS: readonly Lang[] = ['zh-CN', 'en'];

/** Placeholders a template may use; `{data.<field>}` reads a field of the evidence event. */
export const PLACEHOLDERS = ['device', 'location', 'value', 'threshold', 'count', 'for', 'window'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

type Part = string | { name: Placeholder } | { field: string };
export type CompiledTemplate = Record<Lang, Part[]>;

/** Values known when a decision is made; durations are rendered per language. */
export interface TemplateVars {
  device: string;
  location: string;
  value?: unknown;
  threshold?: unknown;
  count?: number;
  forMs?: number;
  windowMs?: number;
  data?: Record<string, unknown>;
}

const TOKEN = /\{([A-Za-z_.]+)\}/g;

/** Parses once at compile time; unknown placeholders are reported, so a typo fails loudly. */
export function compileTemplate(t: Localized, dataFields: ReadonlySet<string>, issues: string[], where: string): CompiledTemplate {
  const out = {} as CompiledTemplate;
  for (const lang of LANGS) {
    const src = t[lang];
    const parts: Part[] = [];
    let at = 0;
    for (const m of src.matchAll(TOKEN)) {
      const name = m[1]!;
      if (m.index > at) parts.push(src.slice(at, m.index));
      at = m.index + m[0].length;
      if (name.startsWith('data.')) {
        const field = name.slice(5);
        if (!dataFields.has(field)) issues.push(`${where}/${lang}: {${name}}: no field "${field}" in the rule's messages`);
        parts.push({ field });
      } else if ((PLACEHOLDERS as readonly string[]).includes(name)) {
        parts.push({ name: name as Placeholder });
      } else {
        issues.push(`${where}/${lang}: unknown placeholder {${name}} (known: ${PLACEHOLDERS.join(', ')}, data.<field>)`);
      }
    }
    if (at < src.length) parts.push(src.slice(at));
    out[lang] = parts;
  }
  return out;
}

export function render(t: CompiledTemplate, v: TemplateVars): Localized {
  return { 'zh-CN': renderLang(t['zh-CN'], v, 'zh-CN'), en: renderLang(t.en, v, 'en') };
}

function renderLang(parts: Part[], v: TemplateVars, lang: Lang): string {
  let s = '';
  for (const p of parts) {
    if (typeof p === 'string') s += p;
    else if ('field' in p) s += formatValue(v.data?.[p.field]);
    else s += placeholder(p.name, v, lang);
  }
  return s;
}

function placeholder(name: Placeholder, v: TemplateVars, lang: Lang): string {
  switch (name) {
    case 'device': return v.device;
    case 'location': return v.location;
    case 'value': return formatValue(v.value);
    case 'threshold': return formatValue(v.threshold);
    case 'count': return v.count === undefined ? '' : String(v.count);
    case 'for': return v.forMs === undefined ? '' : formatDuration(v.forMs, lang);
    case 'window': return v.windowMs === undefined ? '' : formatDuration(v.windowMs, lang);
  }
}

const UNITS: ReadonlyArray<[number, string, string]> = [
  [86_400_000, '天', 'd'], [3_600_000, '小时', 'h'], [60_000, '分钟', 'min'], [1000, '秒', 's'],
];

/** 90 min → "1小时30分钟" / "1 h 30 min": the largest unit and the next if non-zero. */
export function formatDuration(ms: number, lang: Lang): string {
  const parts: string[] = [];
  let rest = Math.max(0, ms);
  for (const [size, zh, en] of UNITS) {
    // People say "24 hours", "36 hours": days only from two days on.
    if (size === 86_400_000 && ms < 2 * size) continue;
    const n = Math.floor(rest / size);
    if (n > 0 && parts.length < 2) {
      parts.push(lang === 'zh-CN' ? `${n}${zh}` : `${n} ${en}`);
      rest -= n * size;
    } else if (parts.length > 0) {
      break;
    }
  }
  if (parts.length === 0) return lang === 'zh-CN' ? `${ms}毫秒` : `${ms} ms`;
  return parts.join(lang === 'zh-CN' ? '' : ' ');
}
