//! The `checkout-gateway` binary as the tests start it: `serve` and
//! `sandbox` children on ports of their own, each logging to a file that a
//! failed start quotes, and killed (SIGKILL) when dropped.

#![allow(dead_code)] // Each test binary uses a different part.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_checkout-gateway");

/// How long a child may take to answer after it is spawned.
const START_TIMEOUT: Duration = Duration::from_secs(30);

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A child process of the binary, answering on `url`.
pub struct Running {
    child: Child,
    pub url: String,
    pub port: u16,
    log: PathBuf,
}

impl Running {
    /// Spawn `args` with stdout and stderr in `log`, and wait until
    /// `probe` (a path) answers 2xx. A child that exits first, or never
    /// answers, fails the test with its log.
    async fn spawn(args: &[&str], port: u16, log: PathBuf, probe: &str) -> Running {
        let out = std::fs::File::create(&log).expect("a log file");
        let err = out.try_clone().expect("a log file");
        let child = Command::new(BIN)
            .args(args)
            .current_dir(repo())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("spawn checkout-gateway");
        let mut running = Running {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
            log,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let answered = http
                .get(format!("{}{probe}", running.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if answered {
                return running;
            }
            if let Ok(Some(status)) = running.child.try_wait() {
                panic!(
                    "`checkout-gateway {}` exited ({status}) before answering:\n{}",
                    args.join(" "),
                    running.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "`checkout-gateway {}` never answered {probe}:\n{}",
                args.join(" "),
                running.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the child has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown, no flush, nothing the process could finish.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `checkout-gateway serve`: `config` with `{port}` replaced by a free
/// port, written to `dir/gw-<port>.toml` (its log beside it), served once
/// it answers `/healthz`.
pub async fn serve(dir: &Path, config: &str) -> Running {
    let port = free_port();
    let file = dir.join(format!("gw-{port}.toml"));
    std::fs::write(&file, config.replace("{port}", &port.to_string())).expect("write the config");
    let file = file.to_str().expect("a UTF-8 path").to_owned();
    let log = dir.join(format!("gw-{port}.log"));
    Running::spawn(&["serve", "--config", &file], port, log, "/healthz").await
}

/// `checkout-gateway sandbox` on a free port (its log in `dir`), once it
/// answers `/_sandbox/calls`.
pub async fn sandbox(dir: &Path) -> Running {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let log = dir.join(format!("sandbox-{port}.log"));
    Running::spawn(
        &["sandbox", "--listen", &listen],
        port,
        log,
        "/_sandbox/calls",
    )
    .await
}
