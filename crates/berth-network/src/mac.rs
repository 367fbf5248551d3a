//! MAC addresses and interface names the way Docker makes them.

use std::fmt;
use std::io::Read;
use std::net::Ipv4Addr;

/// A 6-byte Ethernet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MacAddr([u8; 6]);

impl MacAddr {
    /// Wraps six octets.
    pub const fn new(octets: [u8; 6]) -> Self {
        Self(octets)
    }

    /// Docker's MAC for a container address: `02:42` (locally administered, unicast) then
    /// the four IPv4 bytes, as in moby v20.10 `libnetwork/netutils.GenerateMACFromIP`.
    pub fn from_ipv4(ip: Ipv4Addr) -> Self {
        let [a, b, c, d] = ip.octets();
        Self([0x02, 0x42, a, b, c, d])
    }

    /// The six octets.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// Parses `aa:bb:cc:dd:ee:ff` (or with `-`), as Go's `net.ParseMAC` takes a 48-bit one.
    pub fn parse(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split([':', '-']).collect();
        let mut out = [0u8; 6];
        if parts.len() != 6 {
            return Err(format!("invalid MAC address: {s}"));
        }
        for (o, p) in out.iter_mut().zip(&parts) {
            if p.len() != 2 {
                return Err(format!("invalid MAC address: {s}"));
            }
            *o = u8::from_str_radix(p, 16).map_err(|_| format!("invalid MAC address: {s}"))?;
        }
        Ok(Self(out))
    }

    /// Reads a MAC from a netlink attribute; `None` unless it is exactly six bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// A fresh host-side veth name as Docker makes them: `veth` and 7 random hex digits
/// (moby `drivers/bridge`: `vethPrefix`, `vethLen = 7`), 11 bytes, within IFNAMSIZ.
pub fn random_veth_name() -> std::io::Result<String> {
    let mut bytes = [0u8; 4];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let hex = format!("{:08x}", u32::from_be_bytes(bytes));
    Ok(format!("veth{}", &hex[..7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_takes_colons_or_dashes_and_six_octets() {
        let m = MacAddr::parse("02:42:ac:11:00:02").unwrap();
        assert_eq!(m.to_string(), "02:42:ac:11:00:02");
        assert_eq!(MacAddr::parse("02-42-AC-11-00-02").unwrap(), m);
        MacAddr::parse("02:42:ac:11:00").unwrap_err();
        MacAddr::parse("02:42:ac:11:00:zz").unwrap_err();
        MacAddr::parse("2:42:ac:11:00:02").unwrap_err();
    }

    #[test]
    fn docker_mac_is_02_42_then_the_ipv4_bytes() {
        let mac = MacAddr::from_ipv4(Ipv4Addr::new(172, 17, 0, 2));
        assert_eq!(mac.to_string(), "02:42:ac:11:00:02");
    }

    #[test]
    fn veth_names_look_like_dockers() {
        let name = random_veth_name().expect("urandom");
        assert_eq!(name.len(), 11);
        assert!(name.starts_with("veth"));
        assert!(name[4..].chars().all(|c| c.is_ascii_hexdigit()), "{name}");
    }
}
