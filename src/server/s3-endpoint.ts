import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Auth } from '../auth/index.js';
import type { ServeConfig } from '../settings/index.js';
import { S3Service } from '../s3/service.js';
import type { ObjectStore } from '../s3/store.js';
import type { Clock } from '../util/clock.js';
import { Listener } from './listener.js';
import type { TlsMaterial } from './tls.js';

export interface S3Endpoint {
  endpoint: string;
  port: number;
  service: S3Service;
  close(): Promise<void>;
}

/** S3 allows objects up to 5 GiB in one PUT. */
const MAX_OBJECT_BYTES = 5 * 1024 ** 3;

/**
 * The S3-compatible endpoint on its own listener: the main port's host, TLS material and
 * connection limits, port --s3-port. Objects are kept by `deps.store` (the JetStream engine's
 * object stores), or else in files under `<data-dir>/buckets/`.
 */
export async function startS3Endpoint(
  config: ServeConfig,
  deps: { clock: Clock; logger: Logger; auth: Auth['s3']; tls?: TlsMaterial; store?: ObjectStore },
): Promise<S3Endpoint> {
  const baseHosts = ['s3.localhost', 'localhost'];
  if (isIP(config.host) === 0 && !baseHosts.includes(config.host)) baseHosts.push(`s3.${config.host}`, config.host);
  baseHosts.sort((a, b) => b.length - a.length);
  const service = new S3Service({
    settings: {
      region: config.region,
      accountId: config.accountId,
      dataDir: config.dataDir,
      fsync: config.fsync,
      maxObjectBytes: MAX_OBJECT_BYTES,
      baseHosts,
    },
    clock: deps.clock,
    logger: deps.logger.child({ service: 's3' }),
    verifier: deps.auth.verifier,
    authorize: deps.auth.authorize,
    store: deps.store,
  });
  const listener = new Listener(
    (req, res) => {
      service.handle(req, res).catch((err) => deps.logger.error({ err }, 'S3 request handler failed'));
    },
    {
      host: config.host,
      port: config.s3Port === 'off' ? 0 : config.s3Port,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      // Large objects take longer than the JSON services' requests: only idle connections are cut.
      requestTimeoutMs: 0,
      headersTimeoutMs: config.headersTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      maxHeaderBytes: config.maxHeaderBytes,
      maxConnections: config.maxConnections,
      maxConcurrentStreams: config.maxConcurrentStreams,
      maxUnsentBytes: config.maxUnsentBytes,
      onError: (err) => deps.logger.warn({ err }, 'accepting an S3 connection failed'),
      clientErrorBody: (status) => service.httpLayerError(status),
      onClientError: (err, status) => {
        deps.logger.debug({ code: (err as NodeJS.ErrnoException).code, status }, status ? 'refused a malformed HTTP request' : 'client connection closed');
      },
      tls: deps.tls && { cert: deps.tls.cert, key: deps.tls.key },
    },
  );
  let address;
  try {
    address = await listener.listen();
  } catch (err) {
    await service.close();
    throw err;
  }
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  const endpoint = `${deps.tls ? 'https' : 'http'}://${host}:${address.port}`;
  deps.logger.info({ s3Endpoint: endpoint }, 'S3-compatible endpoint listening');
  return {
    endpoint,
    port: address.port,
    service,
    async close() {
      await listener.close(5_000);
      await service.close();
    },
  };
}
