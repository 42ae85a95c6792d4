//! `tunnel-load`: the benchmarks of issue 4 (see the crate README).
//!
//! 1. kube-manager process start → cluster Active (median of `--start-runs`).
//! 2. One `lapdev server` process holding `--tunnels` simulated tunnels
//!    (clusters created through the API, each client speaking the tunnel
//!    protocol over TLS with heartbeats at the server's interval): RSS per
//!    tunnel and CPU spent while they only heartbeat.
//! 3. After a server restart (same port and data), the time until every
//!    tunnel is back and every cluster Active (median of `--restarts`).
//!
//! Beside it, the named peer: a bare tokio-tungstenite TLS WebSocket server
//! (`tunnel-load peer-server`, no auth, no database) under the same load.
//! Loopback only; it stops by itself. Build with `--release`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::bail;
use clap::{Parser, Subcommand};
use lapdev_api::ClusterStatus;
use lapdev_e2e::api::Api;
use lapdev_e2e::kube_manager::{KubeManager, KubeManagerSetup};
use lapdev_e2e::kube_sim::KubeSim;
use lapdev_e2e::load::Load;
use lapdev_e2e::process::Proc;
use lapdev_e2e::procstat::{cpu_time, open_files_limit, rss_bytes};
use lapdev_e2e::server::{Server, Timing, parse_field};
use lapdev_e2e::tls::TlsFiles;
use tokio::process::Command;

#[derive(Debug, Parser)]
#[command(
    name = "tunnel-load",
    about = "Benchmarks of the cluster tunnel (issue 4)."
)]
struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Simulated tunnels (clusters) held at once.
    #[arg(long, default_value_t = 1000)]
    tunnels: usize,
    /// kube-manager start → Active measurements.
    #[arg(long, default_value_t = 11)]
    start_runs: usize,
    /// Server restarts measured.
    #[arg(long, default_value_t = 3)]
    restarts: usize,
    /// CPU measurement window in seconds (split in 3 sub-windows).
    #[arg(long, default_value_t = 30)]
    cpu_window_secs: u64,
    /// Heartbeat interval the servers announce (the server's default is 10).
    #[arg(long, default_value_t = 10)]
    heartbeat_secs: u64,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// The bare WebSocket peer server (run by the benchmark itself).
    PeerServer {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        heartbeat_secs: u32,
    },
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    lapdev_e2e::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.command {
        Some(Sub::PeerServer {
            listen,
            cert,
            key,
            heartbeat_secs,
        }) => runtime.block_on(peer_server(listen, cert, key, heartbeat_secs)),
        None => runtime.block_on(bench(&args)),
    }
}

async fn peer_server(
    listen: SocketAddr,
    cert: PathBuf,
    key: PathBuf,
    heartbeat_secs: u32,
) -> anyhow::Result<()> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(&cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&key)?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!(
        "{}",
        lapdev_e2e::peer::listening_line(listener.local_addr()?)
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        signal.cancel();
    });
    lapdev_e2e::peer::serve(
        listener,
        lapdev_e2e::peer::server_config(chain, key),
        heartbeat_secs,
        stop,
    )
    .await;
    Ok(())
}

/// What one target (the Lapdev server or the peer) measured under the load.
#[derive(Debug, Default)]
struct Holding {
    connect_all: Duration,
    rss_idle: u64,
    rss_loaded: u64,
    /// CPU seconds per wall second, per sub-window.
    cpu_per_sec: Vec<f64>,
    /// Heartbeats acknowledged per wall second, per sub-window.
    acks_per_sec: Vec<f64>,
    restart_to_all_live: Vec<Duration>,
    restart_to_all_active_api: Vec<Duration>,
}

