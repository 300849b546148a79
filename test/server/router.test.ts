import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { operationTable, type Operation } from '../../src/protocol/operation.js';
import { required, string, structure } from '../../src/protocol/shape.js';
import { createRouter, type ServiceEndpoint } from '../../src/server/router.js';
import { HeldOutput, ResponseBudget } from '../../src/util/response-budget.js';
import { http1 } from '../helpers/raw.js';

interface Context {
  name: string;
  budget: ResponseBudget;
}

const echo: Operation<Context, { Text: string }> = {
  name: 'Echo',
  input: structure('EchoInput', { Text: required(string({ min: 1, max: 8 })) }),
  action: 'test:Echo',
  async handle(ctx, input) {
    return { From: ctx.name, Text: input.Text };
  },
};

const held: Operation<Context> = {
  name: 'Held',
  input: structure('HeldInput', {}),
  action: 'test:Held',
  async handle(ctx) {
    return new HeldOutput({ Held: true }, ctx.budget.tryTake(1024)!);
  },
};

describe('the router', () => {
  const budget = new ResponseBudget(4096, { minGrant: 1024 });
  let server: http.Server;
  let endpoint = '';

  before(async () => {
    const service: ServiceEndpoint<Context> = {
      targetPrefix: 'Test_20200101',
      signingName: 'test',
      context: { name: 'test-context', budget },
      operations: operationTable([echo, held]),
      jsonContentType: 'application/x-amz-json-1.0',
    };
    const route = createRouter([service], { maxBodyBytes: 1024, log: () => {} });
    server = http.createServer((req, res) => void route(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('runs the operation the target names with the endpoint context', async () => {
    const res = await http1(endpoint, 'Test_20200101.Echo', JSON.stringify({ Text: 'hi' }));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-amz-json-1.0');
    assert.deepEqual(JSON.parse(res.body.toString()), { From: 'test-context', Text: 'hi' });
  });

  it("validates the body by the operation's input shape", async () => {
    const res = await http1(endpoint, 'Test_20200101.Echo', JSON.stringify({ Text: 'far too long' }));
    assert.equal(res.status, 400);
    const body = JSON.parse(res.body.toString());
    assert.equal(body.__type, 'ValidationException');
    assert.match(body.message, /Value 'far too long' at 'text' failed to satisfy constraint: Member must have length less than or equal to 8/);
  });

  it('answers UnknownOperationException for an operation or prefix it does not have', async () => {
    for (const target of ['Test_20200101.Nothing', 'Other_20200101.Echo']) {
      const res = await http1(endpoint, target, '{}');
      assert.equal(res.status, 400, target);
      assert.equal(JSON.parse(res.body.toString()).__type, 'UnknownOperationException');
    }
  });

  it('sends the output a HeldOutput carries and gives its share back once sent', async () => {
    const res = await http1(endpoint, 'Test_20200101.Held', '{}');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body.toString()), { Held: true });
    assert.equal(budget.inUse, 0);
  });

  it('refuses two endpoints with one target prefix', () => {
    const one: ServiceEndpoint<null> = { targetPrefix: 'Twice', signingName: 'test', context: null, operations: operationTable<null>([]) };
    assert.throws(() => createRouter([one, one], { maxBodyBytes: 1, log: () => {} }), /registered twice/);
  });
});
