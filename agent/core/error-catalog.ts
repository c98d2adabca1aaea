import type { ErrorCodeDef } from './errors.js';
import { CORE } from './error-codes.js';
import { CONFIG } from '../config/error-codes.js';
import { TRANSFER } from '../transfer/error-codes.js';
import { HASH } from '../hashing/error-codes.js';
import { QCOW2 } from '../formats/qcow2/error-codes.js';
import { VMDK } from '../formats/vmdk/error-codes.js';
import { STORE } from '../sinks/error-codes.js';
import { VHD } from '../formats/vhd/error-codes.js';
import { VHDX } from '../formats/vhdx/error-codes.js';
import { VDI } from '../formats/vdi/error-codes.js';
import { DASH } from '../dashboard/error-codes.js';
import { VMDKW } from '../formats/vmdk/writer-error-codes.js';
import { CLOUD } from '../cloud/error-codes.js';
import { OVA } from '../formats/ova/error-codes.js';
import { API } from '../api/error-codes.js';
import { JOB } from '../jobs/error-codes.js';
import { GUEST } from '../guest/error-codes.js';
import { DEFLATE } from '../compression/error-codes.js';
import { EBS } from '../ebs/error-codes.js';
import { INCR } from '../incremental/error-codes.js';
import { FLEET } from '../fleet/error-codes.js';

/**
 * Every error code family. A family is registered here once; `vmxfer errors` prints the table and
 * test/core/error-catalog.test.ts keeps docs/errors.md identical to it.
 */
const FAMILIES: ReadonlyArray<Record<string, ErrorCodeDef>> = [
  CORE,
  CONFIG,
  TRANSFER,
  HASH,
  QCOW2,
  VMDK,
  STORE,
  VHD,
  VHDX,
  VDI,
  DASH,
  VMDKW,
  CLOUD,
  OVA,
  API,
  JOB,
  GUEST,
  DEFLATE,
  EBS,
  INCR,
  FLEET,
];

export function allErrorCodes(): ErrorCodeDef[] {
  const all = FAMILIES.flatMap((f) => Object.values(f));
  return all.sort((a, b) => a.code.localeCompare(b.code));
}
