import { Type } from '@sinclair/typebox';
import { AdoptedProblem, AdoptProblemBody, HotspotsQuery, HotspotsReply, Id, ProblemCandidate, SeasonalWarning, type PlanDevice } from '@shaobing/schemas';
import { HubError } from '../../errors.ts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { InsightsService } from '../../kpi/insights-service.ts';
import type { Registry } from '../../site/registry.ts';
import { actorOf, siteScope } from '../route-helpers.ts';

/** 每月一题 (candidates, adoption, tracking) and seasonal early warning. */
export async function insightRoutes(app: FastifyInstance, opts: { insights: InsightsService; registry: Registry; now?: () => number }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const now = opts.now ?? Date.now;
  api.get('/api/insights/monthly-problem', {
    schema: {
      tags: ['kpi'], querystring: Type.Object({ siteId: Id, month: Type.String({ pattern: '^\\d{4}-\\d{2}$' }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ candidates: Type.Array(ProblemCandidate), adopted: Type.Array(AdoptedProblem) }) },
      description: '每月一题: category × compound candidates of a month ranked by volume, growth and repeat rate, with evidence; and the problems adopted so far with the next month\'s figures.',
    },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const [siteId] = siteScope(req, opts.registry, q.siteId);
    return { candidates: await opts.insights.candidates(siteId!, q.month), adopted: await opts.insights.adopted(siteId!, now()) };
  });

  api.post('/api/insights/monthly-problem/adopt', {
    schema: { tags: ['kpi'], body: AdoptProblemBody, response: { 200: AdoptedProblem }, description: 'A supervisor adopts the month\'s problem (one per site and month; adopting again replaces it).' },
    onRequest: app.requireRole('supervisor'),
  }, async (req) => {
    const b = req.body;
    const [siteId] = siteScope(req, opts.registry, b.siteId);
    return opts.insights.adopt(siteId!, b.month, b.category, b.placeId, actorOf(req).username, now(), b.note);
  });

  api.get('/api/insights/seasonal', {
    schema: {
      tags: ['kpi'], querystring: Type.Object({ siteId: Id }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(SeasonalWarning) }) },
      description: 'Seasonal early warning for the coming 4 weeks: same weeks of earlier years, else the recent trend; each with its reason.',
    },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const [siteId] = siteScope(req, opts.registry, q.siteId);
    return { items: await opts.insights.seasonal(siteId!, now()) };
  });

  api.get('/api/insights/hotspots', {
    schema: {
      tags: ['kpi'], querystring: HotspotsQuery, response: { 200: HotspotsReply },
      description: '高频点位: devices and grid cells ranked by tickets (dismissed left out) opened in [from, to) (default the last 30 days), of one category or all; each spot with the /api/tickets query listing exactly its tickets; and the site\'s cells and devices (coordinates where known) to draw the plan.',
    },
    onRequest: app.requireRole('viewer'),
  }, async (req) => {
    const q = req.query;
    const [siteId] = siteScope(req, opts.registry, q.siteId);
    const at = now();
    const to = q.to !== undefined ? Date.parse(q.to) : at;
    const from = q.from !== undefined ? Date.parse(q.from) : to - HOTSPOT_DEFAULT_MS;
    if (!(from < to)) throw new HubError('HUB_ERR_VALIDATION', '`from` must be before `to`');
    if (to - from > HOTSPOT_MAX_MS) throw new HubError('HUB_ERR_VALIDATION', 'a hotspot window is at most 400 days');
    const devices = new Map<string, PlanDevice>();
    for (const d of opts.registry.allDevices()) {
      if (d.siteId !== siteId) continue;
      devices.set(d.deviceId, {
        id: d.deviceId, family: d.family, cellId: d.cellId, label: d.locationLabel,
        ...(d.lat !== undefined && d.lng !== undefined ? { lat: d.lat, lng: d.lng } : {}),
      });
    }
    const ranking = await opts.insights.hotspots(siteId!, { from, to }, devices, { ...(q.category ? { category: q.category } : {}), limit: q.limit ?? 50 });
    const cells = opts.registry.grid(siteId!).map((c) => ({
      id: c.id, level: c.level, name: c.name, ...(c.nameEn ? { nameEn: c.nameEn } : {}), ...(c.parentId ? { parentId: c.parentId } : {}),
    }));
    return {
      siteId: siteId!, from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...(q.category ? { category: q.category } : {}),
      ...ranking, plan: { cells, devices: [...devices.values()] },
    };
  });
}

const DAY_MS = 24 * 3600_000;
const HOTSPOT_DEFAULT_MS = 30 * DAY_MS;
const HOTSPOT_MAX_MS = 400 * DAY_MS;
