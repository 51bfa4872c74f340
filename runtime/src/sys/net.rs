//! Network interface flags through `ioctl(SIOCGIFFLAGS/SIOCSIFFLAGS)`: just
//! enough to bring `lo` up in a fresh network namespace without netlink.

use nix::libc;
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use std::io;
use std::os::fd::AsRawFd;

/// Set IFF_UP on the interface `name` (in the caller's network namespace).
pub fn interface_up(name: &str) -> io::Result<()> {
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: `ifreq` is a plain C struct for which all-zero bytes are valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    // SAFETY: `req` is a valid, NUL-terminated ifreq that outlives the call;
    // SIOCGIFFLAGS only writes `ifr_ifru.ifru_flags` inside it.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel filled `ifru_flags` above, so reading that union
    // member is reading initialised memory of the right type.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: as above; SIOCSIFFLAGS only reads `req`.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
