import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compileRuleFiles, type CompiledRules } from './core/index.ts';
import { DEFAULT_RULES } from './defaults/index.ts';

/**
 * RULES_FILE holds one RuleFile (`{version: 1, siteId?, rules, disable?}`) or an array of them
 * (one per site); each is merged over the per-family defaults by rule id. No file = defaults.
 */
export async function readRuleFiles(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8');
  const doc: unknown = ['.yaml', '.yml'].includes(extname(path)) ? parseYaml(text) : JSON.parse(text);
  return Array.isArray(doc) ? doc : [doc];
}

/** Compiles defaults + the given rule files; throws RuleError (with every issue) when invalid. */
export function compileWithDefaults(files: readonly unknown[]): CompiledRules {
  return compileRuleFiles(DEFAULT_RULES, files);
}

export async function loadRules(path: string | null): Promise<CompiledRules> {
  return compileWithDefaults(path ? await readRuleFiles(path) : []);
}
