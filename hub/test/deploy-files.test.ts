import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { LISTEN_BACKLOG } from '../src/broker/broker.ts';

/*
 * Docker cannot run on the development or CI machine, so the deployment files are checked
 * statically: docker-compose.yml against the Compose Specification's JSON schema (vendored in
 * deploy/compose-spec.json, so a missing schema fails here instead of skipping) plus the
 * operational rules of README "Production"; the Dockerfile by a small lint of the same rules.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFileSync(`${root}${p}`, 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  restart?: string;
  healthcheck?: { test?: unknown; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
  ports?: (string | { published?: string; host_ip?: string })[];
  env_file?: unknown;
  environment?: Record<string, string>;
  volumes?: string[];
  profiles?: string[];
  sysctls?: Record<string, string | number>;
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
  const services = Object.entries(compose.services);

  it('is valid against the Compose Specification schema', () => {
    // Its $schema names draft-07 by an https URL ajv does not alias; draft-07 is ajv's default.
    const { $schema: _draft, ...schema } = JSON.parse(read('deploy/compose-spec.json')) as Record<string, unknown>;
    expect(_draft).toMatch(/draft-07/);
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
    // The schema is not a rubber stamp: a misspelt key fails it.
    expect(validate({ services: { hub: { image: 'x', restart_policy: 'always' } } })).toBe(false);
  });

  it('pins every image to an exact version, and the database to what CI tests', () => {
    for (const [name, s] of services) {
      expect(s.image, name).toMatch(/^[\w./-]+:\d+\.\d+\.\d+(-[\w.]+)?$/);
    }
    expect(compose.services.timescaledb!.image).toBe('timescale/timescaledb:2.28.3-pg15');
  });

  it('gives every service a healthcheck and a restart policy, and waits on healthy dependencies', () => {
    for (const [name, s] of services) {
      expect(s.healthcheck?.test, name).toBeTruthy();
      expect(s.healthcheck?.disable, name).not.toBe(true);
      expect(s.restart, name).toBe('unless-stopped');
      if (s.depends_on) {
        expect(Array.isArray(s.depends_on), `${name}: depends_on needs conditions`).toBe(false);
        for (const [dep, d] of Object.entries(s.depends_on)) expect(d.condition, `${name} → ${dep}`).toBe('service_healthy');
      }
    }
  });

  it('takes secrets from the env file, shares AUTH_SECRET and mounts no source tree', () => {
    const text = read('docker-compose.yml');
    // No secret as a literal value (only ${...} references and the env file).
    expect(text).not.toMatch(/^\s*(AUTH_SECRET|POSTGRES_PASSWORD|EMQX_DASHBOARD__DEFAULT_PASSWORD)\s*[:=]/m);
    for (const name of ['hub', 'hub-a', 'hub-b', 'emqx', 'timescaledb']) expect(compose.services[name]!.env_file, name).toBe('.env');
    const example = read('deploy/env.example');
    for (const v of ['POSTGRES_PASSWORD', 'AUTH_SECRET', 'BROKER_HOOK_SECRET', 'COMPOSE_PROFILES']) expect(example).toMatch(new RegExp(`^${v}=`, 'm'));
    for (const [name, s] of services) {
      for (const v of s.volumes ?? []) expect(v, name).not.toMatch(/^\.:|node_modules/);
    }
  });

  it('publishes device ports on all interfaces and everything else on 127.0.0.1 only', () => {
    const devicePorts = new Set(['1883:1883', '1884:1883']);
    for (const [name, s] of services) {
      for (const p of s.ports ?? []) {
        expect(typeof p, name).toBe('string');
        const port = p as string;
        if (devicePorts.has(port)) continue;
        expect(port, `${name} publishes ${port} beyond the operators' host`).toMatch(/^(127\.0\.0\.1|\$\{HTTP_BIND:-127\.0\.0\.1\}):/);
      }
    }
  });

  it('lets the kernel queue as many connects as the embedded broker asks for (a reconnect storm)', () => {
    const hub = compose.services.hub!;
    expect(hub.ports).toContain('1883:1883');
    expect(Number(hub.sysctls?.['net.core.somaxconn'])).toBeGreaterThanOrEqual(LISTEN_BACKLOG);
  });

  it('runs the hub from the image (graceful stop); the cluster profile puts hubs with their own HUB_ID behind EMQX, which asks them who may connect', () => {
    const hub = compose.services.hub!;
    expect(hub.build).toBeTruthy();
    const cluster = ['hub-a', 'hub-b'].map((n) => compose.services[n]!);
    const ids = new Set<string>();
    for (const s of cluster) {
      expect(s.image).toBe(hub.image);
      expect(s.profiles).toEqual(['cluster']);
      expect(s.environment?.MQTT_URL).toMatch(/^mqtt:\/\/shaobing-hub:\$\{BROKER_HOOK_SECRET[^}]*\}@emqx:1883$/);
      expect(s.environment?.DATABASE_URL).toBe(hub.environment?.DATABASE_URL);
      // The same sites on every hub: the leases decide who acts for which (README "Scaling out").
      expect(s.environment?.SITE_FILE).toBe(hub.environment?.SITE_FILE);
      ids.add(String(s.environment?.HUB_ID));
    }
    expect(ids.size).toBe(2);
    const emqx = compose.services.emqx!.environment ?? {};
    expect(emqx.EMQX_AUTHENTICATION__1__BACKEND).toBe('http');
    expect(emqx.EMQX_AUTHENTICATION__1__URL).toBe('http://hub-a:8080/api/broker/emqx/authn');
    expect(emqx.EMQX_AUTHENTICATION__2__URL).toBe('http://hub-b:8080/api/broker/emqx/authn');
    expect(emqx.EMQX_AUTHORIZATION__SOURCES__1__URL).toBe('http://hub-a:8080/api/broker/emqx/authz');
    expect(emqx.EMQX_AUTHORIZATION__NO_MATCH).toBe('deny');
    // Operators come in through the zone whose sessions end with the connection, and the hook learns the zone.
    expect(emqx.EMQX_AUTHENTICATION__1__BODY).toContain('"zone":"$${zone}"');
    expect(emqx.EMQX_LISTENERS__TCP__OPERATORS__ZONE).toBe('operators');
    expect(emqx.EMQX_ZONES__OPERATORS__MQTT__SESSION_EXPIRY_INTERVAL).toBe('0s');
    expect(emqx.EMQX_DURABLE_SESSIONS__ENABLE).toBe('true');
    expect(String(emqx.EMQX_AUTHENTICATION__1__HEADERS__AUTHORIZATION)).toMatch(/^Bearer \$\{BROKER_HOOK_SECRET/);
    // `$${x}` reaches EMQX as its `${x}` placeholder; the body is the shape the hook validates.
    const body = JSON.parse(String(emqx.EMQX_AUTHORIZATION__SOURCES__1__BODY).replaceAll('$${', '${')) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['action', 'clientid', 'qos', 'retain', 'topic', 'username']);
    for (const s of [hub, ...cluster]) expect(JSON.stringify(s)).not.toMatch(/npm ci|sh -c/);
  });
});

/** Dockerfile instructions with line continuations joined and comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  return joined.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => { const m = /^(\S+)\s+(.*)$/.exec(l)!; return { op: m[1]!.toUpperCase(), args: m[2]! }; });
}

describe('Dockerfile', () => {
  const ins = instructions(read('Dockerfile'));
  const froms = ins.map((x, i) => ({ ...x, i })).filter((x) => x.op === 'FROM');
  const finalStage = ins.slice(froms.at(-1)!.i);

  it('is multi-stage from pinned images, and the build stage builds the dashboard', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f.args).toMatch(/^[\w./-]+:\d+\.\d+\.\d+[\w.-]*( AS \w+)?$/i);
    const build = ins.slice(froms[0]!.i, froms[1]!.i);
    expect(build.some((x) => x.op === 'RUN' && /npm run build/.test(x.args))).toBe(true);
    expect(finalStage.some((x) => x.op === 'COPY' && /--from=build .*dashboard\/dist/.test(x.args))).toBe(true);
  });

  it('runs as a non-root user with an init as PID 1 and node in exec form', () => {
    const users = finalStage.filter((x) => x.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.args).not.toMatch(/^(root|0)(:|$)/);
    const entry = finalStage.find((x) => x.op === 'ENTRYPOINT')!;
    const cmd = finalStage.find((x) => x.op === 'CMD')!;
    expect(JSON.parse(entry.args)).toEqual(['/usr/bin/tini', '--']);
    expect(JSON.parse(cmd.args)[0]).toBe('node'); // exec form: no shell between tini and node
    expect(finalStage.findIndex((x) => x.op === 'USER')).toBeLessThan(finalStage.findIndex((x) => x.op === 'CMD'));
  });

  it('has a HEALTHCHECK on /healthz, clean apt layers, and installs production dependencies only', () => {
    const hc = finalStage.find((x) => x.op === 'HEALTHCHECK');
    expect(hc?.args).toMatch(/CMD \[.*\/healthz/);
    for (const r of ins.filter((x) => x.op === 'RUN' && /apt-get install/.test(x.args))) {
      expect(r.args).toMatch(/--no-install-recommends/);
      expect(r.args).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
    }
    expect(finalStage.some((x) => x.op === 'RUN' && /npm ci --omit=dev/.test(x.args))).toBe(true);
    expect(ins.some((x) => x.op === 'ADD')).toBe(false);
  });

  it('keeps data, secrets and the git history out of the build context', () => {
    const ignore = read('.dockerignore').split(/\r?\n/).map((l) => l.trim());
    for (const p of ['.git', '**/node_modules', 'data', '.env']) expect(ignore).toContain(p);
  });
});
