//! The image store: content-addressed blobs, tags, unpacked layers, and the
//! ways images get in (registry pull, `import` of a rootfs tarball, `load`
//! of a `docker save` or OCI archive, `bootstrap` of a Debian or Ubuntu
//! base image from the host's apt mirror).
//!
//! Entry points: [`ImageStore::open`] / [`ImageStore::open_default`],
//! [`Reference::parse`], [`registry::pull()`] / [`registry::ensure`], [`registry::push()`],
//! [`import::import_rootfs`], [`archive::load_archive`], and on the store
//! `get`, `find`, `list`, `tag`, `remove`, `prune`. An [`Image`] carries its
//! config and its unpacked layer directories (overlay lower dirs).

pub mod archive;
pub mod bootstrap;
pub mod compression;
pub mod digest;
pub mod error;
pub mod import;
pub mod lock;
pub mod oci;
pub mod reference;
pub mod registry;
pub mod store;
pub mod unpack;

pub use digest::Digest;
pub use error::ImageError;
pub use reference::Reference;
pub use store::{compose_root, Image, ImageStore, StoreError};
