//! `network create`, `ls`, `inspect`, `rm`, `prune`, with Docker's columns and messages.

use anyhow::Result;
use berth_api::container::{EndpointIpamConfig, EndpointSettings};
use berth_client::Client;
use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};

use super::template::Template;
use super::volumes::indented;
use super::{each, enc, filters_json};

#[derive(Debug, clap::Subcommand)]
pub enum NetworkCommand {
    /// Create a network.
    Create(CreateArgs),
    /// List networks.
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more networks.
    Inspect(InspectArgs),
    /// Remove one or more networks.
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove all unused networks.
    Prune(PruneArgs),
    /// Connect a container to a network.
    Connect(ConnectArgs),
    /// Disconnect a container from a network.
    Disconnect(DisconnectArgs),
}

#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    /// The network.
    network: String,
    /// The container.
    container: String,
    /// IPv4 address (e.g., "172.30.100.104").
    #[arg(long)]
    ip: Option<String>,
    /// IPv6 address (e.g., "2001:db8::33").
    #[arg(long)]
    ip6: Option<String>,
    /// Add link to another container.
    #[arg(long)]
    link: Vec<String>,
    /// Add network-scoped alias for the container.
    #[arg(long, value_delimiter = ',')]
    alias: Vec<String>,
    /// Add a link-local address for the container.
    #[arg(long, value_delimiter = ',')]
    link_local_ip: Vec<String>,
    /// driver options for the network.
    #[arg(long, value_delimiter = ',')]
    driver_opt: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct DisconnectArgs {
    /// The network.
    network: String,
    /// The container.
    container: String,
    /// Force the container to disconnect from a network.
    #[arg(short, long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The network's name.
    name: String,
    /// Driver to manage the Network.
    #[arg(short, long, default_value = "bridge")]
    driver: String,
    /// Subnet in CIDR format that represents a network segment.
    #[arg(long)]
    subnet: Vec<String>,
    /// IPv4 or IPv6 Gateway for the master subnet.
    #[arg(long)]
    gateway: Vec<String>,
    /// Allocate container ip from a sub-range.
    #[arg(long)]
    ip_range: Vec<String>,
    /// Auxiliary IPv4 or IPv6 addresses used by Network driver.
    #[arg(long)]
    aux_address: Vec<String>,
    /// Restrict external access to the network.
    #[arg(long)]
    internal: bool,
    /// Enable IPv6 networking.
    #[arg(long)]
    ipv6: bool,
    /// Enable manual container attachment.
    #[arg(long)]
    attachable: bool,
    /// Set metadata on a network.
    #[arg(long = "label")]
    labels: Vec<String>,
    /// Set driver specific options.
    #[arg(short = 'o', long = "opt")]
    opts: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Only display network IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Provide filter values (e.g. "driver=bridge").
    #[arg(short, long = "filter")]
    filters: Vec<String>,
    /// Pretty-print networks using a Go template.
    #[arg(long)]
    format: Option<String>,
    /// Do not truncate the output.
    #[arg(long)]
    no_trunc: bool,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    #[arg(required = true)]
    names: Vec<String>,
    /// Format the output using the given Go template.
    #[arg(short, long)]
    format: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    #[arg(required = true)]
    names: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Provide filter values (e.g. "label=<key>=<value>").
    #[arg(long = "filter")]
    filters: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    force: bool,
}

pub async fn network(client: &Client, cmd: NetworkCommand) -> Result<u8> {
    match cmd {
        NetworkCommand::Create(a) => create(client, a).await,
        NetworkCommand::Ls(a) => ls(client, a).await,
        NetworkCommand::Inspect(a) => inspect(client, a).await,
        NetworkCommand::Rm(a) => rm(client, a).await,
        NetworkCommand::Prune(a) => prune(client, a).await,
        NetworkCommand::Connect(a) => connect(client, a).await,
        NetworkCommand::Disconnect(a) => disconnect(client, a).await,
    }
}

/// The body of `POST /networks/{id}/connect` as the docker CLI sends it: an IPAM config
/// always (empty addresses are none), the aliases and driver options even when empty.
fn connect_body(a: &ConnectArgs) -> Result<Value> {
    for l in &a.link {
        if let Err(m) = super::net_opts::validate_link(l) {
            anyhow::bail!("invalid argument \"{l}\" for \"--link\" flag: {m}");
        }
    }
    let mut driver_opts = std::collections::BTreeMap::new();
    for o in &a.driver_opt {
        match o.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                driver_opts.insert(k.trim().to_string(), v.trim().to_string());
            }
            _ => anyhow::bail!("invalid key/value pair format in driver options"),
        }
    }
    let endpoint = EndpointSettings {
        ipam_config: Some(EndpointIpamConfig {
            ipv4_address: a.ip.clone().unwrap_or_default(),
            ipv6_address: a.ip6.clone().unwrap_or_default(),
            link_local_ips: Some(a.link_local_ip.clone()),
        }),
        links: (!a.link.is_empty()).then(|| a.link.clone()),
        aliases: Some(a.alias.clone()),
        driver_opts: Some(driver_opts),
        ..EndpointSettings::default()
    };
    Ok(json!({"Container": a.container, "EndpointConfig": endpoint}))
}

