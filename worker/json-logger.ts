// CUTOVER_LOG_FORMAT=json: the worker logs one JSON object per line ({time, level, message, …meta})
// for log shippers. Errors in the metadata become {name, message}; passwords of connection URLs are
// masked in everything written, like in the errors activities raise.
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { redactSecrets } from '../activities/db/connect';

const ORDER: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

function plain(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  if (Array.isArray(value)) return value.map((v) => plain(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v, depth + 1)]));
}

export class JsonLogger implements Logger {
  constructor(
    private readonly level: LogLevel = 'INFO',
    private readonly write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  ) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (ORDER.indexOf(level) < ORDER.indexOf(this.level)) return;
    const record = { time: new Date().toISOString(), level: level.toLowerCase(), message, ...(plain(meta ?? {}) as object) };
    this.write(redactSecrets(JSON.stringify(record)));
  }
  trace(message: string, meta?: LogMetadata) {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata) {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata) {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata) {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata) {
    this.log('ERROR', message, meta);
  }
}
