// Paging over a Redis zset ordered by (score, member), for the CDR listing and the dead letters.
// The cursor is the last item's position, so paging stays correct while new entries arrive.
import type { RedisLike } from './scripts.js';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export class CursorError extends Error {}

/** One page of `key` within [from, to) (scores), after `cursor`. */
export async function pageZset(
  redis: RedisLike,
  key: string,
  from: number | undefined,
  to: number | undefined,
  cursor: string | undefined,
  limit: number,
): Promise<{ items: Array<[string, number]>; next: string | null }> {
  const after = cursor ? decodeCursor(cursor) : undefined;
  const min = after ? Math.max(after.score, from ?? -Infinity) : from;
  const minArg = min === undefined || min === -Infinity ? '-inf' : String(min);
  const maxArg = to === undefined ? '+inf' : `(${to}`;
  const items: Array<[string, number]> = [];
  let offset = 0;
  const chunk = limit + 1;
  for (;;) {
    const raw = await redis.zrangebyscore(key, minArg, maxArg, 'WITHSCORES', 'LIMIT', offset, chunk);
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const member = raw[i]!;
      const score = Number(raw[i + 1]);
      if (after && (score < after.score || (score === after.score && member <= after.member))) continue;
      items.push([member, score]);
    }
    if (items.length > limit || raw.length < chunk * 2) break;
    offset += chunk;
  }
  const more = items.length > limit;
  const page = items.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page, next: more && last ? encodeCursor(last[1], last[0]) : null };
}

function encodeCursor(score: number, member: string): string {
  return Buffer.from(JSON.stringify([score, member])).toString('base64url');
}

function decodeCursor(c: string): { score: number; member: string } {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString()) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && Number.isFinite(v[0]) && typeof v[1] === 'string') {
      return { score: v[0], member: v[1] };
    }
  } catch {
    /* fall through */
  }
  throw new CursorError('cursor is not one this API returned');
}
