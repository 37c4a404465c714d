// `cutover codec-server [--port N] [--host ADDR] [--origin ORIGINS] [--token T | --no-auth]`: serves
// Temporal's remote codec endpoint (client/codec-server.ts) with the keys of CUTOVER_CODEC_KEYS until
// SIGINT/SIGTERM. Whoever reaches it can decrypt, so it wants a bearer token (CUTOVER_CODEC_TOKEN or
// --token) unless --no-auth says otherwise, and answers browsers from the UI's origin only.
import { CODEC_KEYS_ENV, CodecError } from '../../common/codec';
import { codecFromEnv, describeCodec } from '../../common/data-converter';
import { DEFAULT_UI_ORIGINS, startCodecServer } from '../codec-server';
import { badInput } from '../errors';
import type { CommandContext } from './context';

export const DEFAULT_CODEC_PORT = 8888;

export interface CodecServerCommandOptions {
  port?: string;
  host?: string;
  allowOrigin?: string;
  origin?: string;
  token?: string;
  /** false with --no-auth (commander's negated option). */
  auth?: boolean;
}

export const CODEC_TOKEN_ENV = 'CUTOVER_CODEC_TOKEN';

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CODEC_PORT;
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65535) throw badInput(`--port must be a port number 0-65535 (got ${JSON.stringify(value)})`);
  return port;
}

export async function codecServer(ctx: CommandContext, opts: CodecServerCommandOptions): Promise<void> {
  const port = parsePort(opts.port);
  let codec;
  try {
    codec = codecFromEnv(ctx.env);
  } catch (err) {
    throw err instanceof CodecError ? badInput(err.message) : err;
  }
  if (codec.encryptKeyId === undefined) throw badInput(`codec-server needs the keys: set ${CODEC_KEYS_ENV}=id:base64key[,id2:base64key2…]`);
  const origins = (opts.origin ?? opts.allowOrigin ?? ctx.env.CUTOVER_CODEC_ALLOW_ORIGIN ?? DEFAULT_UI_ORIGINS.join(','))
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  const token = (opts.token ?? ctx.env[CODEC_TOKEN_ENV] ?? '').trim();
  // CUTOVER_CODEC_AUTH: the whole header value, for a scheme other than Bearer.
  const authorization = token ? `Bearer ${token}` : ctx.env.CUTOVER_CODEC_AUTH?.trim() || undefined;
  const noAuth = opts.auth === false;
  if (noAuth && authorization)
    throw badInput(`codec-server: --no-auth and a token (${opts.token ? '--token' : CODEC_TOKEN_ENV}) contradict each other: give one`);
  if (!noAuth && !authorization) {
    throw badInput(
      `codec-server needs a bearer token: set ${CODEC_TOKEN_ENV} (or --token); clients send "Authorization: Bearer <token>" ` +
        `(temporal … --codec-auth "Bearer <token>"). Anyone who reaches it can decrypt every payload; to serve without a token anyway, pass --no-auth explicitly.`,
    );
  }
  const running = await startCodecServer({
    codec,
    host: opts.host ?? '127.0.0.1',
    port,
    allowOrigins: origins,
    authorization,
    noAuth,
    log: (line) => ctx.io.err(`codec-server: ${line}`),
  }).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
      ? badInput(`codec-server: cannot listen on ${opts.host ?? '127.0.0.1'}:${port}: ${err.message}`)
      : err;
  });
  ctx.io.out(running.url); // first line on stdout: the endpoint (scripts and tests read it)
  ctx.io.err(
    `codec-server: ${describeCodec(codec)}; CORS origins ${origins.join(', ')}; ${authorization ? 'Authorization required' : 'NO AUTHORIZATION (--no-auth): anyone who reaches it can decrypt'}. ` +
      `Use: temporal … --codec-endpoint ${running.url}, or the UI's --ui-codec-endpoint ${running.url}. Ctrl-C to stop.`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      ctx.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (ctx.signal?.aborted) stop();
    else ctx.signal?.addEventListener('abort', stop, { once: true });
  });
  await running.close();
  ctx.io.err('codec-server: stopped');
}
