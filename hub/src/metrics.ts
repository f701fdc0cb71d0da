import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per hub instance (tests run several hubs in one process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'shaobing_process_' });
  return {
    registry,
    accepted: new Counter({ name: 'shaobing_messages_accepted_total', help: 'device messages validated and handed to the store', labelNames: ['family', 'channel'], registers: [registry] }),
    stored: new Counter({ name: 'shaobing_messages_stored_total', help: 'device messages newly committed to the store (duplicates excluded)', registers: [registry] }),
    duplicates: new Counter({ name: 'shaobing_messages_duplicate_total', help: 'redelivered messages (same device + id) stored once', registers: [registry] }),
    rejected: new Counter({ name: 'shaobing_messages_rejected_total', help: 'device messages rejected, by reason', labelNames: ['reason'], registers: [registry] }),
    batchSize: new Histogram({ name: 'shaobing_store_batch_size', help: 'events per committed batch', buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000], registers: [registry] }),
    commitSeconds: new Histogram({ name: 'shaobing_store_commit_seconds', help: 'time to commit one batch', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] }),
    pending: new Gauge({ name: 'shaobing_store_pending', help: 'accepted messages waiting for their batch to commit', registers: [registry] }),
    storeUp: new Gauge({ name: 'shaobing_store_up', help: '1 when the last store write succeeded', registers: [registry] }),
    clients: new Gauge({ name: 'shaobing_mqtt_clients', help: 'connected MQTT clients', registers: [registry] }),
    sendOverflows: new Counter({ name: 'shaobing_mqtt_send_buffer_overflows_total', help: 'MQTT connections closed because they stopped reading (MQTT_MAX_SEND_BUFFER_BYTES)', registers: [registry] }),
    authFailures: new Counter({ name: 'shaobing_mqtt_auth_failures_total', help: 'CONNECT refused for bad credentials', registers: [registry] }),
    storeJobsFailing: new Gauge({ name: 'shaobing_store_jobs_failing', help: 'TimescaleDB background jobs whose last run failed or that are late, by job', labelNames: ['job_id', 'proc', 'problem'], registers: [registry] }),
    storeDiskBytes: new Gauge({ name: 'shaobing_store_disk_bytes', help: 'store disk use: embedded data directory, or the server database size', registers: [registry] }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
