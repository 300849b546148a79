/**
 * The Redshift destination's pure parts: ClusterJDBCURL and --redshift-hosts, the manifest
 * Firehose writes, Redshift's COPY options translated for PostgreSQL, and the rows JSON 'auto'
 * makes of concatenated JSON objects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  copyStatement,
  jsonRows,
  manifestBody,
  manifestUrls,
  parseJdbcUrl,
  parseRedshiftHosts,
  quoteColumnList,
  quoteTableName,
  resolveTarget,
  splitJsonObjects,
  translateCopyOptions,
  withoutHeader,
  type CopyPlan,
} from '../../../src/delivery/destinations/redshift-copy.js';

const URL = 'jdbc:redshift://examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com:5439/dev';

function plan(options: string | undefined, compressed = false): CopyPlan & { warnings: string[] } {
  const t = translateCopyOptions(options, compressed);
  assert.ok(t.ok, t.ok ? '' : t.error);
  return { ...t.plan, warnings: t.warnings };
}

function refusal(options: string): string {
  const t = translateCopyOptions(options, false);
  assert.ok(!t.ok, `${options} should be refused`);
  return t.error;
}

describe('ClusterJDBCURL', () => {
  it('reads host, port and database of jdbc:redshift:// and jdbc:postgresql:// URLs', () => {
    assert.deepEqual(parseJdbcUrl(URL), { host: 'examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com', port: 5439, database: 'dev' });
    assert.deepEqual(parseJdbcUrl('jdbc:postgresql://wg.123456789012.eu-west-1.redshift-serverless.amazonaws.com:5432/my_db'), {
      host: 'wg.123456789012.eu-west-1.redshift-serverless.amazonaws.com',
      port: 5432,
      database: 'my_db',
    });
    assert.deepEqual(parseJdbcUrl('jdbc:redshift://Cluster.X.redshift.example:5439/dev?ssl=true'), { host: 'cluster.x.redshift.example', port: 5439, database: 'dev' });
  });

  it('refuses URLs without a port or a database, and other schemes', () => {
    for (const bad of ['jdbc:redshift://host/dev', 'jdbc:redshift://host:5439/', 'jdbc:mysql://host:3306/dev', 'redshift://host:5439/dev', 'jdbc:redshift://host:0/dev']) {
      assert.ok('error' in parseJdbcUrl(bad), bad);
    }
  });
});

describe('--redshift-hosts', () => {
  it('maps full host names and cluster names to PostgreSQL servers, the port optional', () => {
    const hosts = parseRedshiftHosts('examplecluster=127.0.0.1:55432, other.abc.us-east-1.redshift.amazonaws.com=db.local,v6=[::1]:6543');
    assert.deepEqual([...hosts], [
      ['examplecluster', { host: '127.0.0.1', port: 55432 }],
      ['other.abc.us-east-1.redshift.amazonaws.com', { host: 'db.local' }],
      ['v6', { host: '::1', port: 6543 }],
    ]);
    assert.equal(parseRedshiftHosts('').size, 0);
  });

  it('resolves a JDBC target by its host, then its cluster name, else keeps it', () => {
    const target = parseJdbcUrl(URL);
    assert.ok(!('error' in target));
    assert.deepEqual(resolveTarget(target, parseRedshiftHosts('examplecluster=127.0.0.1:55432')), { host: '127.0.0.1', port: 55432, database: 'dev' });
    assert.deepEqual(resolveTarget(target, parseRedshiftHosts(`${target.host}=pg.internal`)), { host: 'pg.internal', port: 5439, database: 'dev' });
    assert.deepEqual(resolveTarget(target, parseRedshiftHosts('othercluster=127.0.0.1:1')), target);
  });

  it('says what it takes when an entry is malformed', () => {
    for (const bad of ['examplecluster', 'a=b:99999', 'a=b:port', '=127.0.0.1', 'a b=c']) {
      assert.throws(() => parseRedshiftHosts(bad), /must be redshift-host=postgres-host\[:port\] pairs, comma-separated/, bad);
    }
  });
});

describe('manifest', () => {
  it('names every object as a mandatory entry, as Redshift COPY MANIFEST reads it', () => {
    const body = manifestBody(['s3://bucket/2026/03/01/10/s-1-2026-03-01-10-16-00-a', 's3://bucket/2026/03/01/10/s-1-2026-03-01-10-17-00-b']);
    assert.deepEqual(JSON.parse(body.toString()), {
      entries: [
        { url: 's3://bucket/2026/03/01/10/s-1-2026-03-01-10-16-00-a', mandatory: true },
        { url: 's3://bucket/2026/03/01/10/s-1-2026-03-01-10-17-00-b', mandatory: true },
      ],
    });
    assert.deepEqual(manifestUrls(body), ['s3://bucket/2026/03/01/10/s-1-2026-03-01-10-16-00-a', 's3://bucket/2026/03/01/10/s-1-2026-03-01-10-17-00-b']);
  });
});

describe('table and column names', () => {
  it('quotes names, folding unquoted ones to lower case as Redshift and PostgreSQL do', () => {
    assert.equal(quoteTableName('Events'), '"events"');
    assert.equal(quoteTableName('public.events'), '"public"."events"');
    assert.equal(quoteTableName('"Mixed Case"'), '"Mixed Case"');
    assert.deepEqual(quoteColumnList('id, UserName ,"Odd ""col"""'), ['"id"', '"username"', '"Odd ""col"""']);
    assert.deepEqual(quoteColumnList(undefined), []);
    assert.deepEqual(quoteColumnList('  '), []);
  });

  it('refuses what is not a name (no SQL through the configuration)', () => {
    assert.equal(quoteTableName('events; DROP TABLE x'), undefined);
    assert.equal(quoteTableName('a.b.c.d'), undefined);
    assert.equal(quoteColumnList('a, b)'), undefined);
    assert.equal(quoteColumnList('a,,b'), undefined);
  });
});

describe('COPY options', () => {
  it("translates JSON 'auto' in its spellings", () => {
    for (const options of ["JSON 'auto'", "json 'auto'", "FORMAT AS JSON 'auto'", "format json 'AUTO'", 'JSON']) {
      const p = plan(options);
      assert.equal(p.format, 'json', options);
      assert.equal(p.ignoreCase, false, options);
    }
    assert.equal(plan("JSON 'auto ignorecase'").ignoreCase, true);
    assert.equal(copyStatement('"public"."events"', ['"id"', '"user"'], plan("JSON 'auto'")), 'COPY "public"."events" ("id", "user") FROM STDIN WITH (FORMAT text)');
  });

  it('translates CSV with its quote and delimiter, NULL AS and IGNOREHEADER', () => {
    const p = plan("CSV QUOTE AS '''' DELIMITER ';' NULL AS 'nil' IGNOREHEADER 2");
    assert.deepEqual({ ...p, warnings: undefined }, { format: 'csv', ignoreCase: false, delimiter: ';', quote: "'", nullAs: 'nil', escape: false, gzip: false, ignoreHeader: 2, warnings: undefined });
    assert.equal(copyStatement('"t"', [], p), "COPY \"t\" FROM STDIN WITH (FORMAT csv, DELIMITER E';', QUOTE E'\\'', NULL E'nil')");
    assert.equal(plan('CSV').delimiter, ',');
    assert.equal(copyStatement('"t"', ['"a"'], plan('csv')), "COPY \"t\" (\"a\") FROM STDIN WITH (FORMAT csv, DELIMITER E',', QUOTE E'\"')");
  });

  it("keeps Redshift's plain format: | between fields, \\N for NULL, backslashes literal unless ESCAPE", () => {
    const plain = plan(undefined);
    assert.equal(plain.format, 'text');
    assert.equal(copyStatement('"t"', [], plain), "COPY \"t\" FROM STDIN WITH (FORMAT csv, DELIMITER E'|', QUOTE E'\\001', NULL E'\\\\N')");
    assert.equal(copyStatement('"t"', [], plan("DELIMITER '\\t' ESCAPE")), "COPY \"t\" FROM STDIN WITH (FORMAT text, DELIMITER E'\\011', NULL E'\\\\N')");
    assert.equal(plan("delimiter as '\\011'").delimiter, '\t');
  });

  it('takes GZIP, and warns when it does not match the intermediate objects', () => {
    const both = plan("JSON 'auto' GZIP", true);
    assert.equal(both.gzip, true);
    assert.deepEqual(both.warnings, []);
    assert.match(plan("JSON 'auto' GZIP", false).warnings.join(), /GZIP but the intermediate objects are not compressed/);
    assert.match(plan("JSON 'auto'", true).warnings.join(), /GZIP-compressed but CopyOptions has no GZIP/);
  });

  it('ignores, with a warning each, options PostgreSQL has no counterpart for; MANIFEST and auto formats silently', () => {
    const p = plan(
      "JSON 'auto' TIMEFORMAT 'auto' DATEFORMAT 'auto' MANIFEST REGION 'us-east-1' COMPUPDATE OFF STATUPDATE ON TRUNCATECOLUMNS BLANKSASNULL EMPTYASNULL MAXERROR 10 ACCEPTINVCHARS AS '?' TIMEFORMAT 'epochsecs'",
    );
    assert.equal(p.format, 'json');
    assert.deepEqual(p.warnings, [
      'COPY option TRUNCATECOLUMNS is ignored with PostgreSQL',
      'COPY option BLANKSASNULL is ignored with PostgreSQL',
      'COPY option EMPTYASNULL is ignored with PostgreSQL',
      'MAXERROR is ignored: any bad row fails the whole batch',
      'ACCEPTINVCHARS is ignored: invalid UTF-8 fails the COPY',
      "TIMEFORMAT 'epochsecs' is ignored: PostgreSQL parses dates and times by its own rules",
    ]);
    assert.match(plan("CSV IAM_ROLE 'arn:aws:iam::000000000000:role/r'").warnings.join(), /IAM_ROLE is ignored/);
  });

  it('refuses formats and compressions PostgreSQL cannot load, JSONPaths files and unknown words', () => {
    assert.match(refusal("JSON 's3://bucket/jsonpaths.json'"), /only JSON 'auto' and 'auto ignorecase'/);
    assert.match(refusal('FORMAT AS PARQUET'), /PARQUET is not available with PostgreSQL/);
    assert.match(refusal('AVRO'), /AVRO is not available/);
    assert.match(refusal("FIXEDWIDTH 'a:1'"), /FIXEDWIDTH is not available/);
    assert.match(refusal('CSV BZIP2'), /BZIP2 is not available/);
    assert.match(refusal('ZSTD'), /ZSTD is not available/);
    assert.match(refusal('FROBNICATE'), /COPY option FROBNICATE is not known/);
    assert.match(refusal("DELIMITER 'ab'"), /DELIMITER must be one character/);
    assert.match(refusal("QUOTE '\"'"), /QUOTE is only allowed with CSV/);
    assert.match(refusal("NULL AS 'x"), /unterminated quoted string/);
  });
});

describe("JSON 'auto' rows", () => {
  it('splits concatenated objects, with whitespace between them or none', () => {
    assert.deepEqual(splitJsonObjects('{"a":1}{"a":2}\n{"a":"}{"}  {"b":[1,{"c":"\\""}]}'), [{ a: 1 }, { a: 2 }, { a: '}{' }, { b: [1, { c: '"' }] }]);
    assert.deepEqual(splitJsonObjects(''), []);
    assert.deepEqual(splitJsonObjects('{"a":1}\n\n{"a":"x\\ny"}\r\n'), [{ a: 1 }, { a: 'x\ny' }], 'one object a line');
    assert.deepEqual(splitJsonObjects('{"a":\n 1,\n "b": {"c": 2}\n}\n{"a":2}'), [{ a: 1, b: { c: 2 } }, { a: 2 }], 'an object over several lines');
    assert.throws(() => splitJsonObjects('{"a":1}\n[1]\n'), /JSON array at the top level/);
    assert.throws(() => splitJsonObjects('{"a":1}\n"text"\n'), /outside an object/);
    assert.throws(() => splitJsonObjects('{"a":1} 42'), /outside an object/);
    assert.throws(() => splitJsonObjects('[{"a":1}]'), /JSON array at the top level/);
    assert.throws(() => splitJsonObjects('{"a":1'), /ends inside a JSON object/);
    assert.throws(() => splitJsonObjects('{"a":1,}'), /invalid JSON object/);
  });

  it('maps fields to columns by name, NULL for missing fields and nulls, JSON text for nested values, escaped for COPY', () => {
    const data = Buffer.from('{"id":1,"name":"tab\\there","tags":["x"],"extra":true}\n{"id":2,"name":null}{"name":"back\\\\slash\\nline","id":3,"ok":false}');
    assert.equal(jsonRows(data, ['id', 'name', 'tags', 'ok'], false).toString(), '1\ttab\\there\t["x"]\t\\N\n2\t\\N\t\\N\t\\N\n3\tback\\\\slash\\nline\t\\N\tfalse\n');
  });

  it("matches names case-sensitively with 'auto' and not with 'auto ignorecase'", () => {
    const data = Buffer.from('{"UserId":"u1","userid":"u2"}{"USERID":"u3"}');
    assert.equal(jsonRows(data, ['userid'], false).toString(), 'u2\n\\N\n');
    assert.equal(jsonRows(data, ['userid'], true).toString(), 'u1\nu3\n');
  });
});

describe('IGNOREHEADER', () => {
  it('drops the first lines of an object', () => {
    assert.equal(withoutHeader(Buffer.from('h1\nh2\na|b\n'), 2).toString(), 'a|b\n');
    assert.equal(withoutHeader(Buffer.from('h1\n'), 0).toString(), 'h1\n');
    assert.equal(withoutHeader(Buffer.from('h1'), 1).toString(), '');
  });
});
