/**
 * Rewrites the table of settings in README.md from the settings table:
 * `npm run build && node dist/src/cli/readme-settings.js [README.md]`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withSettingsTable } from '../settings/index.js';

const file = process.argv[2] ?? 'README.md';
const before = readFileSync(file, 'utf8');
const after = withSettingsTable(before);
if (after !== before) writeFileSync(file, after);
console.log(after === before ? `${file}: settings table already current` : `${file}: settings table rewritten`);
