//! A planner's sweep on the job workers of a site: 200 variants of the reference line (a
//! buffer's capacity from 1 to 200) and the base, 3 replications each, sent to a server of the
//! site (`--workers 0`: it runs none) and run by one, then two, `takt worker` processes, each
//! held to one core (one rayon thread, pinned with taskset where it is found). One process on
//! one core (`takt whatif`) runs the same sweep beside them: the cost of the split is one
//! worker's time over that, the speed-up the one worker's over the two workers'. The same
//! process on both cores gives the ceiling of this machine (two virtual CPUs may share one
//! physical core). The results must be equal bit for bit.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SWEEP: &str = "buffers.B1.capacity=1..200:1";
const REPLICATIONS: u32 = 3;
const HORIZON: &str = "24h";
const SEED: u64 = 5;

/// The `takt` binary: `TAKT_BIN`, else the release build `benches/run.sh` makes.
fn takt_bin() -> Option<PathBuf> {
    let bin = std::env::var_os("TAKT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/takt"));
    bin.exists().then_some(bin)
}

/// `takt <args>` held to one core: one rayon thread, and CPU `cpu` where taskset is found.
fn one_core(bin: &Path, cpu: usize, args: &[&str]) -> Command {
    let pinned = Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut command = if pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", &cpu.to_string()]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    command
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    command
}

struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends the sweep to `server` and waits for its result; the result and the wall time.
fn run_on_site(server: std::net::SocketAddr, body: &str) -> (Value, Duration) {
    let agent = takt_benches::agent();
    let read = |mut r: ureq::http::Response<ureq::Body>| -> Value {
        serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default()).unwrap_or_default()
    };
    let started = Instant::now();
    let accepted = read(
        agent
            .post(format!("http://{server}/simulations"))
            .header("Content-Type", "application/json")
            .send(body)
            .expect("the sweep is sent"),
    );
    let id = accepted["id"]
        .as_str()
        .unwrap_or_else(|| panic!("not accepted: {accepted}"))
        .to_string();
    loop {
        let view = read(
            agent
                .get(format!("http://{server}/jobs/{id}"))
                .call()
                .expect("the job"),
        );
        match view["status"].as_str() {
            Some("done") => return (view["result"].clone(), started.elapsed()),
            Some("queued" | "running") => std::thread::sleep(Duration::from_millis(20)),
            _ => panic!("the sweep ended: {view}"),
        }
    }
}

/// The sweep on a site of `workers` one-core workers (a fresh database each time).
fn on_workers(
    cluster: &super::postgres::Cluster,
    bin: &Path,
    body: &str,
    workers: usize,
) -> (Value, Duration) {
    let url = cluster.database(&format!("sweep{workers}"));
    let server = takt_benches::start_server_with(&format!("sweep{workers}"), Some(&url), |c| {
        c.workers = 0;
        c.max_variants = 250;
    });
    let _workers = Workers(
        (0..workers)
            .map(|k| {
                let mut child = one_core(bin, k, &["worker", "--store", &url, "--workers", "1"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("takt worker starts");
                // Started once it has said so.
                let mut line = String::new();
                if let Some(out) = child.stdout.take() {
                    let _ =
                        std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line);
                }
                child
            })
            .collect(),
    );
    run_on_site(server, body)
}

pub fn run(cluster: &super::postgres::Cluster) {
    let Some(bin) = takt_bin() else {
        println!("the sweep on workers needs the takt binary: benches/run.sh site builds it");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let scenario = std::fs::read_to_string(root.join("scenarios/reference-line.toml"))
        .expect("the reference line");
    let body = json!({
        "scenario": scenario,
        "replications": REPLICATIONS,
        "seed": SEED,
        "horizon": HORIZON,
        "sweeps": [SWEEP],
    })
    .to_string();
    let runs = 201 * REPLICATIONS;
    println!(
        "\na sweep of 200 variants of the reference line ({SWEEP}) and the base, {REPLICATIONS} replications of {HORIZON} each: {runs} runs; one core per process"
    );

    let whatif = |cores: usize| {
        let (replications, seed) = (REPLICATIONS.to_string(), SEED.to_string());
        let args = [
            "whatif",
            "scenarios/reference-line.toml",
            "--sweep",
            SWEEP,
            "--replications",
            &replications,
            "--seed",
            &seed,
            "--horizon",
            HORIZON,
            // As the API's simulations have it.
            "--series-points",
            "24",
            "--json",
        ];
        let mut command = if cores == 1 {
            one_core(&bin, 0, &args)
        } else {
            let mut both = Command::new(&bin);
            both.args(args).current_dir(&root);
            both
        };
        let started = Instant::now();
        let output = command
            .stderr(Stdio::null())
            .output()
            .expect("takt whatif runs");
        let took = started.elapsed();
        let result: Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
        (result, took)
    };
    let (alone_result, alone) = whatif(1);
    let (_, alone_both) = whatif(2);
    let (one, one_took) = on_workers(cluster, &bin, &body, 1);
    let (two, two_took) = on_workers(cluster, &bin, &body, 2);
    let s = |d: Duration| d.as_secs_f64();
    println!(
        "one process (takt whatif):  {:>6.1} s  {:>5.1} runs/s",
        s(alone),
        f64::from(runs) / s(alone)
    );
    println!(
        "one process, both cores:    {:>6.1} s  {:>5.1} runs/s  (this machine's ceiling: {:.2}x one core)",
        s(alone_both),
        f64::from(runs) / s(alone_both),
        s(alone) / s(alone_both)
    );
    println!(
        "one worker:                 {:>6.1} s  {:>5.1} runs/s  (the split costs {:+.0} %)",
        s(one_took),
        f64::from(runs) / s(one_took),
        (s(one_took) / s(alone) - 1.0) * 100.0
    );
    println!(
        "two workers:                {:>6.1} s  {:>5.1} runs/s  speed-up {:.2} over one worker (ideal 2.00)",
        s(two_took),
        f64::from(runs) / s(two_took),
        s(one_took) / s(two_took)
    );
    let same = |a: &Value, b: &Value| a["variants"] == b["variants"] && a["variants"].is_array();
    println!(
        "results bit for bit: one worker {} two workers; one worker {} one process",
        if same(&one, &two) {
            "=="
        } else {
            "DIFFERS FROM"
        },
        if same(&one, &alone_result) {
            "=="
        } else {
            "DIFFERS FROM"
        },
    );
}
