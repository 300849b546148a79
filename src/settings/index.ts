/**
 * The settings of `tributary serve`: one table (./table.ts) from which come the CLI's flags and
 * help, environment and config-file parsing, the README's table, and (./services.ts) the plain
 * settings each part of the server is constructed with.
 */
export { defaultConfig, flagName, partHeadings, serveSettings, settingKeys, type ServeConfig, type Setting, type SettingKey, type SettingPart } from './table.js';
export { configFromValues, readConfigFile, resolveConfig, SettingError, type RawSettings } from './resolve.js';
export { helpGroup, helpLine, settingsTableMarkdown, withSettingsTable, README_TABLE_END, README_TABLE_START } from './docs.js';
export * from './services.js';
