import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { AttachmentInfo } from '@shaobing/schemas';
import { sniffImage } from './image-sniff.ts';

/**
 * Fetches a camera alert's snapshot once, for evidence (DESIGN §6), without becoming a way into
 * the hub's network (SSRF): only hosts/CIDRs in SNAPSHOT_ALLOW, the name resolved first and the
 * connection made to the address that was checked (no second lookup a rebinding DNS could
 * answer differently), redirects followed by hand and checked again, bounded bytes and time,
 * and the content sniffed as an image whatever the server calls it. Never throws.
 */
export interface SnapshotPolicy { allow: readonly string[]; maxBytes: number; timeoutMs: number; maxRedirects?: number }

export const SNAPSHOT_FAILURES = ['disabled', 'bad_url', 'not_allowed', 'dns', 'too_large', 'timeout', 'http_status', 'not_image', 'too_many_redirects', 'network'] as const;
export type SnapshotFailure = (typeof SNAPSHOT_FAILURES)[number];
export type SnapshotResult =
  | { ok: true; mime: AttachmentInfo['mime']; content: Buffer; url: string }
  | { ok: false; reason: SnapshotFailure; detail: string };

/** SNAPSHOT_ALLOW entries: `10.1.0.0/16` or `fd00::/8` (CIDR), `10.1.2.3` (one address), `cam.example.org` (exact name). */
export class SnapshotAllowlist {
  private readonly names = new Set<string>();
  private readonly nets = new BlockList();
  readonly empty: boolean;

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const e = raw.trim().toLowerCase();
      const [addr, bits] = e.split('/');
      const v = isIP(addr ?? '');
      if (v !== 0 && bits !== undefined) this.nets.addSubnet(addr!, Number(bits), v === 6 ? 'ipv6' : 'ipv4');
      else if (v !== 0) this.nets.addAddress(addr!, v === 6 ? 'ipv6' : 'ipv4');
      else if (e !== '') this.names.add(e);
    }
    this.empty = entries.every((e) => e.trim() === '');
  }

  allowsName(host: string): boolean { return this.names.has(host.toLowerCase()); }
  allowsAddress(ip: string): boolean {
    const v = isIP(ip);
    return v !== 0 && this.nets.check(ip, v === 6 ? 'ipv6' : 'ipv4');
  }
}

const fail = (reason: SnapshotFailure, detail: string): SnapshotResult => ({ ok: false, reason, detail });

/** The address to connect to, once the URL's host passed the allowlist; a failure otherwise. */
async function checkedAddress(u: URL, allow: SnapshotAllowlist): Promise<{ ip: string } | SnapshotResult> {
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return allow.allowsAddress(host) ? { ip: host } : fail('not_allowed', `${host} is not in SNAPSHOT_ALLOW`);
  let addrs: { address: string }[];
  try {
    addrs = await lookup(host, { all: true, verbatim: true });
  } catch (err) {
    return fail('dns', `${host}: ${(err as Error).message}`);
  }
  if (addrs.length === 0) return fail('dns', `${host}: no address`);
  // A name is allowed by itself, or when every address it has is in an allowed network.
  if (!allow.allowsName(host) && !addrs.every((a) => allow.allowsAddress(a.address))) {
    return fail('not_allowed', `${host} (${addrs.map((a) => a.address).join(', ')}) is not in SNAPSHOT_ALLOW`);
  }
  return { ip: addrs[0]!.address };
}

type Hop = { kind: 'redirect'; location: string } | SnapshotResult;

function getOnce(u: URL, ip: string, maxBytes: number, deadline: number): Promise<Hop> {
  return new Promise((resolve) => {
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request({
      host: ip, port: u.port || undefined, path: `${u.pathname}${u.search}`, method: 'GET',
      headers: { host: u.host, accept: 'image/jpeg, image/png, image/webp' },
      // TLS checks the certificate against the name, while the socket goes to the checked address.
      ...(u.protocol === 'https:' ? { servername: u.hostname } : {}),
    });
    const timer = setTimeout(() => { req.destroy(); resolve(fail('timeout', `no complete answer within the time limit from ${u.host}`)); }, Math.max(0, deadline - Date.now()));
    const done = (r: Hop) => { clearTimeout(timer); resolve(r); };
    req.on('error', (err) => done(fail('network', err.message)));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) { res.resume(); req.destroy(); return done({ kind: 'redirect', location: res.headers.location }); }
      if (status !== 200) { res.resume(); req.destroy(); return done(fail('http_status', `HTTP ${status} from ${u.host}`)); }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > maxBytes) { req.destroy(); return done(fail('too_large', `${declared} bytes > ${maxBytes}`)); }
      const parts: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > maxBytes) { req.destroy(); done(fail('too_large', `more than ${maxBytes} bytes`)); return; }
        parts.push(c);
      });
      res.on('end', () => {
        if (bytes > maxBytes) return;
        const content = Buffer.concat(parts);
        const mime = sniffImage(content);
        done(mime === null ? fail('not_image', `${bytes} bytes that are not a JPEG/PNG/WebP image`) : { ok: true, mime, content, url: u.toString() });
      });
      res.on('error', (err) => done(fail('network', err.message)));
    });
    req.end();
  });
}

export async function fetchSnapshot(url: string, policy: SnapshotPolicy, allow = new SnapshotAllowlist(policy.allow)): Promise<SnapshotResult> {
  if (allow.empty) return fail('disabled', 'SNAPSHOT_ALLOW is empty');
  const deadline = Date.now() + policy.timeoutMs;
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    return fail('bad_url', 'not a URL');
  }
  for (let hop = 0; hop <= (policy.maxRedirects ?? 3); hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') return fail('bad_url', `scheme ${current.protocol} is not http(s)`);
    if (current.username || current.password) return fail('bad_url', 'credentials in the URL');
    const checked = await checkedAddress(current, allow);
    if ('ok' in checked) return checked;
    const r = await getOnce(current, checked.ip, policy.maxBytes, deadline);
    if (!('kind' in r)) return r;
    try {
      current = new URL(r.location, current);
    } catch {
      return fail('bad_url', 'redirect to something that is not a URL');
    }
  }
  return fail('too_many_redirects', `more than ${policy.maxRedirects ?? 3} redirects`);
}
