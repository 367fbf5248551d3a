//! Stale connection-tracking entries, deleted as Docker deletes them. A published port is a
//! DNAT in the nat chains, and netfilter runs the nat chains only for the first packet of a
//! flow: every later packet follows the flow's conntrack entry. So a UDP flow that began before
//! its port was published (a client sending to the host port before the container started)
//! keeps going to the host, and one DNATed to a container that has since gone keeps going to
//! the old address; neither reaches the new container until the entry times out, which a
//! client that keeps sending never lets happen. The daemon deletes those entries over
//! ctnetlink (`NETLINK_NETFILTER`, subsystem `NFNL_SUBSYS_CTNETLINK`), in the network namespace
//! of the calling thread.
//!
//! Rules, as in moby's libnetwork (`drivers/bridge/bridge_linux.go` `clearConntrackEntries`,
//! `iptables/conntrack.go` `DeleteConntrackEntries` and `DeleteConntrackEntriesByPort`):
//! - an entry *of an address* is one whose reply tuple has the address as its source or its
//!   destination (vishvananda/netlink's `ConntrackReplyAnyIP`): a flow DNATed to the address, or
//!   one to or from it untranslated;
//! - an entry *to a UDP host port* is a UDP one whose original destination port is the port and,
//!   when the port was published on one host address, whose original destination is that
//!   address (`0.0.0.0` and `::` match any address of either family, as Docker);
//! - TCP entries are deleted by address only, as Docker: a TCP flow to a port nobody held was
//!   refused and has no entry worth keeping alive;
//! - the table is dumped (`IPCTNL_MSG_CT_GET` with `NLM_F_DUMP`) once per address family asked
//!   about, and each match is deleted (`IPCTNL_MSG_CT_DELETE`) by its original tuple, zone and
//!   ID, so an entry that replaced it meanwhile is left alone; one already gone counts as
//!   deleted;
//! - an entry the dump sends that cannot be decoded is skipped and counted, not an error;
//! - a kernel without conntrack (no `nf_conntrack`, so no
//!   `/proc/sys/net/netfilter/nf_conntrack_count`) has nothing to delete, nor has a namespace
//!   whose count is 0: both are a no-op that opens no socket.
//!
//! When to call it is the daemon's business; Docker does it after an endpoint's ports are
//! programmed (the endpoint's addresses and UDP host ports) and when an endpoint goes (its
//! addresses), and only logs a failure.

use std::fmt;
use std::io;
use std::net::IpAddr;

use netlink_packet_core::{
    DecodeError, DoneBuffer, ErrorBuffer, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE,
    NLMSG_ERROR, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, Nla,
};
use netlink_packet_netfilter::conntrack::{
    ConntrackAttribute, ConntrackMessage, IPTuple, ProtoTuple, Tuple,
};
use netlink_packet_netfilter::{
    NetfilterHeader, NetfilterMessage, NetfilterMessageInner, NetfilterProtoFamily,
};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_NETFILTER};

/// How many entries the namespace's table holds; absent without `nf_conntrack`.
const COUNT: &str = "/proc/sys/net/netfilter/nf_conntrack_count";
/// `CTA_ID`: the entry's ID, which a delete names so only that entry goes.
const CTA_ID: u16 = 12;
/// `CTA_ZONE`: the entry's zone, without which a delete looks in the default zone.
const CTA_ZONE: u16 = 18;
const IPPROTO_UDP: u8 = 17;
/// `NFNETLINK_V0`.
const NFNETLINK_V0: u8 = 0;

/// The entries to delete: those of `addresses`, and the UDP ones to `udp_ports`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stale {
    /// Entries of these addresses (the reply's source or destination is one).
    pub addresses: Vec<IpAddr>,
    /// UDP entries to these host ports: `(host address, port)`, an unspecified address for any.
    pub udp_ports: Vec<(IpAddr, u16)>,
}

/// A request to the kernel, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Dumping the table.
    Dump,
    /// Deleting an entry.
    Delete,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Dump => "dump",
            Op::Delete => "delete",
        })
    }
}

