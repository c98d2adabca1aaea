import { throwIfAborted } from '../../core/abort.js';
import { vmxError } from '../../core/errors.js';
import type { RandomAccessFile } from '../../io/random-access-file.js';
import { VHDX } from './error-codes.js';
import { isZeroGuid } from './guid.js';
import type { VhdxHeader } from './header.js';
import type { ImageBytes } from './image-bytes.js';
import { LOG_SECTOR_SIZE, MAX_REPLAYED_LOG, REGION_TABLE_OFFSETS } from './layout.js';
import { parseLogEntry, type LogEntry } from './log-entry.js';
import { PlainImage, ReplayedImage, type LogWrite } from './log-overlay.js';

export interface LogReplay {
  readonly image: ImageBytes;
  readonly replayed: boolean;
  readonly entriesReplayed: number;
  readonly headSequenceNumber?: bigint;
}

/**
 * [MS-VHDX] §2.3.3 Log Replay, in memory. A zero LogGuid means there is nothing to replay. Otherwise
 * the active sequence — the valid sequence with the greatest head sequence number whose head's Tail
 * names its first entry — is applied from tail to head onto an overlay; entries after it that fail
 * validation (a torn tail write) are ignored. A non-zero LogGuid without any such sequence, or a file
 * shorter than the head's FlushedFileOffset, cannot be replayed and is refused.
 */
export async function replayLog(file: RandomAccessFile, header: VhdxHeader, signal?: AbortSignal): Promise<LogReplay> {
  if (isZeroGuid(header.logGuid)) return { image: new PlainImage(file), replayed: false, entriesReplayed: 0 };
  const log = await readLog(file, header);
  const entries = parseAllEntries(log, header.logGuid, signal);
  const active = findActiveSequence(entries, log.length);
  if (!active) {
    throw vmxError(VHDX.LOG_NOT_REPLAYABLE, `LogGuid ${header.logGuid} is set but the log holds no valid sequence of entries whose head's Tail names its first entry (MS-VHDX §2.3.3)`, {
      file: file.path,
      offset: header.logOffset,
    });
  }
  const head = active[active.length - 1]!;
  if (head.flushedFileOffset > file.size) {
    throw vmxError(VHDX.LOG_FILE_TRUNCATED, `the file (${file.size} bytes) is shorter than the log's FlushedFileOffset ${head.flushedFileOffset} (MS-VHDX §2.3.3)`, {
      file: file.path,
      offset: header.logOffset + head.position,
    });
  }
  const size = Math.max(file.size, head.lastFileOffset);
  const writes = active.flatMap((e) => e.writes);
  checkWrites(writes, size, header, file.path);
  return { image: new ReplayedImage(file, writes, size), replayed: true, entriesReplayed: active.length, headSequenceNumber: head.sequenceNumber };
}

async function readLog(file: RandomAccessFile, header: VhdxHeader): Promise<Buffer> {
  if (header.logLength > MAX_REPLAYED_LOG) {
    throw vmxError(VHDX.LOG_TOO_LARGE, `the log is ${header.logLength} bytes; vmxfer replays logs of at most ${MAX_REPLAYED_LOG} bytes in memory`, {
      file: file.path,
      offset: header.offset + 68,
    });
  }
  if (header.logOffset + header.logLength > file.size) {
    throw vmxError(VHDX.BAD_LOG_FIELD, `the log (offset ${header.logOffset}, length ${header.logLength}) extends past the end of the file (size ${file.size}) (MS-VHDX §2.2.2)`, {
      file: file.path,
      offset: header.offset + 72,
    });
  }
  return file.read(header.logOffset, header.logLength, 'VHDX log');
}

/** Every sector of the log may start an entry (§2.3: the log is a circular buffer of 4 KiB sectors). */
function parseAllEntries(log: Buffer, logGuid: string, signal?: AbortSignal): Map<number, LogEntry> {
  const entries = new Map<number, LogEntry>();
  for (let pos = 0; pos < log.length; pos += LOG_SECTOR_SIZE) {
    throwIfAborted(signal);
    const e = parseLogEntry(log, pos, logGuid);
    if (e) entries.set(pos, e);
  }
  return entries;
}

function findActiveSequence(entries: Map<number, LogEntry>, logLength: number): LogEntry[] | undefined {
  let best: LogEntry[] | undefined;
  for (const start of entries.values()) {
    const seq = completeSequence(followSequence(start, entries, logLength));
    if (!seq) continue;
    const head = seq[seq.length - 1]!;
    if (!best || head.sequenceNumber > best[best.length - 1]!.sequenceNumber) best = seq;
  }
  return best;
}

/** §2.3.2: each entry of a sequence starts where the previous ends and has the next sequence number. */
function followSequence(start: LogEntry, entries: Map<number, LogEntry>, logLength: number): LogEntry[] {
  const seq = [start];
  let last = start;
  while (seq.length < entries.size) {
    const next = entries.get((last.position + last.length) % logLength);
    if (!next || next.sequenceNumber !== last.sequenceNumber + 1n) break;
    seq.push(next);
    last = next;
  }
  return seq;
}

/** The sequence is replayable from its head's Tail: it must contain the entry Tail names. */
function completeSequence(seq: LogEntry[]): LogEntry[] | undefined {
  const head = seq[seq.length - 1]!;
  const from = seq.findIndex((e) => e.position === head.tail);
  return from < 0 ? undefined : seq.slice(from);
}

/** Writes stay inside the file as the log describes it, and never touch the identifier, the headers or the log. */
function checkWrites(writes: LogWrite[], size: number, header: VhdxHeader, path: string): void {
  const logEnd = header.logOffset + header.logLength;
  for (const w of writes) {
    const end = w.fileOffset + w.length;
    const intoLog = w.fileOffset < logEnd && end > header.logOffset;
    if (w.fileOffset < REGION_TABLE_OFFSETS[0] || end > size || intoLog) {
      throw vmxError(VHDX.LOG_WRITE_OUT_OF_RANGE, `a log descriptor writes ${w.length} bytes at file offset ${w.fileOffset}, outside the file (size ${size}) or into the headers or the log itself (MS-VHDX §2.3.1)`, {
        file: path,
        offset: header.logOffset,
      });
    }
  }
}
