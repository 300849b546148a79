import { BlockList, isIP } from 'node:net';
import { LruCache } from '../util/lru-cache.js';

/**
 * IAM policy evaluation for one request: identity-based policies of the caller and the resource
 * policy of the resource, evaluated as IAM does within one account — an explicit Deny anywhere
 * wins; otherwise an Allow from either side grants; otherwise the request is implicitly denied.
 */

export interface RequestContext {
  /** "kinesis:PutRecord" */
  action: string;
  /** The resource ARN, or "*". */
  resource: string;
  principalArn: string;
  /** The principal's account. */
  account: string;
  /** Condition keys by lower-case name (aws:sourceip, aws:currenttime, ...). */
  keys: ReadonlyMap<string, string>;
}

export type Decision =
  | { effect: 'allow' }
  | { effect: 'deny'; explicit: true; source: 'identity' | 'resource' }
  | { effect: 'deny'; explicit: false };

interface Statement {
  Effect?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

/** What evaluation keeps between requests, each bounded, dropping the entries used least recently. */
interface Caches {
  /** Resource policies arrive as the stored text; each text is parsed once. */
  readonly parsed: LruCache<string, Statement[]>;
  /** Regular expressions of `*`/`?` patterns, by case mode and pattern. */
  readonly globs: LruCache<string, RegExp>;
  /** Address ranges of IpAddress conditions, built once each; null for one that is not a range. */
  readonly blocks: LruCache<string, BlockList | null>;
}

function statementsOf(doc: unknown, c: Caches): Statement[] {
  if (typeof doc === 'string') {
    let found = c.parsed.get(doc);
    if (!found) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(doc);
      } catch {
        parsed = undefined;
      }
      found = statementsOf(parsed, c);
      c.parsed.set(doc, found);
    }
    return found;
  }
  if (typeof doc !== 'object' || doc === null) return [];
  const s = (doc as { Statement?: unknown }).Statement;
  if (Array.isArray(s)) return s.filter((x): x is Statement => typeof x === 'object' && x !== null);
  return typeof s === 'object' && s !== null ? [s as Statement] : [];
}

function list(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'number' || typeof v === 'boolean') return [String(v)];
  return [];
}

/** `*` matches any run of characters, `?` any one; everything else literally. */
function globMatch(c: Caches, pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*') && !pattern.includes('?')) {
    return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  }
  const id = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let re = c.globs.get(id);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    c.globs.set(id, re);
  }
  return re.test(value);
}

/** ArnLike: each of the six colon-separated parts matched on its own; the last may hold colons. */
function arnLike(c: Caches, pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = pattern.split(':');
  const a = arn.split(':');
  if (p.length < 6 || a.length < 6) return false;
  const pp = [...p.slice(0, 5), p.slice(5).join(':')];
  const aa = [...a.slice(0, 5), a.slice(5).join(':')];
  return pp.every((part, i) => globMatch(c, part, aa[i]!));
}

/** Policy variables such as ${aws:username} in Resource and condition values. */
function substitute(s: string, ctx: RequestContext): string {
  if (!s.includes('${')) return s;
  return s.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    if (name === '*') return '*';
    if (name === '?') return '?';
    if (name === '$') return '$';
    return ctx.keys.get(name.toLowerCase()) ?? whole;
  });
}

function matchesAction(c: Caches, s: Statement, action: string): boolean {
  if (s.Action !== undefined) return list(s.Action).some((p) => globMatch(c, p, action, true));
  if (s.NotAction !== undefined) return !list(s.NotAction).some((p) => globMatch(c, p, action, true));
  return false;
}

function matchesResource(c: Caches, s: Statement, resource: string, ctx: RequestContext, resourcePolicy: boolean): boolean {
  // A resource policy may leave Resource out: it then applies to the resource it is attached to.
  if (s.Resource === undefined && s.NotResource === undefined) return resourcePolicy;
  const hit = (patterns: unknown) => list(patterns).some((p) => globMatch(c, substitute(p, ctx), resource));
  if (s.Resource !== undefined) return hit(s.Resource);
  return !hit(s.NotResource);
}

function principalValues(p: unknown): string[] | '*' {
  if (p === '*') return '*';
  if (typeof p !== 'object' || p === null) return [];
  const aws = (p as { AWS?: unknown }).AWS;
  const values = list(aws);
  return values.includes('*') ? '*' : values;
}

