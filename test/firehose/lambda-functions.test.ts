/**
 * --lambda-functions: its entries, how a LambdaArn finds its function, modules that cannot be
 * used, and the one line and exit code the command gives for a mistake.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LambdaEvent } from '../../src/delivery/lambda.js';
import { loadLambdaFunctions, parseLambdaFunctions } from '../../src/firehose/lambda-functions.js';
import { CLI, removeDir, tempDir } from '../helpers/server.js';

const OPTIONS = { region: 'us-east-1', accountId: '000000000000' };

function run(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, _stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }));
  });
}

describe('--lambda-functions', () => {
  let dir: string;
  before(() => {
    dir = tempDir('tributary-lambda-functions-');
    writeFileSync(path.join(dir, 'named.mjs'), "export default async (event, context) => ({ records: [], name: context.functionName, arn: context.invokedFunctionArn });\n");
    writeFileSync(path.join(dir, 'handler.mjs'), "export const handler = async () => ({ records: [], from: 'handler' });\n");
    writeFileSync(path.join(dir, 'nothing.mjs'), 'export const value = 1;\n');
    writeFileSync(path.join(dir, 'broken.mjs'), 'export default async ( => {};\n');
  });
  after(() => removeDir(dir));

  it('reads name-or-ARN=module-or-URL pairs', () => {
    assert.deepEqual(parseLambdaFunctions(''), []);
    assert.deepEqual(parseLambdaFunctions('arn:aws:lambda:us-east-1:000000000000:function:a=./a.mjs, b=https://example.com/fn?x=1'), [
      { key: 'arn:aws:lambda:us-east-1:000000000000:function:a', target: { kind: 'module', file: './a.mjs' } },
      { key: 'b', target: { kind: 'url', url: 'https://example.com/fn?x=1' } },
    ]);
    assert.throws(() => parseLambdaFunctions('a'), /name-or-ARN=module-or-URL, not a/);
    assert.throws(() => parseLambdaFunctions('a=x.mjs,a=y.mjs'), /a is mapped twice/);
    assert.throws(() => parseLambdaFunctions('a=http://'), /not a URL/);
  });

  it('finds a function by ARN, ARN less qualifier, name:qualifier or name', async () => {
    const functions = await loadLambdaFunctions(
      parseLambdaFunctions(`named=${path.join(dir, 'named.mjs')},arn:aws:lambda:us-east-1:000000000000:function:other=${path.join(dir, 'handler.mjs')}`),
      OPTIONS,
    );
    const event: LambdaEvent = { invocationId: 'i', deliveryStreamArn: 'd', region: 'us-east-1', records: [] };
    for (const arn of ['named', 'named:live', 'arn:aws:lambda:us-east-1:000000000000:function:named', 'arn:aws:lambda:eu-west-1:111111111111:function:named:$LATEST']) {
      const fn = functions.resolve(arn);
      assert.ok(fn, arn);
      const reply = (await fn.invoke(event, { functionArn: arn, invocationId: 'i' })) as { name: string; arn: string };
      assert.equal(reply.name, 'named');
    }
    const reply = (await functions.resolve('named')!.invoke(event, { functionArn: 'named', invocationId: 'i' })) as { arn: string };
    assert.equal(reply.arn, 'arn:aws:lambda:us-east-1:000000000000:function:named');
    assert.deepEqual(await functions.resolve('arn:aws:lambda:us-east-1:000000000000:function:other:7')!.invoke(event, { functionArn: 'x', invocationId: 'i' }), { records: [], from: 'handler' });
    assert.equal(functions.resolve('other'), undefined);
    assert.equal(functions.resolve('arn:aws:lambda:us-east-1:000000000000:function:missing'), undefined);
  });

  it('refuses a module that is not there, does not load, or exports no function', async () => {
    await assert.rejects(loadLambdaFunctions(parseLambdaFunctions(`f=${path.join(dir, 'missing.mjs')}`), OPTIONS), /--lambda-functions f=.*missing\.mjs: no such file/);
    await assert.rejects(loadLambdaFunctions(parseLambdaFunctions(`f=${path.join(dir, 'broken.mjs')}`), OPTIONS), /broken\.mjs: the module does not load/);
    await assert.rejects(loadLambdaFunctions(parseLambdaFunctions(`f=${path.join(dir, 'nothing.mjs')}`), OPTIONS), /nothing\.mjs: the module exports no default function and no handler/);
  });

  it('stops the command with one line: exit 2 for a bad value, 1 for a module that is not there', async () => {
    const bad = await run(['serve', '--lambda-functions', 'nonsense']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'tributary: --lambda-functions: each entry must be name-or-ARN=module-or-URL, not nonsense\n');
    const missing = path.join(dir, 'missing.mjs');
    const r = await run(['serve', '--port', '0', '--s3-port', 'off', '--data-dir', path.join(dir, 'data'), '--lambda-functions', `f=${missing}`, '--log-level', 'warn']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `tributary: could not start: --lambda-functions f=${missing}: no such file\n`);
  });
});
