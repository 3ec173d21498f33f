import pino, { type Logger } from "pino";

/**
 * JSON logs on stdout (IPMASQ_LOG_LEVEL), secrets redacted. Times are ISO 8601 (UTC) and levels
 * words, as the reporter's: pino's default epoch milliseconds and level numbers were unreadable
 * in `logs/dashboard.log`.
 */
export function createLogger(level = "info", dest?: pino.DestinationStream): Logger {
  return pino(
    {
      name: "ipmasq-dashboard",
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      // "info", "warn": as the reporter's lines, not pino's numbers (30, 40).
      formatters: { level: (label) => ({ level: label }) },
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