/** Whether a principal entry names the caller: its ARN, or its account (id or root ARN). */
function principalEntryMatches(c: Caches, entry: string, ctx: RequestContext): 'exact' | 'account' | false {
  if (entry === ctx.principalArn) return 'exact';
  if (entry === ctx.account || entry === `arn:aws:iam::${ctx.account}:root`) return 'account';
  if ((entry.includes('*') || entry.includes('?')) && globMatch(c, entry, ctx.principalArn)) return 'exact';
  return false;
}

/**
 * Whether a resource-policy statement applies to the caller. An Allow that names only the
 * caller's account delegates to the account's identity policies and grants nothing by itself;
 * a Deny naming the account applies to every principal in it.
 */
function matchesPrincipal(c: Caches, s: Statement, ctx: RequestContext, effect: 'Allow' | 'Deny'): boolean {
  if (s.Principal !== undefined) {
    const v = principalValues(s.Principal);
    if (v === '*') return true;
    return v.some((e) => {
      const m = principalEntryMatches(c, e, ctx);
      return m === 'exact' || (m === 'account' && effect === 'Deny');
    });
  }
  if (s.NotPrincipal !== undefined) {
    const v = principalValues(s.NotPrincipal);
    if (v === '*') return false;
    return !v.some((e) => principalEntryMatches(c, e, ctx) !== false);
  }
  return false;
}

// --- conditions ----------------------------------------------------------------------------------

type Test = (policyValue: string, requestValue: string, c: Caches) => boolean;

const numeric = (f: (a: number, b: number) => boolean): Test => (pv, rv) => {
  const a = Number(rv);
  const b = Number(pv);
  return Number.isFinite(a) && Number.isFinite(b) && f(a, b);
};
const dateOf = (s: string) => (/^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s));
const dated = (f: (a: number, b: number) => boolean): Test => (pv, rv) => {
  const a = dateOf(rv);
  const b = dateOf(pv);
  return Number.isFinite(a) && Number.isFinite(b) && f(a, b);
};

function ipMatch(pv: string, rv: string, c: Caches): boolean {
  const ip = rv.startsWith('::ffff:') && isIP(rv.slice(7)) === 4 ? rv.slice(7) : rv;
  const family = isIP(ip);
  if (family === 0) return false;
  let block = c.blocks.get(pv);
  if (block === undefined) {
    const [net, bits] = pv.split('/');
    const netFamily = isIP(net ?? '');
    const prefix = Number(bits);
    if (netFamily === 0 || (bits !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= (netFamily === 4 ? 32 : 128)))) {
      block = null;
    } else {
      block = new BlockList();
      const type = netFamily === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) block.addAddress(net!, type);
      else block.addSubnet(net!, prefix, type);
    }
    c.blocks.set(pv, block);
  }
  return block !== null && block.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** Positive operators; each `Not` form is the negation of one of these. */
const OPERATORS: Record<string, Test> = {
  stringequals: (pv, rv) => pv === rv,
  stringequalsignorecase: (pv, rv) => pv.toLowerCase() === rv.toLowerCase(),
  stringlike: (pv, rv, c) => globMatch(c, pv, rv),
  numericequals: numeric((a, b) => a === b),
  numericlessthan: numeric((a, b) => a < b),
  numericlessthanequals: numeric((a, b) => a <= b),
  numericgreaterthan: numeric((a, b) => a > b),
  numericgreaterthanequals: numeric((a, b) => a >= b),
  dateequals: dated((a, b) => a === b),
  datelessthan: dated((a, b) => a < b),
  datelessthanequals: dated((a, b) => a <= b),
  dategreaterthan: dated((a, b) => a > b),
  dategreaterthanequals: dated((a, b) => a >= b),
  bool: (pv, rv) => pv.toLowerCase() === rv.toLowerCase(),
  ipaddress: ipMatch,
  arnequals: (pv, rv) => pv === rv,
  arnlike: (pv, rv, c) => arnLike(c, pv, rv),
  binaryequals: (pv, rv) => pv === rv,
};
const NEGATED: Record<string, string> = {
  stringnotequals: 'stringequals',
  stringnotequalsignorecase: 'stringequalsignorecase',
  stringnotlike: 'stringlike',
  numericnotequals: 'numericequals',
  datenotequals: 'dateequals',
  notipaddress: 'ipaddress',
  arnnotequals: 'arnequals',
  arnnotlike: 'arnlike',
};

