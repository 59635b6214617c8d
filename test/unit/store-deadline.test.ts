// The request deadline (src/store/deadline.ts): the last moment a script may write sits a margin
// before the caller gives up; a renewable deadline follows Redis's answers but never moves once
// the caller has given up; withDeadline follows renewals and expires the deadline when it fires.
import { describe, expect, it } from 'vitest';
import { asStorageError, Deadline, REPLY_MARGIN_MS, StorageUnavailableError, withDeadline } from '../../src/store/deadline.js';

describe('Deadline', () => {
  it('lets scripts write until the reply margin and the clock skew before the caller gives up', () => {
    const d = new Deadline();
    expect(d.writeBy(0)).toBe(d.at - REPLY_MARGIN_MS);
    expect(d.writeBy(50)).toBe(d.at - REPLY_MARGIN_MS - 50);
  });

  it('renews only when renewable, and never after it expired', async () => {
    const fixed = new Deadline(false, 1000);
    const at = fixed.at;
    await new Promise((r) => setTimeout(r, 5));
    fixed.renew();
    expect(fixed.at).toBe(at);

    const moving = new Deadline(true, 1000);
    const first = moving.at;
    await new Promise((r) => setTimeout(r, 5));
    moving.renew();
    expect(moving.at).toBeGreaterThan(first);
    moving.expire();
    expect(moving.writeBy(0)).toBeLessThan(Date.now());
    moving.renew();
    expect(moving.writeBy(0)).toBeLessThan(Date.now());
  });
});

describe('withDeadline', () => {
  it('settles like the promise when it settles in time', async () => {
    await expect(withDeadline(Promise.resolve(7), new Deadline(false, 1000), 'op')).resolves.toBe(7);
    const boom = new Error('business');
    await expect(withDeadline(Promise.reject(boom), new Deadline(false, 1000), 'op')).rejects.toBe(boom);
  });

  it('rejects with StorageUnavailableError(deadline) once the deadline passes, and expires it', async () => {
    const d = new Deadline(true, 30);
    let late = false;
    const err = await withDeadline(new Promise(() => undefined), d, 'GET /x', () => (late = true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect(err).toMatchObject({ reason: 'deadline', op: 'GET /x', code: 'isp.SYSTEM_ERROR' });
    expect(late).toBe(true);
    // the handler may still run: nothing renews the deadline for it now
    d.renew();
    expect(d.writeBy(0)).toBeLessThan(Date.now());
  });

  it('follows renewals: a step answered in time moves the give-up moment', async () => {
    const d = new Deadline(true, 60);
    const work = (async () => {
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 40));
        d.renew(); // Redis answered this step
      }
      return 'done';
    })();
    // four steps of 40 ms outlast one 60 ms deadline, never one step's
    await expect(withDeadline(work, d, 'op')).resolves.toBe('done');
  });
});

describe('asStorageError', () => {
  it('maps the client errors that say Redis is unavailable, and nothing else', () => {
    expect(asStorageError(new Error('Command timed out'), 'op')).toMatchObject({ reason: 'deadline' });
    expect(asStorageError(new Error("Stream isn't writeable and enableOfflineQueue options is false"), 'op')).toMatchObject({ reason: 'unreachable' });
    expect(asStorageError(new Error('CLUSTERDOWN The cluster is down'), 'op')).toMatchObject({ reason: 'unreachable' });
    expect(asStorageError(new TypeError('x is undefined'), 'op')).toBeUndefined();
    expect(asStorageError('Command timed out', 'op')).toBeUndefined();
  });
});
