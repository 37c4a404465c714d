// Connection to Temporal from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE), opened lazily
// so offline commands (plan check/schema/hash) never touch the network. Its client uses the data
// converter of common/data-converter.ts (payload encryption when CUTOVER_CODEC_KEYS is set).
import type { Client, Connection } from '@temporalio/client';
import { CodecError } from '../common/codec';
import { dataConverterFromEnv } from '../common/data-converter';
import { badInput, TemporalUnreachableError } from './errors';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_UI_URL = 'http://localhost:8233';

type Env = Record<string, string | undefined>;

export interface TemporalSettings {
  address: string;
  namespace: string;
  uiUrl: string;
  connectTimeoutMs: number;
}

export function temporalSettings(env: Env = process.env): TemporalSettings {
  const timeout = Number(env.CUTOVER_CONNECT_TIMEOUT_MS);
  return {
    address: env.TEMPORAL_ADDRESS?.trim() || DEFAULT_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE?.trim() || DEFAULT_NAMESPACE,
    // The UI port scripts/services.sh starts the dev server's UI on, when no URL is given.
    uiUrl: (env.CUTOVER_UI_URL?.trim() || (/^\d+$/.test(env.TEMPORAL_UI_PORT?.trim() ?? '') ? `http://localhost:${env.TEMPORAL_UI_PORT!.trim()}` : DEFAULT_UI_URL)).replace(/\/+$/, ''),
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

  constructor(settings: TemporalSettings = temporalSettings(), private readonly env: Env = process.env) {
    this.settings = settings;
  }

  client(): Promise<Client> {
    this.clientPromise ??= this.open();
    return this.clientPromise;
  }

  private async open(): Promise<Client> {
    const { Client, Connection } = await import('@temporalio/client');
    const { address, namespace, connectTimeoutMs } = this.settings;
    let dataConverter;
    try {
      dataConverter = dataConverterFromEnv(this.env); // a bad CUTOVER_CODEC_KEYS is bad input, before any connection
    } catch (err) {
      throw err instanceof CodecError ? badInput(err.message) : err;
    }
    try {
      this.connection = await Connection.connect({ address, connectTimeout: connectTimeoutMs });
    } catch (err) {
      throw new TemporalUnreachableError(address, namespace, err instanceof Error ? err.message : String(err));
    }
    return new Client({ connection: this.connection, namespace, dataConverter });
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.close().catch(() => undefined);
  }
}
