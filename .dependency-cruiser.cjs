/**
 * Import rules of the tree (README "Architecture"), checked by `npm run lint:deps` inside
 * `npm test`. hub/test/dependency-rules.test.ts plants a back-import to prove the check bites.
 *
 * Hub layers, lowest first: a module may import its own layer and the layers before it,
 * never one after it. hub.ts, main.ts, cli.ts, config-or-exit.ts and demo-simulator.ts wire everything and sit on top.
 */
const LAYERS = [
  ['shared', '^hub/src/(errors|events|log|metrics|config|units)\\.ts$|^hub/src/(site|schedule|auth)/'],
  ['store', '^hub/src/store/'],
  ['ingest', '^hub/src/ingest/'],
  ['broker', '^hub/src/broker/'],
  ['devices', '^hub/src/devices/'],
  ['bus', '^hub/src/bus\\.ts$'],
  ['rules', '^hub/src/rules/'],
  ['cluster', '^hub/src/cluster/'],
  // notify/ is the tickets' outbox: written in the ticket transaction, typed by tickets/context.
  ['tickets', '^hub/src/(tickets|notify)/'],
  ['kpi', '^hub/src/kpi/'],
  // The street office's intake and follow-up on top of tickets and KPIs.
  ['street', '^hub/src/(follow-up|open311)/'],
  ['live', '^hub/src/live/'],
  ['api', '^hub/src/api/'],
];

const layerRules = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `layer-${name}`,
  comment: `${name} may import only ${LAYERS.slice(0, i + 1).map(([n]) => n).join(', ')} (and schemas)`,
  severity: 'error',
  from: { path },
  to: { path: [...LAYERS.slice(i + 1).map(([, p]) => p), '^hub/src/(hub|main|demo-simulator)\\.ts$'] },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'runtime cycles; a recursive Svelte component (GridNode renders its children) is not one',
      severity: 'error',
      from: { pathNot: '^dashboard/src/components/GridNode\\.svelte$' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    ...layerRules,
    {
      name: 'pure-core',
      comment: 'a core (*/core/**) imports only schemas, hub/src/events.ts (types), other cores and TypeBox: no node built-ins, no pg, fastify, mqtt, aedes, node-cron, pino…',
      severity: 'error',
      from: { path: '^hub/src/[^/]+/core/' },
      to: { pathNot: ['^hub/src/[^/]+/core/', '^schemas/src/(?!credentials)', '^hub/src/events\\.ts$', '^node_modules/@sinclair/typebox/'] },
    },
    {
      name: 'dashboard-imports-schemas-only',
      comment: 'the dashboard shares only the contract with the hub (and never node-only modules)',
      severity: 'error',
      from: { path: '^dashboard/' },
      to: { path: ['^hub/', '^simulators/', '^bench/', '^schemas/src/credentials\\.ts$'] },
    },
    {
      name: 'simulators-import-schemas-only',
      severity: 'error',
      from: { path: '^simulators/' },
      to: { path: ['^hub/', '^dashboard/', '^bench/'] },
    },
    {
      name: 'schemas-import-nothing-of-ours',
      severity: 'error',
      from: { path: '^schemas/' },
      to: { path: ['^hub/', '^simulators/', '^dashboard/', '^bench/'] },
    },
    {
      name: 'hub-not-simulators',
      comment: 'only the demo wiring (hub/src/demo-simulator.ts) runs the simulator inside the hub',
      severity: 'error',
      from: { path: '^hub/src/', pathNot: '^hub/src/demo-simulator\\.ts$' },
      to: { path: ['^simulators/', '^dashboard/', '^bench/'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.svelte', '.json'],
    },
    exclude: { path: '^dashboard/dist/' },
  },
};
