import type { MetricDef, ScenarioResult } from './scenarios/types.js';

export interface ServerRun {
  kind: string;
  label: string;
  endpoint: string;
  /** Which client made the measured calls, as describeClient() names it. */
  client?: string;
  /** Set when the whole server could not be measured. */
  error?: string;
  results: ScenarioResult[];
}

type Align = 'left' | 'right';

/**
 * Renders rows as a plain-text table with a header rule. A row of one cell is
 * a section heading: printed as is and left out of the column widths.
 */
export function renderTable(header: string[], rows: string[][], align: Align[]): string {
  const cells = rows.filter((r) => r.length > 1);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => (align[i] === 'right' ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ').trimEnd();
  return [fmt(header), rule, ...rows.map((r) => (r.length > 1 ? fmt(r) : r[0] ?? ''))].join('\n');
}

const formatters = new Map<number, Intl.NumberFormat>();

export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  let f = formatters.get(digits);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    formatters.set(digits, f);
  }
  return f.format(value);
}

function direction(m: MetricDef): string {
  return m.better === 'none' ? '' : m.better;
}

function metricName(m: MetricDef): string {
  return m.unit && !m.label.includes(m.unit) ? `${m.label} (${m.unit})` : m.label;
}

/** Figures of one server, one section per scenario. */
export function renderRun(run: ServerRun): string {
  const out: string[] = [run.label === run.endpoint ? run.endpoint : `${run.label} at ${run.endpoint}`];
  if (run.client) out.push(`client: ${run.client}`);
  if (run.error) out.push(`  could not be measured: ${run.error}`);
  for (const r of run.results) {
    out.push('');
    const status = r.status === 'ok' ? '' : `  [${r.status}${r.reason ? `: ${r.reason}` : ''}]`;
    out.push(`${r.title}${status}`);
    const rows = r.metrics.map((m) => {
      const row = [`  ${metricName(m)}`, r.status === 'ok' ? formatNumber(m.value, m.digits ?? 2) : 'n/a'];
      if (m.note) row.push(m.note);
      return row;
    });
    const withNotes = rows.some((row) => row.length > 2);
    out.push(
      renderTable(
        withNotes ? ['  figure', 'value', 'note'] : ['  figure', 'value'],
        rows,
        ['left', 'right', 'left'],
      ),
    );
  }
  return out.join('\n');
}

function ratio(peer: number | null, base: number | null): string {
  if (peer === null || base === null || !Number.isFinite(peer) || !Number.isFinite(base)) return 'n/a';
  if (base === 0) return peer === 0 ? '1.00x' : 'n/a';
  const r = peer / base;
  const text = r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2);
  return `${text}x`;
}

function valueOf(run: ServerRun | undefined, scenario: string, key: string): number | null {
  const r = run?.results.find((x) => x.id === scenario);
  if (!r || r.status !== 'ok') return null;
  return r.metrics.find((m) => m.key === key)?.value ?? null;
}

/**
 * One table: each figure for each server, and for every peer the ratio of its
 * figure to the baseline's.
 */
export function renderComparison(runs: ServerRun[], baselineKind: string): string {
  const base = runs.find((r) => r.kind === baselineKind);
  const peers = runs.filter((r) => r !== base);
  const ordered = base ? [base, ...peers] : peers;
  const header = ['scenario / figure', 'better'];
  for (const r of ordered) {
    header.push(r.label);
    if (base && r !== base) header.push(`${r.kind}/${base.kind}`);
  }
  const align: Align[] = header.map((_, i) => (i < 2 ? 'left' : 'right'));

  const scenarios = new Map<string, { title: string; metrics: MetricDef[] }>();
  for (const run of ordered) {
    for (const r of run.results) if (!scenarios.has(r.id)) scenarios.set(r.id, { title: r.title, metrics: r.metrics });
  }

  const rows: string[][] = [];
  for (const [id, s] of scenarios) {
    rows.push([s.title]);
    for (const m of s.metrics) {
      const row = [`  ${metricName(m)}`, direction(m)];
      const b = valueOf(base, id, m.key);
      for (const run of ordered) {
        const v = valueOf(run, id, m.key);
        row.push(formatNumber(v, m.digits ?? 2));
        if (base && run !== base) row.push(ratio(v, b));
      }
      rows.push(row);
    }
  }
  const notes: string[] = [];
  for (const run of ordered) {
    if (run.error) notes.push(`${run.label}: not measured: ${run.error.split('\n')[0]}`);
    for (const r of run.results) {
      if (r.status !== 'ok') notes.push(`${run.label}: ${r.id}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
      const seen = new Set<string>();
      for (const m of r.metrics) {
        if (!m.note || seen.has(m.note)) continue;
        seen.add(m.note);
        const keys = r.metrics.filter((x) => x.note === m.note).map((x) => x.label);
        notes.push(`${run.label}: ${r.id}: ${keys.join(', ')}: ${m.note}`);
      }
    }
  }
  const clients = [...new Set(ordered.map((r) => r.client).filter((c): c is string => !!c))];
  const heading =
    clients.length === 1
      ? `client: ${clients[0]}\n`
      : ordered.filter((r) => r.client).map((r) => `${r.label}: client: ${r.client}\n`).join('');
  const table = heading + renderTable(header, rows, align);
  return notes.length ? `${table}\n\n${notes.join('\n')}` : table;
}
