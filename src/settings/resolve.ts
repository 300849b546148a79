import { readFileSync } from 'node:fs';
import { SettingError, type RawValue } from './parsers.js';
import { defaultConfig, flagName, serveSettings, settingKeys, type ServeConfig, type SettingKey } from './table.js';

export { SettingError } from './parsers.js';

/** Values as they come from one source, before parsing; undefined and '' mean "not set here". */
export type RawSettings = Partial<Record<SettingKey, unknown>>;

function isSet(raw: unknown): boolean {
  return raw !== undefined && raw !== null && raw !== '';
}

/** Parses one value, naming its source (`--limits`, `TRIBUTARY_LIMITS`, `settings.json: limits`) in the error. */
function parseFrom<K extends SettingKey>(key: K, raw: unknown, source: string): ServeConfig[K] {
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
    throw new SettingError(`${source}: must be a string or a number, not ${JSON.stringify(raw)}`);
  }
  try {
    return serveSettings[key].parse(raw as RawValue) as ServeConfig[K];
  } catch (err) {
    if (err instanceof SettingError) throw new SettingError(`${source}: ${err.message}`);
    throw err;
  }
}

/** Reads a JSON config file: an object whose keys are setting keys. */
export function readConfigFile(file: string): RawSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const reason = err instanceof SyntaxError ? `not valid JSON (${err.message})` : `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    throw new SettingError(`--config ${file}: ${reason}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SettingError(`--config ${file}: must be a JSON object of settings`);
  }
  return checkKeys(parsed as Record<string, unknown>, `--config ${file}`);
}

/** Refuses keys that are not settings (a misspelt key would otherwise be ignored silently). */
export function checkKeys(values: Record<string, unknown>, source: string): RawSettings {
  for (const key of Object.keys(values)) {
    if (!Object.hasOwn(serveSettings, key)) throw new SettingError(`${source}: ${key} is not a setting (the keys are listed in the README)`);
  }
  return values as RawSettings;
}

/**
 * Settings come from flags, then the environment (TRIBUTARY_*), then a JSON config file, then the
 * defaults, in that order of precedence. A bad value throws a SettingError of one line naming the
 * flag, variable or file key and what it accepts.
 */
export function resolveConfig(flags: RawSettings, env: NodeJS.ProcessEnv = process.env, configFile?: string): ServeConfig {
  const file = configFile ? readConfigFile(configFile) : {};
  const out = { ...defaultConfig } as Record<SettingKey, unknown>;
  for (const key of settingKeys) {
    const spec = serveSettings[key];
    if (isSet(flags[key])) out[key] = parseFrom(key, flags[key], flagName(key));
    else if (isSet(env[spec.env])) out[key] = parseFrom(key, env[spec.env], spec.env);
    else if (isSet(file[key])) out[key] = parseFrom(key, file[key], `--config ${configFile}: ${key}`);
  }
  return out as ServeConfig;
}

/** Settings given as values by key (by a program embedding the server), over the defaults. */
export function configFromValues(values: RawSettings, base: Readonly<ServeConfig> = defaultConfig, source = 'startServer'): ServeConfig {
  checkKeys(values as Record<string, unknown>, source);
  const out = { ...base } as Record<SettingKey, unknown>;
  for (const key of settingKeys) {
    if (values[key] !== undefined) out[key] = parseFrom(key, values[key], `${source}: ${key}`);
  }
  return out as ServeConfig;
}
