/**
 * The Redshift destination's pure parts: the cluster's JDBC URL and where it points, the manifest
 * of a batch's intermediate objects, and Redshift's COPY command translated into PostgreSQL's.
 *
 * A Redshift COPY reads S3 objects named by a manifest; here the same objects are streamed to
 * PostgreSQL with `COPY table (columns) FROM STDIN`. The options are translated as follows:
 * - `JSON 'auto'` (also `FORMAT AS JSON 'auto'`, `'auto ignorecase'`): each JSON object of the
 *   data (concatenated, with or without whitespace between) becomes a row; its fields go to the
 *   columns of the same name (`'auto'` case-sensitively, `'auto ignorecase'` not); a missing field
 *   or a JSON null loads NULL; nested objects and arrays load as their JSON text.
 * - `CSV [QUOTE [AS] 'c']`: PostgreSQL's CSV format with that quote.
 * - plain (Redshift's default): fields separated by `|` (or DELIMITER), `\N` for NULL, backslash
 *   literal unless `ESCAPE` is given.
 * - `DELIMITER [AS] 'c'`, `NULL [AS] 'text'`, `IGNOREHEADER [AS] n` (per object), `ESCAPE`.
 * - `GZIP`: each object is decompressed before it is streamed.
 * - Ignored with a warning (PostgreSQL has no counterpart, or nothing to do): TIMEFORMAT and
 *   DATEFORMAT other than 'auto', TRUNCATECOLUMNS, BLANKSASNULL, EMPTYASNULL, ACCEPTINVCHARS,
 *   ACCEPTANYDATE, TRIMBLANKS, FILLRECORD, ROUNDEC, EXPLICIT_IDS, REMOVEQUOTES, IGNOREBLANKLINES,
 *   COMPUPDATE, STATUPDATE, COMPROWS, MAXERROR (any bad row fails the whole batch), REGION,
 *   ENCODING, and credentials (IAM_ROLE, CREDENTIALS, ACCESS_KEY_ID…). MANIFEST, TIMEFORMAT
 *   'auto' and DATEFORMAT 'auto' are accepted silently.
 * - Refused (every COPY of the stream fails, so its batches end under errors/manifests): JSON with
 *   a JSONPaths file, AVRO, PARQUET, ORC, SHAPEFILE, FIXEDWIDTH, BZIP2, LZOP, ZSTD, and any word
 *   not listed here.
 */

/** `jdbc:redshift://host:port/database` (or `jdbc:postgresql://`), as ClusterJDBCURL gives it. */
export interface JdbcTarget {
  host: string;
  port: number;
  database: string;
}

