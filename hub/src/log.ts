import pino, { type Logger } from 'pino';

export type { Logger };

/** One root logger per process; modules take child loggers bound to their component. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'shaobing-hub' }, timestamp: pino.stdTimeFunctions.isoTime });
}
