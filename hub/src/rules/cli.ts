import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig, loadDotEnv } from '../config.ts';
import { loadSiteFile } from '../site/load-site-file.ts';
import { Registry } from '../site/registry.ts';
import { openDb } from '../store/open-db.ts';
import { RuleError } from './core/index.ts';
import { dryRunStored } from './dry-run-service.ts';
import { loadRules, readRuleFiles, compileWithDefaults } from './load-rules.ts';

const USAGE = `Usage:
  npm run rules -- validate <rules-file>
  npm run rules -- dry-run --from <ISO> --to <ISO> [--site <id>] [--rules-file <file>]
dry-run replays stored events through the rules (RULES_FILE or --rules-file over the defaults)
and prints the tickets they would have opened; it touches no ticket. With the embedded store,
stop the hub first (PGlite is single-process); with DATABASE_URL it can run beside the hub.`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { from: { type: 'string' }, to: { type: 'string' }, site: { type: 'string' }, 'rules-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});

async function main(): Promise<number> {
  const [command, file] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'validate') {
    if (!file) return fail('validate needs a rules file');
    compileWithDefaults(await readRuleFiles(file));
    console.log(`${file}: valid`);
    return 0;
  }
  if (command !== 'dry-run') return fail(`unknown command "${command}"`);
  const from = Date.parse(values.from ?? '');
  const to = Date.parse(values.to ?? '');
  if (Number.isNaN(from) || Number.isNaN(to) || to <= from) return fail('--from and --to must be ISO times with from < to');
  loadDotEnv();
  const config = loadConfig();
  const log = pino({ level: 'warn' });
  const registry = new Registry(await loadSiteFile(config.siteFile));
  const rules = await loadRules(values['rules-file'] ?? config.rulesFile);
  const db = await openDb({ databaseUrl: config.databaseUrl ?? undefined, dataDir: config.dataDir, log });
  try {
    const sites = values.site ? [values.site] : [...registry.sites.keys()];
    const r = await dryRunStored(db, registry, rules, sites, from, to);
    for (const t of r.tickets) {
      console.log([new Date(t.openedAt).toISOString(), t.severity.padEnd(8), t.ruleId.padEnd(28), (t.deviceId ?? t.cellId).padEnd(16), `×${t.occurrences}`, t.resolvedAt ? `resolved ${new Date(t.resolvedAt).toISOString()}` : 'open', t.title['zh-CN']].join('  '));
    }
    console.log(`${r.tickets.length} tickets from ${r.decisions} decisions over ${r.events} events${r.truncated ? ' (truncated)' : ''}`);
  } finally {
    await db.close();
  }
  return 0;
}

function fail(message: string): number {
  console.error(`${message}\n\n${USAGE}`);
  return 2;
}

main().then((code) => { process.exitCode = code; }, (err: Error) => {
  console.error(err instanceof RuleError ? err.message : `error: ${err.message}`);
  process.exitCode = 1;
});