export function parseJdbcUrl(url: string): JdbcTarget | { error: string } {
  const m = /^jdbc:(?:redshift|postgresql):\/\/([^/:?#]+):(\d{1,5})\/([^/?#;]+)(?:[?;].*)?$/.exec(url);
  if (!m) return { error: `ClusterJDBCURL ${url} is not jdbc:redshift://host:port/database` };
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return { error: `ClusterJDBCURL ${url} has no valid port` };
  return { host: m[1]!.toLowerCase(), port, database: m[3]! };
}

/** Where a Redshift host name is served: `--redshift-hosts` entries, by full host name or cluster name. */
export type RedshiftHosts = ReadonlyMap<string, { host: string; port?: number }>;

/** `redshift-host=pg-host[:port],…` (the setting's text); throws with a message saying what is wrong. */
export function parseRedshiftHosts(text: string): RedshiftHosts {
  const out = new Map<string, { host: string; port?: number }>();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^([A-Za-z0-9.-]+)=(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(entry);
    const port = m?.[3] === undefined ? undefined : Number(m[3]);
    if (!m || (port !== undefined && (port < 1 || port > 65535))) {
      throw new Error(`must be redshift-host=postgres-host[:port] pairs, comma-separated, not ${entry}`);
    }
    const target = m[2]!.replace(/^\[(.*)\]$/, '$1');
    out.set(m[1]!.toLowerCase(), port === undefined ? { host: target } : { host: target, port });
  }
  return out;
}

/** The PostgreSQL server a JDBC target is loaded into: a `--redshift-hosts` entry for its host or cluster name, else itself. */
export function resolveTarget(target: JdbcTarget, hosts: RedshiftHosts): JdbcTarget {
  const cluster = target.host.split('.')[0]!;
  const mapped = hosts.get(target.host) ?? hosts.get(cluster);
  if (!mapped) return target;
  return { host: mapped.host, port: mapped.port ?? target.port, database: target.database };
}

/** A manifest as Redshift's COPY reads it and Firehose writes it: every object mandatory. */
export function manifestBody(urls: readonly string[]): Buffer {
  return Buffer.from(JSON.stringify({ entries: urls.map((url) => ({ url, mandatory: true })) }));
}

/** The object URLs a manifest names. */
export function manifestUrls(body: Buffer): string[] {
  const parsed = JSON.parse(body.toString('utf8')) as { entries?: { url?: unknown }[] };
  return (parsed.entries ?? []).map((e) => String(e.url));
}

// ---- identifiers ----

/** A SQL identifier of DataTableName / DataTableColumns, quoted for PostgreSQL (unquoted names fold to lower case, as both do). */
function identifier(name: string): string | undefined {
  const s = name.trim();
  if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(s)) return `"${s.toLowerCase()}"`;
  if (/^"(?:[^"]|"")+"$/.test(s)) return s;
  return undefined;
}

/** `schema.table` or `table`, quoted; undefined when it is not a table name. */
export function quoteTableName(name: string): string | undefined {
  const parts = splitOutsideQuotes(name, '.');
  if (parts.length < 1 || parts.length > 3) return undefined;
  const quoted = parts.map(identifier);
  return quoted.every((q) => q !== undefined) ? quoted.join('.') : undefined;
}

/** DataTableColumns (`a, b, "C"`), quoted; [] when none are given; undefined when one is not a column name. */
export function quoteColumnList(columns: string | undefined): string[] | undefined {
  if (columns === undefined || columns.trim() === '') return [];
  const quoted = splitOutsideQuotes(columns, ',').map(identifier);
  return quoted.every((q) => q !== undefined) ? (quoted as string[]) : undefined;
}

