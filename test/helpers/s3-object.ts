import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { GetObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';

/** The whole object's bytes (test objects are tens of MiB at most). */
export async function getObjectBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

export async function objectSha256(client: S3Client, bucket: string, key: string, saveTo?: string): Promise<string> {
  const bytes = await getObjectBytes(client, bucket, key);
  if (saveTo) await writeFile(saveTo, bytes);
  return createHash('sha256').update(bytes).digest('hex');
}

export async function pendingUploads(client: S3Client, bucket: string, prefix: string): Promise<number> {
  const r = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return r.Uploads?.length ?? 0;
}
