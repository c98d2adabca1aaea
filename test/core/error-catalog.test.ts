import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { allErrorCodes } from '../../agent/core/error-catalog.js';
import { errorTableMarkdown } from '../../agent/cli/commands/errors.js';
import { CORE } from '../../agent/core/error-codes.js';
import { EXIT_CODES, vmxError, InvalidInputError, VmxferError } from '../../agent/core/errors.js';
import { REPO_ROOT } from '../helpers/tmp.js';

test('every error code is unique and has a summary sentence', () => {
  const codes = allErrorCodes();
  assert.equal(new Set(codes.map((c) => c.code)).size, codes.length, 'duplicate error code');
  for (const c of codes) {
    assert.match(c.code, /^[A-Z0-9]+_[A-Z0-9_]+$/, c.code);
    assert.ok(c.summary.endsWith('.') && c.summary.length > 20, `${c.code} needs a sentence`);
    assert.ok(EXIT_CODES[c.category] > 0, `${c.code} category ${c.category}`);
  }
});

test('docs/errors.md is exactly what `vmxfer errors --markdown` prints (regenerate it when codes change)', async () => {
  const doc = await readFile(join(REPO_ROOT, 'docs', 'errors.md'), 'utf8');
  assert.equal(doc, errorTableMarkdown());
});

test('an error names file, offset, rule and code, and maps to its category class and exit status', () => {
  const err = vmxError(CORE.TRUNCATED, 'grain table (2048 bytes) extends past the end of the file (size 4096)', { file: 'a.vmdk', offset: 3072 });
  assert.ok(err instanceof InvalidInputError && err instanceof VmxferError);
  assert.equal(err.message, 'a.vmdk, offset 3072: grain table (2048 bytes) extends past the end of the file (size 4096) [VMX_TRUNCATED]');
  assert.equal(err.exitCode, EXIT_CODES['invalid-input']);
  assert.deepEqual(err.toJSON(), { code: 'VMX_TRUNCATED', category: 'invalid-input', message: err.message, file: 'a.vmdk', offset: 3072 });
  assert.equal(err.name, 'InvalidInputError');
});
