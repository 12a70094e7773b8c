//! Preallocation of log files (`FilePadding`): a log grows in `preAllocSize` steps, so that appends
//! rarely change the file size (and an fdatasync rarely has to flush metadata).
//!
//! ZooKeeper leaves the preallocated space sparse. Then every batch that reaches a new block makes the
//! file system allocate it, and the batch's fdatasync must commit that allocation to the journal as
//! well. On the disk measured in BENCHMARKS.md that made the sync of a 5 KB batch take 0.19 ms instead
//! of 0.12. So the writer also fills the space just ahead of the data with real zeros, a chunk of
//! [`ZERO_AHEAD`] at a time: one sync per chunk pays for the allocation, and the batches after it
//! overwrite blocks that exist. Zeros read as the end of the log, exactly as holes do.
//!
//! The chunk is small on purpose. With 256 KiB chunks, the syncs that carried one were slow enough to
//! raise the p99 latency of 64 synchronous writers (30 s runs) from about 2.0 to 2.7 ms; with 64 KiB
//! it stayed where it was without the zeros, and 16 writers kept the whole gain.

/// ZooKeeper's default preallocation step: 64 MiB (`preAllocSize` = 65536 KiB).
pub const DEFAULT_PREALLOC_SIZE: u64 = 64 * 1024 * 1024;

/// How close to the end of the allocated size a write may come before the file is extended.
pub const PREALLOC_MARGIN: u64 = 4096;

/// The file size to allocate when data will reach `position` in a file currently `allocated` bytes
/// long (`FilePadding.calculateFileSizeWithPadding`): unchanged unless `position` is within 4 KiB of
/// the end; then one more step, or, if `position` is already past the end, the next multiple of the
/// step above `position`.
pub fn padded_size(position: u64, allocated: u64, prealloc: u64) -> u64 {
    if prealloc == 0 || position + PREALLOC_MARGIN < allocated {
        return allocated;
    }
    if position > allocated {
        let size = position + prealloc;
        size - size % prealloc
    } else {
        allocated + prealloc
    }
}

/// How far ahead of the data the preallocated space is filled with zeros.
pub const ZERO_AHEAD: u64 = 64 * 1024;

/// The range to fill with zeros when data up to `end` is written, when bytes below `zeroed` are
/// already on disk and the file is `allocated` long: `None` while `end` stays more than a block below
/// `zeroed`; otherwise from where the data ends (or `zeroed`, if above it) up to one [`ZERO_AHEAD`]
/// chunk past the chunk `end` falls in, and never past `allocated` (the zeros fill the preallocation;
/// they do not grow the file). The data's own bytes are never zeroed first.
pub fn zero_fill_range(end: u64, zeroed: u64, allocated: u64) -> Option<(u64, u64)> {
    if end + PREALLOC_MARGIN <= zeroed {
        return None;
    }
    let from = zeroed.max(end);
    let to = (((end / ZERO_AHEAD) + 2) * ZERO_AHEAD).min(allocated);
    (to > from).then_some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_a_chunk_ahead_of_the_data_within_the_preallocation() {
        let big = 64 << 20;
        // A new file: from the end of the first batch to the end of the next chunk.
        assert_eq!(zero_fill_range(16 + 1100, 16, big), Some((16 + 1100, 2 * ZERO_AHEAD)));
        // Well inside the zeroed part: nothing.
        assert_eq!(zero_fill_range(ZERO_AHEAD, 2 * ZERO_AHEAD, big), None);
        // Within a block of its end: the next chunk.
        let near = 2 * ZERO_AHEAD - 100;
        assert_eq!(zero_fill_range(near, 2 * ZERO_AHEAD, big), Some((2 * ZERO_AHEAD, 3 * ZERO_AHEAD)));
        // A batch larger than a chunk: zeros from its end up to a chunk past it.
        assert_eq!(zero_fill_range(5 * ZERO_AHEAD + 7, ZERO_AHEAD, big), Some((5 * ZERO_AHEAD + 7, 7 * ZERO_AHEAD)));
        // A small preallocation step caps the zeros; without preallocation there is nothing to fill.
        assert_eq!(zero_fill_range(16 + 1100, 16, 65536), Some((16 + 1100, 65536)));
        assert_eq!(zero_fill_range(65536, 65536, 65536), None);
    }

    #[test]
    fn matches_zookeeper_file_padding() {
        let step = DEFAULT_PREALLOC_SIZE;
        assert_eq!(padded_size(16, 16, step), 16 + step);
        assert_eq!(padded_size(100, step + 16, step), step + 16);
        assert_eq!(padded_size(step + 16 - 4096, step + 16, step), 2 * step + 16);
        assert_eq!(padded_size(3 * step + 5, step, step), 4 * step);
        assert_eq!(padded_size(1 << 40, 16, 0), 16);
    }
}
