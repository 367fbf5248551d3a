//! Lookups in the text of `/etc/group` (a container's, or the host's). Parsed here rather than
//! through libc's `getgrnam`: berth is linked statically, and glibc's NSS cannot be used from
//! a static binary (it crashes).

/// The GID of group `group` (a name, or a GID listed in the file) in the group file `text`.
pub fn gid_of(text: &str, group: &str) -> Option<u32> {
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 3 && (f[0] == group || f[2] == group)).then(|| f[2].parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::gid_of;

    #[test]
    fn groups_are_found_by_name_or_listed_gid() {
        let text = "root:x:0:\nwheel:x:10:alice,bob\nbroken:x:\nodd:x:nan:\n";
        assert_eq!(gid_of(text, "wheel"), Some(10));
        assert_eq!(gid_of(text, "10"), Some(10));
        assert_eq!(gid_of(text, "root"), Some(0));
        assert_eq!(gid_of(text, "broken"), None);
        assert_eq!(gid_of(text, "odd"), None);
        assert_eq!(gid_of(text, "nobody"), None);
    }
}