/** A quoted identifier's name as the catalog spells it. */
export function unquote(quoted: string): string {
  return quoted.slice(1, -1).replace(/""/g, '"');
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

// ---- COPY options ----

export interface CopyPlan {
  format: 'json' | 'csv' | 'text';
  /** JSON 'auto ignorecase'. */
  ignoreCase: boolean;
  delimiter: string;
  quote: string;
  /** The text that loads NULL (undefined: PostgreSQL's default for the format). */
  nullAs: string | undefined;
  /** Backslash escapes in the plain format. */
  escape: boolean;
  gzip: boolean;
  /** Lines skipped at the start of each object. */
  ignoreHeader: number;
}

export type CopyTranslation = { ok: true; plan: CopyPlan; warnings: string[] } | { ok: false; error: string; warnings: string[] };

type Token = { kind: 'word'; value: string } | { kind: 'string'; value: string } | { kind: 'number'; value: number };

const IGNORED_FLAGS: ReadonlySet<string> = new Set([
  'TRUNCATECOLUMNS',
  'BLANKSASNULL',
  'EMPTYASNULL',
  'ACCEPTANYDATE',
  'TRIMBLANKS',
  'FILLRECORD',
  'ROUNDEC',
  'EXPLICIT_IDS',
  'REMOVEQUOTES',
  'IGNOREBLANKLINES',
  'NOLOAD',
]);
/** Options taking a value (a string, a number or a word) that are ignored. */
const IGNORED_WITH_VALUE: ReadonlySet<string> = new Set([
  'MAXERROR',
  'COMPROWS',
  'REGION',
  'ENCODING',
  'IAM_ROLE',
  'CREDENTIALS',
  'ACCESS_KEY_ID',
  'SECRET_ACCESS_KEY',
  'SESSION_TOKEN',
  'MASTER_SYMMETRIC_KEY',
]);
const ON_OFF: ReadonlySet<string> = new Set(['ON', 'OFF', 'TRUE', 'FALSE', 'PRESET']);
const REFUSED_FORMATS: ReadonlySet<string> = new Set(['AVRO', 'PARQUET', 'ORC', 'SHAPEFILE', 'FIXEDWIDTH', 'BZIP2', 'LZOP', 'ZSTD', 'RCFILE', 'SEQUENCEFILE', 'TEXTFILE']);

function tokenize(text: string): Token[] | { error: string } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s|,|;|\(|\)/.test(c)) {
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) return { error: `unterminated quoted string in CopyOptions: ${text}` };
        const d = text[i]!;
        if (d === "'" && text[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (d === "'") {
          i++;
          break;
        } else if (d === '\\' && i + 1 < text.length) {
          const rest = text.slice(i + 1);
          const octal = /^[0-7]{3}/.exec(rest);
          if (octal) {
            value += String.fromCharCode(parseInt(octal[0], 8));
            i += 4;
          } else {
            const e = rest[0]!;
            value += e === 't' ? '\t' : e === 'n' ? '\n' : e === 'r' ? '\r' : e === '\\' ? '\\' : e === "'" ? "'" : `\\${e}`;
            i += 2;
          }
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ kind: 'string', value });
    } else if (/\d/.test(c)) {
      const m = /^\d+/.exec(text.slice(i))!;
      tokens.push({ kind: 'number', value: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      tokens.push({ kind: 'word', value: m[0].toUpperCase() });
      i += m[0].length;
    } else {
      return { error: `unexpected character ${JSON.stringify(c)} in CopyOptions: ${text}` };
    }
  }
  return tokens;
}

/**
 * Redshift's CopyOptions as a plan for PostgreSQL. `compressed` says whether the intermediate
 * objects are GZIP-compressed (S3Configuration.CompressionFormat): a mismatch with the GZIP option
 * is warned about, and fails at COPY time as it fails in Redshift.
 */
