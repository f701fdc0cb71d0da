import { ConfigError, loadConfig, loadDotEnv, type HubConfig } from './config.ts';

/**
 * The configuration of a hub process (the hub itself and the operator CLI): .env, then the
 * environment; a bad setting prints its message and exits 2 (scripts tell it from a failed run).
 */
export function configOrExit(): HubConfig {
  loadDotEnv();
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}