/// Why stale entries could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum ConntrackError {
    /// The netfilter netlink socket could not be opened.
    #[error("failed to open a netfilter netlink socket")]
    Socket(#[source] io::Error),
    /// A request could not be sent.
    #[error("failed to send the conntrack {op} request")]
    Send {
        /// The request.
        op: Op,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A reply could not be read.
    #[error("failed to read the reply to the conntrack {op} request")]
    Recv {
        /// The request.
        op: Op,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A reply was not netlink.
    #[error("failed to decode the reply to the conntrack {op} request")]
    Decode {
        /// The request.
        op: Op,
        /// The cause.
        #[source]
        source: DecodeError,
    },
    /// The kernel answered a dump with an error (`EINVAL`, `EOPNOTSUPP`: no ctnetlink).
    #[error("the kernel refused the conntrack {op} request")]
    Refused {
        /// The request.
        op: Op,
        /// The kernel's errno.
        #[source]
        source: io::Error,
    },
    /// Some matching entries could not be deleted (the others were).
    #[error("failed to delete {failed} of {matched} stale conntrack entries")]
    Delete {
        /// How many deletes failed.
        failed: usize,
        /// How many entries matched.
        matched: usize,
        /// The first failure.
        #[source]
        source: Box<ConntrackError>,
    },
}

/// What [`clear`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cleared {
    /// Entries deleted (or found gone).
    pub deleted: usize,
    /// Entries of the dump that could not be decoded, so were not looked at.
    pub undecoded: usize,
}

/// Deletes the entries `stale` names from the table of the calling thread's namespace.
pub fn clear(stale: &Stale) -> Result<Cleared, ConntrackError> {
    if stale.is_empty() || !has_entries() {
        return Ok(Cleared::default());
    }
    let mut ct = Ctnetlink::open()?;
    let mut done = Cleared::default();
    let mut matched = Vec::new();
    for family in stale.families() {
        let (flows, undecoded) = ct.dump(family)?;
        done.undecoded += undecoded;
        matched.extend(flows.into_iter().filter(|f| stale.matches(f)));
    }
    let mut failed = 0;
    let mut first = None;
    for flow in &matched {
        match ct.delete(flow) {
            Ok(()) => done.deleted += 1,
            Err(ConntrackError::Refused { source, .. })
                if source.kind() == io::ErrorKind::NotFound =>
            {
                done.deleted += 1
            }
            Err(e) => {
                failed += 1;
                first.get_or_insert(e);
            }
        }
    }
    match first {
        None => Ok(done),
        Some(e) => Err(ConntrackError::Delete {
            failed,
            matched: matched.len(),
            source: Box::new(e),
        }),
    }
}

/// Whether the namespace may have entries: conntrack is there and its count is not 0.
fn has_entries() -> bool {
    match std::fs::read_to_string(COUNT) {
        Ok(n) => n.trim() != "0",
        Err(e) => e.kind() != io::ErrorKind::NotFound,
    }
}

impl Stale {
    /// Whether it names nothing.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.udp_ports.is_empty()
    }

    /// The address families to dump.
    fn families(&self) -> Vec<NetfilterProtoFamily> {
        let wants = |v4: bool| {
            self.addresses.iter().any(|a| a.is_ipv4() == v4)
                || self
                    .udp_ports
                    .iter()
                    .any(|(ip, _)| ip.is_unspecified() || ip.is_ipv4() == v4)
        };
        let mut out = Vec::new();
        if wants(true) {
            out.push(NetfilterProtoFamily::IPv4);
        }
        if wants(false) {
            out.push(NetfilterProtoFamily::IPv6);
        }
        out
    }

    /// Whether `flow` is stale.
    fn matches(&self, flow: &Flow) -> bool {
        let of_address = self
            .addresses
            .iter()
            .any(|a| flow.reply.src == Some(*a) || flow.reply.dst == Some(*a));
        let to_port = flow.proto == Some(IPPROTO_UDP)
            && self.udp_ports.iter().any(|(ip, port)| {
                flow.orig.dport == Some(*port)
                    && (ip.is_unspecified() || flow.orig.dst == Some(*ip))
            });
        of_address || to_port
    }
}

/// One direction of an entry, as far as the rules look at it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ends {
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    dport: Option<u16>,
}