export function translateCopyOptions(options: string | undefined, compressed: boolean): CopyTranslation {
  const warnings: string[] = [];
  const plan: CopyPlan = { format: 'text', ignoreCase: false, delimiter: '|', quote: '"', nullAs: undefined, escape: false, gzip: false, ignoreHeader: 0 };
  let delimiterGiven = false;
  let quoteGiven = false;
  const tokens = tokenize(options ?? '');
  if ('error' in tokens) return { ok: false, error: tokens.error, warnings };
  let i = 0;
  const refuse = (error: string): CopyTranslation => ({ ok: false, error, warnings });
  const skipAs = () => {
    const t = tokens[i];
    if (t?.kind === 'word' && t.value === 'AS') i++;
  };
  const nextString = (): string | undefined => {
    const t = tokens[i];
    if (t?.kind !== 'string') return undefined;
    i++;
    return t.value;
  };
  while (i < tokens.length) {
    const t = tokens[i++]!;
    if (t.kind !== 'word') return refuse(`unexpected ${JSON.stringify(t.value)} in CopyOptions`);
    let word = t.value;
    if (word === 'FORMAT') {
      skipAs();
      const f = tokens[i++];
      if (f?.kind !== 'word') return refuse('FORMAT must name a format (JSON, CSV…)');
      word = f.value;
    }
    if (REFUSED_FORMATS.has(word)) return refuse(`COPY option ${word} is not available with PostgreSQL`);
    switch (word) {
      case 'JSON': {
        skipAs();
        const how = nextString() ?? 'auto';
        const normalized = how.trim().toLowerCase().replace(/\s+/g, ' ');
        if (normalized !== 'auto' && normalized !== 'auto ignorecase') {
          return refuse(`JSON '${how}' is not available with PostgreSQL: only JSON 'auto' and 'auto ignorecase' (no JSONPaths file)`);
        }
        plan.format = 'json';
        plan.ignoreCase = normalized === 'auto ignorecase';
        break;
      }
      case 'CSV':
        plan.format = 'csv';
        break;
      case 'QUOTE': {
        skipAs();
        const q = nextString();
        if (q === undefined || q.length !== 1) return refuse('QUOTE must be one character in quotes');
        plan.quote = q;
        quoteGiven = true;
        break;
      }
      case 'DELIMITER': {
        skipAs();
        const d = nextString();
        if (d === undefined || d.length !== 1) return refuse('DELIMITER must be one character in quotes');
        plan.delimiter = d;
        delimiterGiven = true;
        break;
      }
      case 'NULL': {
        skipAs();
        const n = nextString();
        if (n === undefined) return refuse('NULL AS needs a quoted string');
        plan.nullAs = n;
        break;
      }
      case 'IGNOREHEADER': {
        skipAs();
        const n = tokens[i++];
        if (n?.kind !== 'number') return refuse('IGNOREHEADER needs a number of lines');
        plan.ignoreHeader = n.value;
        break;
      }
      case 'ESCAPE':
        plan.escape = true;
        break;
      case 'GZIP':
        plan.gzip = true;
        break;
      case 'MANIFEST':
        break;
      case 'TIMEFORMAT':
      case 'DATEFORMAT': {
        skipAs();
        const f = nextString();
        if (f !== undefined && f.toLowerCase() !== 'auto') warnings.push(`${word} '${f}' is ignored: PostgreSQL parses dates and times by its own rules`);
        break;
      }
      case 'ACCEPTINVCHARS':
        skipAs();
        nextString();
        warnings.push('ACCEPTINVCHARS is ignored: invalid UTF-8 fails the COPY');
        break;
      case 'COMPUPDATE':
      case 'STATUPDATE': {
        const v = tokens[i];
        if (v?.kind === 'word' && ON_OFF.has(v.value)) i++;
        break;
      }
      default: {
        if (IGNORED_FLAGS.has(word)) {
          warnings.push(`COPY option ${word} is ignored with PostgreSQL`);
          break;
        }
        if (IGNORED_WITH_VALUE.has(word)) {
          skipAs();
          if (i < tokens.length && tokens[i]!.kind !== 'word') i++;
          else if (word === 'ENCODING' && tokens[i]?.kind === 'word') i++;
          if (word === 'MAXERROR') warnings.push('MAXERROR is ignored: any bad row fails the whole batch');
          else if (word !== 'REGION' && word !== 'ENCODING') warnings.push(`COPY option ${word} is ignored: the connection uses ClusterJDBCURL, Username and Password`);
          break;
        }
        return refuse(`COPY option ${word} is not known`);
      }
    }
  }
  if (plan.format === 'csv' && !delimiterGiven) plan.delimiter = ',';
  if (plan.format !== 'csv' && quoteGiven) return refuse('QUOTE is only allowed with CSV');
  if (plan.format === 'json' && (delimiterGiven || plan.ignoreHeader > 0 || plan.nullAs !== undefined)) {
    warnings.push("DELIMITER, IGNOREHEADER and NULL AS are ignored with JSON 'auto'");
  }
  if (plan.format === 'text' && plan.nullAs === undefined) plan.nullAs = '\\N';
  if (plan.gzip && !compressed) warnings.push('CopyOptions has GZIP but the intermediate objects are not compressed (S3Configuration.CompressionFormat): every COPY will fail');
  if (!plan.gzip && compressed) warnings.push('the intermediate objects are GZIP-compressed but CopyOptions has no GZIP: every COPY will fail');
  return { ok: true, plan, warnings };
}

function literal(s: string): string {
  // E'' strings: a backslash and a quote escaped, control characters as octal escapes.
  return `E'${s.replace(/[\\']/g, (c) => `\\${c}`).replace(/[\x00-\x1f]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)}'`;
}

