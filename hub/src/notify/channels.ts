import { createHmac } from 'node:crypto';
import type { NotifyChannel } from '@shaobing/schemas';
import type { Transporter } from 'nodemailer';
import type { NotifyPayload } from './outbox-repo.ts';

/** The header a webhook receiver checks: hex HMAC-SHA256 of the raw body under the channel's secret. */
export const SIGNATURE_HEADER = 'x-shaobing-signature';

export const signBody = (secret: string, body: string): string => createHmac('sha256', secret).update(body, 'utf8').digest('hex');

/** DingTalk's signed robot URL: `timestamp` and base64 HMAC-SHA256 of "timestamp\nsecret". */
export function dingtalkUrl(url: string, secret: string | undefined, now: number): string {
  if (!secret) return url;
  const sign = createHmac('sha256', secret).update(`${now}\n${secret}`, 'utf8').digest('base64');
  return `${url}${url.includes('?') ? '&' : '?'}timestamp=${now}&sign=${encodeURIComponent(sign)}`;
}

export interface ChannelDeps { mailer: Transporter | null; mailFrom: string; timeoutMs: number; now: () => number }

async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  return text;
}

/** Robots answer 200 with `{errcode: n}`; anything but 0 is a failure worth retrying. */
function robotOk(text: string): void {
  let code: unknown;
  try { code = (JSON.parse(text) as { errcode?: unknown }).errcode; } catch { code = undefined; }
  if (code !== 0) throw new Error(`robot refused: ${text.slice(0, 200)}`);
}

const markdown = (p: NotifyPayload): string => `**${p.title}**\n\n${p.text}${p.url ? `\n\n[打开工单](${p.url})` : ''}`;

/** Sends one message; throws on any failure (the loop retries with back-off). */
export async function deliver(ch: NotifyChannel, p: NotifyPayload, deps: ChannelDeps): Promise<void> {
  switch (ch.kind) {
    case 'webhook': {
      const body = JSON.stringify(p);
      await post(ch.url, body, { ...(ch.secret ? { [SIGNATURE_HEADER]: signBody(ch.secret, body) } : {}), 'x-shaobing-event': p.event }, deps.timeoutMs);
      return;
    }
    case 'wecom':
      robotOk(await post(ch.url, JSON.stringify({ msgtype: 'markdown', markdown: { content: markdown(p) } }), {}, deps.timeoutMs));
      return;
    case 'dingtalk':
      robotOk(await post(dingtalkUrl(ch.url, ch.secret, deps.now()), JSON.stringify({ msgtype: 'markdown', markdown: { title: p.title, text: markdown(p) } }), {}, deps.timeoutMs));
      return;
    case 'email':
      if (!deps.mailer) throw new Error('no SMTP server configured (NOTIFY_SMTP_URL)');
      await deps.mailer.sendMail({ from: deps.mailFrom, to: ch.to, subject: `[哨兵] ${p.title}`, text: `${p.text}${p.url ? `\n${p.url}` : ''}` });
      return;
  }
}
