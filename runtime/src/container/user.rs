//! Resolve Compose's `user:` ("name", "uid", "name:group", "uid:gid") and
//! `group_add` against the container's own /etc/passwd and /etc/group, the
//! way Docker (runc's libcontainer/user) does: names must exist, numeric ids
//! need not; the primary group and home come from the passwd entry when
//! there is one; supplementary groups are the /etc/group entries listing the
//! user by name.

/// The identity the workload runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (setgroups(2)), without duplicates.
    pub groups: Vec<u32>,
    /// $HOME when the spec's env has none.
    pub home: String,
}

/// Why `user:` could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("unable to find user {name}: no matching entries in the container's /etc/passwd")]
    NoSuchUser { name: String },
    #[error("unable to find group {name}: no matching entries in the container's /etc/group")]
    NoSuchGroup { name: String },
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

fn parse_passwd(text: &str) -> Vec<PasswdEntry<'_>> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 6 {
                return None;
            }
            Some(PasswdEntry {
                name: f[0],
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5],
            })
        })
        .collect()
}

fn parse_group(text: &str) -> Vec<GroupEntry<'_>> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 3 {
                return None;
            }
            let members = f
                .get(3)
                .map(|m| m.split(',').filter(|s| !s.is_empty()).collect())
                .unwrap_or_default();
            Some(GroupEntry {
                name: f[0],
                gid: f[2].parse().ok()?,
                members,
            })
        })
        .collect()
}

/// Resolve `user` (and `extra_groups`) given the two files' contents
/// (empty when the image lacks them).
pub fn resolve(
    user: &str,
    extra_groups: &[String],
    passwd: &str,
    group: &str,
) -> Result<ResolvedUser, UserError> {
    let users = parse_passwd(passwd);
    let groups = parse_group(group);
    let (user_part, group_part) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let entry = match user_part.parse::<u32>() {
        Ok(uid) => users.iter().find(|e| e.uid == uid),
        Err(_) => Some(users.iter().find(|e| e.name == user_part).ok_or_else(|| {
            UserError::NoSuchUser {
                name: user_part.to_string(),
            }
        })?),
    };
    let uid = entry.map_or_else(|| user_part.parse().unwrap_or(0), |e| e.uid);
    let mut gid = entry.map_or(0, |e| e.gid);
    let mut supplementary = Vec::new();
    if let Some(e) = entry {
        supplementary.extend(
            groups
                .iter()
                .filter(|g| g.members.contains(&e.name))
                .map(|g| g.gid),
        );
    }
    if let Some(g) = group_part.filter(|g| !g.is_empty()) {
        gid = lookup_group(g, &groups)?;
        // An explicit group replaces the passwd-derived ones, as in runc.
        supplementary.clear();
    }
    for g in extra_groups {
        supplementary.push(lookup_group(g, &groups)?);
    }
    let mut seen = std::collections::BTreeSet::new();
    supplementary.retain(|g| seen.insert(*g));
    Ok(ResolvedUser {
        uid,
        gid,
        groups: supplementary,
        home: entry
            .map(|e| e.home)
            .filter(|h| !h.is_empty())
            .unwrap_or("/")
            .to_string(),
    })
}

fn lookup_group(name: &str, groups: &[GroupEntry<'_>]) -> Result<u32, UserError> {
    if let Ok(gid) = name.parse::<u32>() {
        return Ok(gid);
    }
    groups
        .iter()
        .find(|g| g.name == name)
        .map(|g| g.gid)
        .ok_or_else(|| UserError::NoSuchGroup {
            name: name.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        # comment\n\
        app:x:1000:1001:App:/home/app:/bin/sh\n\
        nohome:x:1002:1002::\n";
    const GROUP: &str = "root:x:0:\nappgrp:x:1001:\nwheel:x:10:app,root\naudio:x:29:app\n";

    #[test]
    fn empty_user_is_root_with_roots_home() {
        let u = resolve("", &[], PASSWD, GROUP).unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (0, 0, "/root"));
        assert_eq!(u.groups, vec![10]);
    }

    #[test]
    fn name_resolves_uid_gid_home_and_member_groups() {
        let u = resolve("app", &[], PASSWD, GROUP).unwrap();
        assert_eq!(u.uid, 1000);
        assert_eq!(u.gid, 1001);
        assert_eq!(u.home, "/home/app");
        assert_eq!(u.groups, vec![10, 29]);
    }

    #[test]
    fn numeric_ids_need_no_entry() {
        let u = resolve("4242:4343", &[], PASSWD, GROUP).unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (4242, 4343, "/"));
        let u = resolve("1002", &[], PASSWD, GROUP).unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (1002, 1002, "/"));
    }

    #[test]
    fn group_names_and_group_add() {
        let u = resolve("app:wheel", &["audio".into(), "7".into()], PASSWD, GROUP).unwrap();
        assert_eq!(u.gid, 10);
        assert_eq!(u.groups, vec![29, 7]);
    }

    #[test]
    fn unknown_names_are_errors() {
        assert_eq!(
            resolve("ghost", &[], PASSWD, GROUP),
            Err(UserError::NoSuchUser {
                name: "ghost".into()
            })
        );
        assert!(matches!(
            resolve("app:ghosts", &[], PASSWD, GROUP),
            Err(UserError::NoSuchGroup { .. })
        ));
    }
}
