import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BatchItem, Envelope, MESSAGE_TYPES, SiteFile, typedEnvelope, type MessageType } from '../src/index.ts';

/**
 * Writes the vendor-facing JSON Schema files (schemas/json/). Generated — do not edit them;
 * `npm run schemas:export` regenerates, and a test fails when they are out of date.
 */
export const JSON_DIR = fileURLToPath(new URL('../json/', import.meta.url));

export function jsonSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const put = (name: string, schema: object, title: string) => {
    const doc = { $schema: 'http://json-schema.org/draft-07/schema#', $comment: 'Generated from schemas/src by `npm run schemas:export`. Do not edit.', title, ...JSON.parse(JSON.stringify(schema)) };
    delete (doc as { $id?: string }).$id;
    files.set(name, `${JSON.stringify(doc, null, 2)}\n`);
  };
  put('envelope.schema.json', Envelope, 'Shaobing v1 message envelope (any type)');
  put('gateway-batch-item.schema.json', BatchItem, 'Shaobing v1 gateway batch item');
  put('site-file.schema.json', SiteFile, 'Shaobing site file');
  for (const type of Object.keys(MESSAGE_TYPES) as MessageType[]) {
    put(`messages/${type}.schema.json`, typedEnvelope(type), `${type} (topic channel: ${MESSAGE_TYPES[type].channel})`);
  }
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  rmSync(JSON_DIR, { recursive: true, force: true });
  mkdirSync(`${JSON_DIR}messages`, { recursive: true });
  const files = jsonSchemaFiles();
  for (const [name, text] of files) writeFileSync(`${JSON_DIR}${name}`, text);
  console.log(`wrote ${files.size} JSON Schema files to ${JSON_DIR} (${readdirSync(`${JSON_DIR}messages`).length} message types)`);
}
