//! The process's own figures from `/proc/self` (proc(5)), read at each scrape; on a
//! system without `/proc` they are left out.

use super::Registrar;

/// `USER_HZ`: the unit of the CPU times in `/proc/self/stat` (proc(5)), fixed at 100 by
/// the kernel's interface on every architecture Linux runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// What `/proc/self` tells of the process.
#[derive(Debug, Default, PartialEq)]
pub struct Figures {
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<u64>,
    pub virtual_bytes: Option<u64>,
    pub threads: Option<u64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    pub start_time_seconds: Option<f64>,
}

/// Reads the figures and sets their gauges.
pub(super) fn record(reg: &Registrar<'_>) {
    let f = read();
    let set = |name: &'static str, v: Option<f64>| {
        if let Some(v) = v {
            reg.gauge(name, vec![]).set(v);
        }
    };
    set("process_cpu_seconds_total", f.cpu_seconds);
    set("process_resident_memory_bytes", f.resident_bytes.map(|v| v as f64));
    set("process_virtual_memory_bytes", f.virtual_bytes.map(|v| v as f64));
    set("process_threads", f.threads.map(|v| v as f64));
    set("process_open_fds", f.open_fds.map(|v| v as f64));
    set("process_max_fds", f.max_fds.map(|v| v as f64));
    set("process_start_time_seconds", f.start_time_seconds);
}

pub fn read() -> Figures {
    let text = |path: &str| std::fs::read_to_string(path).ok();
    let mut f = Figures::default();
    if let Some(stat) = text("/proc/self/stat") {
        let boot = text("/proc/stat").as_deref().and_then(boot_time);
        parse_stat(&stat, boot, &mut f);
    }
    if let Some(status) = text("/proc/self/status") {
        f.resident_bytes = status_kib(&status, "VmRSS:").map(|k| k * 1024);
    }
    if let Some(limits) = text("/proc/self/limits") {
        f.max_fds = max_open_files(&limits);
    }
    f.open_fds = std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count() as u64);
    f
}

/// `btime` of `/proc/stat`: the boot time, seconds since the epoch.
fn boot_time(stat: &str) -> Option<u64> {
    stat.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

/// Fields of `/proc/self/stat` (proc(5), numbered from 1): utime (14) and stime (15) in
/// ticks, num_threads (20), starttime (22) in ticks after boot, vsize (23) in bytes. The
/// command name (2) may hold spaces and parentheses, so fields are counted after its
/// last `)`, where field 3 begins.
fn parse_stat(stat: &str, boot: Option<u64>, f: &mut Figures) {
    let Some((_, rest)) = stat.rsplit_once(')') else { return };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    if let (Some(utime), Some(stime)) = (field(14), field(15)) {
        f.cpu_seconds = Some((utime + stime) as f64 / TICKS_PER_SECOND);
    }
    f.threads = field(20);
    f.virtual_bytes = field(23);
    f.start_time_seconds = match (boot, field(22)) {
        (Some(boot), Some(start)) => Some(boot as f64 + start as f64 / TICKS_PER_SECOND),
        _ => None,
    };
}

/// A `kB` line of `/proc/self/status`.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix(key))?;
    line.split_whitespace().next()?.parse().ok()
}

/// The soft limit of `Max open files` in `/proc/self/limits`.
fn max_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find_map(|l| l.strip_prefix("Max open files"))?;
    line.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_last_parenthesis_of_the_command() {
        let stat = "42 (a) b) c) S 1 42 42 0 -1 4194560 900 0 0 0 250 130 0 0 20 0 7 0 5000 123456789 3000 \
                    18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        let mut f = Figures::default();
        parse_stat(stat, Some(1_700_000_000), &mut f);
        assert_eq!(f.cpu_seconds, Some(3.8));
        assert_eq!(f.threads, Some(7));
        assert_eq!(f.virtual_bytes, Some(123_456_789));
        assert_eq!(f.start_time_seconds, Some(1_700_000_050.0));
    }

    #[test]
    fn limits_and_status_lines_are_read_by_their_names() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(max_open_files(limits), Some(1024));
        assert_eq!(status_kib("Name:\tferrid\nVmRSS:\t   21504 kB\n", "VmRSS:"), Some(21504));
        assert_eq!(boot_time("cpu 1 2 3\nbtime 1700000000\n"), Some(1_700_000_000));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_figures() {
        let f = read();
        assert!(f.resident_bytes.unwrap() > 0 && f.open_fds.unwrap() > 0 && f.max_fds.unwrap() > 0);
        assert!(f.cpu_seconds.is_some() && f.start_time_seconds.unwrap() > 1.5e9);
    }
}