async fn connect(client: &Client, a: ConnectArgs) -> Result<u8> {
    let body = connect_body(&a)?;
    post(
        client,
        &format!("/networks/{}/connect", enc(&a.network)),
        &body,
    )
    .await
}

fn disconnect_body(a: &DisconnectArgs) -> Value {
    json!({"Container": a.container, "Force": a.force})
}

async fn disconnect(client: &Client, a: DisconnectArgs) -> Result<u8> {
    let body = disconnect_body(&a);
    post(
        client,
        &format!("/networks/{}/disconnect", enc(&a.network)),
        &body,
    )
    .await
}

/// POSTs a JSON body whose answer is empty (`200 OK`); the daemon's error as Docker prints it.
async fn post(client: &Client, path: &str, body: &Value) -> Result<u8> {
    let bytes = Bytes::from(serde_json::to_vec(body)?);
    client
        .bytes(Method::POST, path, Some((bytes, "application/json")))
        .await?;
    Ok(0)
}

fn pairs(items: &[String]) -> serde_json::Map<String, Value> {
    items
        .iter()
        .map(|i| match i.split_once('=') {
            Some((k, v)) => (k.to_string(), json!(v)),
            None => (i.clone(), json!("")),
        })
        .collect()
}

/// `IPAM.Config` as the docker CLI builds it: one entry per `--subnet`, with the gateway,
/// range and aux addresses given in order.
fn ipam_config(a: &CreateArgs) -> Vec<Value> {
    a.subnet
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut c = json!({"Subnet": s});
            if let Some(g) = a.gateway.get(i) {
                c["Gateway"] = json!(g);
            }
            if let Some(r) = a.ip_range.get(i) {
                c["IPRange"] = json!(r);
            }
            if i == 0 && !a.aux_address.is_empty() {
                c["AuxiliaryAddresses"] = Value::Object(pairs(&a.aux_address));
            }
            c
        })
        .collect()
}

async fn create(client: &Client, a: CreateArgs) -> Result<u8> {
    let body = json!({
        "Name": a.name, "CheckDuplicate": true, "Driver": a.driver,
        "IPAM": {"Driver": "default", "Config": ipam_config(&a), "Options": {}},
        "Internal": a.internal, "EnableIPv6": a.ipv6, "Attachable": a.attachable,
        "Options": Value::Object(pairs(&a.opts)), "Labels": Value::Object(pairs(&a.labels)),
    });
    let v: Value = client.post_json("/networks/create", &body).await?;
    println!("{}", v["Id"].as_str().unwrap_or_default());
    Ok(0)
}

async fn ls(client: &Client, a: LsArgs) -> Result<u8> {
    let mut path = "/networks".to_string();
    if !a.filters.is_empty() {
        path.push_str(&format!("?filters={}", enc(&filters_json(&a.filters)?)));
    }
    let v: Value = client.get(&path).await?;
    let mut nets: Vec<Value> = v.as_array().cloned().unwrap_or_default();
    nets.sort_by(|x, y| x["Name"].as_str().cmp(&y["Name"].as_str()));
    let format = match (a.quiet, a.format.as_deref()) {
        (true, _) => "{{.ID}}",
        (false, Some(f)) if !f.is_empty() && f != "table" => f,
        _ => "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
    };
    let t = Template::parse(format)?;
    let mut rows = Vec::new();
    if t.table {
        let header = json!({"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"});
        rows.push(t.render(&header)?);
    }
    for n in &nets {
        let id = n["Id"].as_str().unwrap_or_default();
        let id = if a.no_trunc {
            id
        } else {
            &id[..id.len().min(12)]
        };
        let row = json!({
            "ID": id, "Name": n["Name"], "Driver": n["Driver"], "Scope": n["Scope"],
            "IPv6": n["EnableIPv6"].to_string(), "Internal": n["Internal"].to_string(),
            "CreatedAt": n["Created"],
        });
        rows.push(t.render(&row)?);
    }
    super::template::print_rows(&t, &rows);
    Ok(0)
}

