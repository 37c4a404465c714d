// Where Temporal is and how to reach it, for every client and worker cutover builds: read with
// @temporalio/envconfig, so a profile in a TOML file (TEMPORAL_CONFIG_FILE, else
// ~/.config/temporalio/temporal.toml; TEMPORAL_PROFILE picks one, else "default") and the standard
// environment variables over it (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS,
// TEMPORAL_TLS_CLIENT_CERT_PATH/_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME,
// TEMPORAL_GRPC_META_*). Nothing set means the local dev server: localhost:7233, namespace default.
// No Temporal SDK import beyond envconfig here, so the CLI's offline commands stay cheap.
import { existsSync } from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';

type Env = Record<string, string | undefined>;
type Loaded = ReturnType<typeof loadClientConnectConfig>['connectionOptions'];

/** The connection settings both SDK connections (client's and worker's) take. */
export interface TemporalConfig {
  address: string;
  namespace: string;
  /** The profile read, when a config file was (names it in messages). */
  profile?: string;
  tls?: NonNullable<Loaded['tls']>;
  apiKey?: string;
  metadata?: NonNullable<Loaded['metadata']>;
}

/** A config file or profile that cannot be used: bad input, named (the CLI exits 2 on it). */
export class TemporalConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalConfigError';
  }
}

/** Settings from the profile and the environment; `override` (tests, chaos) wins over both. */
export function temporalConfig(
  env: Env = process.env,
  override: Partial<Pick<TemporalConfig, 'address' | 'namespace'>> = {},
): TemporalConfig {
  // An empty variable means unset, as it always did here (envconfig would take "" as the address).
  const vars = Object.fromEntries(
    Object.entries(env)
      .filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== '')
      .map(([k, v]) => [k, v.trim()]),
  );
  const file = vars.TEMPORAL_CONFIG_FILE;
  // envconfig quietly ignores a missing file; one named explicitly should exist.
  if (file && !existsSync(file)) throw new TemporalConfigError(`TEMPORAL_CONFIG_FILE ${file} does not exist`);
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: vars });
  } catch (err) {
    const where = file ?? 'the Temporal config file';
    throw new TemporalConfigError(
      `${where}${vars.TEMPORAL_PROFILE ? ` (profile ${vars.TEMPORAL_PROFILE})` : ''}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const o = loaded.connectionOptions;
  return {
    address: override.address ?? (o.address || DEFAULT_ADDRESS),
    namespace: override.namespace ?? (loaded.namespace || DEFAULT_NAMESPACE),
    ...(vars.TEMPORAL_PROFILE ? { profile: vars.TEMPORAL_PROFILE } : {}),
    ...(o.tls !== undefined && o.tls !== null ? { tls: o.tls } : {}),
    ...(o.apiKey !== undefined ? { apiKey: o.apiKey } : {}),
    ...(o.metadata && Object.keys(o.metadata).length ? { metadata: o.metadata } : {}),
  };
}

/** How the connection is made, for messages: `profile x, mTLS, API key` (never the key itself). */
export function describeSecurity(c: TemporalConfig): string {
  const tls = c.tls === undefined || c.tls === false ? 'plain' : typeof c.tls === 'object' && c.tls.clientCertPair ? 'mTLS' : 'TLS';
  return `${c.profile ? `profile ${c.profile}, ` : ''}${tls}${c.apiKey ? ', API key' : ''}`;
}

/** One line for logs: address, namespace, and how it is secured. */
export function describeTemporal(c: TemporalConfig): string {
  return `${c.address} (namespace ${c.namespace}, ${describeSecurity(c)})`;
}
