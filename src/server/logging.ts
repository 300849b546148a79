/**
 * The server's log: pino, written to stdout either as JSON lines (for collectors) or as readable
 * lines (pino-pretty, for a person at a terminal). `auto` picks readable lines when stdout is a
 * terminal. Both are written synchronously, so that the last lines before an exit are not lost.
 */
import { createRequire } from 'node:module';
import pino from 'pino';
import type PinoPretty from 'pino-pretty';

/**
 * pino-pretty is loaded only when readable lines are wanted (it is CommonJS, so a require keeps
 * createLogger synchronous).
 */
function loadPretty(): typeof PinoPretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
}

export type LogFormat = 'auto' | 'pretty' | 'json';

export interface LogOutput {
  level: string;
  format: LogFormat;
  /** The file descriptor written to; 1 (stdout) unless told. */
  fd?: number;
}

/** Whether `format` means readable lines on this descriptor. */
export function prettyLogs(format: LogFormat, fd = 1): boolean {
  if (format === 'auto') return (fd === 1 ? process.stdout : fd === 2 ? process.stderr : undefined)?.isTTY === true;
  return format === 'pretty';
}

export function createLogger(out: LogOutput): pino.Logger {
  const fd = out.fd ?? 1;
  if (!prettyLogs(out.format, fd)) return pino({ level: out.level }, pino.destination({ dest: fd, sync: true }));
  const tty = (fd === 1 ? process.stdout : fd === 2 ? process.stderr : undefined)?.isTTY === true;
  const stream = loadPretty()({
    destination: fd,
    sync: true,
    colorize: tty,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  return pino({ level: out.level }, stream);
}
