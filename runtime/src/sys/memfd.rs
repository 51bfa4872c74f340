//! A sealed, in-memory copy of an executable (CVE-2019-5736).
//!
//! A container's PID 1 is our own binary. If the kernel executed it straight
//! from disk, a process inside the container could open `/proc/1/exe` for
//! writing and overwrite the host binary. runc and youki defend by running
//! the init from a memfd copy sealed against writes, growth and shrinking;
//! we do the same.

use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};
use std::fs::File;
use std::io;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;

/// Copy `path` into a new memfd and seal it. The descriptor is close-on-exec:
/// a child execs it through `/proc/self/fd/N` before its exec closes it.
pub fn sealed_copy(path: &Path) -> io::Result<OwnedFd> {
    let fd = memfd_create(
        c"compose-init",
        MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
    )?;
    let mut source = File::open(path)?;
    let mut target = File::from(fd);
    // Plain reads and writes: `io::copy` between files uses
    // copy_file_range/splice, whose page references can still be held when
    // the write seal is added, which then fails with EBUSY (seen in tests).
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        target.write_all(&buf[..n])?;
    }
    let fd = OwnedFd::from(target);
    let seals = SealFlag::F_SEAL_SEAL
        | SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_WRITE;
    // EBUSY while the kernel still holds a reference to a page: brief.
    let mut tries = 0;
    loop {
        match fcntl(&fd, FcntlArg::F_ADD_SEALS(seals)) {
            Ok(_) => return Ok(fd),
            Err(nix::errno::Errno::EBUSY) if tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Whether `fd` carries the write seal (used by tests and sanity checks).
pub fn is_write_sealed(fd: &OwnedFd) -> io::Result<bool> {
    let seals = fcntl(fd, FcntlArg::F_GET_SEALS)?;
    Ok(SealFlag::from_bits_truncate(seals).contains(SealFlag::F_SEAL_WRITE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_is_sealed_against_writes() {
        let fd = sealed_copy(Path::new("/proc/self/exe")).unwrap();
        assert!(is_write_sealed(&fd).unwrap());
        let mut f = File::from(fd);
        let err = io::Write::write(&mut f, b"x").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(nix::libc::EPERM));
    }
}
