/**
 * Parsers of setting values. A value arrives as a string (a flag, an environment variable) or as
 * a JSON scalar (the config file); a parser returns the typed value or throws a SettingError whose
 * message says what is accepted ("must be on or off, not maybe"). The caller names the source.
 */

export type RawValue = string | number | boolean;

export class SettingError extends Error {
  override name = 'SettingError';
}

export type Parser<T> = (raw: RawValue) => T;

/** Any text. */
export const text: Parser<string> = (raw) => String(raw);

/** A number of 0 or more (fractions allowed: `--metrics-retention-hours 0.5`). */
export const nonNegative: Parser<number> = (raw) => {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < 0) throw new SettingError(`must be a number, 0 or more, not ${raw}`);
  return n;
};

/** A whole number from min to max. */
export function integer(min: number, max: number): Parser<number> {
  return (raw) => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new SettingError(`must be a whole number from ${min} to ${max}, not ${raw}`);
    return n;
  };
}

/** One of a fixed list of words. */
export function oneOf<const V extends string>(...values: V[]): Parser<V> {
  const listed = values.length === 1 ? values[0] : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
  return (raw) => {
    const s = String(raw);
    if (!(values as string[]).includes(s)) throw new SettingError(`must be ${listed}, not ${s}`);
    return s as V;
  };
}

/** Text matching a pattern; `accepted` says in words what the pattern allows. */
export function matching(pattern: RegExp, accepted: string): Parser<string> {
  return (raw) => {
    const s = String(raw);
    if (!pattern.test(s)) throw new SettingError(`${accepted}, not ${s}`);
    return s;
  };
}

/** Text that `check` accepts (it throws with a message saying why not); kept as given. */
export function checked(check: (text: string) => unknown): Parser<string> {
  return (raw) => {
    const s = String(raw);
    try {
      check(s);
    } catch (err) {
      throw new SettingError((err as Error).message);
    }
    return s;
  };
}
