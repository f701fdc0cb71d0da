import { describe, expect, it } from 'vitest';
import { UsageError, clockToMs, parseCli } from '../src/cli-options.ts';

describe('simulator command line', () => {
  it('defaults to the demo community at 50 msg/s, QoS 1, one client per device', () => {
    const c = parseCli([]);
    expect(c).toMatchObject({ kind: 'run', community: { kind: 'generated', seed: 'shaobing-demo', size: 'demo', siteId: 'demo' }, sim: { url: 'mqtt://127.0.0.1:1883', ratePerSec: 50, qos: 1, mode: 'devices', malformedShare: 0, connectConcurrency: 50 } });
  });

  it('turns flags into simulator options with units', () => {
    const c = parseCli(['--rate', '200', '--qos', '0', '--mode', 'gateways', '--duration', '2.5', '--scenario', 'bin-overflow', '--scenario-param', 'bin-overflow.sustainMs=6000', '--scenario-repeat', '30', '--door-units', '10', '--clock', '08:30']);
    expect(c.kind).toBe('run');
    if (c.kind !== 'run') return;
    expect(c.sim).toMatchObject({ ratePerSec: 200, qos: 0, mode: 'gateways', durationMs: 2500, scenarios: ['bin-overflow'], scenarioParams: { 'bin-overflow': { sustainMs: 6000 } }, scenarioRepeatMs: 30_000 });
    expect(c.community).toMatchObject({ kind: 'generated', counts: { doorUnits: 10 } });
    expect(c.sim.simStartMs).toBe(clockToMs('08:30'));
    expect(new Date(clockToMs('08:30', Date.UTC(2026, 0, 1, 20))).toISOString()).toBe('2026-01-02T00:30:00.000Z'); // Beijing is UTC+8
  });

  it('refuses bad flags with a message naming the flag', () => {
    const bad: Array<[string[], RegExp]> = [
      [['--rate', '0'], /--rate must be a number/],
      [['--qos', '2'], /--qos must be 0 or 1/],
      [['--url', 'http://x'], /--url must be mqtt:\/\//],
      [['--size', 'huge'], /--size must be one of/],
      [['--scenario', 'nope'], /unknown scenario "nope"/],
      [['--scenario-param', 'x'], /--scenario-param must look like/],
      [['--clock', '25:00'], /--clock must be HH:MM/],
      [['--site-file', 'a.json', '--bins', '3'], /device counts apply to a generated community/],
    ];
    for (const [args, message] of bad) expect(() => parseCli(args), args.join(' ')).toThrow(message);
    expect(() => parseCli(['--rate', '0'])).toThrow(UsageError);
    expect(() => parseCli(['--bogus'])).toThrow(/Unknown option/);
  });
});
