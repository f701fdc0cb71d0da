import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import cron from 'node-cron';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Validator } from '@shaobing/schemas';

/** Where the bundled demo site lives (SITE_FILE default). */
export const DEMO_SITE_FILE = fileURLToPath(new URL('../sites/demo-site.json', import.meta.url));

/** HUB_ID: letters, digits, `.`, `_`, `-` — safe in MQTT client ids, log lines and SQL values. */
export const HUB_ID_PATTERN = '^[A-Za-z0-9._-]{1,48}$';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Level = Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)));

const Ms = Type.Integer({ minimum: 1000 });
const perSeverity = <T extends TSchema>(t: T) => Type.Partial(Type.Object({ critical: t, high: t, normal: t }), { additionalProperties: false });
/** SLA_POLICY: JSON merged over the default policy (tickets/core/sla.ts), e.g. {"windows":{"critical":{"respondMs":600000}}}. */
export const SlaPolicyOverride = Type.Object({
  windows: Type.Optional(perSeverity(Type.Partial(Type.Object({ respondMs: Ms, resolveMs: Ms }), { additionalProperties: false }))),
  warnRatio: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
  escalationSpacingMs: Type.Optional(perSeverity(Ms)),
}, { additionalProperties: false });
export type SlaPolicyOverride = Static<typeof SlaPolicyOverride>;

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
  mqttRateLimitPerSec: Type.Integer({ minimum: 1, description: 'sustained messages/s per credential (all its connections) before rate_limited' }),
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
  slaPolicy: Type.Union([SlaPolicyOverride, Type.Null()]),
  storeMaintenance: Type.Union([Type.Literal('hub'), Type.Literal('database'), Type.Null()], { description: 'who refreshes aggregates and compresses chunks; null: by what the database can do' }),
  mqttRateLimitGraceS: Type.Integer({ minimum: 1, maximum: 3600, description: 'seconds over the rate limit before a credential is disconnected' }),
  mqttRateLimitBanS: Type.Integer({ minimum: 1, maximum: 86_400, description: 'seconds a disconnected flooder is refused' }),
  mqttMaxConnectionsPerDevice: Type.Integer({ minimum: 1, maximum: 100 }),
  mqttMaxConnectionsPerGateway: Type.Integer({ minimum: 1, maximum: 100 }),
  mqttMaxConnectionsPerOperator: Type.Integer({ minimum: 1, maximum: 100 }),
  mqttMaxSendBufferBytes: Type.Integer({ minimum: 64 * 1024, maximum: 256 * 1024 * 1024, description: 'bytes the hub holds for one MQTT connection that does not read before closing it' }),
  mqttTlsPort: Type.Union([Port, Type.Null()]),
  mqttWssPort: Type.Union([Port, Type.Null()]),
  tlsCertFile: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
  tlsKeyFile: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
  httpTls: Type.Boolean({ description: 'serve HTTP over TLS with TLS_CERT_FILE/TLS_KEY_FILE' }),
  trustProxy: Type.Boolean({ description: 'honour X-Forwarded-* from a reverse proxy' }),
  // Scaling out (README "Scaling out"): identity of this process, shared ingest, site leases.
  hubId: Type.Union([Type.String({ pattern: HUB_ID_PATTERN }), Type.Null()], { description: 'null: derived from host and pid' }),
  mqttIngestConnections: Type.Integer({ minimum: 1, maximum: 64 }),
  mqttShareGroup: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
  clusterSites: Type.Union([Type.Literal('all'), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
  leasePollMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
  leaseTtlMs: Type.Union([Type.Integer({ minimum: 500, maximum: 600_000 }), Type.Null()], { description: 'null: max(10 s, 10 lease polls)' }),
  registryPollMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
  brokerHookSecret: Type.Union([Type.String({ minLength: 16 }), Type.Null()], { description: 'EMQX HTTP auth hooks; null: endpoints off' }),
  brokerOperatorZone: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'the only EMQX zone operators may log in from (its sessions end with the connection)' }),
  // Notifications (hub/src/notify): one global webhook beside the site file's channels.
  notifyWebhookUrl: Type.Union([Type.String({ pattern: '^https?://' }), Type.Null()]),
  notifyWebhookSecret: Type.Union([Type.String({ minLength: 8 }), Type.Null()]),
  notifySmtpUrl: Type.Union([Type.String({ pattern: '^smtps?://' }), Type.Null()]),
  notifyMailFrom: Type.String({ minLength: 3 }),
  notifyPollMs: Type.Integer({ minimum: 50, maximum: 60_000 }),
  notifyPublicUrl: Type.Union([Type.String({ pattern: '^https?://' }), Type.Null()]),
  open311ApiKey: Type.Union([Type.String({ minLength: 16, maxLength: 200 }), Type.Null()]),
  // Camera snapshots kept as evidence (tickets/snapshot-fetch.ts): hosts/CIDRs allowed; empty = off.
  snapshotAllow: Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1, maxItems: 64 }), Type.Null()]),
  snapshotMaxBytes: Type.Integer({ minimum: 1024, maximum: 5 * 1024 * 1024 }),
  snapshotTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
});
export type HubConfig = Static<typeof HubConfig>;

type Env = Record<string, string | undefined>;

