import { createHash } from 'node:crypto';

/** The ETag S3 (and RGW) give a multipart object: MD5 of the parts' binary MD5s, then "-N". */
export function multipartEtag(partMd5sBase64: string[]): string {
  const h = createHash('md5');
  for (const b64 of partMd5sBase64) h.update(Buffer.from(b64, 'base64'));
  return `${h.digest('hex')}-${partMd5sBase64.length}`;
}

export function md5Base64(body: Buffer): string {
  return createHash('md5').update(body).digest('base64');
}

export function stripQuotes(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
}
