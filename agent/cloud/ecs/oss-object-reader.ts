import type OSS from 'ali-oss';
import { cloudCodeOfError } from '../cloud-error.js';
import { callCloud } from '../cloud-retry.js';
import type { ObjectReader } from '../object-reader.js';
import type { EcsClients } from './ecs-clients.js';

/**
 * HEAD and ranged GET over ali-oss, for the ECS export download until the OSS object-store sink
 * (agent/sinks/oss) is merged; any ObjectSink can be passed instead.
 */
export function ossObjectReader(clients: EcsClients, oss: OSS): ObjectReader {
  return {
    async head(key, signal) {
      try {
        const h = await callCloud('alibaba', 'HeadObject', () => oss.head(key), clients.retry, signal);
        const headers = h.res.headers as Record<string, string>;
        return { key, size: Number(headers['content-length'] ?? 0), etag: headers.etag ?? '' };
      } catch (err) {
        if (['NoSuchKey', 'NotFound'].includes(cloudCodeOfError(err) ?? '') || (err as { status?: number }).status === 404) return undefined;
        throw err;
      }
    },
    async getRange(key, start, end, signal) {
      const out = await callCloud('alibaba', 'GetObject', () => oss.get(key, undefined, { headers: { Range: `bytes=${start}-${end - 1}` } }), clients.retry, signal);
      return Buffer.from(out.content as Buffer);
    },
  };
}
