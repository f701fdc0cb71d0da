import { Type } from '@sinclair/typebox';
import { Id, RegistryCredentialReply, RegistryDeviceBody } from '@shaobing/schemas';
import { hashDeviceSecret } from '@shaobing/schemas/credentials';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { HubError } from '../../errors.ts';
import { SiteFileError } from '../../site/load-site-file.ts';
import { addDevice, newDeviceSecret, setSecretHash } from '../../site/registry-edits.ts';
import type { Db } from '../../store/db.ts';
import { writeRegistry } from '../../store/registry-store.ts';
import type { RegistrySync } from '../../store/registry-sync.ts';

const Principal = Type.Object({ siteId: Id, id: Id }, { additionalProperties: false });

/**
 * The registry commands over HTTP for admins: what `npm run hub -- device add|rotate-secret`
 * does, for the embedded store, whose data directory the CLI cannot open while the hub runs.
 * The same checked write; this hub applies it before replying, the others on NOTIFY.
 */
export async function registryRoutes(app: FastifyInstance, opts: { db: Db; sync: RegistrySync }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const write = async (change: string, next: Parameters<typeof writeRegistry>[2]) => {
    try {
      const w = await writeRegistry(opts.db, change, next);
      await opts.sync.check();
      return w.version;
    } catch (err) {
      if (err instanceof SiteFileError) throw new HubError('HUB_ERR_VALIDATION', err.message);
      throw err;
    }
  };

  api.post('/api/registry/devices', {
    schema: { tags: ['registry'], body: RegistryDeviceBody, response: { 201: RegistryCredentialReply } },
    onRequest: app.requireRole('admin'),
  }, async (req, reply) => {
    const b = req.body;
    const secret = b.noSecret === true ? null : newDeviceSecret();
    const version = await write(`device add ${b.siteId}/${b.id} (API, ${req.user.sub})`, (current) => addDevice(current, {
      siteId: b.siteId, id: b.id, family: b.family, cellId: b.cellId, label: b.label,
      ...(b.gatewayId !== undefined ? { gatewayId: b.gatewayId } : {}),
      ...(b.ports !== undefined ? { ports: b.ports } : {}),
      ...(secret ? { secretHash: hashDeviceSecret(secret) } : {}),
    }));
    req.log.info({ device: `${b.siteId}/${b.id}`, by: req.user.sub, version }, 'device added to the registry');
    return reply.code(201).send({ username: `${b.siteId}/${b.id}`, secret, version });
  });

  api.post('/api/registry/devices/:siteId/:id/rotate-secret', {
    schema: { tags: ['registry'], params: Principal, response: { 200: RegistryCredentialReply } },
    onRequest: app.requireRole('admin'),
  }, async (req) => {
    const { siteId, id } = req.params;
    const secret = newDeviceSecret();
    const version = await write(`rotate-secret ${siteId}/${id} (API, ${req.user.sub})`, (current) => setSecretHash(current, siteId, id, hashDeviceSecret(secret)));
    req.log.info({ principal: `${siteId}/${id}`, by: req.user.sub, version }, 'secret rotated');
    return { username: `${siteId}/${id}`, secret, version };
  });
}
