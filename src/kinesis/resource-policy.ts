import { InvalidArgumentException } from '../protocol/errors.js';

/**
 * Checks that a resource policy is an IAM JSON policy document: a Version AWS knows (optional),
 * an Id (optional) and one statement or a non-empty list of them, each with an Effect, a
 * Principal or NotPrincipal, an Action or NotAction, a Resource or NotResource, and optionally a
 * Sid and a Condition. A malformed document is refused with InvalidArgumentException, worded as
 * IAM words the same faults.
 */
export function checkPolicyDocument(text: string): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalid('Syntax errors in policy.');
  }
  if (!isObject(doc)) throw invalid('Syntax errors in policy.');
  for (const key of Object.keys(doc)) {
    if (!['Version', 'Id', 'Statement'].includes(key)) throw invalid('Syntax errors in policy.');
  }
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') {
    throw invalid('The policy must contain a valid version string');
  }
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw invalid('Syntax errors in policy.');
  if (doc.Statement === undefined) throw invalid('Missing required field Statement');
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (statements.length === 0) throw invalid('Missing required field Statement');
  const sids = new Set<string>();
  for (const statement of statements) {
    checkStatement(statement);
    const sid = (statement as Record<string, unknown>).Sid;
    if (typeof sid === 'string' && sid !== '') {
      if (sids.has(sid)) throw invalid('Statement IDs (SID) in a single policy must be unique.');
      sids.add(sid);
    }
  }
}

const STATEMENT_FIELDS = ['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'];
const PRINCIPAL_TYPES = ['AWS', 'Service', 'Federated', 'CanonicalUser'];
/** `service:Operation`, where the operation may hold wildcards; or `*` alone. */
const ACTION = /^(\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+)$/;

function checkStatement(s: unknown): void {
  if (!isObject(s)) throw invalid('Syntax errors in policy.');
  for (const key of Object.keys(s)) if (!STATEMENT_FIELDS.includes(key)) throw invalid('Syntax errors in policy.');
  if (s.Sid !== undefined && typeof s.Sid !== 'string') throw invalid('Syntax errors in policy.');
  if (s.Effect === undefined) throw invalid('Missing required field Effect');
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw invalid(`Invalid effect: ${String(s.Effect)}`);

  if (s.Principal !== undefined && s.NotPrincipal !== undefined) throw invalid('Syntax errors in policy.');
  const principal = s.Principal ?? s.NotPrincipal;
  if (principal === undefined) throw invalid('Missing required field Principal');
  if (!validPrincipal(principal)) throw invalid('Invalid principal in policy');

  if (s.Action !== undefined && s.NotAction !== undefined) throw invalid('Syntax errors in policy.');
  const action = s.Action ?? s.NotAction;
  if (action === undefined) throw invalid('Policy statement must contain actions.');
  const actions = stringList(action);
  if (!actions || actions.length === 0) throw invalid('Policy statement must contain actions.');
  if (!actions.every((a) => ACTION.test(a))) {
    throw invalid('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
  }

  if (s.Resource !== undefined && s.NotResource !== undefined) throw invalid('Syntax errors in policy.');
  const resource = s.Resource ?? s.NotResource;
  const resources = resource === undefined ? undefined : stringList(resource);
  if (!resources || resources.length === 0) throw invalid('Policy statement must contain resources.');

  if (s.Condition !== undefined && !isObject(s.Condition)) throw invalid('Syntax errors in policy.');
}

function validPrincipal(p: unknown): boolean {
  if (p === '*') return true;
  if (!isObject(p)) return false;
  const entries = Object.entries(p);
  if (entries.length === 0) return false;
  return entries.every(([type, value]) => {
    const list = stringList(value);
    return PRINCIPAL_TYPES.includes(type) && list !== undefined && list.length > 0 && list.every((v) => v !== '');
  });
}

/** A string or a list of strings, as a list; undefined for anything else. */
function stringList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(message: string) {
  return new InvalidArgumentException(message);
}
