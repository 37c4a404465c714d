// A free TCP port on 127.0.0.1 for a server a test, the chaos suite or the bench starts (Temporal's
// UI, a codec server): asked of the OS, then released for that server to bind.
import { createServer, type AddressInfo } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
