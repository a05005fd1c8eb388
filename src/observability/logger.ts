/** The process logger: pino, JSON lines on standard output. */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export function createLogger(
  level: string,
  destination: DestinationStream = pino.destination({ dest: 1, sync: false }),
): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
}
