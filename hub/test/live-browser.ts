import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';

import { ROOT } from './support/dashboard-build.ts';

/** Helpers for the dashboard's end-to-end test: a real Debian chromium, the real built app. */

export { buildDashboard, DASHBOARD_DIST, ROOT } from './support/dashboard-build.ts';
export const ARTIFACTS = `${ROOT}test-artifacts`;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    // Never a silent skip: the browser test is part of the suite (apt-get install chromium).
    throw new Error(`chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}

/** A grid worker's phone (390×844, touch): the viewport the phone page is built for. */
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } as const;

/**
 * Collects a page's console errors and uncaught exceptions into `errors`, which the tests assert
 * stays empty; `ignore` leaves out errors a test provokes on purpose.
 */
export function recordPageErrors(page: Page, errors: string[], ignore: (text: string) => boolean = () => false): Page {
  page.on('console', (m) => { if (m.type() === 'error' && !ignore(m.text())) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return page;
}

export const shot = (page: Page, name: string) => page.screenshot({ path: `${ARTIFACTS}/${name}.png` });

/** The hooks App.svelte puts on window for tests. */
export interface DashboardHooks {
  dropLive(): void;
  restoreLive(): void;
  liveStats(): { epoch: string | null; lastSeq: number | null; gaps: number; duplicates: number; resets: number; reconnects: number } | null;
  seenEvents(): string[];
  beeps(): number;
}

type W = { __shaobing: DashboardHooks };
/** Calls into the page's hooks (functions are serialised into the page: no closures). */
export const dash = {
  dropLive: (p: Page) => p.evaluate(() => (window as unknown as W).__shaobing.dropLive()),
  restoreLive: (p: Page) => p.evaluate(() => (window as unknown as W).__shaobing.restoreLive()),
  liveStats: (p: Page) => p.evaluate(() => (window as unknown as W).__shaobing.liveStats()),
  seenEvents: (p: Page) => p.evaluate(() => (window as unknown as W).__shaobing.seenEvents()),
  beeps: (p: Page) => p.evaluate(() => (window as unknown as W).__shaobing.beeps()),
};

export async function login(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(baseUrl);
  await page.fill('[data-testid=login-username]', username);
  await page.fill('[data-testid=login-password]', password);
  await page.click('[data-testid=login-submit]');
  await page.waitForSelector('[data-testid=board]');
  await page.waitForSelector('[data-testid=conn-status][data-state=live]');
}

/** Frame intervals over `ms` (requestAnimationFrame), for the frame budget under load. */
export function measureFrames(page: Page, ms: number): Promise<{ frames: number; p50: number; p95: number; max: number; over50: number }> {
  return page.evaluate((dur) => new Promise((resolve) => {
    const d: number[] = [];
    let last = performance.now();
    const end = last + dur;
    const f = (t: number) => {
      d.push(t - last);
      last = t;
      if (t < end) { requestAnimationFrame(f); return; }
      d.sort((a, b) => a - b);
      const q = (p: number) => Math.round(d[Math.min(d.length - 1, Math.floor(d.length * p))]! * 10) / 10;
      resolve({ frames: d.length, p50: q(0.5), p95: q(0.95), max: Math.round(d[d.length - 1]!), over50: d.filter((x) => x > 50).length });
    };
    requestAnimationFrame(f);
  }), ms);
}
