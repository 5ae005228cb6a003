/**
 * Minimal JWS compact serialisation: RS256 signing (the emulator's tokens) and RS256/PS256
 * verification (client assertions signed with an application's certificate).
 */
import { constants, createHash, sign, verify, type KeyObject } from 'node:crypto';
import type { JsonObject } from './model.ts';

export function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

export function signJwt(header: JsonObject, payload: JsonObject, privateKey: KeyObject): string {
  const signingInput = `${base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', ...header }))}.${base64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(signingInput), privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

export type DecodedJwt = {
  readonly header: JsonObject;
  readonly payload: JsonObject;
  readonly signingInput: string;
  readonly signature: Buffer;
};

/** Splits and decodes a compact JWS; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  if (!/^[A-Za-z0-9_-]+$/.test(h) || !/^[A-Za-z0-9_-]+$/.test(p) || !/^[A-Za-z0-9_-]*$/.test(s)) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    const payload: unknown = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    if (!isObject(header) || !isObject(payload)) return undefined;
    return { header, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Verifies an RS256 or PS256 signature; false for any other algorithm. */
export function verifyJwtSignature(jwt: DecodedJwt, publicKey: KeyObject): boolean {
  const alg = jwt.header['alg'];
  const data = Buffer.from(jwt.signingInput);
  if (alg === 'RS256') return verify('sha256', data, publicKey, jwt.signature);
  if (alg === 'PS256') {
    return verify('sha256', data, {
      key: publicKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_AUTO,
    }, jwt.signature);
  }
  return false;
}

export function sha1Base64url(der: Buffer): string {
  return createHash('sha1').update(der).digest('base64url');
}

export function sha256Base64url(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}
