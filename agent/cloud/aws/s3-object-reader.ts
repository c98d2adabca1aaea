import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { cloudCodeOfError } from '../cloud-error.js';
import type { ObjectReader } from '../object-reader.js';
import { awsCall, type AwsClients } from './aws-clients.js';

/**
 * HEAD and ranged GET over the S3 client, for the export download until the S3 object-store sink
 * (agent/sinks/s3) is merged; any ObjectSink can be passed instead.
 */
export function s3ObjectReader(clients: AwsClients, bucket: string): ObjectReader {
  return {
    async head(key, signal) {
      try {
        const h = await awsCall(clients, 'HeadObject', () => clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }), signal);
        return { key, size: h.ContentLength ?? 0, etag: h.ETag ?? '' };
      } catch (err) {
        if (['NotFound', 'NoSuchKey'].includes(cloudCodeOfError(err) ?? '')) return undefined;
        throw err;
      }
    },
    async getRange(key, start, end, signal) {
      const out = await awsCall(clients, 'GetObject', () => clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }), { abortSignal: signal }), signal);
      return Buffer.from(await out.Body!.transformToByteArray());
    },
  };
}
