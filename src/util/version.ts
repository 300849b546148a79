/**
 * The version of this Tributary, from its package.json: the nearest one above this module named
 * `tributary` (the compiled module runs from `dist/src/util/`, the source from `src/util/`).
 */
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  let dir = new URL('.', import.meta.url);
  for (let i = 0; i < 5; i++) {
    dir = new URL('..', dir);
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'tributary' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: look one folder up
    }
  }
  return 'unknown';
}
