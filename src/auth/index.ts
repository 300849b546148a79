import type { Logger } from 'pino';
import { loadCredentials } from './credentials.js';
import { dynamoDbAuthorizer, type AuthorizedOperation } from './dynamodb-authorizer.js';
import type { RequestFacts } from './request.js';
import { PolicyEvaluator } from './policy.js';
import { SigV4Verifier } from './sigv4.js';

/** Signing names accepted in credential scopes: Kinesis, and the services served beside it. */
export const SIGNING_SERVICES: readonly string[] = ['kinesis', 'dynamodb', 'firehose'];
/**
 * How far a signed request's date may be from the server's clock. Kinesis refuses requests more
 * than five minutes off ("Signature expired: … (… - 5 min.)"), a narrower window than some other
 * services' fifteen.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

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
    return { mode: 'development', verifier, close: () => {} };
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
    close: () => policies.close(),
  };
}
