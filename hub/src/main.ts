import { parseArgs } from 'node:util';
import { configOrExit } from './config-or-exit.ts';
import { startHub } from './hub.ts';
import { createLogger } from './log.ts';

/**
 * The hub process: reads the configuration, starts everything, prints one line per listener
 * (scripts read them), and shuts down cleanly on SIGINT/SIGTERM, flushing what it holds.
 */
const { values: args } = parseArgs({
  options: {
    'with-simulator': { type: 'boolean', default: false },
    'sim-rate': { type: 'string', default: '20' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(`Usage: npm start [-- --with-simulator [--sim-rate N]]
  --with-simulator   also run the demo community simulator against the embedded broker
  --sim-rate N       simulator messages per second (default 20)
Configuration comes from environment variables (and .env); see README "Configuration".`);
  process.exit(0);
}

let config = configOrExit();
const log = createLogger(config.logLevel);

// Signals are taken from here on: one that arrives while the hub is still starting (a cold
// embedded store takes seconds, more on a busy machine) would otherwise kill the process in the
// middle of opening its store. It is kept, and the hub stops as soon as it has started.
let stopRequested: NodeJS.Signals | null = null;
let onSignal = (signal: NodeJS.Signals): void => {
  if (!stopRequested) log.info({ signal }, 'stop requested during start-up: stopping as soon as the hub has started');
  stopRequested ??= signal;
};
process.once('SIGINT', () => onSignal('SIGINT'));
process.once('SIGTERM', () => onSignal('SIGTERM'));

// The demo prints every notification through a local signed-webhook receiver (unless a real one is set).
let demoReceiver: { close(): Promise<void> } | null = null;
if (args['with-simulator'] && !config.notifyWebhookUrl) {
  const { startDemoReceiver } = await import('./notify/demo-receiver.ts');
  const r = await startDemoReceiver((line) => console.log(line));
  demoReceiver = r;
  config = { ...config, notifyWebhookUrl: r.url, notifyWebhookSecret: r.secret };
}

const hub = await startHub(config, { log }).catch((err: Error) => {
  log.fatal({ err }, 'hub failed to start');
  process.exit(1);
});
console.log(`shaobing: http ${hub.httpUrl}`);
console.log(`shaobing: dashboard ${hub.httpUrl}/`);
if (hub.mqttUrl) console.log(`shaobing: mqtt ${hub.mqttUrl}`);
if (hub.mqttWsUrl) console.log(`shaobing: mqtt-ws ${hub.mqttWsUrl}`);
if (hub.mqttTlsUrl) console.log(`shaobing: mqtt-tls ${hub.mqttTlsUrl}`);
if (hub.mqttWssUrl) console.log(`shaobing: mqtt-wss ${hub.mqttWssUrl}`);

let stopSimulator: (() => Promise<void>) | null = null;
if (args['with-simulator'] && !stopRequested) {
  if (!hub.mqttUrl) {
    log.warn('--with-simulator needs the embedded broker (MQTT_URL is set); not starting it');
  } else {
    const { startDemoSimulator } = await import('./demo-simulator.ts');
    stopSimulator = await startDemoSimulator({ mqttUrl: hub.mqttUrl, siteFile: hub.registry.file, ratePerSec: Number(args['sim-rate']), log });
    console.log(`shaobing: simulator feeding ${hub.registry.deviceCount} demo devices at ${args['sim-rate']} msg/s`);
  }
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  // Longer than the slowest normal path (broker close up to 10 s, writer close up to 15 s).
  const force = setTimeout(() => {
    log.error('shutdown took longer than 45 s; exiting');
    process.exit(1);
  }, 45_000);
  force.unref();
  try {
    await stopSimulator?.();
    await hub.stop();
    await demoReceiver?.close();
    log.info('stopped cleanly');
    clearTimeout(force);
    process.exitCode = 0;
  } catch (err) {
    log.error({ err }, 'unclean shutdown');
    process.exitCode = 1;
  }
}
onSignal = (signal) => void shutdown(signal);
if (stopRequested) void shutdown(stopRequested);
