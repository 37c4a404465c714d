// A TLS-terminating proxy in front of a plain TCP server, for testing secured connections to Temporal
// (the dev server has no TLS options): accepts TLS with the given certificate, optionally requires a
// client certificate signed by `ca` (mTLS), and forwards the decrypted bytes to the plain port.
// Offers ALPN h2, as gRPC clients ask for it. Counts refused handshakes so a test can see who refused.
import net from 'node:net';
import tls from 'node:tls';

export interface TlsProxy {
  port: number;
  /** Handshakes that failed (no client certificate, an unknown CA, plain text). */
  readonly refused: number;
  /** Connections that completed the handshake and were forwarded. */
  readonly forwarded: number;
  close(): Promise<void>;
}

export interface TlsProxyOptions {
  target: { host: string; port: number };
  key: string | Buffer;
  cert: string | Buffer;
  /** The CA client certificates must be signed by; with it, a client certificate is required. */
  ca?: string | Buffer;
}

export function startTlsProxy(opts: TlsProxyOptions): Promise<TlsProxy> {
  let refused = 0;
  let forwarded = 0;
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    {
      key: opts.key,
      cert: opts.cert,
      ALPNProtocols: ['h2'],
      ...(opts.ca ? { ca: opts.ca, requestCert: true, rejectUnauthorized: true } : {}),
    },
    (client) => {
      forwarded++;
      const upstream = net.connect(opts.target.port, opts.target.host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    },
  );
  server.on('tlsClientError', () => refused++);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        port,
        get refused() {
          return refused;
        },
        get forwarded() {
          return forwarded;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
