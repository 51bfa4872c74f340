//! Giving freed heap memory back to the kernel (malloc_trim(3)), for a
//! long-lived process that allocated much during setup and little after
//! (a container's PID 1).

use nix::libc;

/// Return every whole free page of the heap to the kernel: glibc keeps
/// freed memory mapped, below its trim threshold, for reuse.
pub fn release_free_heap() {
    // SAFETY: malloc_trim only walks the allocator's own free lists under
    // its lock; it takes no pointer of ours. The return value (whether
    // anything was released) needs no handling.
    unsafe {
        libc::malloc_trim(0);
    }
}
