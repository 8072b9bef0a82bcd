// Package store is a durable collection: records with a string id, a
// vector, an optional document and metadata, searchable by vector with
// metadata filters, that survive crashes.
//
// A store is a directory:
//
//	MANIFEST            which snapshot is current (written atomically)
//	LOCK                held (flock) by the one process that may write
//	snap-<seq>/         a snapshot: index.oxv (the vector index) and
//	                    records.zst (ids, documents, metadata), both
//	                    compressed or encrypted as configured
//	wal-<seq>.log       write-ahead log segments, the first record's
//	                    sequence number in the name
//
// Every change is a WAL record (length, CRC-32C, sequence number, payload),
// appended and, in the default durability mode "always", fsync'd before the
// call returns: nothing acknowledged is ever lost. Concurrent writers share
// fsyncs (group commit). A snapshot writes the whole state to new files,
// fsyncs them, then swaps the manifest; older segments are deleted after.
// Opening loads the manifest's snapshot and replays every later WAL record.
// A torn tail (the end of the last segment, cut by a crash) is truncated; a
// damaged record followed by valid ones stops the open with an error that
// says which records are affected: data is never skipped silently.
//
// With a key, WAL payloads and snapshot files are sealed with AES-256-GCM;
// headers carry only lengths, checksums and sequence numbers.
package store
