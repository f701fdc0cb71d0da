import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { SiteFile } from '@shaobing/schemas';
import { hashDeviceSecret, hashPassword } from '@shaobing/schemas/credentials';
import { loadSiteFile, SiteFileError } from '../site/load-site-file.ts';
import { addDevice, addOperator, newDeviceSecret, setPasswordHash, setSecretHash, type NewDevice } from '../site/registry-edits.ts';
import type { Db } from '../store/db.ts';
import { loadRegistry, writeRegistry } from '../store/registry-store.ts';

/*
 * Registry commands of the operator CLI (hub/src/cli.ts): `site import|export`,
 * `device add|rotate-secret`, `operator add|passwd`. Every change is one checked write of the
 * registry tables (store/registry-store.ts): the same check as a site file, so a command can
 * never leave an invalid registry, and running hubs apply it within REGISTRY_POLL_MS (at once
 * over LISTEN/NOTIFY). Secrets and generated passwords are printed once and stored hashed.
 */

/** parseArgs options these commands add to the CLI's own. */
export const REGISTRY_OPTIONS = {
  family: { type: 'string' },
  cell: { type: 'string' },
  label: { type: 'string' },
  gateway: { type: 'string' },
  ports: { type: 'string' },
  'no-secret': { type: 'boolean', default: false },
  role: { type: 'string' },
  'display-name': { type: 'string' },
  sites: { type: 'string' },
  'password-stdin': { type: 'boolean', default: false },
} as const;

export const REGISTRY_USAGE = `  site import <file>           replace the registry with a site file (JSON or YAML), checked like SITE_FILE
  site export [file]           write the registry as a site file (stdout, or .json/.yaml file)
  device add <site>/<id> --family F --cell C --label L [--gateway G] [--ports N] [--no-secret]
                               add a device; prints its new MQTT secret once
  device rotate-secret <site>/<id>
                               new secret for a device or gateway (printed once); the old one stops working
  operator add <username> --role R --display-name N [--sites a,b] [--password-stdin]
  operator passwd <username> [--password-stdin]
                               set an operator's or worker's password (generated and printed once unless piped)`;

export interface RegistryArgs {
  positionals: string[];
  values: { json: boolean } & { [K in keyof typeof REGISTRY_OPTIONS]?: string | boolean };
}

/** Exit code contract of the CLI: 0 ok, 1 the operation failed, 2 usage. */
export class UsageError extends Error {}

export const REGISTRY_COMMANDS = ['site', 'device', 'operator'] as const;

type Out = (line: string) => void;

