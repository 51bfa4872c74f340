//! What tells state roots apart in machine-wide names.
//!
//! Each `COMPOSE_ROOT` keeps its own projects, but interface names and
//! cgroups are one namespace for the whole machine. Container names come
//! from project names (`shop-web-1`), so two roots holding a project of the
//! same name would otherwise share a cgroup and a bridge. Names derived for
//! a root other than the default one carry its scope; the default root
//! keeps the names it always had.

use sha2::{Digest, Sha256};
use std::path::Path;

/// Empty for the default root (`/var/lib/compose`), else 8 hex digits of
/// the SHA-256 of the root's path.
pub fn scope_for_root(root: &Path) -> String {
    if root == Path::new(crate::image::store::DEFAULT_COMPOSE_ROOT) {
        return String::new();
    }
    let digest = Sha256::digest(root.as_os_str().as_encoded_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// The cgroup (leaf) name of container `id` in the root of `scope`.
pub fn cgroup_name(scope: &str, id: &str) -> String {
    if scope.is_empty() {
        id.to_string()
    } else {
        format!("{scope}-{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_differ_and_the_default_root_is_unscoped() {
        let one = scope_for_root(Path::new("/tmp/one"));
        assert_eq!(one.len(), 8);
        assert_ne!(one, scope_for_root(Path::new("/tmp/two")));
        let default = Path::new(crate::image::store::DEFAULT_COMPOSE_ROOT);
        assert_eq!(scope_for_root(default), "");
        assert_eq!(cgroup_name("", "shop-web-1"), "shop-web-1");
        assert_eq!(cgroup_name(&one, "shop-web-1"), format!("{one}-shop-web-1"));
    }
}
