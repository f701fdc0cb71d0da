/*
 * A bare aedes broker for measuring the simulator alone (no hub, no auth, no storage):
 *   npx tsx simulators/scripts/bare-broker.ts --port 1884
 * Prints one line per second: publishes and device messages (batch items counted) received.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { Aedes } from 'aedes';

const { values } = parseArgs({ options: { port: { type: 'string', default: '1884' }, host: { type: 'string', default: '127.0.0.1' } } });
const broker = await Aedes.createBroker();
const server = net.createServer(broker.handle);
await new Promise<void>((resolve) => server.listen(Number(values.port), values.host, resolve));
console.log(`bare broker listening on mqtt://${values.host}:${(server.address() as net.AddressInfo).port}`);

let publishes = 0;
let messages = 0;
let last = { publishes: 0, messages: 0 };
broker.on('publish', (packet, client) => {
  if (!client) return;
  publishes++;
  // A gateway batch is a JSON array: count its items without parsing the whole payload twice.
  messages += packet.topic.endsWith('/batch') && packet.payload[0] === 0x5b ? countItems(packet.payload as Buffer) : 1;
});
function countItems(payload: Buffer): number {
  try { const v: unknown = JSON.parse(payload.toString('utf8')); return Array.isArray(v) ? v.length : 1; } catch { return 1; }
}
const timer = setInterval(() => {
  if (publishes !== last.publishes) console.log(`clients ${broker.connectedClients} | ${publishes - last.publishes} publishes/s | ${messages - last.messages} msgs/s | total ${messages}`);
  last = { publishes, messages };
}, 1000);
const shutdown = (): void => {
  clearInterval(timer);
  broker.close(() => server.close(() => process.exit(0)));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
