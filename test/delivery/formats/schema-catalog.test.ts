import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadSchemaCatalog, parseSchemaCatalog, SchemaCatalogError } from '../../../src/delivery/formats/schema-catalog.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tributary-schema-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function glueTable(db: string, name: string, columns: [string, string][], extra: Record<string, unknown> = {}) {
  return {
    Table: {
      Name: name,
      DatabaseName: db,
      CreateTime: '2024-01-01T00:00:00+00:00',
      StorageDescriptor: { Columns: columns.map(([Name, Type]) => ({ Name, Type })), Location: 's3://bucket/prefix/' },
      PartitionKeys: [{ Name: 'dt', Type: 'string' }],
      TableType: 'EXTERNAL_TABLE',
      ...extra,
    },
  };
}

async function loadError(text: string): Promise<string> {
  const file = path.join(dir, `bad-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, text);
  try {
    await loadSchemaCatalog(file);
  } catch (err) {
    assert.ok(err instanceof SchemaCatalogError);
    assert.ok(!err.message.includes('\n'), 'one line');
    assert.ok(err.message.startsWith(`schema file ${file}: `), err.message);
    return err.message.slice(`schema file ${file}: `.length);
  }
  assert.fail('loaded');
}

describe('the schema file', () => {
  it('reads one aws glue get-table answer', async () => {
    const file = path.join(dir, 'one.json');
    writeFileSync(file, JSON.stringify(glueTable('Analytics', 'Events', [['ID', 'bigint'], ['payload', 'struct<a:int>']])));
    const catalog = await loadSchemaCatalog(file);
    const table = catalog.lookup('analytics', 'EVENTS');
    assert.ok(table);
    assert.equal(table.databaseName, 'Analytics');
    assert.deepEqual(table.columns.map((c) => c.name), ['id', 'payload']);
    assert.deepEqual(table.columns[1]!.type, { kind: 'struct', fields: [{ name: 'a', type: { kind: 'int' } }] });
    assert.deepEqual(table.partitionKeys.map((c) => c.name), ['dt']);
    assert.equal(catalog.lookup('analytics', 'other'), undefined);
    assert.equal(catalog.lookup('other', 'events'), undefined);
  });

  it('reads several tables as an array, as {"Tables": [...]} and as get-tables output', () => {
    const a = glueTable('db', 'a', [['x', 'int']]);
    const b = glueTable('db', 'b', [['y', 'string']]);
    for (const doc of [[a, b], { Tables: [a, b] }, { Tables: [a.Table, b.Table] }, { TableList: [a.Table, b.Table] }]) {
      const catalog = parseSchemaCatalog(JSON.stringify(doc), 'mem');
      assert.equal(catalog.size, 2);
      assert.equal(catalog.lookup('db', 'a')?.columns[0]?.name, 'x');
      assert.equal(catalog.lookup('db', 'b')?.columns[0]?.name, 'y');
    }
  });

  it('picks LATEST as the highest version and finds a named version', () => {
    const doc = {
      TableVersions: [
        { VersionId: '1', Table: glueTable('db', 't', [['old', 'int']]).Table },
        { VersionId: '3', Table: glueTable('db', 't', [['newest', 'int']]).Table },
        { VersionId: '2', Table: glueTable('db', 't', [['middle', 'int']]).Table },
      ],
    };
    const catalog = parseSchemaCatalog(JSON.stringify(doc), 'mem');
    assert.equal(catalog.lookup('db', 't', 'LATEST')?.columns[0]?.name, 'newest');
    assert.equal(catalog.lookup('db', 't')?.columns[0]?.name, 'newest');
    assert.equal(catalog.lookup('db', 't', '1')?.columns[0]?.name, 'old');
    assert.equal(catalog.lookup('db', 't', '9'), undefined);
    const fromTableField = parseSchemaCatalog(JSON.stringify([glueTable('db', 'u', [['c', 'int']], { VersionId: '7' })]), 'mem');
    assert.equal(fromTableField.lookup('db', 'u', '7')?.versionId, '7');
  });

  it('says in one line what is wrong with a file', async () => {
    const missing = path.join(dir, 'missing.json');
    await assert.rejects(loadSchemaCatalog(missing), (err: Error) => err instanceof SchemaCatalogError && err.message === `schema file ${missing}: no such file`);
    await assert.rejects(loadSchemaCatalog(dir), (err: Error) => err.message === `schema file ${dir}: is a directory`);
    assert.match(await loadError('{"Table": '), /^not valid JSON \(/);
    assert.match(await loadError('{"Name": "x"}'), /expected \{"Table": \{\.\.\.\}\}, an array of them/);
    assert.equal(await loadError('[]'), 'holds no tables');
    assert.equal(await loadError('{"Tables": {}}'), 'Tables must be an array');
    assert.equal(await loadError(JSON.stringify({ Table: { Name: 't', StorageDescriptor: { Columns: [] } } })), 'Table.DatabaseName must be a non-empty string (table t)');
    assert.equal(await loadError(JSON.stringify({ Table: { Name: 't', DatabaseName: 'd' } })), 'Table.StorageDescriptor.Columns must be an array (table d.t)');
    assert.equal(await loadError(JSON.stringify(glueTable('d', 't', []))), 'Table.StorageDescriptor.Columns is empty (table d.t)');
    assert.equal(
      await loadError(JSON.stringify([glueTable('d', 't', [['ok', 'int'], ['bad', 'array<strng>']])])),
      "[0].Table.StorageDescriptor.Columns[1]: column 'bad' of table d.t has a bad type: unknown type 'strng' at position 6 of 'array<strng>'",
    );
    assert.equal(
      await loadError(JSON.stringify(glueTable('d', 't', [['a', 'int'], ['A', 'int']]))),
      "Table.StorageDescriptor.Columns[1]: duplicate column 'A' (table d.t)",
    );
    assert.equal(
      await loadError(JSON.stringify({ Table: { Name: 't', DatabaseName: 'd', StorageDescriptor: { Columns: [{ Name: 'a' }] } } })),
      'Table.StorageDescriptor.Columns[0] needs a string Name and Type (table d.t)',
    );
  });
});
