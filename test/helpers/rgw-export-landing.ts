import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Ec2QueryFake } from './ec2-query-fake/server.js';
import type { TestBucket } from './rgw.js';

/**
 * Makes the EC2 Query API protocol fake write each completed export's object into the real local
 * object store (RGW) with an S3 client, so the download that follows reads it from RGW, not the fake.
 * The fake's control plane knows the bucket exists (ExportImage refuses a destination bucket that does not).
 */
export function landExportsIn(ec2: Ec2QueryFake, bucket: TestBucket): void {
  const { client } = bucket;
  ec2.buckets.set(bucket.name, { grants: [] });
  ec2.world.exportStore = async (bucket, key, body) => {
    // The test clients make one attempt per request (createS3Client); a pooled connection that RGW has
    // closed meanwhile fails that one, so the write is tried up to three times.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
        return;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
  };
}
