// Connection to Temporal as runtime/config.ts reads it (a profile in a TOML file, TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*), opened lazily so offline commands (plan
// check/schema/hash) never touch the network, nor fail on a bad Temporal config file. Its client is
// runtime/client.ts's: the data converter of common/data-converter.ts (CUTOVER_CODEC_KEYS).
import type { Client, Connection } from '@temporalio/client';
import { CodecError } from '../common/codec';
import { dataConverterFromEnv } from '../common/data-converter';
import {
  DEFAULT_ADDRESS,
  DEFAULT_NAMESPACE,
  describeSecurity,
  temporalConfig,
  TemporalConfigError,
  type TemporalConfig,
} from '../runtime/config';
import { badInput, TemporalUnreachableError } from './errors';

export { DEFAULT_ADDRESS, DEFAULT_NAMESPACE };
export const DEFAULT_UI_URL = 'http://localhost:8233';

type Env = Record<string, string | undefined>;

export interface TemporalSettings {
  address: string;
  namespace: string;
  uiUrl: string;
  connectTimeoutMs: number;
  /** Profile and environment as read (TLS, API key); absent when they could not be. */
  config?: TemporalConfig;
  /** Why they could not be (a missing file, bad TOML, unknown profile): raised on first connection. */
  configError?: string;
}

export function temporalSettings(env: Env = process.env): TemporalSettings {
  const timeout = Number(env.CUTOVER_CONNECT_TIMEOUT_MS);
  let config: TemporalConfig | undefined;
  let configError: string | undefined;
  try {
    config = temporalConfig(env);
  } catch (err) {
    if (!(err instanceof TemporalConfigError)) throw err;
    configError = err.message;
  }
  return {
    ...(config ? { config } : { configError }),
    address: config?.address ?? (env.TEMPORAL_ADDRESS?.trim() || DEFAULT_ADDRESS),
    namespace: config?.namespace ?? (env.TEMPORAL_NAMESPACE?.trim() || DEFAULT_NAMESPACE),
    // The UI port scripts/services.sh starts the dev server's UI on, when no URL is given.
    uiUrl: (
      env.CUTOVER_UI_URL?.trim() ||
      (/^\d+$/.test(env.TEMPORAL_UI_PORT?.trim() ?? '') ? `http://localhost:${env.TEMPORAL_UI_PORT!.trim()}` : DEFAULT_UI_URL)
    ).replace(/\/+$/, ''),
    connectTimeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 5000,
  };
}

/** The Temporal Web UI page of a workflow. */
export function workflowUiLink(settings: Pick<TemporalSettings, 'uiUrl' | 'namespace'>, workflowId: string): string {
  return `${settings.uiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** Opens one connection on first use; `close()` releases it so the process can exit. */
export class TemporalContext {
  readonly settings: TemporalSettings;
  private connection?: Connection;
  private clientPromise?: Promise<Client>;

  constructor(
    settings: TemporalSettings = temporalSettings(),
    private readonly env: Env = process.env,
  ) {
    this.settings = settings;
  }

  client(): Promise<Client> {
    this.clientPromise ??= this.open();
    return this.clientPromise;
  }

  private async open(): Promise<Client> {
    const { createClient, createConnection } = await import('../runtime/client');
    const { address, namespace, connectTimeoutMs } = this.settings;
    if (this.settings.configError) throw badInput(this.settings.configError);
    const config = this.settings.config ?? temporalConfig(this.env, { address, namespace });
    let dataConverter;
    try {
      dataConverter = dataConverterFromEnv(this.env); // a bad CUTOVER_CODEC_KEYS is bad input, before any connection
    } catch (err) {
      throw err instanceof CodecError ? badInput(err.message) : err;
    }
    try {
      this.connection = await createConnection({ config, connectTimeoutMs });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      // How it tried (profile, TLS, mTLS, API key) says what to check when the server is secured.
      throw new TemporalUnreachableError(
        config.address,
        config.namespace,
        config.tls || config.apiKey || config.profile ? `${reason} (${describeSecurity(config)})` : reason,
      );
    }
    return createClient({ config, connection: this.connection, dataConverter });
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.close().catch(() => undefined);
  }
}
