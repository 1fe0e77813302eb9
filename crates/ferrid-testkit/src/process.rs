//! Real `ferrid` processes: a free port, a child killed on drop, waiting until ready.
//! The binary's path is the caller's `env!("CARGO_BIN_EXE_ferrid")` (only the `ferrid`
//! crate's own tests have it).

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use ferrid_core::env::{Clock, SystemClock};

/// A port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until `{base}/readyz` answers 200 (at most 30 s).
pub async fn wait_ready(base: &str) {
    // real time: ferrid runs as another process
    let clock = SystemClock::new();
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await
            && r.status() == 200
        {
            return;
        }
        assert!(clock.monotonic() < Duration::from_secs(30), "ferrid did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A child process, killed and reaped when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `BIN serve --listen 127.0.0.1:PORT --data-dir DIR` logging at `warn`.
pub fn serve_command(bin: &str, dir: &Path, port: u16) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"]).arg(dir).env("FERRID_LOG", "warn");
    cmd
}

/// Starts `cmd` (a `serve_command`) with its output discarded and waits for `base`.
pub async fn start_serving(mut cmd: Command, port: u16) -> (KillOnDrop, String) {
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let child = KillOnDrop(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    (child, base)
}
