import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { S3Sink, type S3SinkOptions } from '../../agent/sinks/s3/s3-sink.js';
import { STORE } from '../../agent/sinks/error-codes.js';
import { createTestBucket, ensureRgw, type RgwEnv, type TestBucket } from '../helpers/rgw.js';
import { rejectsWithCode, runSinkConformance } from './sink-conformance.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { createHash } from 'node:crypto';

function sinkFor(env: RgwEnv, over: Partial<S3SinkOptions> & { bucket: string }): S3Sink {
  return new S3Sink({
    endpoint: env.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    // Small pages so every listing in the suite crosses page boundaries.
    listPageSize: 2,
    ...over,
  });
}

runSinkConformance('S3 sink against a real Ceph RGW on loopback', async () => {
  const env = await ensureRgw();
  const bucket = await createTestBucket(env, 'conformance');
  const sinks = [
    sinkFor(env, { bucket: bucket.name }),
    sinkFor(env, { bucket: bucket.name, credentials: { accessKeyId: env.accessKeyId, secretAccessKey: 'not-the-secret-' + randomBytes(8).toString('hex') } }),
    sinkFor(env, { bucket: bucket.name, credentials: { accessKeyId: 'NOSUCHKEY' + randomBytes(6).toString('hex').toUpperCase(), secretAccessKey: env.secretAccessKey } }),
    sinkFor(env, { bucket: `${bucket.name}-missing` }),
  ] as const;
  const proxied: S3Sink[] = [];
  return {
    sink: sinks[0],
    wrongSecret: sinks[1],
    unknownAccessKey: sinks[2],
    missingBucket: sinks[3],
    endpoint: env.endpoint,
    copyIgnoresIfMatch: 'Ceph RGW (Debian, Pacific) copies the range even when x-amz-copy-source-if-match names another ETag',
    viaEndpoint: (endpoint: string, opts?: { stallTimeoutMs?: number }) => {
      const s = sinkFor(env, { bucket: bucket.name, endpoint, stallTimeoutMs: opts?.stallTimeoutMs });
      proxied.push(s);
      return s;
    },
    cleanup: async () => {
      await bucket.remove();
      for (const s of [...sinks, ...proxied]) s.client.destroy();
    },
  };
});

describe('S3 sink options against a real Ceph RGW on loopback', () => {
  let env: RgwEnv;
  let bucket: TestBucket;
  let sink: S3Sink;
  before(async () => {
    env = await ensureRgw();
    bucket = await createTestBucket(env, 's3-options');
    sink = sinkFor(env, { bucket: bucket.name });
  });
  after(async () => {
    sink?.client.destroy();
    await bucket?.remove();
  });

  test('SSE-KMS with a key id reaches the store and the object reads back (opaque ETags accepted)', async () => {
    const key = 'kms/disk.raw';
    const body = randomBytes(300_000);
    const id = await sink.createUpload(key, { encryption: { algorithm: 'aws:kms', kmsKeyId: env.kmsKeyId }, storageClass: 'STANDARD' });
    const part = await sink.uploadPart(key, id, 1, body);
    const info = await sink.completeUpload(key, id, [part]);
    assert.equal(info.size, body.length);
    const head = await bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }));
    assert.equal(head.ServerSideEncryption, 'aws:kms');
    assert.equal(head.SSEKMSKeyId, env.kmsKeyId);
    assert.ok((await sink.getRange(key, 1000, 200_000)).equals(body.subarray(1000, 200_000)));
    await sink.deleteObject(key);
  });

  test('parts sent with UNSIGNED-PAYLOAD and Content-MD5 are accepted; a byte flipped in transit is refused with BadDigest', async () => {
    const proxy = await startFaultProxy(env.endpoint);
    const viaProxy = sinkFor(env, { bucket: bucket.name, endpoint: proxy.endpoint });
    try {
      const key = 'unsigned/part.raw';
      const body = randomBytes(5 * 1024 * 1024);
      const id = await viaProxy.createUpload(key, {});
      const part = await viaProxy.uploadPart(key, id, 1, body);
      assert.equal(part.etag, createHash('md5').update(body).digest('hex'), 'RGW stored the bytes and answered their MD5');
      proxy.setPlan((r) => (r.method === 'PUT' && r.partNumber === 2 ? { kind: 'flip' } : undefined));
      await rejectsWithCode(viaProxy.uploadPart(key, id, 2, body), STORE.BAD_DIGEST);
      proxy.setPlan(undefined);
      assert.deepEqual((await viaProxy.listParts(key, id)).map((p) => p.partNumber), [1], 'the corrupted part was not stored');
      await viaProxy.abortUpload(key, id);
    } finally {
      viaProxy.client.destroy();
      await proxy.close();
    }
  });
});

