// How runtime/config.ts reads where Temporal is: the defaults, a profile in a TOML file, the standard
// environment variables over it, TLS and API keys, and clear errors for a missing file or profile.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeTemporal, temporalConfig, TemporalConfigError } from '../runtime/config';

let dir: string;
let file: string;
// HOME pointed at an empty directory, so no user's ~/.config/temporalio/temporal.toml is read.
const base = () => ({ HOME: dir });

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cutover-envconfig-'));
  file = path.join(dir, 'temporal.toml');
  writeFileSync(
    file,
    `[profile.default]\naddress = "a.example:7233"\nnamespace = "from-file"\n\n` +
      `[profile.cloud]\naddress = "ns.acct.tmprl.cloud:7233"\nnamespace = "ns.acct"\napi_key = "k-123"\n\n` +
      `[profile.mtls]\naddress = "t.example:7233"\n[profile.mtls.tls]\nclient_cert_data = "CERT"\nclient_key_data = "KEY"\nserver_name = "t.internal"\n`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('nothing set: the local dev server, plain', () => {
  expect(temporalConfig(base())).toEqual({ address: 'localhost:7233', namespace: 'default' });
  expect(temporalConfig({ ...base(), TEMPORAL_ADDRESS: '  ', TEMPORAL_NAMESPACE: '' })).toEqual({
    address: 'localhost:7233',
    namespace: 'default',
  });
});

test('TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE as before, and over a profile', () => {
  expect(temporalConfig({ ...base(), TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'ops' })).toEqual({
    address: 'temporal:7233',
    namespace: 'ops',
  });
  expect(temporalConfig({ ...base(), TEMPORAL_CONFIG_FILE: file })).toMatchObject({ address: 'a.example:7233', namespace: 'from-file' });
  expect(temporalConfig({ ...base(), TEMPORAL_CONFIG_FILE: file, TEMPORAL_NAMESPACE: 'over' })).toMatchObject({
    address: 'a.example:7233',
    namespace: 'over',
  });
});

test('an API key turns TLS on (Temporal Cloud)', () => {
  const c = temporalConfig({ ...base(), TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
  expect(c).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', apiKey: 'k-123', tls: true, profile: 'cloud' });
  expect(describeTemporal(c)).toBe('ns.acct.tmprl.cloud:7233 (namespace ns.acct, profile cloud, TLS, API key)');
  expect(describeTemporal(c)).not.toContain('k-123');
  expect(temporalConfig({ ...base(), TEMPORAL_API_KEY: 'env-key' })).toMatchObject({ apiKey: 'env-key', tls: true });
});

test('mTLS from a profile, and from TEMPORAL_TLS_* variables', () => {
  const c = temporalConfig({ ...base(), TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'mtls' });
  expect(c.tls).toMatchObject({ serverNameOverride: 't.internal', clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') } });
  expect(describeTemporal(c)).toContain('mTLS');
  const certFile = path.join(dir, 'c.pem');
  writeFileSync(certFile, 'C');
  const e = temporalConfig({ ...base(), TEMPORAL_TLS_CLIENT_CERT_PATH: certFile, TEMPORAL_TLS_CLIENT_KEY_DATA: 'K' });
  expect(e.tls).toMatchObject({ clientCertPair: { crt: Buffer.from('C'), key: Buffer.from('K') } });
  expect(temporalConfig({ ...base(), TEMPORAL_TLS: 'true' }).tls).toBeTruthy();
});

test('a missing config file or profile is a clear error', () => {
  expect(() => temporalConfig({ ...base(), TEMPORAL_CONFIG_FILE: path.join(dir, 'nope.toml') })).toThrow(TemporalConfigError);
  expect(() => temporalConfig({ ...base(), TEMPORAL_CONFIG_FILE: path.join(dir, 'nope.toml') })).toThrow(/nope\.toml does not exist/);
  expect(() => temporalConfig({ ...base(), TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nosuch' })).toThrow(
    /profile nosuch.*'nosuch' not found/,
  );
});

test('an override (a test own server) wins over everything', () => {
  expect(temporalConfig({ ...base(), TEMPORAL_ADDRESS: 'x:1' }, { address: '127.0.0.1:9', namespace: 'n' })).toMatchObject({
    address: '127.0.0.1:9',
    namespace: 'n',
  });
});
