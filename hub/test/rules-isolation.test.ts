import { describe, expect, it } from 'vitest';
import { ruleSetFor } from '../src/rules/core/compiled.ts';
import { compileRules, emptyState, evaluate } from '../src/rules/core/index.ts';
import { CAMERA_RULES } from '../src/rules/defaults/index.ts';
import { brief, device, event, T0 } from './rules-fixtures.ts';

const cam = device('cam-1', 'camera');

/** Two camera rules on the same message type; the first is made to throw (a bug in one rule). */
function sabotaged() {
  const ebike = CAMERA_RULES.find((r) => r.id === 'camera.ebike_in_elevator')!;
  const smoke = CAMERA_RULES.find((r) => r.id === 'camera.smoke_fire')!;
  const rules = compileRules([ebike, smoke]);
  const broken = ruleSetFor(rules, 's1').byId.get(ebike.id);
  if (broken?.kind !== 'match') throw new Error('expected the e-bike rule to be a match rule');
  broken.on.test = () => { throw new Error('boom in the e-bike rule'); };
  return rules;
}

describe('rule evaluation isolates a rule that throws', () => {
  it("keeps every other rule's decisions for the same event and reports the failing rule", () => {
    const rules = sabotaged();
    const result = evaluate(rules, emptyState(), { kind: 'event', event: event(cam, 'camera.alert', { kind: 'smoke_fire', confidence: 0.95 }, T0), device: cam }, T0);
    expect(brief(result.decisions)).toEqual(['open:camera.smoke_fire:s1:device:cam-1']);
    expect(result.failures).toEqual([{ ruleId: 'camera.ebike_in_elevator', error: 'boom in the e-bike rule' }]);
  });

  it('reports no failures when every rule runs', () => {
    const ebike = CAMERA_RULES.find((r) => r.id === 'camera.ebike_in_elevator')!;
    const result = evaluate(compileRules([ebike]), emptyState(), { kind: 'event', event: event(cam, 'camera.alert', { kind: 'ebike_in_elevator', confidence: 0.9 }, T0), device: cam }, T0);
    expect(result.decisions).toHaveLength(1);
    expect(result.failures).toBeUndefined();
  });
});
