/** The part of a `ws` WebSocket the writer needs. */
export interface PausableSocket {
  readonly readyState: number;
  readonly isPaused: boolean;
  send(data: string, callback?: (error?: Error) => void): void;
  pause(): void;
  resume(): void;
}

const OPEN = 1;

/**
 * Writes one connection's answers to its commands. Answers are never dropped (a client waits
 * for each), so what bounds them is the client itself: once `limit` bytes of answers wait
 * unwritten in this process, its socket is no longer read until they drain below `limit`, and
 * its further commands wait in TCP on its side. Without it, a client that sends commands but
 * never reads makes us hold every answer (a one-account `subscribe` is answered with the whole
 * account list, up to ~130 KB).
 */
export class AnswerWriter {
  private unwritten = 0;

  constructor(
    private readonly socket: PausableSocket,
    private readonly limit: number,
  ) {}

  send(frame: object): void {
    if (this.socket.readyState !== OPEN) return;
    const data = JSON.stringify(frame);
    const bytes = Buffer.byteLength(data);
    this.unwritten += bytes;
    // Called once the frame left this process (or the socket failed): either way we no longer hold it.
    this.socket.send(data, () => {
      this.unwritten -= bytes;
      if (this.unwritten < this.limit && this.socket.isPaused) this.socket.resume();
    });
    if (this.unwritten >= this.limit && !this.socket.isPaused) this.socket.pause();
  }
}
