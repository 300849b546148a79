import type { Logger } from 'pino';
import { loadCredentials } from './credentials.js';
import { dynamoDbAuthorizer, type AuthorizedOperation } from './dynamodb-authorizer.js';
import { firehoseAuthorizer } from './firehose-authorizer.js';
import type { RequestFacts } from './request.js';
import { PolicyEvaluator } from './policy.js';
import { s3Authorizer, type S3Authorize } from './s3-authorizer.js';
import { SigV4Verifier } from './sigv4.js';

/** Signing names accepted in credential scopes: Kinesis, and the services served beside it. */
export const SIGNING_SERVICES: readonly string[] = ['kinesis', 'dynamodb', 'firehose'];
/**
 * How far a signed request's date may be from the server's clock. Kinesis refuses requests more
 * than five minutes off ("Signature expired: … (… - 5 min.)"), a narrower window than some other
 * services' fifteen.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** S3 allows fifteen minutes. */
export const S3_CLOCK_SKEW_MS = 15 * 60_000;

export interface AuthSettings {
  /** The credentials file ('' for development mode). */
  credentials: string;
  region: string;
  accountId: string;
}

export interface Auth {
  mode: 'development' | 'verified';
  /** In development mode it checks only that a signature is complete and well formed. */
  verifier: SigV4Verifier;
  /** Evaluates IAM policies for the services' authorizers, with bounded caches; absent in development mode. */
  policies?: PolicyEvaluator;
  /** Authorizes a DynamoDB operation's action by identity policies; undefined in development mode. */
  dynamoDbAuthorizer?: (op: AuthorizedOperation, input: Record<string, unknown>, facts: RequestFacts) => Promise<void>;
  /** Authorizes a Firehose operation's action on its delivery stream; undefined in development mode. */
  firehoseAuthorizer?: (op: AuthorizedOperation, input: Record<string, unknown>, facts: RequestFacts) => Promise<void>;
  /** The S3 endpoint's own verifier (signing name `s3`, any region in the scope) and its authorizer. */
  s3: { verifier: SigV4Verifier; authorize: S3Authorize };
  /** Releases what authorization keeps (the policy evaluator's caches). */
  close(): void;
}

/**
 * Authentication and authorization for a server: with a credentials file, SigV4 signatures are
 * verified against its keys and requests authorized by IAM policies; without one (development
 * mode), any well-formed signature is accepted. Logs which, never a secret.
 */
export function createAuth(config: AuthSettings, logger: Logger): Auth {
  if (!config.credentials) {
    logger.info({ auth: 'development' }, 'development mode: any well-formed SigV4 signature is accepted, nothing is authorized');
    const verifier = new SigV4Verifier({ region: config.region, services: SIGNING_SERVICES, skewMs: CLOCK_SKEW_MS });
    return { mode: 'development', verifier, s3: s3Auth(config), close: () => {} };
  }
  const credentials = loadCredentials(config.credentials, config.accountId);
  const verifier = new SigV4Verifier({
    region: config.region,
    services: SIGNING_SERVICES,
    skewMs: CLOCK_SKEW_MS,
    credentials,
  });
  logger.info(
    { auth: 'verified', credentialsFile: config.credentials, accessKeys: credentials.size },
    'SigV4 signatures are verified and requests authorized by IAM policies',
  );
  const policies = new PolicyEvaluator();
  return {
    mode: 'verified',
    verifier,
    policies,
    dynamoDbAuthorizer: dynamoDbAuthorizer({ region: config.region, accountId: config.accountId }, policies),
    firehoseAuthorizer: firehoseAuthorizer({ region: config.region, accountId: config.accountId }, policies),
    s3: s3Auth(config, policies, credentials),
    close: () => policies.close(),
  };
}

function s3Auth(
  config: Pick<AuthSettings, 'region' | 'accountId'>,
  policies?: PolicyEvaluator,
  credentials?: ReturnType<typeof loadCredentials>,
): Auth['s3'] {
  const verifier = new SigV4Verifier({ region: config.region, services: ['s3'], skewMs: S3_CLOCK_SKEW_MS, credentials, anyRegion: true });
  return { verifier, authorize: s3Authorizer({ region: config.region, accountId: config.accountId }, policies) };
}
