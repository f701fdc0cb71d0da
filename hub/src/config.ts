import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import cron from 'node-cron';
import { Type, type Static } from '@sinclair/typebox';
import { Validator } from '@shaobing/schemas';

/** Where the bundled demo site lives (SITE_FILE default). */
export const DEMO_SITE_FILE = fileURLToPath(new URL('../sites/demo-site.json', import.meta.url));

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Level = Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)));

/** Every setting, with units in the names. Names and defaults of DESIGN §13 are a contract. */
export const HubConfig = Type.Object({
  httpPort: Port,
  httpHost: Type.String({ minLength: 1 }),
  mqttPort: Port,
  mqttHost: Type.String({ minLength: 1 }),
  mqttWsPort: Type.Union([Port, Type.Null()]),
  mqttUrl: Type.Union([Type.String({ pattern: '^(mqtts?|wss?|tcp)://' }), Type.Null()]),
  databaseUrl: Type.Union([Type.String({ pattern: '^postgres(ql)?://' }), Type.Null()]),
  dataDir: Type.String({ minLength: 1 }),
  siteFile: Type.String({ minLength: 1 }),
  rulesFile: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
  logLevel: Level,
  tzReports: Type.String({ minLength: 1 }),
  mqttMaxPayloadBytes: Type.Integer({ minimum: 256, maximum: 16 * 1024 * 1024 }),
  mqttRateLimitPerSec: Type.Integer({ minimum: 1, description: 'sustained messages/s per client before rate_limited' }),
  ingestBatchMax: Type.Integer({ minimum: 1, maximum: 10_000 }),
  ingestBatchDelayMs: Type.Integer({ minimum: 0, maximum: 10_000 }),
  ingestMaxPending: Type.Integer({ minimum: 100 }),
  deviceOfflineCheckMs: Type.Integer({ minimum: 100 }),
  authTokenTtlS: Type.Integer({ minimum: 60 }),
  metricsPublic: Type.Boolean(),
  authSecret: Type.Union([Type.String({ minLength: 16 }), Type.Null()]),
  ruleTickMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
  retentionDays: Type.Integer({ minimum: 0, maximum: 36_500 }),
  deadLetterRetentionDays: Type.Integer({ minimum: 1, maximum: 3650 }),
  slaSweepCron: Type.String({ minLength: 9, maxLength: 100, description: 'node-cron expression (seconds field first)' }),
  open311ApiKey: Type.Union([Type.String({ minLength: 16, maxLength: 200 }), Type.Null()]),
});
export type HubConfig = Static<typeof HubConfig>;

type Env = Record<string, string | undefined>;

/** Each variable: its name, how to read it, and its default. */
const VARS: { [K in keyof HubConfig]: [name: string, parse: (v: string) => unknown, dflt: HubConfig[K]] } = {
  httpPort: ['HTTP_PORT', Number, 8080],
  httpHost: ['HTTP_HOST', String, '127.0.0.1'],
  mqttPort: ['MQTT_PORT', Number, 1883],
  mqttHost: ['MQTT_HOST', String, '127.0.0.1'],
  mqttWsPort: ['MQTT_WS_PORT', (v) => (v === '' || v === 'off' ? null : Number(v)), null],
  mqttUrl: ['MQTT_URL', (v) => v || null, null],
  databaseUrl: ['DATABASE_URL', (v) => v || null, null],
  dataDir: ['DATA_DIR', String, './data'],
  siteFile: ['SITE_FILE', String, DEMO_SITE_FILE],
  rulesFile: ['RULES_FILE', (v) => v || null, null],
  logLevel: ['LOG_LEVEL', String, 'info'],
  tzReports: ['TZ_REPORTS', String, 'Asia/Shanghai'],
  mqttMaxPayloadBytes: ['MQTT_MAX_PAYLOAD_BYTES', Number, 256 * 1024],
  mqttRateLimitPerSec: ['MQTT_RATE_LIMIT_PER_SEC', Number, 200],
  ingestBatchMax: ['INGEST_BATCH_MAX', Number, 500],
  ingestBatchDelayMs: ['INGEST_BATCH_DELAY_MS', Number, 20],
  ingestMaxPending: ['INGEST_MAX_PENDING', Number, 50_000],
  deviceOfflineCheckMs: ['DEVICE_OFFLINE_CHECK_MS', Number, 15_000],
  authTokenTtlS: ['AUTH_TOKEN_TTL_S', Number, 12 * 3600],
  metricsPublic: ['METRICS_PUBLIC', (v) => v === 'true' || v === '1', true],
  authSecret: ['AUTH_SECRET', (v) => v || null, null],
  ruleTickMs: ['RULE_TICK_MS', Number, 1000],
  slaSweepCron: ['SLA_SWEEP_CRON', String, '*/30 * * * * *'],
  open311ApiKey: ['OPEN311_API_KEY', (v) => v || null, null],
  retentionDays: ['RETENTION_DAYS', Number, 400],
  deadLetterRetentionDays: ['DEAD_LETTER_RETENTION_DAYS', Number, 30],
};

export class ConfigError extends Error {}

const validator = new Validator(HubConfig);

/**
 * Reads the configuration from the environment (and `.env` when present), with overrides
 * for tests. Throws ConfigError naming the bad variable.
 */
export function loadConfig(env: Env = process.env, overrides: Partial<HubConfig> = {}): HubConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, [name, parse, dflt]] of Object.entries(VARS) as [keyof HubConfig, [string, (v: string) => unknown, unknown]][]) {
    const value = env[name];
    raw[key] = key in overrides ? overrides[key] : value === undefined ? dflt : parse(value.trim());
  }
  const result = validator.validate(raw, 20);
  if (!result.ok) {
    const first = result.issues[0]!;
    const key = first.path.split('/')[1] as keyof HubConfig | undefined;
    const name = key && VARS[key] ? VARS[key][0] : first.path;
    throw new ConfigError(`invalid configuration: ${name}=${JSON.stringify(key ? env[VARS[key]?.[0] ?? ''] ?? raw[key] : undefined)}: ${first.message}`);
  }
  if (!cron.validate(result.value.slaSweepCron)) throw new ConfigError(`invalid configuration: SLA_SWEEP_CRON=${JSON.stringify(result.value.slaSweepCron)}: not a cron expression`);
  return result.value;
}

/** Loads `.env` from the working directory into process.env (existing variables win). */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