/** A loopback HTTP server that answers every request the same way, to see how failures are classified. */
async function withServer(handler: Parameters<typeof createServer>[1], fn: (endpoint: string) => Promise<void>): Promise<void> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function s3ErrorReply(status: number, code: string) {
  return (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code} from the test server</Message><RequestId>1</RequestId></Error>`);
  };
}

function offlineSink(endpoint: string): S3Sink {
  return new S3Sink({ bucket: 'b', endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, connectionTimeoutMs: 2000, stallTimeoutMs: 5000 });
}

describe('S3 sink requests and failure classification (loopback HTTP servers that answer or fail on purpose)', () => {
  for (const [status, code, def] of [
    [503, 'SlowDown', STORE.SERVER_BUSY],
    [503, 'ServiceUnavailable', STORE.SERVER_BUSY],
    [500, 'InternalError', STORE.SERVER_ERROR],
    [400, 'RequestTimeout', STORE.SERVER_ERROR],
    [502, 'BadGateway', STORE.SERVER_ERROR],
  ] as const) {
    test(`HTTP ${status} ${code} → ${def.code}, retryable, with the store's code in the message`, async () => {
      await withServer(s3ErrorReply(status, code), async (endpoint) => {
        const sink = offlineSink(endpoint);
        await assert.rejects(sink.uploadPart('k', 'u', 1, randomBytes(100)), (err: any) => {
          assert.equal(err.code, def.code, err.message);
          assert.equal(err.retryable, true);
          assert.match(err.message, new RegExp(code));
          return true;
        });
        sink.client.destroy();
      });
    });
  }

  test('a connection reset mid-request → STORE_NETWORK, retryable', async () => {
    await withServer((req) => req.socket.destroy(), async (endpoint) => {
      const sink = offlineSink(endpoint);
      await rejectsWithCode(sink.createUpload('k', {}), STORE.NETWORK, true);
      sink.client.destroy();
    });
  });

  test('a refused connection → STORE_NETWORK, retryable', async () => {
    let port = 0;
    await withServer(() => undefined, async (endpoint) => {
      port = Number(new URL(endpoint).port);
    });
    const sink = offlineSink(`http://127.0.0.1:${port}`);
    await rejectsWithCode(sink.head('k'), STORE.NETWORK, true);
    sink.client.destroy();
  });

  test('an HTTP 403 AccessDenied → STORE_ACCESS_DENIED, not retryable', async () => {
    await withServer(s3ErrorReply(403, 'AccessDenied'), async (endpoint) => {
      const sink = offlineSink(endpoint);
      await rejectsWithCode(sink.createUpload('k', {}), STORE.ACCESS_DENIED, false);
      sink.client.destroy();
    });
  });

  test('createUpload sends content type, metadata, tags, storage class and SSE headers; parts carry Content-MD5', async () => {
    const seen: Array<{ method: string; url: string; headers: import('node:http').IncomingHttpHeaders }> = [];
    await withServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      req.resume();
      req.on('end', () => {
        if (req.url!.includes('uploads')) {
          res.writeHead(200, { 'content-type': 'application/xml' });
          res.end('<?xml version="1.0"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>');
        } else {
          res.writeHead(200, { etag: '"5d41402abc4b2a76b9719d911017c592"' });
          res.end();
        }
      });
    }, async (endpoint) => {
      const sink = offlineSink(endpoint);
      const id = await sink.createUpload('k', {
        contentType: 'application/x-vmdk',
        metadata: { 'source-format': 'vmdk' },
        tags: { project: 'vmxfer', env: 'a b' },
        storageClass: 'STANDARD_IA',
        encryption: { algorithm: 'aws:kms', kmsKeyId: 'key-1' },
      });
      assert.equal(id, 'up-1');
      const part = await sink.uploadPart('k', id, 1, Buffer.from('hello'));
      assert.equal(part.etag, '5d41402abc4b2a76b9719d911017c592');
      const aes = await sink.createUpload('k', { encryption: { algorithm: 'AES256' } });
      assert.equal(aes, 'up-1');
      sink.client.destroy();
    });
    const [create, upload, createAes] = seen;
    assert.equal(create!.headers['content-type'], 'application/x-vmdk');
    assert.equal(create!.headers['x-amz-meta-source-format'], 'vmdk');
    assert.equal(create!.headers['x-amz-tagging'], 'project=vmxfer&env=a+b');
    assert.equal(create!.headers['x-amz-storage-class'], 'STANDARD_IA');
    assert.equal(create!.headers['x-amz-server-side-encryption'], 'aws:kms');
    assert.equal(create!.headers['x-amz-server-side-encryption-aws-kms-key-id'], 'key-1');
    assert.equal(upload!.method, 'PUT');
    assert.equal(upload!.headers['content-md5'], 'XUFAKrxLKna5cZ2REBfFkg==');
    assert.equal(upload!.headers['content-length'], '5');
    assert.equal(upload!.headers['transfer-encoding'], undefined, 'no aws-chunked streaming');
    assert.equal(upload!.headers['x-amz-trailer'], undefined, 'no trailing checksums');
    assert.equal(upload!.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD', 'the body is not hashed for SigV4; Content-MD5 vouches for it');
    assert.match(String(upload!.headers.authorization), /SignedHeaders=[^,]*x-amz-content-sha256/, 'the UNSIGNED-PAYLOAD marker itself is signed');
    assert.equal(createAes!.headers['x-amz-server-side-encryption'], 'AES256');
    assert.equal(createAes!.headers['x-amz-server-side-encryption-aws-kms-key-id'], undefined);
  });

  test('signPayload: true signs the SHA-256 of each part body instead of UNSIGNED-PAYLOAD', async () => {
    const seen: string[] = [];
    await withServer((req, res) => {
      seen.push(String(req.headers['x-amz-content-sha256']));
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { etag: '"5d41402abc4b2a76b9719d911017c592"' });
        res.end();
      });
    }, async (endpoint) => {
      const sink = new S3Sink({ bucket: 'b', endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, signPayload: true });
      await sink.uploadPart('k', 'up-1', 1, Buffer.from('hello'));
      sink.client.destroy();
    });
    assert.deepEqual(seen, [createHash('sha256').update('hello').digest('hex')]);
  });

  test('a part ETag that is not the MD5 of the bytes sent → STORE_ETAG_MISMATCH', async () => {
    await withServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { etag: '"00000000000000000000000000000000"' });
        res.end();
      });
    }, async (endpoint) => {
      const sink = offlineSink(endpoint);
      await rejectsWithCode(sink.uploadPart('k', 'u', 1, randomBytes(100)), STORE.ETAG_MISMATCH, false);
      sink.client.destroy();
    });
  });
});