/** Ingest write-path defaults: the variables below and the event writer's fallbacks (store/event-writer.ts). */
export const INGEST_DEFAULTS = { maxBatch: 500, maxDelayMs: 0, maxPending: 50_000 } as const;

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
  ingestBatchMax: ['INGEST_BATCH_MAX', Number, INGEST_DEFAULTS.maxBatch],
  ingestBatchDelayMs: ['INGEST_BATCH_DELAY_MS', Number, INGEST_DEFAULTS.maxDelayMs],
  ingestMaxPending: ['INGEST_MAX_PENDING', Number, INGEST_DEFAULTS.maxPending],
  deviceOfflineCheckMs: ['DEVICE_OFFLINE_CHECK_MS', Number, 15_000],
  authTokenTtlS: ['AUTH_TOKEN_TTL_S', Number, 12 * 3600],
  metricsPublic: ['METRICS_PUBLIC', (v) => v === 'true' || v === '1', true],
  authSecret: ['AUTH_SECRET', (v) => v || null, null],
  ruleTickMs: ['RULE_TICK_MS', Number, 1000],
  slaSweepCron: ['SLA_SWEEP_CRON', String, '*/30 * * * * *'],
  notifyWebhookUrl: ['NOTIFY_WEBHOOK_URL', (v) => v || null, null],
  notifyWebhookSecret: ['NOTIFY_WEBHOOK_SECRET', (v) => v || null, null],
  notifySmtpUrl: ['NOTIFY_SMTP_URL', (v) => v || null, null],
  notifyMailFrom: ['NOTIFY_MAIL_FROM', String, 'shaobing@localhost'],
  notifyPollMs: ['NOTIFY_POLL_MS', Number, 1000],
  notifyPublicUrl: ['NOTIFY_PUBLIC_URL', (v) => v || null, null],
  open311ApiKey: ['OPEN311_API_KEY', (v) => v || null, null],
  snapshotAllow: ['SNAPSHOT_ALLOW', (v) => { const xs = v.split(',').map((x) => x.trim()).filter((x) => x !== ''); return xs.length > 0 ? xs : null; }, null],
  snapshotMaxBytes: ['SNAPSHOT_MAX_BYTES', Number, 2 * 1024 * 1024],
  snapshotTimeoutMs: ['SNAPSHOT_TIMEOUT_MS', Number, 5000],
  retentionDays: ['RETENTION_DAYS', Number, 400],
  deadLetterRetentionDays: ['DEAD_LETTER_RETENTION_DAYS', Number, 30],
  // Not JSON → the text itself, which fails validation with the variable named.
  slaPolicy: ['SLA_POLICY', (v) => { try { return v ? JSON.parse(v) : null; } catch { return v; } }, null],
  storeMaintenance: ['STORE_MAINTENANCE', (v) => v || null, null],
  mqttRateLimitGraceS: ['MQTT_RATE_LIMIT_GRACE_S', Number, 10],
  mqttRateLimitBanS: ['MQTT_RATE_LIMIT_BAN_S', Number, 60],
  mqttMaxConnectionsPerDevice: ['MQTT_MAX_CONNECTIONS_PER_DEVICE', Number, 1],
  mqttMaxConnectionsPerGateway: ['MQTT_MAX_CONNECTIONS_PER_GATEWAY', Number, 4],
  mqttMaxConnectionsPerOperator: ['MQTT_MAX_CONNECTIONS_PER_OPERATOR', Number, 8],
  mqttMaxSendBufferBytes: ['MQTT_MAX_SEND_BUFFER_BYTES', Number, 1024 * 1024],
  mqttTlsPort: ['MQTT_TLS_PORT', (v) => (v === '' || v === 'off' ? null : Number(v)), null],
  mqttWssPort: ['MQTT_WSS_PORT', (v) => (v === '' || v === 'off' ? null : Number(v)), null],
  tlsCertFile: ['TLS_CERT_FILE', (v) => v || null, null],
  tlsKeyFile: ['TLS_KEY_FILE', (v) => v || null, null],
  httpTls: ['HTTP_TLS', (v) => v === 'true' || v === '1', false],
  trustProxy: ['TRUST_PROXY', (v) => v === 'true' || v === '1', false],
  hubId: ['HUB_ID', (v) => v || null, null],
  mqttIngestConnections: ['MQTT_INGEST_CONNECTIONS', Number, 32],
  mqttShareGroup: ['MQTT_SHARE_GROUP', String, 'shaobing'],
  clusterSites: ['CLUSTER_SITES', (v) => (v === '' || v === 'all' ? 'all' : v.split(',').map((s) => s.trim()).filter(Boolean)), 'all'],
  leasePollMs: ['LEASE_POLL_MS', Number, 1000],
  leaseTtlMs: ['LEASE_TTL_MS', (v) => (v ? Number(v) : null), null],
  registryPollMs: ['REGISTRY_POLL_MS', Number, 5000],
  brokerHookSecret: ['BROKER_HOOK_SECRET', (v) => v || null, null],
  brokerOperatorZone: ['BROKER_OPERATOR_ZONE', String, 'operators'],
};

/** The variables as documented (the README table is checked against this). */
export function configVariables(): { key: keyof HubConfig; name: string; default: unknown }[] {
  return (Object.keys(VARS) as (keyof HubConfig)[]).map((key) => ({ key, name: VARS[key][0], default: VARS[key][2] }));
}

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
  const c = result.value;
  if ((c.mqttTlsPort !== null || c.mqttWssPort !== null || c.httpTls) && (!c.tlsCertFile || !c.tlsKeyFile)) {
    throw new ConfigError('invalid configuration: MQTT_TLS_PORT, MQTT_WSS_PORT and HTTP_TLS need TLS_CERT_FILE and TLS_KEY_FILE');
  }
  if (!cron.validate(result.value.slaSweepCron)) throw new ConfigError(`invalid configuration: SLA_SWEEP_CRON=${JSON.stringify(result.value.slaSweepCron)}: not a cron expression`);
  return result.value;
}

/** Loads `.env` from the working directory into process.env (existing variables win). */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
