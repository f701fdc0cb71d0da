import { createServer } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, signBody } from './channels.ts';

/**
 * `npm run demo`'s stand-in for a WeCom group or a dispatcher's system: a local webhook
 * receiver that checks the signature and prints one line per notification, so the demo shows
 * the loop (dispatched → 接单 → 办结 …) reaching "someone outside the control room".
 */
export async function startDemoReceiver(print: (line: string) => void): Promise<{ url: string; secret: string; close(): Promise<void> }> {
  const secret = randomBytes(16).toString('hex');
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { if (body.length < 64 * 1024) body += c.toString('utf8'); });
    req.on('end', () => {
      const got = Buffer.from(String(req.headers[SIGNATURE_HEADER] ?? ''), 'utf8');
      const want = Buffer.from(signBody(secret, body), 'utf8');
      const ok = got.length === want.length && timingSafeEqual(got, want);
      let text = body.slice(0, 300);
      try { text = (JSON.parse(body) as { text?: string }).text ?? text; } catch { /* keep the raw text */ }
      print(`shaobing: demo webhook ${ok ? '✓ signed' : '✗ BAD SIGNATURE'} ${text}`);
      res.writeHead(ok ? 204 : 401).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/demo-webhook`;
  return { url, secret, close: () => new Promise((r) => server.close(() => r())) };
}