/// An entry of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Flow {
    family: NetfilterProtoFamily,
    /// The layer-4 protocol number.
    proto: Option<u8>,
    orig: Ends,
    reply: Ends,
    /// What a delete names it by: the original tuple as dumped, its zone and ID.
    key: Vec<ConntrackAttribute>,
}

impl Flow {
    /// The entry a dump message describes, if it is one.
    fn parse(msg: NetfilterMessage) -> Option<Flow> {
        let NetfilterMessageInner::Conntrack(ConntrackMessage::New(attrs)) = msg.inner else {
            return None;
        };
        let mut flow = Flow {
            family: msg.header.family,
            proto: None,
            orig: Ends::default(),
            reply: Ends::default(),
            key: Vec::new(),
        };
        for attr in attrs {
            match &attr {
                ConntrackAttribute::CtaTupleOrig(t) => {
                    flow.orig = ends(t, &mut flow.proto);
                    flow.key.push(attr);
                }
                ConntrackAttribute::CtaTupleReply(t) => flow.reply = ends(t, &mut None),
                ConntrackAttribute::Other(nla) if matches!(nla.kind(), CTA_ID | CTA_ZONE) => {
                    flow.key.push(attr)
                }
                _ => {}
            }
        }
        flow.orig.dst.is_some().then_some(flow)
    }
}

