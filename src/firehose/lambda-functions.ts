/**
 * The functions Lambda processors invoke, from `--lambda-functions name-or-ARN=module-or-URL,…`
 * (there is no AWS Lambda here). A target that is an http(s) URL is invoked as a Lambda function
 * URL is: the event JSON POSTed, the reply's JSON body the function's result, any status but 200
 * a function error. Any other target is the path of an ES module whose default export (or
 * `handler`) is `async (event, context) => result`; it runs in the server's process.
 *
 * A processor's LambdaArn finds its function by the whole ARN, the ARN less its qualifier
 * (`:$LATEST`, a version or alias), `name:qualifier`, or the bare function name.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LAMBDA_PAYLOAD_LIMIT, LambdaInvokeError, FUNCTION_ERROR_MESSAGE, type LambdaEvent, type LambdaFunction, type LambdaFunctions } from '../delivery/lambda.js';

export interface LambdaFunctionEntry {
  /** The ARN or name as the operator wrote it. */
  key: string;
  target: { kind: 'url'; url: string } | { kind: 'module'; file: string };
}

/** How long a function may take (Firehose allows transformation functions 5 minutes). */
const INVOKE_TIMEOUT_MS = 5 * 60_000;

/** The entries of the setting; throws an Error saying what is wrong with it. */
export function parseLambdaFunctions(text: string): LambdaFunctionEntry[] {
  const entries: LambdaFunctionEntry[] = [];
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new Error(`each entry must be name-or-ARN=module-or-URL, not ${item}`);
    const key = item.slice(0, eq).trim();
    const target = item.slice(eq + 1).trim();
    if (entries.some((e) => e.key === key)) throw new Error(`${key} is mapped twice`);
    if (/^https?:\/\//i.test(target)) {
      if (!URL.canParse(target)) throw new Error(`${target} is not a URL`);
      entries.push({ key, target: { kind: 'url', url: target } });
    } else {
      entries.push({ key, target: { kind: 'module', file: target } });
    }
  }
  return entries;
}

type Handler = (event: LambdaEvent, context: Record<string, unknown>) => unknown;

/** Loads the modules (once, at start); an entry that cannot be used throws one line saying why. */
export async function loadLambdaFunctions(entries: LambdaFunctionEntry[], options: { region: string; accountId: string }): Promise<LambdaFunctions> {
  const byKey = new Map<string, LambdaFunction>();
  for (const entry of entries) {
    const where = `--lambda-functions ${entry.key}=${entry.target.kind === 'url' ? entry.target.url : entry.target.file}`;
    if (entry.target.kind === 'url') {
      byKey.set(entry.key, urlFunction(entry.target.url));
      continue;
    }
    const file = path.resolve(entry.target.file);
    if (!existsSync(file)) throw new Error(`${where}: no such file`);
    let loaded: { default?: unknown; handler?: unknown };
    try {
      loaded = (await import(pathToFileURL(file).href)) as { default?: unknown; handler?: unknown };
    } catch (err) {
      throw new Error(`${where}: the module does not load: ${(err as Error)?.message ?? err}`);
    }
    const handler = typeof loaded.default === 'function' ? loaded.default : loaded.handler;
    if (typeof handler !== 'function') throw new Error(`${where}: the module exports no default function and no handler`);
    byKey.set(entry.key, moduleFunction(handler as Handler, entry.key, options));
  }
  return {
    resolve(functionArn) {
      for (const candidate of candidates(functionArn)) {
        const fn = byKey.get(candidate);
        if (fn) return fn;
      }
      return undefined;
    },
  };
}

/** The names a LambdaArn may be mapped under, most specific first. */
function candidates(functionArn: string): string[] {
  const m = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)(?::(.+))?$/.exec(functionArn);
  if (!m) {
    // A name, perhaps with a qualifier.
    const colon = functionArn.indexOf(':');
    return colon > 0 ? [functionArn, functionArn.slice(0, colon)] : [functionArn];
  }
  const [, name, qualifier] = m;
  const unqualified = qualifier ? functionArn.slice(0, functionArn.length - qualifier.length - 1) : functionArn;
  return [...new Set([functionArn, unqualified, ...(qualifier ? [`${name}:${qualifier}`] : []), name!])];
}

function moduleFunction(handler: Handler, key: string, options: { region: string; accountId: string }): LambdaFunction {
  const functionName = key.startsWith('arn:') ? (key.split(':')[6] ?? key) : key.split(':')[0]!;
  return {
    async invoke(event, { functionArn, invocationId }) {
      const deadline = Date.now() + INVOKE_TIMEOUT_MS;
      const context = {
        functionName,
        functionVersion: '$LATEST',
        invokedFunctionArn: functionArn.startsWith('arn:') ? functionArn : `arn:aws:lambda:${options.region}:${options.accountId}:function:${functionArn}`,
        memoryLimitInMB: '128',
        awsRequestId: randomUUID(),
        invocationId,
        logGroupName: `/aws/lambda/${functionName}`,
        logStreamName: 'local',
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      };
      let timer: NodeJS.Timeout | undefined;
      let result: unknown;
      try {
        result = await Promise.race([
          Promise.resolve().then(() => handler(event, context)),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timed out')), INVOKE_TIMEOUT_MS);
            timer.unref();
          }),
        ]);
      } catch {
        throw new LambdaInvokeError('Lambda.FunctionError', FUNCTION_ERROR_MESSAGE);
      } finally {
        clearTimeout(timer);
      }
      // The reply crosses as JSON, as Lambda's does.
      let text: string | undefined;
      try {
        text = JSON.stringify(result);
      } catch {
        throw new LambdaInvokeError('Lambda.FunctionError', FUNCTION_ERROR_MESSAGE);
      }
      if (text === undefined) throw new LambdaInvokeError('Lambda.JsonProcessingException', 'The Lambda function returned no JSON value.');
      if (Buffer.byteLength(text) > LAMBDA_PAYLOAD_LIMIT) throw new LambdaInvokeError('Lambda.FunctionError', 'The Lambda function returned a response larger than 6 MiB.');
      return JSON.parse(text) as unknown;
    },
  };
}

function urlFunction(url: string): LambdaFunction {
  return {
    async invoke(event) {
      let response: Response;
      let body: string;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(event),
          signal: AbortSignal.timeout(INVOKE_TIMEOUT_MS),
          redirect: 'manual',
        });
        body = await response.text();
      } catch (err) {
        throw new LambdaInvokeError('Lambda.FunctionError', `The Lambda function could not be invoked: ${(err as Error)?.message ?? err}`);
      }
      if (response.status !== 200) throw new LambdaInvokeError('Lambda.FunctionError', `${FUNCTION_ERROR_MESSAGE} (HTTP ${response.status})`);
      if (Buffer.byteLength(body) > LAMBDA_PAYLOAD_LIMIT) throw new LambdaInvokeError('Lambda.FunctionError', 'The Lambda function returned a response larger than 6 MiB.');
      try {
        return JSON.parse(body) as unknown;
      } catch {
        throw new LambdaInvokeError('Lambda.JsonProcessingException', 'The Lambda function returned a response that is not JSON.');
      }
    },
  };
}