async fn bench(args: &Args) -> anyhow::Result<()> {
    let need = args.tunnels as u64 + 256;
    match open_files_limit() {
        Some(n) if n < need => bail!(
            "the open-files limit is {n}, {need} are needed for {} tunnels: run `ulimit -n 4096` first",
            args.tunnels
        ),
        n => eprintln!("open-files limit: {n:?}"),
    }
    if !lapdev_e2e::bins::profile_dir().ends_with("release") {
        eprintln!("WARNING: not a release build; figures are not representative");
    }
    let dir = tempfile::tempdir()?;
    let tls = TlsFiles::generate_in(dir.path());
    let timing = Timing {
        heartbeat_secs: args.heartbeat_secs,
        status_secs: 60,
    };
    let mut server = Server::start(&dir.path().join("server-data"), &tls, timing).await;
    let api = server.admin().await;

    eprintln!("(a) kube-manager start → Active, {} runs", args.start_runs);
    let starts = start_to_active(&server, &api, dir.path(), args.start_runs).await?;

    eprintln!("(b) creating {} clusters", args.tunnels);
    let t = Instant::now();
    let tokens = create_clusters(&api, args.tunnels).await;
    eprintln!("    created in {:?}", t.elapsed());
    let lapdev = hold(
        args,
        Target::Lapdev {
            server: &mut server,
            api: &api,
        },
        tokens,
        &tls,
    )
    .await?;
    server.stop().await;

    eprintln!("(peer) bare tokio-tungstenite TLS WebSocket server");
    let peer_tokens = (0..args.tunnels).map(|i| format!("peer-{i}")).collect();
    let mut peer = PeerProc::start(&tls, args.heartbeat_secs, None).await;
    let bare = hold(args, Target::Peer { peer: &mut peer }, peer_tokens, &tls).await?;
    peer.proc.interrupt().await;

    report(args, &starts, &lapdev, &bare);
    Ok(())
}

enum Target<'a> {
    Lapdev {
        server: &'a mut Server,
        api: &'a Api,
    },
    Peer {
        peer: &'a mut PeerProc,
    },
}

impl Target<'_> {
    fn pid(&self) -> u32 {
        match self {
            Target::Lapdev { server, .. } => server.proc().pid(),
            Target::Peer { peer } => peer.proc.pid(),
        }
    }

    fn url(&self) -> String {
        let addr = match self {
            Target::Lapdev { server, .. } => server.addr(),
            Target::Peer { peer } => peer.addr,
        };
        format!("wss://{addr}{}", lapdev_tunnel_proto::TUNNEL_PATH)
    }
}

/// Runs the load against `target`: connect all, memory, CPU, restarts.
async fn hold(
    args: &Args,
    mut target: Target<'_>,
    tokens: Vec<String>,
    tls: &TlsFiles,
) -> anyhow::Result<Holding> {
    let n = tokens.len();
    let mut h = Holding {
        rss_idle: rss_bytes(target.pid()),
        ..Holding::default()
    };
    let t = Instant::now();
    let load = Load::start(&target.url(), tokens, tls.client_config());
    wait_for(&format!("{n} tunnels"), Duration::from_secs(300), || {
        load.live() == n
    })
    .await?;
    h.connect_all = t.elapsed();
    eprintln!("    {n} tunnels up in {:?}", h.connect_all);
    if let Target::Lapdev { api, .. } = &target {
        all_active(api, n, Duration::from_secs(120)).await?;
    }
    // One heartbeat interval so every tunnel has sent its status and a heartbeat.
    tokio::time::sleep(Duration::from_secs(args.heartbeat_secs)).await;
    h.rss_loaded = rss_bytes(target.pid());
    let sub = Duration::from_secs(args.cpu_window_secs.max(3) / 3);
    for _ in 0..3 {
        let (cpu0, acks0, t0) = (
            cpu_time(target.pid()),
            load.stats.acks.load(Ordering::Relaxed),
            Instant::now(),
        );
        tokio::time::sleep(sub).await;
        let wall = t0.elapsed().as_secs_f64();
        let cpu = (cpu_time(target.pid()) - cpu0).as_secs_f64();
        let acks = load.stats.acks.load(Ordering::Relaxed) - acks0;
        h.cpu_per_sec.push(cpu / wall);
        h.acks_per_sec.push(acks as f64 / wall);
    }
    eprintln!(
        "    RSS {} → {} MiB, CPU {:?} s/s, acks {:?}/s",
        h.rss_idle >> 20,
        h.rss_loaded >> 20,
        h.cpu_per_sec,
        h.acks_per_sec
    );

    for round in 0..args.restarts {
        match &mut target {
            Target::Lapdev { server, .. } => {
                server.stop().await;
            }
            Target::Peer { peer } => {
                peer.proc.interrupt().await;
            }
        }
        wait_for("every tunnel to drop", Duration::from_secs(120), || {
            load.live() == 0
        })
        .await?;
        let t = Instant::now();
        match &mut target {
            Target::Lapdev { server, .. } => server.restart().await,
            Target::Peer { peer } => {
                let addr = peer.addr;
                **peer = PeerProc::start(tls, args.heartbeat_secs, Some(addr)).await;
            }
        }
        wait_for("every tunnel back", Duration::from_secs(300), || {
            load.live() == n
        })
        .await?;
        let live = t.elapsed();
        h.restart_to_all_live.push(live);
        if let Target::Lapdev { api, .. } = &target {
            all_active(api, n, Duration::from_secs(120)).await?;
            h.restart_to_all_active_api.push(t.elapsed());
        }
        eprintln!("    restart {round}: all {n} back in {live:?}");
    }
    load.stop().await;
    Ok(h)
}

