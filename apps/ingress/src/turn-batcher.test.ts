import { describe, expect, it } from 'vitest';
import { TurnBatcher } from './turn-batcher.js';

describe('TurnBatcher', () => {
  it('starts the tasks of one turn together in the next check phase, in order, and passes results through', async () => {
    const batcher = new TurnBatcher();
    const started: string[] = [];
    const task = (name: string) => () => {
      started.push(name);
      return Promise.resolve(name.toUpperCase());
    };
    const a = batcher.run(task('a'));
    const b = batcher.run(task('b'));
    expect(started).toEqual([]);
    // An immediate queued now runs after the batch's, which was queued first.
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a', 'b']);
    expect(await Promise.all([a, b])).toEqual(['A', 'B']);
  });

  it('rejects only the task that failed, also when it throws before returning a promise', async () => {
    const batcher = new TurnBatcher();
    const failing = batcher.run(() => Promise.reject(new Error('refused')));
    const throwing = batcher.run((): Promise<string> => {
      throw new Error('thrown');
    });
    const fine = batcher.run(() => Promise.resolve('ok'));
    await expect(failing).rejects.toThrow('refused');
    await expect(throwing).rejects.toThrow('thrown');
    expect(await fine).toBe('ok');
  });

  it('starts a new batch for tasks submitted after a flush', async () => {
    const batcher = new TurnBatcher();
    expect(await batcher.run(() => Promise.resolve(1))).toBe(1);
    expect(await batcher.run(() => Promise.resolve(2))).toBe(2);
  });
});
