import pino, { type Logger } from "pino";

/** JSON logs on stdout (IPMASQ_LOG_LEVEL), secrets redacted. */
export function createLogger(level = "info"): Logger {
  return pino({
    name: "ipmasq-dashboard",
    level,
    redact: {
      paths: ["req.headers.authorization", "req.headers.cookie", "token", "*.token"],
      censor: "[redacted]",
    },
  });
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
