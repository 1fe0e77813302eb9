//! What the process tests share: a free port and waiting for a started server.

use std::time::Duration;

use ferrid_core::env::{Clock, SystemClock};

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
