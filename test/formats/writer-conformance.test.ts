import { describe } from 'node:test';
import { writerConformance, type WriterCase } from './writer-conformance.js';
import { rawWriter } from '../../agent/formats/raw/raw-writer.js';
import { streamOptimizedWriter } from '../../agent/formats/vmdk/stream-optimized-writer.js';
import { vhdDynamicWriter } from '../../agent/formats/vhd/vhd-dynamic-writer.js';
import { vhdFixedWriter } from '../../agent/formats/vhd/vhd-fixed-writer.js';
import { createQcow2Writer, qcow2Writer } from '../../agent/formats/qcow2/qcow2-writer.js';
import { ovaWriter } from '../../agent/formats/ova/writer/ova-writer.js';
import { WRITERS } from '../../agent/formats/registry.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';

/** Every registered writer runs the suite (plus compressed qcow2, a writer of its own via --compress). */
const CASES: Array<[string, WriterCase]> = [
  ['raw', { writer: rawWriter, qemuFormat: 'raw', qemuCheck: false }],
  ['vmdk', { writer: streamOptimizedWriter, qemuFormat: 'vmdk', qemuCheck: true }],
  ['vhd', { writer: vhdDynamicWriter, qemuFormat: 'vpc', qemuCheck: false }],
  ['vhd-fixed', { writer: vhdFixedWriter, qemuFormat: 'vpc', qemuCheck: false }],
  ['qcow2', { writer: qcow2Writer, qemuFormat: 'qcow2', qemuCheck: true }],
  ['qcow2 --compress', { writer: createQcow2Writer({ compress: true }), qemuFormat: 'qcow2', qemuCheck: true }],
  ['ova', { writer: ovaWriter, qemuFormat: 'vmdk', qemuCheck: true, tar: true }],
];

test('every registered writer is in the conformance matrix', () => {
  const covered = new Set(CASES.map(([, c]) => c.writer));
  for (const w of WRITERS) assert.ok(covered.has(w), `writer ${w.target} does not run the writer conformance suite`);
});

for (const [name, c] of CASES) describe(`writer conformance: ${name}`, () => writerConformance(c, name));
