/**
 * Zstandard compression for channel objects (`CompressionType: ZSTD`). Node.js 20 has no zstd
 * encoder, so the zstd binary (Debian's /usr/bin/zstd) does it: one child process per object,
 * `zstd -q -c -3`, the body on its stdin, the frame on its stdout. A process that runs longer than
 * the timeout is killed; a failure (the binary missing, a non-zero exit, a kill) rejects, and the
 * delivery that asked is retried like any failed delivery. Whether the binary is there is decided
 * once, when the server starts: without it, ZSTD channels are refused when created.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export const DEFAULT_ZSTD_PATH = '/usr/bin/zstd';
const DEFAULT_TIMEOUT_MS = 30_000;

/** Whether the zstd binary is there to run. */
export function zstdAvailable(zstdPath = DEFAULT_ZSTD_PATH): boolean {
  try {
    accessSync(zstdPath, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `data` as one Zstandard frame (level 3). */
export function zstdCompress(data: Buffer, options: { zstdPath?: string; timeoutMs?: number } = {}): Promise<Buffer> {
  const zstdPath = options.zstdPath ?? DEFAULT_ZSTD_PATH;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(zstdPath, ['-q', '-c', '-3'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    const finish = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(Buffer.concat(out));
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`zstd did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (e) => finish(new Error(`zstd could not run: ${e.message}`)));
    // A process that exits early closes its stdin; the exit status says why.
    child.stdin.on('error', () => {});
    child.on('close', (code, signal) => {
      if (code === 0) finish(undefined);
      else finish(new Error(`zstd failed (${signal ?? `exit ${code}`}): ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    child.stdin.end(data);
  });
}
