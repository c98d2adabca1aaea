import { createHmac } from 'node:crypto';

/** RFC 3986 percent-encoding as the RPC signature requires (unreserved characters only left as is). */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The common parameters every signed RPC request carries (ECS API, "Common parameters"). */
export const RPC_SIGNATURE_PARAMS = ['AccessKeyId', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce', 'Timestamp', 'Signature', 'Format', 'Version', 'Action'];

/**
 * Signature V1 of the RPC style (Alibaba Cloud "Request signatures" for RPC APIs): the sorted, encoded
 * query without Signature forms StringToSign = METHOD & %2F & encode(query), HMAC-SHA1 with key
 * AccessKeySecret + "&", Base64.
 */
export function rpcSignature(method: string, params: Record<string, string>, secret: string): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`)
    .join('&');
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

/**
 * A temporary (STS) AccessKey must come with its SecurityToken, a common parameter of signed requests
 * ("Common parameters": SecurityToken, required with STS credentials); one that does not match is refused.
 */
export function checkSecurityToken(accessKeyId: string, given: string | undefined, tokens: Map<string, string>): { code: string; message: string } | undefined {
  const token = tokens.get(accessKeyId);
  if (token === undefined || given === token) return undefined;
  return { code: 'InvalidSecurityToken.MismatchWithAccessKey', message: 'Specified SecurityToken mismatch with the AccessKey.' };
}

/** A reason the request's signature parameters are unacceptable, or undefined when they are fine. */
export function checkRpcSignature(method: string, params: Record<string, string>, keys: Map<string, string>, tokens: Map<string, string> = new Map()): { code: string; message: string } | undefined {
  const missing = RPC_SIGNATURE_PARAMS.filter((k) => !params[k]);
  if (missing.length) return { code: 'MissingParameter', message: `The input parameter "${missing[0]}" that is mandatory for processing this request is not supplied.` };
  if (params.SignatureMethod !== 'HMAC-SHA1' || params.SignatureVersion !== '1.0') return { code: 'InvalidParameter', message: 'Specified signature method or version is not supported.' };
  const secret = keys.get(params.AccessKeyId!);
  if (secret === undefined) return { code: 'InvalidAccessKeyId.NotFound', message: 'Specified access key is not found.' };
  const badToken = checkSecurityToken(params.AccessKeyId!, params.SecurityToken, tokens);
  if (badToken) return badToken;
  if (rpcSignature(method, params, secret) !== params.Signature) return { code: 'IncompleteSignature', message: 'The request signature does not conform to Aliyun standards.' };
  return undefined;
}
