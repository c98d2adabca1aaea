import { vmxError } from '../../../core/errors.js';
import { OVA } from '../error-codes.js';

export type DigestAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface ManifestEntry {
  algorithm: DigestAlgorithm;
  file: string;
  /** Lower-case hex. */
  digest: string;
}

/** A manifest lists a few files: a bound far above any real one. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha1: 40, sha256: 64, sha512: 128 };

/**
 * Parses an OVF manifest (DSP0243 §5.1 "OVF package structure": one line per file,
 * "SHA1(name)= hex"; OVF 2.x and VMware ovftool also write SHA256 and SHA512). VMware and other
 * writers differ in the space after "=" — both "SHA256(disk.vmdk)= ab.." and "...)=ab.." occur.
 */
export function parseManifest(bytes: Buffer, file: string): ManifestEntry[] {
  if (bytes.length > MAX_MANIFEST_BYTES) throw vmxError(OVA.BAD_MANIFEST, `manifest is ${bytes.length} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`, { file });
  const entries: ManifestEntry[] = [];
  let offset = 0;
  for (const raw of bytes.toString('utf8').split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    const at = offset;
    offset += Buffer.byteLength(raw, 'utf8') + 1;
    if (line === '') continue;
    const m = /^(SHA1|SHA256|SHA512)\((.+)\)\s*=\s*([0-9A-Fa-f]+)$/.exec(line);
    const algorithm = m?.[1]!.toLowerCase() as DigestAlgorithm | undefined;
    if (!m || !algorithm || m[3]!.length !== HEX_LENGTH[algorithm]) {
      throw vmxError(OVA.BAD_MANIFEST, `manifest line ${JSON.stringify(line.slice(0, 120))} is not "SHA1|SHA256|SHA512(file)= hex" with a digest of the algorithm's length`, { file, offset: at });
    }
    if (entries.some((e) => e.file === m[2])) throw vmxError(OVA.BAD_MANIFEST, `manifest lists "${m[2]}" twice`, { file, offset: at });
    entries.push({ algorithm, file: m[2]!, digest: m[3]!.toLowerCase() });
  }
  return entries;
}
