use std::collections::HashMap;
use std::net::Ipv4Addr;

use hickory_proto::op::Query;

use super::*;
use crate::testns::in_new_netns;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn nets(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

fn query(name: &str, kind: RecordType) -> Vec<u8> {
    let mut m = Message::query();
    m.metadata.id = 4242;
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
    m.to_vec().unwrap()
}

fn answers(reply: Reply) -> (ResponseCode, Vec<String>, Vec<u32>) {
    let Reply::Answer(bytes) = reply else {
        panic!("not answered here: {reply:?}");
    };
    let m = Message::from_vec(&bytes).unwrap();
    assert_eq!(m.metadata.id, 4242);
    let data = m.answers.iter().map(|r| r.data.to_string()).collect();
    let ttls = m.answers.iter().map(|r| r.ttl).collect();
    (m.metadata.response_code, data, ttls)
}

fn sample() -> Names {
    let mut n = Names::default();
    n.add(
        "front",
        &nets(&["web", "www", "0123456789ab"]),
        &[ip("172.18.0.2"), ip("fd00::2")],
    );
    n.add("front", &nets(&["api", "www"]), &[ip("172.18.0.3")]);
    n.add("back", &nets(&["db"]), &[ip("172.19.0.2")]);
    n
}

#[test]
fn names_aliases_and_short_ids_answer_on_the_askers_networks_only() {
    let n = sample();
    let front = nets(&["front"]);
    let (code, data, ttls) = answers(n.answer(&front, &query("web.", RecordType::A)));
    assert_eq!(
        (code, data, ttls),
        (
            ResponseCode::NoError,
            vec!["172.18.0.2".to_string()],
            vec![TTL]
        )
    );
    let (_, data, _) = answers(n.answer(&front, &query("0123456789AB.", RecordType::A)));
    assert_eq!(data, ["172.18.0.2"], "short IDs, any case");
    let (_, data, _) = answers(n.answer(&front, &query("web.front.", RecordType::AAAA)));
    assert_eq!(data, ["fd00::2"], "name.network and AAAA");
    assert_eq!(
        n.answer(&front, &query("db.", RecordType::A)),
        Reply::Forward,
        "another network's"
    );
    let (_, data, _) = answers(n.answer(&nets(&["front", "back"]), &query("db.", RecordType::A)));
    assert_eq!(
        data,
        ["172.19.0.2"],
        "a container on both networks sees both"
    );
    assert_eq!(
        n.answer(&front, &query("example.com.", RecordType::A)),
        Reply::Forward
    );
    assert_eq!(n.answer(&front, &b"\x01\x02junk"[..]), Reply::Drop);
}

#[test]
fn a_known_name_without_the_family_is_an_empty_answer_not_a_forward() {
    let (code, data, _) =
        answers(sample().answer(&nets(&["front"]), &query("api.", RecordType::AAAA)));
    assert_eq!((code, data.len()), (ResponseCode::NoError, 0));
}

#[test]
fn an_alias_of_several_containers_rotates() {
    let n = sample();
    let front = nets(&["front"]);
    let first: Vec<Vec<String>> = (0..2)
        .map(|_| answers(n.answer(&front, &query("www.", RecordType::A))).1)
        .collect();
    assert_eq!(first[0].len(), 2);
    assert_ne!(first[0], first[1], "round-robin");
}

#[test]
fn ptr_names_the_container_and_removal_forgets_it() {
    let mut n = sample();
    let front = nets(&["front"]);
    let (_, data, _) =
        answers(n.answer(&front, &query("2.0.18.172.in-addr.arpa.", RecordType::PTR)));
    assert_eq!(data, ["web."]);
    n.remove("front", &[ip("172.18.0.2"), ip("fd00::2")]);
    assert_eq!(
        n.answer(&front, &query("web.", RecordType::A)),
        Reply::Forward
    );
    let (_, data, _) = answers(n.answer(&front, &query("www.", RecordType::A)));
    assert_eq!(data, ["172.18.0.3"], "the alias keeps its other container");
}

#[test]
fn a_link_is_a_name_for_the_linking_container_only() {
    let mut n = Names::default();
    n.add("front", &["db".into()], &["172.18.0.5".parse().unwrap()]);
    let front = vec!["front".to_string()];
    let links = HashMap::from([("pg".to_string(), "db".to_string())]);
    let reply = n.answer_with_links(&front, &links, &query("PG.", RecordType::A));
    let Reply::Answer(bytes) = &reply else {
        panic!("not answered: {reply:?}");
    };
    let m = Message::from_vec(bytes).unwrap();
    assert_eq!(
        m.answers[0].name.to_ascii(),
        "PG.",
        "the answer names what was asked"
    );
    let (_, data, _) = answers(reply);
    assert_eq!(data, ["172.18.0.5"]);
    assert_eq!(
        n.answer(&front, &query("pg.", RecordType::A)),
        Reply::Forward
    );
}

#[test]
fn forwarding_asks_every_upstream_at_once() {
    let took = in_new_netns(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let live = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let live_addr = live.local_addr().unwrap();
            // A server that never answers, asked first.
            let dead = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 512];
                let (n, from) = live.recv_from(&mut buf).await.unwrap();
                let mut q = Message::from_vec(&buf[..n]).unwrap();
                q.metadata.message_type = MessageType::Response;
                q.add_answer(Record::from_rdata(
                    Name::from_ascii("example.com.").unwrap(),
                    60,
                    RData::A(A(Ipv4Addr::new(93, 184, 216, 34))),
                ));
                live.send_to(&q.to_vec().unwrap(), from).await.unwrap();
            });
            let start = std::time::Instant::now();
            let ups = [dead.local_addr().unwrap(), live_addr];
            let got = forward(
                &query("example.com.", RecordType::A),
                &ups,
                Duration::from_secs(3),
            )
            .await
            .expect("answered");
            let m = Message::from_vec(&got).unwrap();
            assert_eq!(m.answers[0].data.to_string(), "93.184.216.34");
            let none = forward(
                &query("x.", RecordType::A),
                &[dead.local_addr().unwrap()],
                Duration::from_millis(100),
            )
            .await;
            assert!(none.is_none());
            start.elapsed()
        })
    });
    assert!(
        took < Duration::from_secs(1),
        "not one server after another: {took:?}"
    );
}

