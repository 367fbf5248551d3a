//! `update`: new limits (and restart policy) for containers, with the docker CLI's flags; each
//! container is printed as given once updated.

use anyhow::Result;
use berth_client::Client;
use serde_json::{Map, Value, json};

/// Flags of `update`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable.
    #[arg(long)]
    blkio_weight: Option<u16>,
    /// Limit CPU CFS (Completely Fair Scheduler) period.
    #[arg(long)]
    cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota.
    #[arg(long, allow_negative_numbers = true)]
    cpu_quota: Option<i64>,
    /// Limit the CPU real-time period in microseconds.
    #[arg(long)]
    cpu_rt_period: Option<i64>,
    /// Limit the CPU real-time runtime in microseconds.
    #[arg(long)]
    cpu_rt_runtime: Option<i64>,
    /// CPU shares (relative weight).
    #[arg(short = 'c', long)]
    cpu_shares: Option<i64>,
    /// Number of CPUs.
    #[arg(long)]
    cpus: Option<f64>,
    /// CPUs in which to allow execution (0-3, 0,1).
    #[arg(long)]
    cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1).
    #[arg(long)]
    cpuset_mems: Option<String>,
    /// Memory limit.
    #[arg(short, long)]
    memory: Option<String>,
    /// Memory soft limit.
    #[arg(long)]
    memory_reservation: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap.
    #[arg(long, allow_negative_numbers = true)]
    memory_swap: Option<String>,
    /// Tune container pids limit (set -1 for unlimited).
    #[arg(long, allow_negative_numbers = true)]
    pids_limit: Option<i64>,
    /// Restart policy to apply when a container exits.
    #[arg(long)]
    restart: Option<String>,
    #[arg(required = true)]
    containers: Vec<String>,
}

impl UpdateArgs {
    /// The request body, as the docker CLI builds it: only the flags given.
    fn body(&self) -> Result<Value> {
        let bytes = |s: &Option<String>| s.as_deref().map(super::run::bytes_arg).transpose();
        let mut b = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                b.insert(k.to_string(), v);
            }
        };
        put("BlkioWeight", self.blkio_weight.map(Value::from));
        put("CpuPeriod", self.cpu_period.map(Value::from));
        put("CpuQuota", self.cpu_quota.map(Value::from));
        put("CpuRealtimePeriod", self.cpu_rt_period.map(Value::from));
        put("CpuRealtimeRuntime", self.cpu_rt_runtime.map(Value::from));
        put("CpuShares", self.cpu_shares.map(Value::from));
        put("NanoCpus", self.cpus.map(|c| Value::from((c * 1e9) as i64)));
        put("CpusetCpus", self.cpuset_cpus.clone().map(Value::from));
        put("CpusetMems", self.cpuset_mems.clone().map(Value::from));
        put("Memory", bytes(&self.memory)?.map(Value::from));
        put(
            "MemoryReservation",
            bytes(&self.memory_reservation)?.map(Value::from),
        );
        let swap = match self.memory_swap.as_deref() {
            Some("-1") => Some(-1),
            other => other.map(super::run::bytes_arg).transpose()?,
        };
        put("MemorySwap", swap.map(Value::from));
        put("PidsLimit", self.pids_limit.map(Value::from));
        if let Some(p) = &self.restart {
            let (name, count) = p.split_once(':').unwrap_or((p, "0"));
            let count: i64 = count.parse().map_err(|_| {
                anyhow::anyhow!(
                    "invalid restart policy format: maximum retry count must be an integer"
                )
            })?;
            put(
                "RestartPolicy",
                Some(json!({"Name": name, "MaximumRetryCount": count})),
            );
        }
        if b.is_empty() {
            anyhow::bail!("you must provide one or more flags when using this command");
        }
        Ok(Value::Object(b))
    }
}

pub async fn update(client: &Client, a: UpdateArgs) -> Result<u8> {
    let body = a.body()?;
    let body = &body;
    super::each(&a.containers, |c| async move {
        let r: Value = client
            .post_json(&format!("/containers/{c}/update"), body)
            .await?;
        for w in r["Warnings"].as_array().into_iter().flatten() {
            eprintln!("{}", w.as_str().unwrap_or_default());
        }
        println!("{c}");
        Ok(())
    })
    .await
}