/** PostgreSQL's `COPY table (columns) FROM STDIN WITH (…)` for a plan (JSON rows are sent in the text format). */
export function copyStatement(table: string, columns: readonly string[], plan: CopyPlan): string {
  const target = columns.length > 0 ? `${table} (${columns.join(', ')})` : table;
  let options: string;
  if (plan.format === 'json') options = 'FORMAT text';
  else if (plan.format === 'csv') {
    options = `FORMAT csv, DELIMITER ${literal(plan.delimiter)}, QUOTE ${literal(plan.quote)}`;
    if (plan.nullAs !== undefined) options += `, NULL ${literal(plan.nullAs)}`;
  } else if (plan.escape) {
    options = `FORMAT text, DELIMITER ${literal(plan.delimiter)}, NULL ${literal(plan.nullAs ?? '\\N')}`;
  } else {
    // Redshift's plain format takes backslashes literally: PostgreSQL's CSV format with a quote
    // character that does not occur in text does the same.
    options = `FORMAT csv, DELIMITER ${literal(plan.delimiter)}, QUOTE E'\\001', NULL ${literal(plan.nullAs ?? '\\N')}`;
  }
  return `COPY ${target} FROM STDIN WITH (${options})`;
}

/** An object's data without its first `lines` lines (IGNOREHEADER). */
export function withoutHeader(data: Buffer, lines: number): Buffer {
  let at = 0;
  for (let n = 0; n < lines; n++) {
    const nl = data.indexOf(0x0a, at);
    if (nl < 0) return Buffer.alloc(0);
    at = nl + 1;
  }
  return at === 0 ? data : data.subarray(at);
}

/** The JSON objects of an object's data: concatenated, whitespace between them or not. */
export function splitJsonObjects(text: string): unknown[] {
  // Most data is one object a line: parsed line by line, unless a line is not exactly one object.
  const parsed: unknown[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return scanJsonObjects(text);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return scanJsonObjects(text);
    parsed.push(value);
  }
  return parsed;
}

/** The objects of concatenated JSON, found by their braces. */
function scanJsonObjects(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      if (depth === 0) throw new Error(`JSON data outside an object at character ${i}`);
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (depth === 0) {
        if (c === 0x5b) throw new Error(`a JSON array at the top level at character ${i}: JSON 'auto' loads objects`);
        start = i;
      }
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth < 0) throw new Error(`unbalanced JSON at character ${i}`);
      if (depth === 0) {
        const piece = text.slice(start, i + 1);
        try {
          out.push(JSON.parse(piece));
        } catch (err) {
          throw new Error(`invalid JSON object at character ${start}: ${(err as Error).message}`);
        }
      }
    } else if (depth === 0 && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
      throw new Error(`JSON data outside an object at character ${i}`);
    }
  }
  if (depth !== 0 || inString) throw new Error('the data ends inside a JSON object');
  return out;
}

function textField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const s = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/**
 * JSON 'auto': the rows (PostgreSQL's text format) of an object's JSON objects for these columns
 * (names as the catalog spells them).
 */
export function jsonRows(data: Buffer, columns: readonly string[], ignoreCase: boolean): Buffer {
  const objects = splitJsonObjects(data.toString('utf8'));
  const lines: string[] = [];
  const wanted = ignoreCase ? columns.map((c) => c.toLowerCase()) : columns;
  for (const object of objects) {
    const fields = object as Record<string, unknown>;
    let lookup: Record<string, unknown> = fields;
    if (ignoreCase) {
      lookup = {};
      for (const [k, v] of Object.entries(fields)) lookup[k.toLowerCase()] ??= v;
    }
    lines.push(`${wanted.map((c) => textField(Object.hasOwn(lookup, c) ? lookup[c] : undefined)).join('\t')}\n`);
  }
  return Buffer.from(lines.join(''));
}
