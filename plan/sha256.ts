/**
 * SHA-256 for the plan hash and fingerprints, from @noble/hashes (audited, pure JS): the workflow
 * sandbox has no node:crypto and WebCrypto is async-only, yet the plan hash is computed there
 * deterministically. Strings are hashed as UTF-8 (TextEncoder: lone surrogates become U+FFFD, as
 * Buffer does), so results match node:crypto byte for byte (test/plan-sha256.test.ts).
 */
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/** UTF-8 bytes of a JS string. */
export const utf8Bytes = (s: string): Uint8Array => utf8ToBytes(s);

/** Lowercase hex SHA-256 of bytes. */
export const sha256Bytes = (data: Uint8Array): string => bytesToHex(sha256(data));

/** Lowercase hex SHA-256 of a string's UTF-8 encoding. */
export const sha256Hex = (s: string): string => sha256Bytes(utf8Bytes(s));
