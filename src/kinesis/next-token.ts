import { ExpiredNextTokenException, InvalidArgumentException } from '../protocol/errors.js';

/**
 * Pagination tokens: what the next page needs plus the time of issue, as base64 JSON. A token
 * older than its time to live is refused with ExpiredNextTokenException, as AWS does.
 */
export function encodeNextToken(payload: Record<string, unknown>, now: number): string {
  return Buffer.from(JSON.stringify({ ...payload, t: now }), 'utf8').toString('base64');
}

export function decodeNextToken<T extends Record<string, unknown>>(token: string, now: number, ttlMs: number): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || typeof (value as { t?: unknown }).t !== 'number') {
    throw new InvalidArgumentException(`Invalid NextToken.`);
  }
  const issued = (value as { t: number }).t;
  if (now - issued > ttlMs) {
    throw new ExpiredNextTokenException(`The timestamp encoded in NextToken has expired.`);
  }
  return value as T;
}
