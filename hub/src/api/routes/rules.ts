import { Type } from '@sinclair/typebox';
import { Category, Family, IsoTime, Localized, Severity } from '@shaobing/schemas';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { HubError } from '../../errors.ts';
import { RuleError } from '../../rules/core/index.ts';
import { dryRunStored } from '../../rules/dry-run-service.ts';
import { compileWithDefaults } from '../../rules/load-rules.ts';
import type { RuleEngine } from '../../rules/rule-engine.ts';
import type { Registry } from '../../site/registry.ts';
import type { Queryable } from '../../store/db.ts';
import { visibleSites } from '../auth.ts';

const RuleSummary = Type.Object({
  id: Type.String(), family: Family, kind: Type.String(), severity: Severity, category: Category,
  dedupScope: Type.String(), deviceVerifiable: Type.Boolean(), title: Localized, siteId: Type.Union([Type.String(), Type.Null()]),
});
/** A rule file (or array of them) as sent by the client; the core validates it. */
const RuleFiles = Type.Union([Type.Object({}, { additionalProperties: true }), Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: 100 })]);
const DryRunBody = Type.Object({
  siteId: Type.Optional(Type.String()), from: IsoTime, to: IsoTime,
  rules: Type.Optional(RuleFiles),
}, { additionalProperties: false });
const DryRunReply = Type.Object({
  events: Type.Integer(), truncated: Type.Boolean(), decisions: Type.Integer(),
  tickets: Type.Array(Type.Object({
    dedupKey: Type.String(), ruleId: Type.String(), siteId: Type.String(), deviceId: Type.Optional(Type.String()), cellId: Type.String(),
    severity: Severity, category: Category, title: Localized, openedAt: IsoTime, resolvedAt: Type.Union([IsoTime, Type.Null()]), occurrences: Type.Integer(),
  })),
});

const asFiles = (doc: unknown): unknown[] => (Array.isArray(doc) ? doc : [doc]);

/** Rules: list what runs, validate a candidate file, backtest it, reload RULES_FILE. */
export async function ruleRoutes(app: FastifyInstance, opts: { engine: RuleEngine; db: Queryable; registry: Registry }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/api/rules', { schema: { tags: ['rules'], response: { 200: Type.Object({ items: Type.Array(RuleSummary) }) } }, onRequest: app.requireRole('viewer') }, async () => {
    const compiled = opts.engine.compiled;
    const sets = [[null, compiled.base] as const, ...[...compiled.sites].map(([site, set]) => [site, set] as const)];
    const items = sets.flatMap(([siteId, set]) => [...set.byId.values()].map((r) => ({
      id: r.id, family: r.family, kind: r.kind, severity: r.severity, category: r.category, dedupScope: r.scope,
      deviceVerifiable: r.verifiable, title: r.rule.title, siteId,
    })));
    return { items };
  });

  api.post('/api/rules/validate', {
    schema: { tags: ['rules'], body: RuleFiles, response: { 200: Type.Object({ ok: Type.Boolean(), issues: Type.Array(Type.String()), rules: Type.Integer() }) } },
    onRequest: app.requireRole('dispatcher'),
  }, async (req) => {
    try {
      const compiled = compileWithDefaults(asFiles(req.body));
      return { ok: true, issues: [], rules: compiled.base.byId.size };
    } catch (err) {
      if (err instanceof RuleError) return { ok: false, issues: err.issues, rules: 0 };
      throw err;
    }
  });

  api.post('/api/rules/dry-run', {
    schema: { tags: ['rules'], body: DryRunBody, response: { 200: DryRunReply } },
    onRequest: app.requireRole('supervisor'),
  }, async (req) => {
    const body = req.body;
    const from = Date.parse(body.from);
    const to = Date.parse(body.to);
    if (!(to > from) || to - from > 31 * 86_400_000) throw new HubError('HUB_ERR_VALIDATION', 'need from < to, at most 31 days apart');
    let rules = opts.engine.compiled;
    if (body.rules !== undefined) {
      try {
        rules = compileWithDefaults(asFiles(body.rules));
      } catch (err) {
        if (err instanceof RuleError) throw new HubError('HUB_ERR_VALIDATION', err.message);
        throw err;
      }
    }
    const allowed = visibleSites(req);
    const siteIds = (body.siteId ? [body.siteId] : [...opts.registry.sites.keys()]).filter((s) => !allowed || allowed.includes(s));
    const result = await dryRunStored(opts.db, opts.registry, rules, siteIds, from, to);
    return {
      ...result,
      tickets: result.tickets.map((t) => ({ ...t, openedAt: new Date(t.openedAt).toISOString(), resolvedAt: t.resolvedAt === null ? null : new Date(t.resolvedAt).toISOString() })),
    };
  });

  api.post('/api/rules/reload', { schema: { tags: ['rules'] }, onRequest: app.requireRole('admin') }, async (_req, reply) => {
    const r = await opts.engine.reload();
    return r.ok ? { ok: true } : reply.code(400).send({ code: 'HUB_ERR_RULES_INVALID', message: r.error, statusCode: 400 });
  });
}
