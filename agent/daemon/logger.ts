import pino, { type Logger } from 'pino';

/**
 * Structured JSON lines on stdout (journald collects them). Fields that could ever carry a secret are
 * censored by path, and the daemon never passes the token, keys or environment to the logger at all.
 */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { service: 'vmxfer', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'secret', '*.secret', 'secretAccessKey', '*.secretAccessKey', 'credentials', '*.credentials'],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