#[test]
fn tcp_forwarding_takes_the_first_upstream_that_answers() {
    in_new_netns(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let live = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let live_addr = live.local_addr().unwrap();
            // One that accepts and never answers, one that refuses: neither holds it up.
            let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let refused = {
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                l.local_addr().unwrap()
            };
            tokio::spawn(async move {
                let (mut c, _) = live.accept().await.unwrap();
                let mut n = [0u8; 2];
                c.read_exact(&mut n).await.unwrap();
                let mut buf = vec![0u8; usize::from(u16::from_be_bytes(n))];
                c.read_exact(&mut buf).await.unwrap();
                let mut q = Message::from_vec(&buf).unwrap();
                q.metadata.message_type = MessageType::Response;
                q.add_answer(Record::from_rdata(
                    Name::from_ascii("big.example.").unwrap(),
                    60,
                    RData::A(A(Ipv4Addr::new(10, 9, 8, 7))),
                ));
                let a = q.to_vec().unwrap();
                c.write_all(&(a.len() as u16).to_be_bytes()).await.unwrap();
                c.write_all(&a).await.unwrap();
            });
            let ups = [silent.local_addr().unwrap(), refused, live_addr];
            let got = forward_tcp(
                &query("big.example.", RecordType::A),
                &ups,
                Duration::from_secs(3),
            )
            .await
            .expect("answered");
            let m = Message::from_vec(&got).unwrap();
            assert_eq!(m.answers[0].data.to_string(), "10.9.8.7");
            drop(silent);
        });
    });
}

#[test]
fn queries_to_127_0_0_11_53_reach_the_daemons_socket_and_port_53_stays_free() {
    in_new_netns(|| {
        let l = Listener::bind_here().unwrap();
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        client.send_to(b"ping", (RESOLVER, 53)).unwrap();
        let mut buf = [0u8; 16];
        l.udp
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let (n, from) = l.udp.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        l.udp.send_to(b"pong", from).unwrap();
        let (n, replier) = client.recv_from(&mut buf).unwrap();
        assert_eq!(
            (&buf[..n], replier),
            (&b"pong"[..], SocketAddr::from((RESOLVER, 53)))
        );
        // TCP too.
        let mut c = std::net::TcpStream::connect((RESOLVER, 53)).unwrap();
        let (mut s, _) = l.tcp.accept().unwrap();
        use std::io::{Read, Write};
        s.write_all(b"tcp").unwrap();
        let mut got = [0u8; 3];
        c.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"tcp");
        // The container's own DNS server can still have port 53.
        std::net::UdpSocket::bind("0.0.0.0:53").unwrap();
        std::net::TcpListener::bind("0.0.0.0:53").unwrap();
    });
}
