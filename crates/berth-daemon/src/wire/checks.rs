//! The value checks Docker makes at create, in Docker's order and with its messages (the first
//! failure wins): environment entries, then resource ranges. They run before the image lookup,
//! as Docker's do, so a bad value is a 400 even for a missing image. Values the kernel would
//! refuse at start (a NUL byte in a string that becomes a C string, a hostname past the kernel's
//! 64 bytes) are refused here too: Docker lets them through and fails the start with a 500.

use berth_api::container::{Config, HostConfig};

use crate::error::{Error, Result};

/// Docker's smallest memory limit and reservation.
const MIN_MEMORY: i64 = 6 * 1024 * 1024;

/// The kernel's limit on a hostname (`HOST_NAME_MAX`).
const MAX_HOSTNAME: usize = 64;

/// `Env` entries need a name: `=x` and `""` are refused, `A` and `A=` are fine.
pub fn env(c: &Config) -> Result<()> {
    for kv in c.env.iter().flatten() {
        if kv.split('=').next().is_none_or(str::is_empty) || kv.contains('\0') {
            return Err(Error::invalid(format!(
                "invalid environment variable: {}",
                kv.escape_debug()
            )));
        }
    }
    Ok(())
}

/// The strings that reach the kernel as C strings carry no NUL byte, and the hostname fits
/// the kernel's limit.
pub fn strings(c: &Config) -> Result<()> {
    let lists = [("Cmd", &c.cmd), ("Entrypoint", &c.entrypoint)];
    for (field, list) in lists {
        if list.iter().flatten().any(|a| a.contains('\0')) {
            return Err(Error::invalid(format!(
                "invalid {field}: an argument contains a NUL byte"
            )));
        }
    }
    let fields = [
        ("Hostname", &c.hostname),
        ("Domainname", &c.domainname),
        ("WorkingDir", &c.working_dir),
        ("User", &c.user),
    ];
    for (field, value) in fields {
        if value.contains('\0') {
            return Err(Error::invalid(format!(
                "invalid {field} \"{}\": it contains a NUL byte",
                value.escape_debug()
            )));
        }
    }
    if c.hostname.len() > MAX_HOSTNAME {
        return Err(Error::invalid(format!(
            "invalid Hostname \"{}\": longer than {MAX_HOSTNAME} bytes",
            c.hostname
        )));
    }
    Ok(())
}

/// Docker's range checks on the resources berth implements (`verifyPlatformContainerResources`,
/// then ShmSize).
pub fn resources(h: &HostConfig) -> Result<()> {
    resources_of(h, false)
}

/// The checks of an update's resources: a swap limit alone is fine there.
pub fn update_resources(h: &HostConfig) -> Result<()> {
    resources_of(h, true)
}

