/** Plain-text tables for the client commands: a header row, columns padded to their widest cell. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** A two-column table of names and values, for one resource. */
export function formatFields(fields: readonly (readonly [string, string | undefined])[]): string {
  const shown = fields.filter(([, v]) => v !== undefined) as (readonly [string, string])[];
  const width = Math.max(...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n') + '\n';
}

/** Prints a value as the AWS CLI's --output json does: the answer without the SDK's $metadata. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (key === '$metadata' ? undefined : v), 2) + '\n';
}
