//! What the process asks of the system and of libtorch: memory available and peak RSS, and
//! libtorch's log level.

/// With `-q`, libtorch's own warnings are not printed either: its log level is raised to
/// errors ([`newsmill_model::set_libtorch_log_level`]) before any model is loaded.
pub fn quiet_libtorch() {
    newsmill_model::set_libtorch_log_level(2);
}

/// Peak resident set size of this process in MiB (VmHWM), where /proc is available.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Memory available to this process: MemAvailable, or the cgroup's limit if lower.
pub fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemAvailable:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let mut avail = kb * 1024;
    let read = |p: &str| -> Option<u64> { std::fs::read_to_string(p).ok()?.trim().parse().ok() };
    if let Some(limit) = read("/sys/fs/cgroup/memory.max") {
        let used = read("/sys/fs/cgroup/memory.current").unwrap_or(0);
        avail = avail.min(limit.saturating_sub(used));
    }
    Some(avail)
}

/// Resident set size of this process now in MiB (VmRSS), where /proc is available.
pub fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resets the peak resident set size ([`peak_rss_mib`]) to the current one (Linux 4.0+:
/// `5` to /proc/self/clear_refs); false where that is not possible.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The CPU's model name and those of its features that libtorch's kernels use
/// (/proc/cpuinfo; "unknown" and none elsewhere).
pub fn cpu_description() -> (String, Vec<String>) {
    const KERNEL_FLAGS: [&str; 12] = [
        "avx",
        "avx2",
        "fma",
        "f16c",
        "avx512f",
        "avx512bw",
        "avx512_vnni",
        "avx_vnni",
        "avx512_bf16",
        "amx_tile",
        "amx_int8",
        "amx_bf16",
    ];
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|l| l.split(':').next().map(str::trim) == Some(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let model = field("model name").unwrap_or_else(|| "unknown".into());
    let present: Vec<&str> = field("flags")
        .map(|f| f.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .unwrap_or_default()
        .iter()
        .filter_map(|f| KERNEL_FLAGS.iter().find(|k| **k == f.as_str()).copied())
        .collect();
    let flags = KERNEL_FLAGS
        .iter()
        .filter(|k| present.contains(k))
        .map(|k| k.to_string())
        .collect();
    (model, flags)
}
