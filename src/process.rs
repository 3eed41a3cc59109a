//! What the process asks of the system and of libtorch: memory available and peak RSS, and
//! libtorch's log level.

/// With `-q`, libtorch's own warnings (int8's deprecation notices) are not printed either:
/// its log level (`FLAGS_caffe2_log_level`, looked up at run time, so a libtorch without it
/// only keeps printing) is raised to errors.
pub fn quiet_libtorch() {
    // SAFETY: dlsym with a valid C string; the symbol, when present, is c10's `int32_t` log
    // level, written once here before any model is loaded or any worker runs.
    unsafe {
        let sym = libc::dlsym(libc::RTLD_DEFAULT, c"FLAGS_caffe2_log_level".as_ptr());
        if !sym.is_null() {
            *(sym as *mut i32) = 2;
        }
    }
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
