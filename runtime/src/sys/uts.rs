//! setdomainname(2), which nix does not wrap (it has sethostname only).

use nix::libc;
use std::io;

/// Set the NIS domain name of the calling process's UTS namespace (what
/// `domainname`, `hostname -d`'s fallback and /proc/sys/kernel/domainname
/// show). The kernel takes at most 64 bytes.
pub fn set_domainname(name: &str) -> io::Result<()> {
    let bytes = name.as_bytes();
    // SAFETY: a pointer to `bytes.len()` readable bytes that outlive the
    // call; the kernel copies them and needs no NUL terminator.
    let rc = unsafe { libc::setdomainname(bytes.as_ptr().cast(), bytes.len()) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
