import type { DeviceTopic } from '@shaobing/schemas';

/**
 * A Last Will is fixed at CONNECT and delivered whenever the connection dies, maybe weeks
 * later, so it cannot carry a meaningful id or ts. On a status topic the hub accepts the
 * documented short form `{"online": false}` (or a full envelope) and stamps id and ts at
 * delivery; the result is then validated like any other message. Anything else is left as is.
 */
export function stampLastWill(topic: DeviceTopic, payload: Buffer, now: number): Buffer {
  if (topic.channel !== 'status') return payload;
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return payload;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return payload;
  const fields = doc as Record<string, unknown>;
  const data = 'data' in fields ? fields.data : fields;
  const type = 'type' in fields ? fields.type : `${topic.family}.status`;
  return Buffer.from(JSON.stringify({ id: `will-${now}`, ts: now, type, data }));
}
