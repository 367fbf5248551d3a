//! Keeping long-lived helper processes small.

/// Lets go of this process's resident pages of read-only file mappings (its own code and
/// constants): what starting up touched stays in the page cache, shared, and comes back on the
/// next access; only the pages the process goes on using are mapped again. Mappings holding
/// private copies of pages (`Anonymous` in smaps: relocated data, say) are left alone, since
/// dropping those would lose their contents.
pub fn release_clean_file_pages() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    let mut vma: Option<(usize, usize)> = None;
    let mut clean = true;
    let release = |vma: Option<(usize, usize)>, clean: bool| {
        if let (Some((start, end)), true) = (vma, clean) {
            // SAFETY: the range is a whole read-only, file-backed mapping of this process
            // with no private pages: MADV_DONTNEED only drops page-table entries, and the
            // next access faults the same bytes back in from the file.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    };
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if let Some((a, b)) = first.split_once('-')
            && let (Ok(start), Ok(end)) =
                (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
        {
            release(vma.take(), clean);
            let perms = fields.next().unwrap_or_default();
            let path = fields.nth(3).unwrap_or_default();
            let read_only = perms.starts_with('r') && perms.as_bytes().get(1) == Some(&b'-');
            if read_only && perms.ends_with('p') && path.starts_with('/') {
                vma = Some((start, end));
                clean = true;
            }
        } else if first == "Anonymous:" && fields.next().is_some_and(|kb| kb != "0") {
            clean = false;
        }
    }
    release(vma, clean);
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    /// Resident kB of the mapping that starts at `addr`.
    fn rss_of(addr: usize) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let head = format!("{addr:x}-");
        let mut lines = smaps.lines().skip_while(|l| !l.starts_with(&head));
        lines
            .find_map(|l| l.strip_prefix("Rss:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap()
    }

    #[test]
    fn clean_pages_go_and_come_back() {
        let len = 4 << 20;
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &vec![7u8; len]).unwrap();
        // SAFETY: a private read-only mapping of a file we hold open, unmapped below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                f.as_raw_fd(),
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        // SAFETY: the mapping is `len` bytes long and stays mapped while the slice is used.
        let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, len) };
        let sum: u64 = bytes.iter().step_by(4096).map(|b| u64::from(*b)).sum();
        assert_eq!(sum, 7 * (len as u64 / 4096));
        assert!(rss_of(p as usize) >= 4096, "touched pages are resident");
        super::release_clean_file_pages();
        assert_eq!(rss_of(p as usize), 0, "released");
        assert!(bytes.iter().all(|b| *b == 7), "and read back from the file");
        // SAFETY: unmapping what we mapped; `bytes` is not used after this.
        unsafe { libc::munmap(p, len) };
    }
}