export async function runRegistryCommand(args: RegistryArgs, openStore: () => Promise<Db>, out: Out, readStdin: () => Promise<string>): Promise<number> {
  const [command, sub, target] = args.positionals;
  const str = (name: keyof typeof REGISTRY_OPTIONS): string | undefined => {
    const v = args.values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const need = (name: keyof typeof REGISTRY_OPTIONS): string => {
    const v = str(name);
    if (v === undefined || v === '') throw new UsageError(`${command} ${sub}: --${name} is required`);
    return v;
  };
  const principalOf = (t: string | undefined): { siteId: string; id: string } => {
    const m = /^([^/\s]+)\/([^/\s]+)$/.exec(t ?? '');
    if (!m) throw new UsageError(`${command} ${sub}: expected <site>/<id>, got ${JSON.stringify(t ?? '')}`);
    return { siteId: m[1]!, id: m[2]! };
  };
  const password = async (): Promise<{ value: string; generated: boolean }> => {
    if (args.values['password-stdin'] === true) {
      const value = (await readStdin()).replace(/\r?\n$/, '');
      if (value.length < 8) throw new SiteFileError('password: at least 8 characters');
      return { value, generated: false };
    }
    return { value: randomBytes(12).toString('base64url'), generated: true };
  };

  // Validate the usage before touching the store.
  let plan: (db: Db) => Promise<number>;
  if (command === 'site' && sub === 'import') {
    if (!target) throw new UsageError('site import: a file is required');
    // The site file's own check, with its messages, before anything is written.
    const file = await loadSiteFile(target);
    plan = async (db) => {
      const w = await writeRegistry(db, `site import ${target}`, () => file, { replaceAll: true });
      report(out, args, { version: w.version, sites: file.sites.length, devices: count(file, 'devices'), operators: file.operators.length },
        `registry version ${w.version}: imported ${target} (${file.sites.length} site(s), ${count(file, 'devices')} device(s), ${file.operators.length} operator(s))`);
      return 0;
    };
  } else if (command === 'site' && sub === 'export') {
    plan = async (db) => {
      const { file, version } = await loadRegistry(db);
      if (!file) throw new SiteFileError('the registry is empty (site import <file>, or start the hub once with SITE_FILE)');
      const text = target && ['.yaml', '.yml'].includes(extname(target)) ? toYaml(file) : `${JSON.stringify(file, null, 2)}\n`;
      if (target) {
        await writeFile(target, text, { mode: 0o600 }); // holds credential hashes
        console.error(`registry version ${version} written to ${target}`);
      } else {
        process.stdout.write(text);
      }
      return 0;
    };
  } else if (command === 'device' && sub === 'add') {
    const { siteId, id } = principalOf(target);
    const ports = str('ports');
    const secret = args.values['no-secret'] === true ? null : newDeviceSecret();
    const device: NewDevice = {
      siteId, id, family: need('family'), cellId: need('cell'), label: need('label'),
      ...(str('gateway') ? { gatewayId: str('gateway')! } : {}),
      ...(ports !== undefined ? { ports: Number(ports) } : {}),
      ...(secret ? { secretHash: hashDeviceSecret(secret) } : {}),
    };
    plan = async (db) => {
      const w = await writeRegistry(db, `device add ${siteId}/${id}`, (current) => addDevice(current, device));
      report(out, args, { version: w.version, username: `${siteId}/${id}`, secret },
        secret ? `device ${siteId}/${id} added (registry version ${w.version}); MQTT username ${siteId}/${id}, secret (shown once):\n${secret}`
          : `device ${siteId}/${id} added without a secret (publishes through its gateway; registry version ${w.version})`);
      return 0;
    };
  } else if (command === 'device' && sub === 'rotate-secret') {
    const { siteId, id } = principalOf(target);
    const secret = newDeviceSecret();
    plan = async (db) => {
      const w = await writeRegistry(db, `rotate-secret ${siteId}/${id}`, (current) => setSecretHash(current, siteId, id, hashDeviceSecret(secret)));
      report(out, args, { version: w.version, username: `${siteId}/${id}`, secret },
        `new secret for ${siteId}/${id} (registry version ${w.version}; the old one no longer connects), shown once:\n${secret}`);
      return 0;
    };
  } else if (command === 'operator' && sub === 'add') {
    if (!target) throw new UsageError('operator add: a username is required');
    const role = need('role');
    const displayName = need('display-name');
    const sites = str('sites');
    const pw = await password();
    const passwordHash = await hashPassword(pw.value);
    plan = async (db) => {
      const w = await writeRegistry(db, `operator add ${target}`, (current) => addOperator(current, {
        username: target, displayName, role, passwordHash, ...(sites ? { siteIds: sites.split(',').map((x) => x.trim()).filter(Boolean) } : {}),
      }));
      report(out, args, { version: w.version, username: target, password: pw.generated ? pw.value : null },
        `operator ${target} added (registry version ${w.version})${pw.generated ? `; password (shown once):\n${pw.value}` : ''}`);
      return 0;
    };
  } else if (command === 'operator' && sub === 'passwd') {
    if (!target) throw new UsageError('operator passwd: a username is required');
    const pw = await password();
    const passwordHash = await hashPassword(pw.value);
    plan = async (db) => {
      const w = await writeRegistry(db, `passwd ${target}`, (current) => setPasswordHash(current, target, passwordHash));
      report(out, args, { version: w.version, username: target, password: pw.generated ? pw.value : null },
        `password of ${target} changed (registry version ${w.version})${pw.generated ? `; new password (shown once):\n${pw.value}` : ''}`);
      return 0;
    };
  } else {
    throw new UsageError(`unknown command ${JSON.stringify([command, sub].filter(Boolean).join(' '))}`);
  }

  const db = await openStore();
  try {
    return await plan(db);
  } finally {
    await db.close();
  }
}

function count(file: SiteFile, what: 'devices'): number {
  return file.sites.reduce((n, s) => n + s[what].length, 0);
}

function report(out: Out, args: RegistryArgs, json: object, text: string): void {
  out(args.values.json ? JSON.stringify(json) : text);
}
