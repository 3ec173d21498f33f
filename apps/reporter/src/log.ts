// Structured JSON logs (pino) on stdout; one logger per agent, children per module.
import { pino } from "pino";

export type Logger = pino.Logger;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Bound into every line, e.g. { node: "node-a" }. */
  base?: Record<string, unknown>;
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? "info",
    base: { app: "ipmasq-reporter", ...opts.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** For library use (links in a benchmark, tests): logs nothing. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
