/**
 * The jq runner on each backend there is: the jq binary (when installed) and jq-wasm in a worker.
 * Many calls in a row, compile errors, runaway queries, per-input errors, big batches split into
 * several calls, and process.exitCode left alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createJqRunner, systemJqAvailable, type JqBackend, type JqRunner } from '../../src/delivery/jq.js';

const backends: JqBackend[] = systemJqAvailable() ? ['system', 'wasm'] : ['wasm'];

for (const backend of backends) {
  describe(`jq runner (${backend})`, () => {
    // Queries that end get all the time a loaded machine needs; the runaway ones meet a short
    // deadline on a runner of their own.
    let jq: JqRunner;
    let short: JqRunner;
    before(() => {
      jq = createJqRunner({ backend, timeoutMs: 60_000 });
      short = createJqRunner({ backend, timeoutMs: 2_500 });
    });
    after(async () => {
      await jq.close();
      await short.close();
    });

    it('runs on the backend asked for', () => {
      assert.equal(jq.backend, backend);
    });

    it('gives one result per input, in order', async () => {
      const inputs = Array.from({ length: 50 }, (_, i) => JSON.stringify({ n: i, name: `r${i}` }));
      const results = await jq.each('{n: .n, twice: (.n * 2)}', inputs);
      assert.deepEqual(
        results,
        inputs.map((_, i) => ({ ok: true, outputs: [{ n: i, twice: i * 2 }] })),
      );
    });

    it('answers 1,000 calls in a row', async () => {
      const exitCode = process.exitCode;
      // A process per call costs the binary about 60 ms here: four rows of 250 calls each.
      const lanes = backend === 'system' ? 4 : 1;
      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          for (let i = lane; i < 1_000; i += lanes) {
            const [result] = await jq.each('.n + 1', [`{"n":${i}}`]);
            assert.deepEqual(result, { ok: true, outputs: [i + 1] }, `call ${i}`);
          }
        }),
      );
      assert.equal(process.exitCode, exitCode);
    });

    it('fails every input of a query that does not compile, and the next call works', async () => {
      const exitCode = process.exitCode;
      const results = await jq.each('{a: .a', ['{"a":1}', '{"a":2}']);
      assert.equal(results.length, 2);
      for (const r of results) {
        assert.equal(r.ok, false);
        assert.match(!r.ok ? r.error : '', /compile error/);
      }
      assert.deepEqual(await jq.each('.a', ['{"a":3}']), [{ ok: true, outputs: [3] }]);
      assert.equal(process.exitCode, exitCode);
    });

    it('fails only the input whose query errors', async () => {
      const results = await jq.each('{k: .a.b}', ['{"a":{"b":"x"}}', '{"a":"text"}', '{"a":{"b":2}}', '{"a":{"b":null}}']);
      assert.deepEqual(results[0], { ok: true, outputs: [{ k: 'x' }] });
      assert.equal(results[1]!.ok, false);
      assert.match(!results[1]!.ok ? results[1]!.error : '', /Cannot index string with string "b"/);
      assert.deepEqual(results[2], { ok: true, outputs: [{ k: 2 }] });
      assert.deepEqual(results[3], { ok: true, outputs: [{ k: null }] });
    });

    it('passes on error() values and keeps every output of a query with several', async () => {
      const results = await jq.each('if .fail then error("bad record \\(.n)") else (.n, .n + 10) end', ['{"n":1}', '{"n":2,"fail":true}']);
      assert.deepEqual(results, [
        { ok: true, outputs: [1, 11] },
        { ok: false, error: 'bad record 2' },
      ]);
    });

    it('keeps a trailing comment in the query from swallowing the wrapper', async () => {
      assert.deepEqual(await jq.each('{a: .a} # the key', ['{"a":1}']), [{ ok: true, outputs: [{ a: 1 }] }]);
    });

    it('stops a query that never ends, fails those inputs, and answers the next call', async () => {
      for (const query of ['def f: f; f', 'repeat(.)']) {
        const results = await short.each(query, ['{"a":1}', '{"a":2}']);
        assert.equal(results.length, 2);
        for (const r of results) {
          assert.equal(r.ok, false, query);
          // Stopped by the deadline, or (jq-wasm) aborted when the loop has used up its memory first.
          assert.match(!r.ok ? r.error : '', /ran longer than 2500 ms|^Aborted\(\)/);
        }
      }
      assert.deepEqual(await short.each('.a', ['{"a":5}']), [{ ok: true, outputs: [5] }]);
    });

    it('fails only the input a query loops on when the others end', async () => {
      const results = await short.each('if .loop then (def f: f; f) else .n end', ['{"n":1}', '{"n":2,"loop":true}', '{"n":3}']);
      assert.deepEqual(results[0], { ok: true, outputs: [1] });
      assert.equal(results[1]!.ok, false);
      assert.match(!results[1]!.ok ? results[1]!.error : '', /ran longer than 2500 ms|^Aborted\(\)/);
      assert.deepEqual(results[2], { ok: true, outputs: [3] });
    });

    it('splits a batch bigger than one call takes, keeping the order', async () => {
      const small = createJqRunner({ backend, maxInputBytes: 256 });
      try {
        const inputs = Array.from({ length: 400 }, (_, i) => JSON.stringify({ n: i, pad: 'x'.repeat(i % 40) }));
        const results = await small.each('.n', inputs);
        assert.deepEqual(
          results,
          inputs.map((_, i) => ({ ok: true, outputs: [i] })),
        );
      } finally {
        await small.close();
      }
    });

    it('takes records that span lines and unicode as they are', async () => {
      const results = await jq.each('{c: .city}', ['{\n  "city": "Zürich"\n}', '{"city":"東京"}']);
      assert.deepEqual(results, [
        { ok: true, outputs: [{ c: 'Zürich' }] },
        { ok: true, outputs: [{ c: '東京' }] },
      ]);
    });

    it('leaves process.exitCode alone', async () => {
      const exitCode = process.exitCode;
      await jq.each('.a |', ['{}']);
      await jq.each('error("x")', ['{}']);
      await jq.each('.a', ['{"a":1}']);
      assert.equal(process.exitCode, exitCode);
    });
  });
}
