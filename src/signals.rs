//! Ctrl-C / SIGTERM, and the few ways the process ends at once.
//!
//! The first signal raises a flag: reading stops, everything read is annotated and written.
//! The second ends the process at once with status 130 through `_exit`: no exit handlers and
//! no C++ static destructors run while worker threads are still inside libtorch (which is what
//! made `std::process::exit` crash). Output is written one job at a time under [`gate`]; the
//! second signal takes the gate first, so it never cuts a job's lines in half: the output
//! holds complete lines only.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);
static WRITE_GATE: Mutex<()> = Mutex::new(());

/// Held while output bytes are written: an immediate exit waits for it.
pub fn gate() -> MutexGuard<'static, ()> {
    WRITE_GATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Installs the SIGINT/SIGTERM handler once; returns the flag the first signal raises.
pub fn install() -> &'static AtomicBool {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            exit_now(130, "newsmill: interrupted again: stopped at once (the output holds complete lines only; --resume finishes it)\n");
        }
    });
    &STOP
}

/// Ends the process with `code` once no output is being written (waiting at most 2 s, for a
/// writer stuck on a full pipe), after printing `message`. Never runs exit handlers.
pub fn exit_now(code: i32, message: &str) -> ! {
    let t0 = Instant::now();
    loop {
        match WRITE_GATE.try_lock() {
            Ok(g) => {
                std::mem::forget(g); // held until the process is gone
                break;
            }
            Err(TryLockError::Poisoned(p)) => {
                std::mem::forget(p.into_inner());
                break;
            }
            Err(TryLockError::WouldBlock) if t0.elapsed() < Duration::from_secs(2) => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(TryLockError::WouldBlock) => break,
        }
    }
    exit_immediately(code, message)
}

/// `_exit(code)` after writing `message` to stderr; for the thread that holds the gate.
pub fn exit_immediately(code: i32, message: &str) -> ! {
    let _ = std::io::stderr().write_all(message.as_bytes());
    // SAFETY: _exit has no preconditions; it ends the process without running any handler.
    unsafe { libc::_exit(code) }
}

/// Ends the process as a Unix tool whose reader went away: killed by SIGPIPE (status 141 in a
/// shell), quietly, at once.
pub fn die_of_sigpipe() -> ! {
    // SAFETY: restoring the default action of SIGPIPE and raising it ends the process (the
    // default action of SIGPIPE is to terminate, without a core dump).
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
        libc::_exit(141)
    }
}
