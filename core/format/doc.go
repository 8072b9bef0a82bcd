// Package format is oxvec's on-disk container for index files: a fixed
// header, named sections of raw little-endian data each starting on a 64-byte
// boundary (so a memory-mapped file can be searched in place), and a table of
// sections with CRC-32C checksums at the end, written last so that a file cut
// short by a crash is always detected.
//
// Layout (all integers little-endian):
//
//	offset 0   header (64 bytes)
//	             [0:8)    magic "OXVECIDX"
//	             [8:12)   container version (1)
//	             [12:16)  reserved, zero
//	             [16:48)  index type name, NUL padded ("flat", "hnsw", ...)
//	             [48:60)  reserved, zero
//	             [60:64)  CRC-32C of bytes [0:60)
//	offset 64  section data, each padded with zeros to a multiple of 64 bytes
//	           section table: one 48-byte entry per section
//	             [0:16)   tag, NUL padded
//	             [16:24)  offset from file start
//	             [24:32)  length in bytes (without padding)
//	             [32:36)  CRC-32C of the section's bytes
//	             [36:48)  reserved, zero
//	end - 32   trailer (32 bytes)
//	             [0:8)    offset of the section table
//	             [8:12)   number of sections
//	             [12:16)  CRC-32C of the section table
//	             [16:24)  total file length
//	             [24:32)  magic "OXVECEND"
//
// What a section holds is up to the index type; the version of that layout
// is the type's business too (a "meta" section by convention).
//
// Reading: Parse checks a container already in memory and hands out its
// sections in place. Open checks one on disk reading only its header,
// trailer and table; each section is then read when asked for (Section),
// or mapped read-only (Map, where the platform has mmap), so that a large
// section can stay on disk and be paged in as it is used. Either way a
// section's checksum is verified when the caller asks, and the bytes of a
// mapped section live until the File is closed.
package format
