// Temporal's remote codec endpoint over HTTP, so the Web UI (`--ui-codec-endpoint`, or its "Codec
// Server" setting) and the official CLI (`--codec-endpoint`) show decrypted payloads: POST /encode and
// POST /decode take and return `{"payloads":[{"metadata":{"k":"<base64>"},"data":"<base64>"}]}` (the
// proto JSON of temporal.api.common.v1.Payloads). The UI calls it from the browser, hence CORS.
//
// Anyone who reaches it can decrypt: it binds 127.0.0.1 by default, demands an Authorization header
// (`Bearer <token>`; the official CLI sends one with --codec-auth) unless started with noAuth, and
// answers browsers only from the configured UI origins (default the dev server's UI, port 8233).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { CodecError, type EncryptionCodec } from '../common/codec';

export interface CodecServerOptions {
  codec: EncryptionCodec;
  host?: string;
  port?: number;
  /** Origins the browser may call from (echoed, with credentials allowed); default DEFAULT_UI_ORIGINS; `*` only when listed. */
  allowOrigins?: string[];
  /** Every POST must carry exactly this Authorization header (`Bearer <token>`); required unless noAuth. */
  authorization?: string;
  /** Serve without an Authorization header: only when asked for explicitly (`--no-auth`). */
  noAuth?: boolean;
  /** Largest request body accepted (a page of history holds many payloads). */
  maxBodyBytes?: number;
  /** Refused and failed requests (never payloads or keys). */
  log?: (line: string) => void;
}

export interface RunningCodecServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const ALLOWED_HEADERS = 'content-type, x-namespace, authorization';
/** The Temporal dev server's Web UI (`temporal server start-dev`), by both names of localhost. */
export const DEFAULT_UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];
const DEFAULT_MAX_BODY = 64 * 1024 * 1024;

interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
function base64(value: unknown, where: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new HttpError(400, `${where} is not a base64 string`);
  return Buffer.from(value, 'base64');
}

/** Proto JSON → Payload, naming the field at fault. */
export function payloadFromJson(raw: unknown, i: number): Payload {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new HttpError(400, `payloads[${i}] is not an object`);
  const { metadata, data } = raw as JsonPayload;
  if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw new HttpError(400, `payloads[${i}].metadata is not an object`);
  }
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, base64(v, `payloads[${i}].metadata.${k}`)])),
    data: data === undefined || data === null ? new Uint8Array() : base64(data, `payloads[${i}].data`),
  };
}

export function payloadToJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Past the limit the rest is read and dropped, so the 413 reaches the client (the connection closes after it).
      if (size > limit) reject(new HttpError(413, `request body larger than ${limit} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sameSecret(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function startCodecServer(opts: CodecServerOptions): Promise<RunningCodecServer> {
  const host = opts.host ?? '127.0.0.1';
  if (opts.authorization === undefined && !opts.noAuth) {
    return Promise.reject(new Error('the codec server needs an Authorization value (a bearer token), or noAuth: true'));
  }
  const origins = opts.allowOrigins?.length ? opts.allowOrigins : DEFAULT_UI_ORIGINS;
  const anyOrigin = origins.includes('*');
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const log = opts.log ?? (() => undefined);

  /** CORS headers for this request; false when its Origin is not allowed. */
  function cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (anyOrigin) res.setHeader('Access-Control-Allow-Origin', '*');
    else {
      res.setHeader('Vary', 'Origin');
      if (origin === undefined) return true; // not a browser: CORS does not apply
      if (!origins.includes(origin)) return false;
      res.setHeader('Access-Control-Allow-Origin', origin);
      // A named origin may send cookies/tokens (the UI's "include cross-origin credentials").
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '');
    // `/decode`, and `/<namespace>/decode` for endpoints configured as http://host/{namespace}.
    const op = /(?:^|\/)(encode|decode)$/.exec(path)?.[1] as 'encode' | 'decode' | undefined;
    if (!cors(req, res)) throw new HttpError(403, `origin ${req.headers.origin} is not allowed (allowed: ${origins.join(', ')})`);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    if (!op) throw new HttpError(404, 'not found: POST /encode or /decode');
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      throw new HttpError(405, `${req.method} not allowed: POST /encode or /decode`);
    }
    if (opts.authorization !== undefined && !sameSecret(req.headers.authorization, opts.authorization)) {
      throw new HttpError(401, 'missing or wrong Authorization header');
    }
    const raw = await readBody(req, limit);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'the body is not JSON (expected {"payloads":[…]})');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new HttpError(400, 'the body is not a JSON object (expected {"payloads":[…]})');
    // Proto JSON omits an empty repeated field: `{}` is no payloads (the official CLI sends it for a query without input).
    const list = (body as { payloads?: unknown }).payloads ?? [];
    if (!Array.isArray(list)) throw new HttpError(400, '"payloads" is not an array');
    const payloads = list.map(payloadFromJson);
    let out: Payload[];
    try {
      out = op === 'encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
    } catch (err) {
      if (err instanceof CodecError) throw new HttpError(422, err.message);
      throw err;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ payloads: out.map(payloadToJson) }));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof HttpError ? err.message : 'internal error';
      if (!(err instanceof HttpError)) log(`error: ${err instanceof Error ? err.message : String(err)}`);
      else if (status >= 401) log(`${req.method} ${req.url}: ${status} ${message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      res.end(`${message}\n`);
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${port}`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
