// Node-side I/O helpers used by both apps (packages/shared stays pure: no I/O there).
export * from "./atomic-write.js";
export * from "./hash.js";
export * from "./mutex.js";
export * from "./read.js";
export * from "./sleep.js";
