// What one reporter connection may send: a token bucket over bytes and one over frames. An
// ordinary reporter sends a snapshot when its rules change, apply results and a heartbeat every
// few seconds, far below both. A connection over budget is paused (its socket is not read, so
// TCP pushes back on the sender) until it is within budget again: decoding and checking frames
// costs the dashboard CPU, and a flooding node must not be able to spend more of it.
import type { WebSocket } from "ws";

export interface BudgetOptions {
  bytesPerSecond: number;
  burstBytes: number;
  framesPerSecond: number;
  burstFrames: number;
}

export const DEFAULT_BUDGET: BudgetOptions = {
  bytesPerSecond: 512 * 1024,
  burstBytes: 2 * 1024 * 1024,
  framesPerSecond: 20,
  burstFrames: 100,
};

export class InboundBudget {
  private bytes: number;
  private frames: number;
  private last: number;

  constructor(
    private readonly o: BudgetOptions = DEFAULT_BUDGET,
    // Monotonic: on the wall clock a step back drained the budget by the step (the connection
    // paused for as long), one forward refilled it at once.
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.bytes = o.burstBytes;
    this.frames = o.burstFrames;
    this.last = clock();
  }

  /** Spends one frame of `size` bytes; returns how many ms to stop reading (0: go on). */
  take(size: number): number {
    const now = this.clock();
    const s = (now - this.last) / 1000;
    this.last = now;
    this.bytes = Math.min(this.o.burstBytes, this.bytes + s * this.o.bytesPerSecond) - size;
    this.frames = Math.min(this.o.burstFrames, this.frames + s * this.o.framesPerSecond) - 1;
    const byteDebt = this.bytes < 0 ? (-this.bytes / this.o.bytesPerSecond) * 1000 : 0;
    const frameDebt = this.frames < 0 ? (-this.frames / this.o.framesPerSecond) * 1000 : 0;
    return Math.ceil(Math.max(byteDebt, frameDebt));
  }
}

/**
 * Stops reading `ws` for `ms` (a pause already under way is left to finish). True when it
 * paused.
 */
export function pauseFor(ws: WebSocket, ms: number): boolean {
  if (ms <= 0 || ws.isPaused) return false;
  ws.pause();
  setTimeout(() => ws.resume(), ms).unref();
  return true;
}