/// The peer server process.
struct PeerProc {
    proc: Proc,
    addr: SocketAddr,
}

impl PeerProc {
    async fn start(tls: &TlsFiles, heartbeat_secs: u64, addr: Option<SocketAddr>) -> PeerProc {
        let exe = std::env::current_exe().expect("this executable");
        let mut cmd = Command::new(exe);
        cmd.arg("peer-server")
            .arg("--listen")
            .arg(addr.map_or("127.0.0.1:0".to_string(), |a| a.to_string()))
            .arg("--cert")
            .arg(&tls.cert)
            .arg("--key")
            .arg(&tls.key)
            .arg("--heartbeat-secs")
            .arg(heartbeat_secs.to_string());
        let proc = Proc::spawn("peer", cmd);
        let (_, line) = proc.log.wait_for_text(0, "peer listening").await;
        let addr = parse_field(&line, "addr=")
            .and_then(|a| a.parse().ok())
            .expect("the peer's address");
        PeerProc { proc, addr }
    }
}

/// kube-manager process start → the API shows the cluster Active.
async fn start_to_active(
    server: &Server,
    api: &Api,
    dir: &std::path::Path,
    runs: usize,
) -> anyhow::Result<Vec<Duration>> {
    let name = "start-bench";
    let creds = api.create_cluster(name).await;
    let sim_dir = dir.join(name);
    std::fs::create_dir_all(&sim_dir)?;
    let sim = KubeSim::start(&sim_dir).await;
    let setup = KubeManagerSetup {
        server_url: server.url(),
        ca_file: server.tls().ca.clone(),
        kubeconfig: sim.kubeconfig().to_path_buf(),
        token_file: dir.join("start-bench.token"),
    };
    lapdev_e2e::kube_manager::write_token(&setup.token_file, &creds.token);
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut km = KubeManager::start_with_token_file("kube-manager", &setup);
        poll_cluster(api, name, ClusterStatus::Active).await?;
        times.push(t.elapsed());
        km.proc_mut().kill().await;
        poll_cluster(api, name, ClusterStatus::Offline).await?;
    }
    drop(sim);
    eprintln!("    {times:?}");
    Ok(times)
}

async fn poll_cluster(api: &Api, name: &str, status: ClusterStatus) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(c) = api.try_cluster(name).await
            && c.status == status
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("cluster {name} did not become {status}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn create_clusters(api: &Api, n: usize) -> Vec<String> {
    use futures::StreamExt;
    futures::stream::iter(0..n)
        .map(|i| async move { api.create_cluster(&format!("load-{i:04}")).await.token })
        .buffer_unordered(8)
        .collect()
        .await
}

