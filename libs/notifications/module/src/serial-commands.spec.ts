import { SerialCommands } from './serial-commands';

describe('SerialCommands', () => {
  it('runs commands one after another in order, and refuses one past the limit of waiting commands', async () => {
    const commands = new SerialCommands(2);
    const ran: string[] = [];
    let finishFirst: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (finishFirst = resolve));

    expect(commands.run(async () => { await first; ran.push('slow'); })).toBe(true);
    expect(commands.run(async () => { ran.push('quick'); })).toBe(true);
    expect(commands.run(async () => { ran.push('refused'); })).toBe(false);

    finishFirst();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(ran).toEqual(['slow', 'quick']);
    expect(commands.run(async () => { ran.push('after'); })).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(ran).toEqual(['slow', 'quick', 'after']);
  });
});
