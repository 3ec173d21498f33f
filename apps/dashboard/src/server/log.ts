import pino, { type Logger } from "pino";

/**
 * JSON logs on stdout (IPMASQ_LOG_LEVEL), secrets redacted. Times are ISO 8601 (UTC), as the
 * reporter's: pino's default epoch milliseconds were unreadable in `logs/dashboard.log`.
 */
export function createLogger(level = "info", dest?: pino.DestinationStream): Logger {
  return pino(
    {
      name: "ipmasq-dashboard",
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ["req.headers.authorization", "req.headers.cookie", "token", "*.token"],
        censor: "[redacted]",
      },
    },
    dest,
  );
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
