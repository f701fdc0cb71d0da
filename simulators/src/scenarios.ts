/*
 * Named scenarios: deterministic scripts that drive one device into a condition a default
 * rule (DESIGN §5) must catch. Every duration is a parameter in real milliseconds, multiplied
 * by `timeScale`, so a test with shortened hub rules can compress minutes into seconds.
 * A plan takes its devices over (normal traffic paused) and hands them back at the end.
 */
import type { Device, Site } from '@shaobing/schemas';
import { MALFORMED_KINDS, kindFitsSender, malformedMessage, type RawMessage, type Sender } from './malformed.ts';
import { PROFILES, type Emit } from './profiles/index.ts';
import { Rng } from './random.ts';
import { SCENARIO_SCRIPTS } from './scenario-scripts.ts';

export type ScenarioStep =
  | { atMs: number; kind: 'emit'; deviceId: string; emit: Emit }
  | { atMs: number; kind: 'raw'; raw: RawMessage }
  /** Drops the device's connection without DISCONNECT, so the broker fires its Last Will. */
  | { atMs: number; kind: 'drop'; deviceId: string }
  /** Gives the device back to its normal profile (reconnecting it if it was dropped). */
  | { atMs: number; kind: 'release'; deviceId: string };

export interface ScenarioPlan {
  name: string;
  description: string;
  /** Devices whose normal traffic is paused from the start until their 'release' step. */
  takeover: string[];
  steps: ScenarioStep[];
  durationMs: number;
}

export interface ScenarioContext {
  site: Site;
  seed: string;
  /** Multiplies every duration (0.01 turns 2 min into 1.2 s). */
  timeScale: number;
  /** Overrides of the scenario's default parameters. */
  params?: Record<string, number>;
  /** Which repetition this is (a repeated scenario picks another device). */
  repetition?: number;
  /** Devices other scenarios already use. */
  exclude?: ReadonlySet<string>;
  /** In 'gateways' mode raw messages must go through a gateway. */
  mode?: 'devices' | 'gateways';
}

/** What a script gets: a device picker, a step builder with scaled time, parameters. */
export interface ScriptKit {
  site: Site;
  rng: Rng;
  p: Record<string, number>;
  /** Scales a parameter duration to real ms. */
  ms(value: number): number;
  pick(filter: (d: Device) => boolean, prefer?: (d: Device) => boolean): Device;
  emit(atMs: number, device: Device, type: Emit['type'], data: Record<string, unknown>): ScenarioStep;
  /** Heartbeats of `device` every profile interval (scaled) in [fromMs, toMs). */
  keepAlive(device: Device, fromMs: number, toMs: number): ScenarioStep[];
  raw(atMs: number, raw: RawMessage): ScenarioStep;
  malformed(atMs: number, n: number): ScenarioStep[];
  mode: 'devices' | 'gateways';
}

export interface ScenarioScript {
  description: string;
  /** Defaults; durations in real milliseconds before scaling. */
  params: Record<string, number>;
  build(kit: ScriptKit): { takeover: Device[]; steps: ScenarioStep[] };
}

export const SCENARIO_NAMES = Object.keys(SCENARIO_SCRIPTS) as Array<keyof typeof SCENARIO_SCRIPTS>;
export type ScenarioName = keyof typeof SCENARIO_SCRIPTS;

export function isScenarioName(name: string): name is ScenarioName {
  return Object.prototype.hasOwnProperty.call(SCENARIO_SCRIPTS, name);
}

export function planScenario(name: string, ctx: ScenarioContext): ScenarioPlan {
  if (!isScenarioName(name)) throw new Error(`unknown scenario "${name}" (known: ${SCENARIO_NAMES.join(', ')})`);
  const script: ScenarioScript = SCENARIO_SCRIPTS[name];
  for (const key of Object.keys(ctx.params ?? {})) {
    if (!(key in script.params)) throw new Error(`scenario ${name} has no parameter "${key}" (has: ${Object.keys(script.params).join(', ')})`);
  }
  const rng = new Rng(`${ctx.seed}/scenario/${name}/${ctx.repetition ?? 0}`);
  const exclude = ctx.exclude ?? new Set<string>();
  const mode = ctx.mode ?? 'devices';
  const site = ctx.site;
  const ms = (v: number): number => Math.max(1, Math.round(v * ctx.timeScale));
  const kit: ScriptKit = {
    site, rng, mode, ms,
    p: { ...script.params, ...ctx.params },
    pick(filter, prefer) {
      const all = site.devices.filter((d) => filter(d) && !exclude.has(d.id));
      const preferred = prefer ? all.filter(prefer) : [];
      const pool = preferred.length > 0 ? preferred : all;
      if (pool.length === 0) throw new Error(`scenario ${name}: no suitable device in site ${site.id}`);
      return rng.pick(pool);
    },
    emit: (atMs, device, type, data) => ({ atMs, kind: 'emit', deviceId: device.id, emit: { type, data } }),
    keepAlive(device, fromMs, toMs) {
      const profile = PROFILES[device.family];
      const every = ms(profile.heartbeatEveryMs);
      const steps: ScenarioStep[] = [];
      for (let t = fromMs; t < toMs; t += every) steps.push({ atMs: t, kind: 'emit', deviceId: device.id, emit: profile.heartbeat(device, rng) });
      return steps;
    },
    raw: (atMs, raw) => ({ atMs, kind: 'raw', raw }),
    malformed(atMs, spacingMs) {
      return malformedSet(site, rng, mode, `${ctx.seed}-${name}-${ctx.repetition ?? 0}`).map((raw, i) => ({ atMs: atMs + i * spacingMs, kind: 'raw', raw }) as ScenarioStep);
    },
  };
  const { takeover, steps } = script.build(kit);
  steps.sort((a, b) => a.atMs - b.atMs);
  const ids = takeover.map((d) => d.id);
  const last = steps.at(-1)?.atMs ?? 0;
  // Anything taken over and not explicitly released is released after the last step.
  for (const id of ids) if (!steps.some((s) => s.kind === 'release' && s.deviceId === id)) steps.push({ atMs: last, kind: 'release', deviceId: id });
  return { name, description: script.description, takeover: ids, steps, durationMs: last };
}

/** One message of every malformed kind the senders available in `mode` can produce. */
export function malformedSet(site: Site, rng: Rng, mode: 'devices' | 'gateways', idPrefix: string): RawMessage[] {
  const own = site.devices.filter((d) => d.secretHash);
  const gw = site.gateways.find((g) => site.devices.some((d) => d.gatewayId === g.id)) ?? site.gateways[0];
  const device = own[0] ?? site.devices[0];
  if (!device) return [];
  const other = site.devices.find((d) => d.id !== device.id) ?? device;
  const out: RawMessage[] = [];
  MALFORMED_KINDS.forEach((kind, i) => {
    const id = `${idPrefix}-m${i}`;
    if (mode === 'devices' && own.length > 0 && kindFitsSender(kind, 'device')) {
      out.push(malformedMessage(kind, { kind: 'device', siteId: site.id, device }, other, id, rng));
    } else if (gw && kindFitsSender(kind, 'gateway')) {
      const sender: Sender = { kind: 'gateway', siteId: site.id, gatewayId: gw.id, device: site.devices.find((d) => d.gatewayId === gw.id) ?? device };
      out.push(malformedMessage(kind, sender, other, id, rng));
    }
  });
  return out;
}
