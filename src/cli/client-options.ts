/**
 * What every client command shares: the AWS CLI's endpoint and credential options, the Kinesis
 * client built from them, and how failures are reported (one line on stderr, exit 1).
 *
 * The endpoint is never assumed. Without --endpoint-url the SDK resolves it as the AWS CLI does:
 * AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL, `endpoint_url` in the profile, else the AWS endpoint
 * of the region. Region and credentials come from --region and --profile, else the SDK's chains
 * (AWS_REGION or AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
 * the shared config and credentials files, ...).
 *
 * Client commands import only the client library (src/client/), src/util/ and packages: never the
 * server.
 */
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { type Command, InvalidArgumentError } from 'commander';

export interface ClientOptions {
  endpointUrl?: string;
  region?: string;
  profile?: string;
}

/** Adds --endpoint-url, --region and --profile to a command. */
export function withClientOptions(cmd: Command): Command {
  return cmd
    .option('--endpoint-url <url>', 'the Kinesis endpoint (default: what the SDK resolves, e.g. AWS_ENDPOINT_URL_KINESIS)', parseEndpoint)
    .option('--region <region>', 'the AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile)')
    .option('--profile <name>', 'a profile of the shared AWS config and credentials files (default: AWS_PROFILE)');
}

function parseEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('not a URL (e.g. http://127.0.0.1:4567).');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('the URL must start with http:// or https://.');
  return value;
}

/** A Kinesis client configured as the AWS CLI would be from these options. */
export function kinesisClient(opts: ClientOptions, extra: Partial<KinesisClientConfig> = {}): KinesisClient {
  // The SDK's notice that its releases after early 2027 need Node 22 would open every command's
  // output; the lockfile pins the SDK (see package.json), so it does not apply to this build.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config: KinesisClientConfig = { ...extra };
  if (opts.endpointUrl !== undefined) config.endpoint = opts.endpointUrl;
  if (opts.region !== undefined) config.region = opts.region;
  if (opts.profile !== undefined) {
    // As the AWS CLI's --profile, it wins over AWS_PROFILE for everything read from the profile;
    // the client's `profile` setting alone does not reach the profile's endpoint_url.
    process.env.AWS_PROFILE = opts.profile;
    config.profile = opts.profile;
  }
  return new KinesisClient(config);
}

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  address?: string;
  hostname?: string;
  port?: number;
  errors?: unknown[];
  cause?: unknown;
  $metadata?: unknown;
  $fault?: string;
}

const CONNECTION_CODES: ReadonlyMap<string, string> = new Map([
  ['ECONNREFUSED', 'connection refused'],
  ['ECONNRESET', 'connection reset'],
  ['ENOTFOUND', 'host not found'],
  ['EAI_AGAIN', 'host not found'],
  ['EHOSTUNREACH', 'host unreachable'],
  ['ENETUNREACH', 'network unreachable'],
  ['ETIMEDOUT', 'timed out'],
]);

/** The one line that describes a failure of a call to the endpoint. */
export function describeError(err: unknown, opts: ClientOptions): string {
  const e = (err ?? {}) as ErrorLike;
  // A connection failure may sit inside the SDK's error (cause) or Node's (AggregateError.errors).
  let inner: ErrorLike | undefined = e;
  for (let depth = 0; inner && depth < 5; depth++) {
    if (inner.code !== undefined && CONNECTION_CODES.has(inner.code)) break;
    inner = (inner.cause ?? inner.errors?.[0]) as ErrorLike | undefined;
  }
  const code = inner?.code;
  const why = code === undefined ? undefined : CONNECTION_CODES.get(code);
  if (why !== undefined) {
    const address = inner?.address ?? inner?.hostname;
    const port = inner?.port;
    const where = opts.endpointUrl ?? (address !== undefined ? `${address}${port !== undefined ? `:${port}` : ''}` : 'the endpoint');
    return `tributary: cannot reach ${where}: ${why} (${code})`;
  }
  if (e.$fault !== undefined && e.name !== undefined) {
    // An answer of the service: its error type and message, as the AWS CLI prints them.
    return `${e.name}: ${e.message ?? ''}`.trimEnd();
  }
  if (e.name === 'CredentialsProviderError') return `tributary: no credentials: ${e.message ?? ''}`;
  return `tributary: ${e.message ?? String(err)}`;
}

/** Prints the failure on one line and exits with 1. */
export function fail(err: unknown, opts: ClientOptions): never {
  console.error(describeError(err, opts));
  process.exit(1);
}

/** Runs a command's body, turning any failure into one line and exit 1. */
export async function guarded(opts: ClientOptions, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    fail(err, opts);
  }
}

/** A commander parser for a positive integer option. */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of 1 or more.');
  return n;
}

/** A commander parser for a positive number option. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number above 0.');
  return n;
}