async fn inspect(client: &Client, a: InspectArgs) -> Result<u8> {
    let t = a.format.as_deref().map(Template::parse).transpose()?;
    let (mut found, mut code) = (Vec::new(), 0);
    for n in &a.names {
        match client.get::<Value>(&format!("/networks/{}", enc(n))).await {
            Ok(v) => found.push(v),
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
            }
        }
    }
    match t {
        Some(t) => {
            for v in &found {
                println!("{}", t.render(v)?);
            }
        }
        None => println!("{}", indented(&found)),
    }
    Ok(code)
}

async fn rm(client: &Client, a: RmArgs) -> Result<u8> {
    each(&a.names, |n| async move {
        client
            .bytes(Method::DELETE, &format!("/networks/{}", enc(&n)), None)
            .await?;
        println!("{n}");
        Ok(())
    })
    .await
}

const PRUNE_WARNING: &str = "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?";

async fn prune(client: &Client, a: PruneArgs) -> Result<u8> {
    if !a.force && !super::confirm(PRUNE_WARNING)? {
        return Ok(0);
    }
    let path = format!(
        "/networks/prune?filters={}",
        enc(&filters_json(&a.filters)?)
    );
    let (_, body) = client
        .bytes(
            Method::POST,
            &path,
            Some((Bytes::new(), "application/json")),
        )
        .await?;
    let v: Value = serde_json::from_slice(&body)?;
    if let Some(names) = v["NetworksDeleted"].as_array().filter(|a| !a.is_empty()) {
        println!("Deleted Networks:");
        for n in names {
            println!("{}", n.as_str().unwrap_or_default());
        }
        println!();
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, clap::Parser)]
    struct T {
        #[command(subcommand)]
        c: NetworkCommand,
    }

    fn parse(args: &[&str]) -> NetworkCommand {
        let mut v = vec!["network"];
        v.extend_from_slice(args);
        T::try_parse_from(v).unwrap().c
    }

    #[test]
    fn connect_sends_what_the_cli_sends() {
        let NetworkCommand::Connect(a) = parse(&["connect", "n1", "web"]) else {
            panic!("connect")
        };
        assert_eq!(
            connect_body(&a).unwrap(),
            json!({"Container": "web", "EndpointConfig": {
                "IPAMConfig": {"IPv4Address": "", "IPv6Address": "", "LinkLocalIPs": []},
                "Aliases": [], "DriverOpts": {}, "MacAddress": "",
            }})
        );
        let NetworkCommand::Connect(a) = parse(&[
            "connect",
            "--alias",
            "a,b",
            "--alias",
            "c",
            "--ip",
            "10.1.0.5",
            "--ip6",
            "fd00::5",
            "--link",
            "db:database",
            "--driver-opt",
            "com.example.x = 1",
            "n1",
            "web",
        ]) else {
            panic!("connect")
        };
        assert_eq!(
            connect_body(&a).unwrap(),
            json!({"Container": "web", "EndpointConfig": {
                "IPAMConfig": {"IPv4Address": "10.1.0.5", "IPv6Address": "fd00::5", "LinkLocalIPs": []},
                "Links": ["db:database"], "Aliases": ["a", "b", "c"],
                "DriverOpts": {"com.example.x": "1"}, "MacAddress": "",
            }})
        );
    }

    #[test]
    fn connect_errors() {
        let NetworkCommand::Connect(a) = parse(&["connect", "--driver-opt", "x", "n", "c"]) else {
            panic!("connect")
        };
        assert_eq!(
            connect_body(&a).unwrap_err().to_string(),
            "invalid key/value pair format in driver options"
        );
        let NetworkCommand::Connect(a) = parse(&["connect", "--link", "a:b:c", "n", "c"]) else {
            panic!("connect")
        };
        assert_eq!(
            connect_body(&a).unwrap_err().to_string(),
            "invalid argument \"a:b:c\" for \"--link\" flag: bad format for links: a:b:c"
        );
        T::try_parse_from(["network", "connect", "n"]).unwrap_err();
    }

    #[test]
    fn disconnect_body_has_force() {
        let NetworkCommand::Disconnect(a) = parse(&["disconnect", "-f", "n1", "web"]) else {
            panic!("disconnect")
        };
        assert_eq!(
            disconnect_body(&a),
            json!({"Container": "web", "Force": true})
        );
        let NetworkCommand::Disconnect(a) = parse(&["disconnect", "n1", "web"]) else {
            panic!("disconnect")
        };
        assert_eq!(
            disconnect_body(&a),
            json!({"Container": "web", "Force": false})
        );
    }
}
