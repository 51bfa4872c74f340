//! seccomp(2) SECCOMP_SET_MODE_FILTER, called directly: seccompiler's own
//! loader always sets no_new_privs first, but Docker leaves it off unless
//! asked (`no-new-privileges`), and setuid binaries in images rely on that.
//! Without no_new_privs the kernel requires CAP_SYS_ADMIN, which the
//! workload still holds when the filter is loaded.

use nix::libc;
use seccompiler::sock_filter;
use std::io;

/// Install `program` on the calling thread.
pub fn load_filter(program: &[sock_filter]) -> io::Result<()> {
    let len =
        u16::try_from(program.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let prog = libc::sock_fprog {
        len,
        // seccompiler's sock_filter is #[repr(C)] with the kernel's fields
        // in the kernel's order, so the two types have the same layout.
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `prog` points at `len` valid instructions that outlive the
    // call; the kernel copies the program and does not keep the pointer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
