//! A registry over TLS that wants client certificates: the daemon trusts its CA and presents
//! its certificate from `certs.d`, as dockerd does; a registry whose certificate no CA there
//! signed is refused. The registry is on 10.77.0.1 (not loopback, which is insecure by
//! default), in the daemon's network namespace; `/etc` is an overlay in the daemon's mount
//! namespace, so the host's `/etc/berth` is never touched.

mod common;
mod distribution;

use common::{Pki, TestDaemon};
use distribution::Registry;

#[test]
fn certs_d_gives_the_registrys_ca_and_the_client_certificate() {
    let pki = Pki::new();
    let san = "subjectAltName=IP:10.77.0.1\nextendedKeyUsage=serverAuth\n";
    pki.key_pair("reg", Some("ca"), san);
    pki.key_pair("selfsigned", None, san);
    let host = "10.77.0.1:5030";
    let prelude = format!(
        "mkdir -p \"$BERTH_TEST_DIR/etc-up\" \"$BERTH_TEST_DIR/etc-work\"
mount -t overlay overlay -o lowerdir=/etc,upperdir=\"$BERTH_TEST_DIR/etc-up\",workdir=\"$BERTH_TEST_DIR/etc-work\" /etc
mkdir -p /etc/berth/certs.d/{host}
cp {ca} /etc/berth/certs.d/{host}/ca.crt
cp {cert} /etc/berth/certs.d/{host}/client.cert
cp {key} /etc/berth/certs.d/{host}/client.key",
        ca = pki.p("ca/cert.pem"),
        cert = pki.p("client/cert.pem"),
        key = pki.p("client/key.pem"),
    );
    let d = TestDaemon::start_in_netns_and_mount_ns(&prelude);
    d.in_netns(&["ip", "addr", "add", "10.77.0.1/32", "dev", "lo"])
        .ok();
    d.import_busybox("busybox");
    let (cert, key, ca) = (
        pki.p("reg/cert.pem"),
        pki.p("reg/key.pem"),
        pki.p("ca/cert.pem"),
    );
    let r = Registry::start_tls(&d, "10.77.0.1", 5030, (&cert, &key, &ca));
    // skopeo's certificate directory has the same layout.
    let skopeo = d.dir().join("skopeo-certs");
    std::fs::create_dir_all(&skopeo).unwrap();
    std::fs::copy(&ca, skopeo.join("ca.crt")).unwrap();
    std::fs::copy(pki.p("client/cert.pem"), skopeo.join("client.cert")).unwrap();
    std::fs::copy(pki.p("client/key.pem"), skopeo.join("client.key")).unwrap();
    let cert_dir = format!("--dest-cert-dir={}", skopeo.display());
    r.seed_with(&d, "busybox", "lib/busybox:1", &[&cert_dir], None);
    d.docker(&["rmi", "busybox"]).ok();

    let name = format!("{host}/lib/busybox:1");
    let out = d.docker(&["pull", &name]).ok();
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {name}")),
        "{out}"
    );
    assert_eq!(
        d.docker(&["run", "--rm", &name, "echo", "tls"]).ok(),
        "tls\n"
    );
    // Pushing presents the client certificate too.
    let copy = format!("{host}/lib/copy:1");
    d.docker(&["tag", &name, &copy]).ok();
    assert!(
        d.docker(&["push", &copy])
            .ok()
            .contains("1: digest: sha256:")
    );

    // A registry whose certificate no CA of certs.d (or the system's) signed is refused.
    let (scert, skey) = (pki.p("selfsigned/cert.pem"), pki.p("selfsigned/key.pem"));
    let other = Registry::start_tls(&d, "10.77.0.1", 5031, (&scert, &skey, &ca));
    let refused = d.docker(&["pull", &format!("{}/lib/busybox:1", other.addr)]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("certificate"), "{refused:?}");
}
