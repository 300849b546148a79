import { readFileSync } from 'node:fs';
import { identityPolicyProblems } from './policy.js';

/** A session token, optionally with the time it stops being accepted. */
export interface SessionToken {
  token: string;
  /** Epoch ms; absent for a token that does not expire. */
  expiresAt?: number;
}

/** One access key the server accepts, the principal it stands for and that principal's policies. */
export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  /** arn:aws:iam::<account>:user/<name> (or any IAM ARN). */
  principalArn: string;
  /** The IAM user name (aws:username) when the principal is a user. */
  userName?: string;
  /** When present, requests must carry one of these (temporary credentials). */
  sessionTokens?: readonly SessionToken[];
  /** Identity-based policy documents, parsed. */
  policies: readonly unknown[];
}

export type CredentialStore = ReadonlyMap<string, Credential>;

const ACCESS_KEY = /^[A-Za-z0-9_+=,.@-]{1,128}$/;

/**
 * Reads the operator's credentials file: a JSON list of
 * { accessKeyId, secretAccessKey, principal, sessionTokens?, policies? }. A principal given as a
 * bare name becomes an IAM user of `accountId`.
 */
export function loadCredentials(file: string, accountId: string): CredentialStore {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--credentials: cannot read ${file}: ${(err as Error).message}`);
  }
  return parseCredentials(doc, accountId, file);
}

export function parseCredentials(doc: unknown, accountId: string, source = 'credentials'): CredentialStore {
  if (!Array.isArray(doc)) throw new Error(`${source}: must be a JSON list of credentials`);
  const out = new Map<string, Credential>();
  doc.forEach((entry: unknown, i) => {
    const where = `${source}: entry ${i + 1}`;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${where}: not an object`);
    const e = entry as Record<string, unknown>;
    const id = e.accessKeyId;
    if (typeof id !== 'string' || !ACCESS_KEY.test(id)) throw new Error(`${where}: accessKeyId missing or malformed`);
    if (typeof e.secretAccessKey !== 'string' || e.secretAccessKey === '') throw new Error(`${where}: secretAccessKey missing`);
    if (typeof e.principal !== 'string' || e.principal === '') throw new Error(`${where}: principal missing`);
    if (out.has(id)) throw new Error(`${where}: access key ${id} appears twice`);
    const principalArn = e.principal.startsWith('arn:') ? e.principal : `arn:aws:iam::${accountId}:user/${e.principal}`;
    const user = /^arn:aws[a-z-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(principalArn);
    let sessionTokens: SessionToken[] | undefined;
    if (e.sessionTokens !== undefined) {
      if (!Array.isArray(e.sessionTokens)) throw new Error(`${where}: sessionTokens must be a list`);
      sessionTokens = e.sessionTokens.map((t: unknown) => {
        if (typeof t === 'string' && t !== '') return { token: t };
        if (typeof t === 'object' && t !== null && typeof (t as SessionToken).token === 'string') {
          const exp = (t as { expiresAt?: unknown; expiration?: unknown }).expiresAt ?? (t as { expiration?: unknown }).expiration;
          const at = exp === undefined ? undefined : typeof exp === 'number' ? exp : Date.parse(String(exp));
          if (at !== undefined && !Number.isFinite(at)) throw new Error(`${where}: session token expiry is not a date`);
          return at === undefined ? { token: (t as SessionToken).token } : { token: (t as SessionToken).token, expiresAt: at };
        }
        throw new Error(`${where}: a session token must be a string or { token, expiresAt }`);
      });
    }
    let policies: unknown[] = [];
    if (e.policies !== undefined) {
      if (!Array.isArray(e.policies)) throw new Error(`${where}: policies must be a list of policy documents`);
      policies = e.policies.map((p: unknown, j) => {
        const doc: unknown = typeof p === 'string' ? JSON.parse(p) : p;
        const problems = identityPolicyProblems(doc);
        if (problems.length > 0) throw new Error(`${where}: policy ${j + 1}: ${problems.join('; ')}`);
        return doc;
      });
    }
    out.set(id, {
      accessKeyId: id,
      secretAccessKey: e.secretAccessKey,
      principalArn,
      userName: user?.[1],
      sessionTokens,
      policies,
    });
  });
  return out;
}
