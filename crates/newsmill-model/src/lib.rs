//! Loads standard Hugging Face checkpoint folders (`config.json`, `tokenizer.json`,
//! `model.safetensors`) into rust-bert models and runs padded batches through them.
//!
//! All model loading for newsmill lives here. Every problem with a folder is a typed
//! [`ModelError`] naming the file and field or tensor; rust-bert is only handed configs that
//! were validated first, and the few rust-bert calls that can still panic run under
//! `catch_unwind`.

mod bert;
mod config;
mod device;
mod error;
mod joint;
mod kinds;
mod model;
mod quant;
mod shallow;
mod vocab;

pub use config::{BranchSpec, Head, HeadKind, HeadSpec, JointSpec, ModelConfig, ModelType};
pub use device::{
    cpu_runs_int8, cuda_devices, Compute, Device, DeviceChoice, Precision, PrecisionChoice,
};
pub use error::{BuildError, CudaLoadError, DeviceError, ForwardError, ModelError};
pub use joint::{EncodedBatch, EncodedItem, JointHeads, JointItem, JointModel, SpanRequest};
pub use model::{
    gather_batches, model_identity, plan_batches, plan_groups, BatchStats, Classifier, Logits,
};
pub use quant::quiet_int8_notices;

/// Sets libtorch's log level (c10's `FLAGS_caffe2_log_level`: 1 warnings, 2 errors only),
/// looked up at run time, and returns the level before; `None` when this libtorch has no such
/// flag (it then keeps printing). Call it before any model runs on another thread.
pub fn set_libtorch_log_level(level: i32) -> Option<i32> {
    // SAFETY: dlsym with a valid C string; the symbol, when present, is c10's `int32_t` log
    // level, read and written here while no other thread runs libtorch.
    unsafe {
        let sym = libc::dlsym(libc::RTLD_DEFAULT, c"FLAGS_caffe2_log_level".as_ptr()) as *mut i32;
        if sym.is_null() {
            return None;
        }
        let before = sym.read();
        sym.write(level);
        Some(before)
    }
}

/// Measures the matmul throughput of this machine in GFLOP/s: `threads` threads at once, each
/// with one libtorch thread, multiplying fp32 matrices of the encoder's feed-forward shape
/// (4096×384 by 384×1536) for about `seconds`. This is the peak the encoder's fraction is
/// reported against.
pub fn measure_matmul_gflops(threads: usize, seconds: f64) -> f64 {
    use tch::{Kind, Tensor};
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(move || {
                    tch::set_num_threads(1);
                    let a = Tensor::randn([4096, 384], (Kind::Float, tch::Device::Cpu));
                    let b = Tensor::randn([384, 1536], (Kind::Float, tch::Device::Cpu));
                    // into one output buffer: the kernel's speed, not the allocator's
                    let c = a.matmul(&b); // warm-up
                    let t0 = std::time::Instant::now();
                    let mut n = 0u64;
                    while t0.elapsed().as_secs_f64() < seconds {
                        let _ = a.matmul_out(&c, &b);
                        n += 1;
                    }
                    n as f64 * 2.0 * 4096.0 * 384.0 * 1536.0 / t0.elapsed().as_secs_f64() / 1e9
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
    })
}

/// Measures the matmul throughput of a GPU in GFLOP/s for the run's precision (8192² matrices,
/// back to back for about `seconds`): the peak a GPU run's encoder fraction is reported against.
pub fn measure_gpu_matmul_gflops(compute: Compute, seconds: f64) -> f64 {
    use tch::Tensor;
    let Device::Cuda(i) = compute.device else {
        return 0.0;
    };
    let kind = compute.precision_kind();
    let n = 8192i64;
    let a = Tensor::randn([n, n], (kind, compute.device.tch()));
    let c = a.matmul(&a); // warm-up
    tch::Cuda::synchronize(i as i64);
    let t0 = std::time::Instant::now();
    let mut runs = 0u64;
    while t0.elapsed().as_secs_f64() < seconds {
        for _ in 0..10 {
            let _ = a.matmul_out(&c, &a);
        }
        tch::Cuda::synchronize(i as i64);
        runs += 10;
    }
    runs as f64 * 2.0 * (n as f64).powi(3) / t0.elapsed().as_secs_f64() / 1e9
}

/// Makes libtorch use `n` intra-op threads in the calling process.
pub fn set_torch_threads(n: usize) {
    tch::set_num_threads(n.max(1) as i32);
}
