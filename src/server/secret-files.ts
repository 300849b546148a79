/**
 * The files that hold secrets (the credentials file, the master key, a TLS private key) should be
 * readable by the server's user only. One that its group or others can open is reported with one
 * warning each, naming the file, its mode and the fix; the server still starts.
 */
import type { ServiceLogger } from '../util/logger.js';
import { exposedMode } from '../util/private-files.js';

export interface SecretFile {
  /** What the file holds, for the message: "credentials file", "master key file", "TLS key file". */
  what: string;
  file: string;
}

/** The warning for one exposed secret file, or undefined when only its owner may use it. */
export function exposedSecretWarning(secret: SecretFile): { fields: Record<string, unknown>; message: string } | undefined {
  const mode = exposedMode(secret.file);
  if (mode === undefined) return undefined;
  const octal = `0${mode.toString(8).padStart(3, '0')}`;
  return {
    fields: { file: secret.file, mode: octal },
    message: `the ${secret.what} ${secret.file} can be read by other users (mode ${octal}): chmod 600 ${secret.file}`,
  };
}

export function warnExposedSecrets(logger: Pick<ServiceLogger, 'warn'>, secrets: readonly SecretFile[]): void {
  const seen = new Set<string>();
  for (const s of secrets) {
    if (s.file === '' || seen.has(s.file)) continue;
    seen.add(s.file);
    const w = exposedSecretWarning(s);
    if (w) logger.warn(w.fields, w.message);
  }
}