fn resources_of(h: &HostConfig, update: bool) -> Result<()> {
    let fail = |m: String| Err(Error::invalid(m));
    if h.memory != 0 && h.memory < MIN_MEMORY {
        return fail("Minimum memory limit allowed is 6MB".into());
    }
    if h.memory > 0 && h.memory_swap > 0 && h.memory_swap < h.memory {
        return fail(
            "Minimum memoryswap limit should be larger than memory limit, see usage".into(),
        );
    }
    if h.memory == 0 && h.memory_swap > 0 && !update {
        return fail(
            "You should always set the Memory limit when using Memoryswap limit, see usage".into(),
        );
    }
    if let Some(s) = h
        .memory_swappiness
        .filter(|s| *s != -1 && !(0..=100).contains(s))
    {
        return fail(format!(
            "Invalid value: {s}, valid memory swappiness range is 0-100"
        ));
    }
    if h.nano_cpus > 0 && h.cpu_period > 0 {
        return fail("Conflicting options: Nano CPUs and CPU Period cannot both be set".into());
    }
    if h.nano_cpus > 0 && h.cpu_quota > 0 {
        return fail("Conflicting options: Nano CPUs and CPU Quota cannot both be set".into());
    }
    let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    if h.nano_cpus < 0 || h.nano_cpus > ncpu * 1_000_000_000 {
        return fail(format!(
            "Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        ));
    }
    if h.cpu_shares < 0 {
        return fail(format!(
            "invalid CPU shares ({}): value must be a positive integer",
            h.cpu_shares
        ));
    }
    if h.cpu_period != 0 && !(1000..=1_000_000).contains(&h.cpu_period) {
        return fail(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
                .into(),
        );
    }
    if h.cpu_quota > 0 && h.cpu_quota < 1000 {
        return fail("CPU cfs quota can not be less than 1ms (i.e. 1000)".into());
    }
    if h.shm_size < 0 {
        return fail("SHM size can not be less than 0".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(json: &str) -> HostConfig {
        serde_json::from_str(json).unwrap()
    }

    fn says(json: &str) -> String {
        resources(&host(json)).unwrap_err().message
    }

    #[test]
    fn env_entries_need_a_name() {
        let c = |e: &[&str]| Config {
            env: Some(e.iter().map(|s| s.to_string()).collect()),
            ..Config::default()
        };
        assert_eq!(
            env(&c(&["A=1", "=x"])).unwrap_err().message,
            "invalid environment variable: =x"
        );
        assert_eq!(
            env(&c(&[""])).unwrap_err().message,
            "invalid environment variable: "
        );
        env(&c(&["A", "B=", "C=d=e"])).unwrap();
        assert_eq!(
            env(&c(&["A=\0"])).unwrap_err().message,
            "invalid environment variable: A=\\0"
        );
    }

    #[test]
    fn kernel_strings_have_no_nul_and_hostnames_fit() {
        let says = |json: &str| {
            strings(&serde_json::from_str(json).unwrap())
                .unwrap_err()
                .message
        };
        assert_eq!(
            says(r#"{"Hostname": "a\u0000b"}"#),
            "invalid Hostname \"a\\0b\": it contains a NUL byte"
        );
        assert!(says(r#"{"WorkingDir": "/a\u0000"}"#).starts_with("invalid WorkingDir"));
        assert!(says(r#"{"Cmd": ["sh", "\u0000"]}"#).starts_with("invalid Cmd"));
        assert!(says(r#"{"Entrypoint": ["\u0000"]}"#).starts_with("invalid Entrypoint"));
        assert!(
            says(&format!(r#"{{"Hostname": "{}"}}"#, "h".repeat(65)))
                .ends_with("longer than 64 bytes")
        );
        strings(
            &serde_json::from_str(&format!(r#"{{"Hostname": "{}"}}"#, "h".repeat(64))).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn resource_ranges_are_dockers() {
        assert_eq!(
            says(r#"{"Memory": -1}"#),
            "Minimum memory limit allowed is 6MB"
        );
        assert_eq!(
            says(r#"{"Memory": 6291455}"#),
            "Minimum memory limit allowed is 6MB"
        );
        resources(&host(r#"{"Memory": 6291456, "MemorySwap": -1}"#)).unwrap();
        assert!(says(r#"{"MemorySwap": 10000000}"#).starts_with("You should always set"));
        assert!(says(r#"{"MemorySwappiness": 101}"#).starts_with("Invalid value: 101"));
        resources(&host(r#"{"MemorySwappiness": -1}"#)).unwrap();
        // The conflict is reported before the period's own range.
        assert_eq!(
            says(r#"{"NanoCpus": 1, "CpuPeriod": 5}"#),
            "Conflicting options: Nano CPUs and CPU Period cannot both be set"
        );
        assert!(says(r#"{"NanoCpus": 1, "CpuQuota": 5000}"#).contains("CPU Quota"));
        assert!(says(r#"{"CpuPeriod": 999}"#).starts_with("CPU cfs period"));
        assert!(says(r#"{"CpuQuota": 999}"#).starts_with("CPU cfs quota"));
        resources(&host(r#"{"CpuQuota": -1}"#)).unwrap();
        assert_eq!(
            says(r#"{"ShmSize": -1}"#),
            "SHM size can not be less than 0"
        );
        assert!(says(r#"{"CpuShares": -1}"#).starts_with("invalid CPU shares (-1)"));
    }
}
