//! Real `ferrid` processes: a free port, a child killed on drop, waiting until ready.
//! The binary's path is the caller's `env!("CARGO_BIN_EXE_ferrid")` (only the `ferrid`
//! crate's own tests have it).

use std::{
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::Duration,
};

use ferrid_core::env::{Clock, SystemClock};

/// A port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until `{base}/readyz` answers 200 (at most 30 s).
pub async fn wait_ready(base: &str) {
    wait_ready_with(&reqwest::Client::new(), base).await
}

/// [`wait_ready`] through `http` (one that trusts a test CA, say).
pub async fn wait_ready_with(http: &reqwest::Client, base: &str) {
    // real time: ferrid runs as another process
    let clock = SystemClock::new();
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
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

/// Runs `cmd`, expected to exit by itself within 30 s (killed, and the test failed,
/// otherwise); standard output and error are captured.
pub fn run_to_exit(cmd: &mut Command) -> Output {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // real time: ferrid runs as another process
    let clock = SystemClock::new();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    fn drain(mut r: impl std::io::Read) -> std::io::Result<Vec<u8>> {
        let mut all = Vec::new();
        r.read_to_end(&mut all).map(|_| all)
    }
    let readers = (std::thread::spawn(move || drain(out)), std::thread::spawn(move || drain(err)));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if clock.monotonic() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the command was still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: readers.0.join().unwrap().unwrap(), stderr: readers.1.join().unwrap().unwrap() }
}

/// Starts `cmd` with standard output and error written to `stdout` and `stderr` files
/// (to read what a running server printed), and waits until `base` is ready.
pub async fn start_logged(
    mut cmd: Command,
    base: &str,
    http: &reqwest::Client,
    stdout: &Path,
    stderr: &Path,
) -> KillOnDrop {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout).unwrap())
        .stderr(std::fs::File::create(stderr).unwrap())
        .spawn()
        .unwrap();
    let child = KillOnDrop(child);
    wait_ready_with(http, base).await;
    child
}
