import { createRequire } from 'node:module';

/**
 * require() for the CommonJS packages on every command's start-up path (the S3 SDK, @node-rs/crc32,
 * hash-wasm). An `import` of a CommonJS file makes Node run cjs-module-lexer over it for its named
 * exports and check it for ES module syntax before loading it; require() only loads it. Measured on
 * Node 20 (bench/README.md, "Fixed cost per upload"): `import('@aws-sdk/client-s3')` costs 0.19
 * CPU-s over an empty node, require() 0.09; @node-rs/crc32 and hash-wasm 0.04-0.06 less each.
 * Callers keep the package's types with `as typeof import('pkg')`, which emits no import.
 */
export const requireCjs = createRequire(import.meta.url);
