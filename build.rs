//! Link the `compose` executable at a fixed address (-no-pie), as Go links
//! docker, containerd and runc by default.
//!
//! Why: every container's PID 1 is this binary (see runtime/src/container/
//! launch.rs). Linked as a position-independent executable, the dynamic
//! loader must patch some 23,000 pointers at each start, which turns the
//! 400 KB of relocated read-only data into private memory in every
//! container's init; at a fixed address those pages stay clean and shared
//! between all containers (benches/up.rs prints the difference as USS).
//! Only this executable is affected: libraries, tests and the code
//! itself are compiled as before.

fn main() {
    println!("cargo:rustc-link-arg-bin=compose=-no-pie");
}
