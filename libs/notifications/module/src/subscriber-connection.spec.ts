import { SubscriberConnection, type SocketLike } from './subscriber-connection';

/** A socket whose peer reads nothing: every frame stays buffered until `drain`. */
class StalledSocket implements SocketLike {
  readyState = 1;
  bufferedAmount = 0;
  isPaused = false;
  sent: string[] = [];
  private callbacks: (() => void)[] = [];

  send(data: string, callback?: () => void): void {
    this.sent.push(data);
    this.bufferedAmount += data.length;
    if (callback) this.callbacks.push(callback);
  }

  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
  }

  drain(): void {
    this.bufferedAmount = 0;
    const callbacks = this.callbacks;
    this.callbacks = [];
    callbacks.forEach((callback) => callback());
  }
}

describe('SubscriberConnection', () => {
  it('given a client that stops reading, when messages keep coming, then the queue stays bounded and drops are counted', () => {
    const socket = new StalledSocket();
    let drops = 0;
    const connection = new SubscriberConnection(socket, 10, 100, () => drops++);
    for (let i = 0; i < 1000; i++) connection.push(`message-${String(i).padStart(4, '0')}`); // 12 bytes each

    expect(socket.sent).toHaveLength(9); // written until 100 bytes sat unsent
    expect(connection.queued).toBe(10);
    expect(connection.dropped).toBe(1000 - 9 - 10);
    expect(drops).toBe(connection.dropped);
  });

  it('given the client catches up, then the newest queued messages follow in order', () => {
    const socket = new StalledSocket();
    const connection = new SubscriberConnection(socket, 3, 1_000_000, () => undefined);
    socket.bufferedAmount = 2_000_000; // stalled from the start
    for (let i = 0; i < 5; i++) connection.push(`m${i}`);
    expect(socket.sent).toEqual([]);
    socket.bufferedAmount = 0;
    connection.push('m5'); // the next push finds room again
    expect(socket.sent).toEqual(['m3', 'm4', 'm5']);
  });
});
