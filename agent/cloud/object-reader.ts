import type { ObjectSink } from '../sinks/object-sink.js';

/** The read half of an ObjectSink, all the export download needs (any S3/OSS ObjectSink is one). */
export type ObjectReader = Pick<ObjectSink, 'head' | 'getRange'>;