/// The addresses and destination port of a tuple; its protocol goes to `proto`.
fn ends(tuple: &[Tuple], proto: &mut Option<u8>) -> Ends {
    let mut out = Ends::default();
    for part in tuple {
        match part {
            Tuple::Ip(ips) => {
                for ip in ips {
                    match ip {
                        IPTuple::SourceAddress(a) => out.src = Some(*a),
                        IPTuple::DestinationAddress(a) => out.dst = Some(*a),
                        _ => {}
                    }
                }
            }
            Tuple::Proto(parts) => {
                for p in parts {
                    match p {
                        ProtoTuple::Protocol(n) => *proto = Some((*n).into()),
                        ProtoTuple::DestinationPort(port) => out.dport = Some(*port),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// A ctnetlink request: `msg` for `family` with `flags` (and `NLM_F_REQUEST`).
fn request(seq: u32, flags: u16, family: NetfilterProtoFamily, msg: ConntrackMessage) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | flags;
    header.sequence_number = seq;
    let inner = NetfilterMessage::new(NetfilterHeader::new(family, NFNETLINK_V0, 0), msg);
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(inner));
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

/// A netfilter netlink socket talking to the kernel.
struct Ctnetlink {
    socket: Socket,
    seq: u32,
}

impl Ctnetlink {
    fn open() -> Result<Self, ConntrackError> {
        let mut socket = Socket::new(NETLINK_NETFILTER).map_err(ConntrackError::Socket)?;
        socket.bind_auto().map_err(ConntrackError::Socket)?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(ConntrackError::Socket)?;
        Ok(Ctnetlink { socket, seq: 0 })
    }

    /// The entries of `family`, and how many could not be decoded.
    fn dump(&mut self, family: NetfilterProtoFamily) -> Result<(Vec<Flow>, usize), ConntrackError> {
        let mut flows = Vec::new();
        let msg = ConntrackMessage::Get(Vec::new());
        let undecoded = self.exchange(Op::Dump, NLM_F_DUMP, family, msg, |m| {
            flows.extend(Flow::parse(m));
        })?;
        Ok((flows, undecoded))
    }

    /// Deletes `flow`; an entry already gone is `Refused` with `NotFound`.
    fn delete(&mut self, flow: &Flow) -> Result<(), ConntrackError> {
        let msg = ConntrackMessage::Delete(flow.key.clone());
        self.exchange(Op::Delete, NLM_F_ACK, flow.family, msg, |_| {})
            .map(drop)
    }

    /// Sends a request and reads its replies, each to `each`, up to its end (`NLMSG_DONE` of
    /// a dump, the ack of anything else); returns how many replies could not be decoded.
    fn exchange(
        &mut self,
        op: Op,
        flags: u16,
        family: NetfilterProtoFamily,
        msg: ConntrackMessage,
        mut each: impl FnMut(NetfilterMessage),
    ) -> Result<usize, ConntrackError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        self.socket
            .send(&request(seq, flags, family, msg), 0)
            .map_err(|source| ConntrackError::Send { op, source })?;
        let refused = |code: i32| ConntrackError::Refused {
            op,
            source: io::Error::from_raw_os_error(code.abs()),
        };
        let mut undecoded = 0;
        loop {
            let (buf, _) = self
                .socket
                .recv_from_full()
                .map_err(|source| ConntrackError::Recv { op, source })?;
            for part in messages(&buf) {
                let nl = part.map_err(|source| ConntrackError::Decode { op, source })?;
                if nl.sequence_number() != seq {
                    continue;
                }
                let decode = |source| ConntrackError::Decode { op, source };
                match nl.message_type() {
                    NLMSG_DONE => {
                        let code = DoneBuffer::new_checked(nl.payload()).map_or(0, |d| d.code());
                        return if code < 0 {
                            Err(refused(code))
                        } else {
                            Ok(undecoded)
                        };
                    }
                    NLMSG_ERROR => {
                        let code = ErrorBuffer::new_checked(nl.payload())
                            .map_err(decode)?
                            .code();
                        return match code {
                            None => Ok(undecoded),
                            Some(code) => Err(refused(code.get())),
                        };
                    }
                    _ => match NetlinkMessage::<NetfilterMessage>::deserialize(nl.into_inner()) {
                        Ok(NetlinkMessage {
                            payload: NetlinkPayload::InnerMessage(m),
                            ..
                        }) => each(m),
                        Ok(_) => {}
                        Err(_) => undecoded += 1,
                    },
                }
            }
        }
    }
}

/// The netlink messages of one datagram.
fn messages(buf: &[u8]) -> impl Iterator<Item = Result<NetlinkBuffer<&[u8]>, DecodeError>> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let nl = match NetlinkBuffer::new_checked(rest) {
            Ok(nl) => nl,
            Err(e) => {
                rest = &[];
                return Some(Err(e));
            }
        };
        let len = nl.length() as usize;
        let (this, next) = rest.split_at(len);
        // Messages are padded to 4 bytes.
        rest = next.get(len.next_multiple_of(4) - len..).unwrap_or(&[]);
        Some(Ok(NetlinkBuffer::new(this)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testns::in_new_netns;
    use netlink_packet_core::NLM_F_CREATE;
    use netlink_packet_netfilter::conntrack::Protocol;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_dump_request_is_ctnetlink_get_with_nlm_f_dump() {
        let buf = request(
            7,
            NLM_F_DUMP,
            NetfilterProtoFamily::IPv6,
            ConntrackMessage::Get(Vec::new()),
        );
        #[rustfmt::skip]
        let want = [
            20, 0, 0, 0,   // length
            0x01, 0x01,    // NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET
            0x01, 0x03,    // NLM_F_REQUEST | NLM_F_DUMP
            7, 0, 0, 0,    // sequence
            0, 0, 0, 0,    // port
            10, 0, 0, 0,   // nfgenmsg: AF_INET6, NFNETLINK_V0, res_id 0
        ];
        assert_eq!(buf, want);
    }

    /// A UDP entry as the kernel dumps it (nested attributes flagged `NLA_F_NESTED`): a
    /// client 10.0.0.9:40000 → 192.168.1.2:5353 DNATed to 172.18.0.5:53.
    #[rustfmt::skip]
    const DUMPED: [u8; 140] = [
        140, 0, 0, 0,  0x00, 0x01,  0x02, 0x00,  1, 0, 0, 0,  0, 0, 0, 0, // CT_NEW, NLM_F_MULTI
        2, 0, 0, 0,                                                 // AF_INET
        52, 0, 0x01, 0x80,                                          // CTA_TUPLE_ORIG
          20, 0, 0x01, 0x80,                                        //   CTA_TUPLE_IP
            8, 0, 1, 0,  10, 0, 0, 9,                               //     V4_SRC
            8, 0, 2, 0,  192, 168, 1, 2,                            //     V4_DST
          28, 0, 0x02, 0x80,                                        //   CTA_TUPLE_PROTO
            5, 0, 1, 0,  17, 0, 0, 0,                               //     NUM: udp
            6, 0, 2, 0,  0x9c, 0x40, 0, 0,                          //     SRC_PORT 40000
            6, 0, 3, 0,  0x14, 0xe9, 0, 0,                          //     DST_PORT 5353
        52, 0, 0x02, 0x80,                                          // CTA_TUPLE_REPLY
          20, 0, 0x01, 0x80,
            8, 0, 1, 0,  172, 18, 0, 5,
            8, 0, 2, 0,  10, 0, 0, 9,
          28, 0, 0x02, 0x80,
            5, 0, 1, 0,  17, 0, 0, 0,
            6, 0, 2, 0,  0, 53, 0, 0,
            6, 0, 3, 0,  0x9c, 0x40, 0, 0,
        8, 0, 3, 0,  0, 0, 1, 0x88,                                 // CTA_STATUS
        8, 0, 12, 0,  0xde, 0xad, 0xbe, 0xef,                       // CTA_ID
    ];

    fn dumped() -> Flow {
        let msg = NetlinkMessage::<NetfilterMessage>::deserialize(&DUMPED).unwrap();
        let NetlinkPayload::InnerMessage(m) = msg.payload else {
            panic!("{msg:?}")
        };
        Flow::parse(m).unwrap()
    }

    #[test]
    fn a_dumped_entry_is_parsed_and_deleted_by_tuple_and_id() {
        let f = dumped();
        assert_eq!(f.family, NetfilterProtoFamily::IPv4);
        assert_eq!(f.proto, Some(IPPROTO_UDP));
        assert_eq!(
            (f.orig.src, f.orig.dst, f.orig.dport),
            (Some(v4("10.0.0.9")), Some(v4("192.168.1.2")), Some(5353))
        );
        assert_eq!(
            (f.reply.src, f.reply.dst),
            (Some(v4("172.18.0.5")), Some(v4("10.0.0.9")))
        );
        let del = request(2, NLM_F_ACK, f.family, ConntrackMessage::Delete(f.key));
        // Header (type CT_DELETE, REQUEST|ACK), nfgenmsg, then the original tuple and the ID
        // exactly as dumped, and nothing else.
        assert_eq!(&del[4..8], &[0x02, 0x01, 0x05, 0x00]);
        assert_eq!(del.len(), 16 + 4 + 52 + 8);
        assert_eq!(&del[16..72], &DUMPED[16..72], "nfgenmsg and CTA_TUPLE_ORIG");
        assert_eq!(&del[72..80], &DUMPED[132..140], "CTA_ID");
    }

    #[test]
    fn entries_of_an_address_or_to_a_udp_host_port_are_stale() {
        let f = dumped();
        let stale = |addresses: &[&str], udp_ports: &[(&str, u16)]| Stale {
            addresses: addresses.iter().map(|a| v4(a)).collect(),
            udp_ports: udp_ports.iter().map(|(a, p)| (v4(a), *p)).collect(),
        };
        // The DNAT target (the reply's source) and the client (the reply's destination).
        assert!(stale(&["172.18.0.5"], &[]).matches(&f));
        assert!(stale(&["10.0.0.9"], &[]).matches(&f));
        // The original destination alone is not the entry's address: DNAT changed it.
        assert!(!stale(&["192.168.1.2"], &[]).matches(&f));
        assert!(stale(&[], &[("0.0.0.0", 5353)]).matches(&f));
        assert!(stale(&[], &[("::", 5353)]).matches(&f));
        assert!(stale(&[], &[("192.168.1.2", 5353)]).matches(&f));
        assert!(!stale(&[], &[("127.0.0.1", 5353)]).matches(&f));
        assert!(!stale(&[], &[("0.0.0.0", 53)]).matches(&f));
        let mut tcp = f.clone();
        tcp.proto = Some(6);
        assert!(!stale(&[], &[("0.0.0.0", 5353)]).matches(&tcp));
        assert!(stale(&["172.18.0.5"], &[]).matches(&tcp));
        assert_eq!(
            stale(&["fd00::2"], &[("0.0.0.0", 1)]).families(),
            [NetfilterProtoFamily::IPv4, NetfilterProtoFamily::IPv6]
        );
        assert_eq!(
            stale(&["10.0.0.2"], &[]).families(),
            [NetfilterProtoFamily::IPv4]
        );
    }

    /// Puts a UDP entry `src:sport → dst:dport` (reply from `reply_src`) into the table.
    fn inject(
        ct: &mut Ctnetlink,
        (src, sport): (&str, u16),
        (dst, dport): (&str, u16),
        reply_src: &str,
    ) {
        let tuple = |s: IpAddr, d: IpAddr, sp: u16, dp: u16| {
            vec![
                Tuple::Ip(vec![
                    IPTuple::SourceAddress(s),
                    IPTuple::DestinationAddress(d),
                ]),
                Tuple::Proto(vec![
                    ProtoTuple::Protocol(Protocol::Udp),
                    ProtoTuple::SourcePort(sp),
                    ProtoTuple::DestinationPort(dp),
                ]),
            ]
        };
        let (src, dst, reply_src) = (v4(src), v4(dst), v4(reply_src));
        let family = if src.is_ipv4() {
            NetfilterProtoFamily::IPv4
        } else {
            NetfilterProtoFamily::IPv6
        };
        let msg = ConntrackMessage::New(vec![
            ConntrackAttribute::CtaTupleOrig(tuple(src, dst, sport, dport)),
            ConntrackAttribute::CtaTupleReply(tuple(reply_src, src, dport, sport)),
            ConntrackAttribute::CtaTimeout(120),
        ]);
        // (`op` only names the request in errors.)
        ct.exchange(Op::Delete, NLM_F_CREATE | NLM_F_ACK, family, msg, |_| {})
            .expect("injecting an entry");
    }

    fn table(ct: &mut Ctnetlink) -> Vec<(IpAddr, u16)> {
        let mut all: Vec<_> = [NetfilterProtoFamily::IPv4, NetfilterProtoFamily::IPv6]
            .into_iter()
            .flat_map(|fam| ct.dump(fam).unwrap().0)
            .map(|f| (f.orig.dst.unwrap(), f.orig.dport.unwrap()))
            .collect();
        all.sort();
        all
    }

    #[test]
    fn clear_deletes_the_stale_entries_of_a_real_table_and_nothing_else() {
        in_new_netns(|| {
            let nothing = Stale {
                addresses: vec![v4("10.1.0.5")],
                udp_ports: vec![(v4("0.0.0.0"), 5353)],
            };
            // An empty table: nothing to do, no socket needed.
            assert_eq!(clear(&nothing).unwrap(), Cleared::default());
            let mut ct = Ctnetlink::open().unwrap();
            inject(&mut ct, ("10.9.0.2", 40000), ("10.1.0.1", 5353), "10.1.0.1"); // to the port
            inject(&mut ct, ("10.9.0.2", 40001), ("10.1.0.1", 8080), "10.1.0.5"); // DNATed to .5
            inject(&mut ct, ("10.9.0.2", 40002), ("10.1.0.1", 9999), "10.1.0.1"); // neither
            inject(&mut ct, ("fd00::9", 40003), ("fd00::1", 5353), "fd00::1"); // port, IPv6
            assert_eq!(table(&mut ct).len(), 4);
            let done = clear(&Stale {
                addresses: vec![v4("10.1.0.5")],
                udp_ports: vec![(v4("0.0.0.0"), 5353)],
            })
            .unwrap();
            assert_eq!(
                done,
                Cleared {
                    deleted: 3,
                    undecoded: 0
                }
            );
            assert_eq!(table(&mut ct), [(v4("10.1.0.1"), 9999)]);
            // A port on one host address leaves the others' entries.
            inject(&mut ct, ("10.9.0.2", 40004), ("10.1.0.1", 5353), "10.1.0.1");
            let one = Stale {
                addresses: vec![],
                udp_ports: vec![(v4("127.0.0.1"), 5353)],
            };
            assert_eq!(clear(&one).unwrap().deleted, 0);
            assert_eq!(table(&mut ct).len(), 2);
            // An entry gone between the dump and the delete counts as deleted.
            let (mut flows, _) = ct.dump(NetfilterProtoFamily::IPv4).unwrap();
            flows.retain(|f| f.orig.dport == Some(5353));
            ct.delete(&flows[0]).unwrap();
            let again = ct.delete(&flows[0]).unwrap_err();
            assert!(
                matches!(&again, ConntrackError::Refused { source, .. } if source.kind() == io::ErrorKind::NotFound),
                "{again:?}"
            );
        });
    }
}
