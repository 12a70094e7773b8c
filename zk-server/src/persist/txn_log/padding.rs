//! Preallocation of log files (`FilePadding`): a log grows in `preAllocSize` steps, sparse, so that
//! appends rarely change the file size (and an fdatasync rarely has to flush metadata).

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

#[cfg(test)]
mod tests {
    use super::*;

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