/// Polls the API until `n` clusters named `load-*` are Active.
async fn all_active(api: &Api, n: usize, patience: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + patience;
    loop {
        let active = api
            .list_clusters()
            .await
            .map(|all| {
                all.iter()
                    .filter(|c| c.name.as_str().starts_with("load-"))
                    .filter(|c| c.status == ClusterStatus::Active)
                    .count()
            })
            .unwrap_or(0);
        if active == n {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("only {active} of {n} clusters became Active");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for(what: &str, patience: Duration, done: impl Fn() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + patience;
    while !done() {
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

fn median_d(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn median_f(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn report(args: &Args, starts: &[Duration], lapdev: &Holding, bare: &Holding) {
    let n = args.tunnels as f64;
    let per = |h: &Holding| h.rss_loaded.saturating_sub(h.rss_idle) as f64 / n / 1024.0;
    let cpu = |h: &Holding| median_f(&h.cpu_per_sec);
    let hb = |h: &Holding| median_f(&h.acks_per_sec);
    let cpu_per_hb_us = |h: &Holding| cpu(h) / hb(h).max(1e-9) * 1e6;
    let restart = |h: &Holding| median_d(&h.restart_to_all_live);
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    println!(
        "tunnel-load: {} tunnels, heartbeat every {} s, CPU window {} s, {} restarts\n",
        args.tunnels, args.heartbeat_secs, args.cpu_window_secs, args.restarts
    );
    println!(
        "(a) kube-manager start → Active: median {:?} over {} runs (min {:?}, max {:?})\n",
        median_d(starts),
        starts.len(),
        starts.iter().min().copied().unwrap_or_default(),
        starts.iter().max().copied().unwrap_or_default(),
    );
    println!("| measure | lapdev server | bare WebSocket peer | ratio |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| all tunnels connected from cold | {:.2} s | {:.2} s | {:.1}× |",
        lapdev.connect_all.as_secs_f64(),
        bare.connect_all.as_secs_f64(),
        ratio(
            lapdev.connect_all.as_secs_f64(),
            bare.connect_all.as_secs_f64()
        )
    );
    println!(
        "| RSS idle → loaded | {} → {} MiB | {} → {} MiB | |",
        lapdev.rss_idle >> 20,
        lapdev.rss_loaded >> 20,
        bare.rss_idle >> 20,
        bare.rss_loaded >> 20
    );
    println!(
        "| RSS per tunnel | {:.1} KiB | {:.1} KiB | {:.1}× |",
        per(lapdev),
        per(bare),
        ratio(per(lapdev), per(bare))
    );
    println!(
        "| CPU while heartbeating (median of 3 windows) | {:.2}% of a core | {:.2}% of a core | {:.1}× |",
        cpu(lapdev) * 100.0,
        cpu(bare) * 100.0,
        ratio(cpu(lapdev), cpu(bare))
    );
    println!(
        "| heartbeats acknowledged | {:.0}/s | {:.0}/s | |",
        hb(lapdev),
        hb(bare)
    );
    println!(
        "| CPU per heartbeat | {:.0} µs | {:.0} µs | {:.1}× |",
        cpu_per_hb_us(lapdev),
        cpu_per_hb_us(bare),
        ratio(cpu_per_hb_us(lapdev), cpu_per_hb_us(bare))
    );
    println!(
        "| restart → all tunnels back (median) | {:.2} s | {:.2} s | {:.1}× |",
        restart(lapdev).as_secs_f64(),
        restart(bare).as_secs_f64(),
        ratio(restart(lapdev).as_secs_f64(), restart(bare).as_secs_f64())
    );
    println!(
        "| restart → all {} Active in the API (median) | {:.2} s | n/a | |",
        args.tunnels,
        median_d(&lapdev.restart_to_all_active_api).as_secs_f64()
    );
    println!(
        "\nraw: lapdev restarts {:?}, API {:?}; peer restarts {:?}",
        lapdev.restart_to_all_live, lapdev.restart_to_all_active_api, bare.restart_to_all_live
    );
}