/** Whether a condition operator (with its optional set prefix and IfExists suffix) is one this evaluates. */
export function knownConditionOperator(rawOp: string): boolean {
  let op = rawOp.toLowerCase();
  const colon = op.indexOf(':');
  if (colon >= 0) {
    if (!['foranyvalue', 'forallvalues'].includes(op.slice(0, colon))) return false;
    op = op.slice(colon + 1);
  }
  if (op.endsWith('ifexists') && op !== 'null') op = op.slice(0, -'ifexists'.length);
  return op === 'null' || op in OPERATORS || op in NEGATED;
}

/**
 * Problems with an identity-based policy document, worded for the operator; empty when it is
 * sound. A statement this cannot read must not silently fail to deny.
 */
export function identityPolicyProblems(doc: unknown): string[] {
  const problems: string[] = [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return ['a policy must be a JSON object'];
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!['Version', 'Id', 'Statement'].includes(k)) problems.push(`unknown policy field ${k}`);
  if (d.Version !== undefined && d.Version !== '2012-10-17' && d.Version !== '2008-10-17') problems.push('unknown Version');
  const raw = d.Statement;
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (statements.length === 0) problems.push('no Statement');
  statements.forEach((st: unknown, i) => {
    const at = `statement ${i + 1}`;
    if (typeof st !== 'object' || st === null || Array.isArray(st)) {
      problems.push(`${at}: not an object`);
      return;
    }
    const s = st as Record<string, unknown>;
    for (const k of Object.keys(s)) {
      if (!['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'].includes(k)) {
        problems.push(`${at}: field ${k} is not allowed in an identity-based policy`);
      }
    }
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') problems.push(`${at}: Effect must be Allow or Deny`);
    if ((s.Action === undefined) === (s.NotAction === undefined)) problems.push(`${at}: needs exactly one of Action and NotAction`);
    if ((s.Resource === undefined) === (s.NotResource === undefined)) problems.push(`${at}: needs exactly one of Resource and NotResource`);
    for (const f of ['Action', 'NotAction', 'Resource', 'NotResource']) {
      const v = s[f];
      if (v !== undefined && list(v).length === 0) problems.push(`${at}: ${f} must be a string or a list of strings`);
    }
    if (s.Condition !== undefined) {
      if (typeof s.Condition !== 'object' || s.Condition === null || Array.isArray(s.Condition)) {
        problems.push(`${at}: Condition must be an object`);
      } else {
        for (const [op, block] of Object.entries(s.Condition)) {
          if (!knownConditionOperator(op)) problems.push(`${at}: unknown condition operator ${op}`);
          if (typeof block !== 'object' || block === null || Array.isArray(block)) problems.push(`${at}: ${op} must map keys to values`);
        }
      }
    }
  });
  return problems;
}

/** Whether every condition of a statement holds; an operator this does not know never holds. */
function conditionsHold(c: Caches, condition: unknown, ctx: RequestContext): boolean {
  if (condition === undefined) return true;
  if (typeof condition !== 'object' || condition === null) return false;
  for (const [rawOp, block] of Object.entries(condition as Record<string, unknown>)) {
    if (typeof block !== 'object' || block === null) return false;
    let op = rawOp.toLowerCase();
    const colon = op.indexOf(':');
    if (colon >= 0) op = op.slice(colon + 1); // ForAnyValue:/ForAllValues: on single-valued keys
    const ifExists = op.endsWith('ifexists');
    if (ifExists) op = op.slice(0, -'ifexists'.length);
    for (const [rawKey, rawValues] of Object.entries(block as Record<string, unknown>)) {
      const key = rawKey.toLowerCase();
      const values = list(rawValues).map((v) => substitute(v, ctx));
      const actual = ctx.keys.get(key);
      if (op === 'null') {
        const wantsAbsent = values.some((v) => v.toLowerCase() === 'true');
        if (wantsAbsent !== (actual === undefined)) return false;
        continue;
      }
      const positive = OPERATORS[op];
      const negatedOf = NEGATED[op];
      if (!positive && !negatedOf) return false;
      if (actual === undefined) {
        // A missing key matches nothing: a positive test fails, a negated one holds.
        if (ifExists || negatedOf) continue;
        return false;
      }
      if (positive) {
        if (!values.some((v) => positive(v, actual, c))) return false;
      } else {
        const test = OPERATORS[negatedOf!]!;
        if (values.some((v) => test(v, actual, c))) return false;
      }
    }
  }
  return true;
}

