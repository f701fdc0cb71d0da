/*
 * Plays scenario plans on real time against the running fleet: takes devices over, sends
 * their scripted messages and raw (malformed) publishes, drops and resumes connections,
 * and optionally replays each scenario on another device.
 */
import type { Site } from '@shaobing/schemas';
import type { RawMessage } from './malformed.ts';
import type { Emit } from './profiles/index.ts';
import { planScenario, type ScenarioPlan, type ScenarioStep } from './scenarios.ts';
import type { SimDevice } from './fleet-build.ts';

export interface ScenarioRunnerOptions {
  names: string[];
  site: Site;
  seed: string;
  mode: 'devices' | 'gateways';
  timeScale: number;
  params: Record<string, Record<string, number>>;
  delayMs: number;
  repeatMs?: number;
  log: (line: string) => void;
  device(site: Site, id: string): SimDevice | undefined;
  emit(d: SimDevice, e: Emit): void;
  raw(raw: RawMessage, site: Site): void;
}

interface Timed { at: number; run: () => void }

export class ScenarioRunner {
  private queue: Timed[] = [];
  private dirty = false;
  private readonly inUse = new Set<string>();

  constructor(private readonly o: ScenarioRunnerOptions) {
    // Plan once up front so a bad name or parameter fails before anything connects.
    o.names.forEach((name) => this.plan(name, 0));
    this.inUse.clear();
  }

  start(now: number): void {
    this.o.names.forEach((name) => this.schedule(name, 0, now + this.o.delayMs));
  }

  private plan(name: string, repetition: number): ScenarioPlan {
    const plan = planScenario(name, { site: this.o.site, seed: this.o.seed, timeScale: this.o.timeScale, params: this.o.params[name], repetition, exclude: this.inUse, mode: this.o.mode });
    plan.takeover.forEach((id) => this.inUse.add(id));
    for (const s of plan.steps) if (s.kind === 'emit') this.inUse.add(s.deviceId);
    return plan;
  }

  private schedule(name: string, repetition: number, at: number): void {
    const plan = this.plan(name, repetition);
    const o = this.o;
    this.push(at, () => {
      o.log(`scenario ${name}#${repetition} starts: ${plan.description} (${describeTargets(plan)}, ~${Math.round(plan.durationMs / 1000)} s)`);
      for (const id of plan.takeover) { const d = o.device(o.site, id); if (d) d.takenOver = true; }
    });
    for (const step of plan.steps) this.push(at + step.atMs, () => this.exec(step));
    this.push(at + plan.durationMs, () => {
      o.log(`scenario ${name}#${repetition} done`);
      for (const s of plan.steps) if (s.kind === 'emit') this.inUse.delete(s.deviceId);
      plan.takeover.forEach((id) => this.inUse.delete(id));
      if (o.repeatMs !== undefined) this.schedule(name, repetition + 1, at + plan.durationMs + o.repeatMs);
    });
  }

  private exec(step: ScenarioStep): void {
    const o = this.o;
    if (step.kind === 'raw') { o.raw(step.raw, o.site); return; }
    const d = o.device(o.site, step.deviceId);
    if (!d) { o.log(`scenario device ${step.deviceId} is not simulated (no credentials?)`); return; }
    if (step.kind === 'emit') o.emit(d, step.emit);
    else if (step.kind === 'drop') { if (d.link.kind === 'device') d.link.drop(); }
    else {
      d.takenOver = false;
      if (d.link.suspended) void d.link.resume();
    }
  }

  private push(at: number, run: () => void): void {
    this.queue.push({ at, run });
    this.dirty = true;
  }

  /** Runs every step due at `now` (performance.now() time). */
  run(now: number): void {
    if (this.dirty) { this.queue.sort((a, b) => a.at - b.at); this.dirty = false; }
    let i = 0;
    while (i < this.queue.length && this.queue[i]!.at <= now) i++;
    if (i === 0) return;
    const due = this.queue.splice(0, i);
    for (const t of due) t.run();
  }
}

function describeTargets(plan: ScenarioPlan): string {
  const ids = new Set<string>();
  for (const s of plan.steps) if (s.kind !== 'raw') ids.add(s.deviceId);
  const list = [...ids];
  return list.length === 0 ? 'raw publishes' : list.slice(0, 3).join(', ');
}
