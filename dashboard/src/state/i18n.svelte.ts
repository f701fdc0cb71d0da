import { DEFAULT_LOCALE, hasKey, isLocale, translate, type Locale, type MessageKey, type Params } from '../i18n/index.ts';
import { labelOf } from '../lib/format.ts';

const KEY = 'shaobing.locale';
const stored = typeof localStorage === 'undefined' ? null : localStorage.getItem(KEY);

/** The current language; reading it inside a component makes the component follow a switch. */
export const i18n = $state<{ locale: Locale }>({ locale: isLocale(stored) ? stored : DEFAULT_LOCALE });

export function t(key: MessageKey, params?: Params): string {
  return translate(i18n.locale, key, params);
}

/** A catalogue label for a data value (`status`, `open` → 待派单), the raw value if none. */
export function label(prefix: string, value: string): string {
  return labelOf(prefix, value, t);
}

/** A {zh-CN, en} text from the hub (ticket titles, grid names) in the current language. */
export function localized(v: { 'zh-CN': string; en: string } | undefined | null): string {
  if (!v) return '';
  return (i18n.locale === 'en' ? v.en : v['zh-CN']) || v['zh-CN'] || v.en;
}

/** An audit row's action: an operator action's name, else a system step's, else as stored. */
export function auditLabel(action: string): string {
  const a = action.replaceAll('-', '_');
  if (hasKey(`action.${a}`)) return t(`action.${a}` as MessageKey);
  if (hasKey(`audit.${a}`)) return t(`audit.${a}` as MessageKey);
  return action;
}

export function setLocale(l: Locale): void {
  i18n.locale = l;
  localStorage.setItem(KEY, l);
  document.documentElement.lang = l;
}
