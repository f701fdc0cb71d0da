/** The live feed: WebSocket fan-out of events, tickets, presence and KPIs (schemas/src/live.ts). */
export { livePlugin, type LivePluginOptions, CLOSE_BAD_MESSAGE, CLOSE_FORBIDDEN, CLOSE_TOKEN_EXPIRED } from './plugin.ts';
export { LiveFeed, type LiveFeedOptions, type LiveStats } from './feed.ts';
export { Ring, type RingEntry } from './ring.ts';
export { LiveSession, type LiveSocket, type SessionLimits } from './session.ts';
