/**
 * The part of a logger that services write to: pino's Logger satisfies it, and so does a test's
 * recorder. Each call takes the event's fields and a message for people.
 */
export interface ServiceLogger {
  error(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}
