//! Test support shared by this crate's integration tests, the CLI's tests
//! and the pull benchmark: a private `docker-registry` on 127.0.0.1, a push
//! client for it, and the images the tests push. Not part of the API.

mod images;
mod registry;

pub use images::{busybox_rootfs_tar, gzip, header, push_image, random_layer, Layer};
pub use registry::{free_port, Auth, LocalRegistry, TokenAuth};
