// The one way cutover opens a Temporal client (CLI, tests, bench, chaos, dev-server probe): settings
// from ./config.ts (profile + environment: TLS, mTLS, API key), payloads through the project's data
// converter (common/data-converter.ts, encrypted when CUTOVER_CODEC_KEYS is set). Client side only:
// no worker or activity code is loaded, so client/ may import it without reaching activities/.
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { dataConverterFromEnv } from '../common/data-converter';
import { temporalConfig, type TemporalConfig } from './config';

type Env = Record<string, string | undefined>;

export interface ConnectOptions {
  env?: Env;
  /** Over the profile and the environment (a test's own dev server). */
  address?: string;
  namespace?: string;
  connectTimeoutMs?: number;
  /** Settings already read (the CLI reads them once, for its messages too). */
  config?: TemporalConfig;
}

/** A client connection (the caller closes it). */
export async function createConnection(opts: ConnectOptions = {}): Promise<Connection> {
  const c = opts.config ?? temporalConfig(opts.env, { address: opts.address, namespace: opts.namespace });
  return Connection.connect({
    address: c.address,
    ...(c.tls !== undefined ? { tls: c.tls } : {}),
    ...(c.apiKey !== undefined ? { apiKey: c.apiKey } : {}),
    ...(c.metadata ? { metadata: c.metadata } : {}),
    ...(opts.connectTimeoutMs !== undefined ? { connectTimeout: opts.connectTimeoutMs } : {}),
  });
}

export interface ClientOptions extends ConnectOptions {
  /** Reuse this connection (its owner closes it); else one is opened, closed with `client.connection.close()`. */
  connection?: Connection;
  /** Defaults to the one CUTOVER_CODEC_KEYS describes. */
  dataConverter?: DataConverter;
}

export async function createClient(opts: ClientOptions = {}): Promise<Client> {
  const env = opts.env ?? process.env;
  // Read first: a malformed CUTOVER_CODEC_KEYS fails before any connection is opened.
  const dataConverter = opts.dataConverter ?? dataConverterFromEnv(env);
  const config = opts.config ?? temporalConfig(env, { address: opts.address, namespace: opts.namespace });
  const connection = opts.connection ?? (await createConnection({ ...opts, config }));
  return new Client({ connection, namespace: config.namespace, dataConverter });
}
