//! The image store: content-addressed blobs, tags, unpacked layers, and the
//! ways images get in (registry pull, `import` of a rootfs tarball, `load`
//! of a `docker save` or OCI archive).

pub mod archive;
pub mod compression;
pub mod digest;
pub mod import;
pub mod oci;
pub mod reference;
pub mod registry;
pub mod unpack;

pub use digest::Digest;
pub use reference::Reference;
pub mod lock;
pub mod store;

pub use store::{compose_root, Image, ImageStore, StoreError};