// --- evaluation ----------------------------------------------------------------------------------

function applies(c: Caches, s: Statement, ctx: RequestContext, resourcePolicy: boolean): boolean {
  return (
    matchesAction(c, s, ctx.action) &&
    matchesResource(c, s, ctx.resource, ctx, resourcePolicy) &&
    conditionsHold(c, s.Condition, ctx)
  );
}

function evaluate(c: Caches, identityPolicies: readonly unknown[], resourcePolicy: unknown, ctx: RequestContext): Decision {
  let allowed = false;
  for (const doc of identityPolicies) {
    for (const s of statementsOf(doc, c)) {
      if (!applies(c, s, ctx, false)) continue;
      if (s.Effect === 'Deny') return { effect: 'deny', explicit: true, source: 'identity' };
      if (s.Effect === 'Allow') allowed = true;
    }
  }
  if (resourcePolicy !== undefined) {
    for (const s of statementsOf(resourcePolicy, c)) {
      const effect = s.Effect === 'Deny' ? 'Deny' : s.Effect === 'Allow' ? 'Allow' : undefined;
      if (!effect || !matchesPrincipal(c, s, ctx, effect) || !applies(c, s, ctx, true)) continue;
      if (effect === 'Deny') return { effect: 'deny', explicit: true, source: 'resource' };
      allowed = true;
    }
  }
  return allowed ? { effect: 'allow' } : { effect: 'deny', explicit: false };
}

/**
 * Evaluates requests against IAM policies, keeping what it parsed and compiled (policy texts,
 * glob patterns, address ranges) in bounded caches that drop the entries used least recently.
 * Its owner (the server's authorization) makes one, passes it to the authorizers, and releases
 * what it holds with `close()`.
 */
export class PolicyEvaluator {
  private readonly c: Caches;

  constructor(limits: { policies?: number; patterns?: number; addressRanges?: number } = {}) {
    this.c = {
      parsed: new LruCache(limits.policies ?? 1_000),
      globs: new LruCache(limits.patterns ?? 10_000),
      blocks: new LruCache(limits.addressRanges ?? 1_000),
    };
  }

  /** Entries the caches hold now (policy texts, patterns, address ranges). */
  get cached(): { policies: number; patterns: number; addressRanges: number } {
    return { policies: this.c.parsed.size, patterns: this.c.globs.size, addressRanges: this.c.blocks.size };
  }

  /**
   * The decision for one request: an explicit Deny anywhere wins; otherwise an Allow from the
   * identity policies or from the resource policy (a document or its stored text) grants.
   */
  evaluate(identityPolicies: readonly unknown[], resourcePolicy: unknown, ctx: RequestContext): Decision {
    return evaluate(this.c, identityPolicies, resourcePolicy, ctx);
  }

  /** `*` matches any run of characters, `?` any one; everything else literally. */
  globMatch(pattern: string, value: string, ignoreCase = false): boolean {
    return globMatch(this.c, pattern, value, ignoreCase);
  }

  /** ArnLike: each of the six colon-separated parts matched on its own; the last may hold colons. */
  arnLike(pattern: string, arn: string): boolean {
    return arnLike(this.c, pattern, arn);
  }

  /** Whether every condition of a statement holds; an operator this does not know never holds. */
  conditionsHold(condition: unknown, ctx: RequestContext): boolean {
    return conditionsHold(this.c, condition, ctx);
  }

  /** Releases everything cached. */
  close(): void {
    this.c.parsed.clear();
    this.c.globs.clear();
    this.c.blocks.clear();
  }
}

/** AWS's wording of a refusal. */
export function accessDeniedMessage(ctx: RequestContext, d: Decision): string {
  const head = `User: ${ctx.principalArn} is not authorized to perform: ${ctx.action} on resource: ${ctx.resource}`;
  if (d.effect === 'deny' && d.explicit) {
    return `${head} with an explicit deny in ${d.source === 'identity' ? 'an identity-based' : 'a resource-based'} policy`;
  }
  return `${head} because no identity-based policy allows the ${ctx.action} action`;
}
