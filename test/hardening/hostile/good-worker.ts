/**
 * The well-behaved client on its own thread, so that its latency is the server's and not that of
 * the attacking clients sharing an event loop with it. Messages: 'take' answers with the latencies
 * and failures since the last take; 'stop' ends the loop and the thread.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { kinesisClient } from '../../helpers/server.js';
import { GoodClient } from './probe.js';

// The test runner loads every module under test/; on its own (not as a worker) this one does nothing.
if (!isMainThread && parentPort) run(parentPort, workerData as { endpoint: string; stream: string });

function run(port: NonNullable<typeof parentPort>, { endpoint, stream }: { endpoint: string; stream: string }): void {
  const clients = [kinesisClient(endpoint), kinesisClient(endpoint, { requestHandler: new NodeHttp2Handler({ disableConcurrentStreams: false }) })];
  const good = new GoodClient(clients, stream);
  good.start();
  port.on('message', (message: string) => {
    if (message === 'take') {
      port.postMessage({ latencies: good.latencies.splice(0), failures: good.failures.splice(0) });
    } else if (message === 'stop') {
      void good.stop().then(() => {
        for (const c of clients) c.destroy();
        port.close();
      });
    }
  });
}
