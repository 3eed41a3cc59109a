//! Where and in what arithmetic the encoders run: [`Compute`] (device and precision), and the
//! resolution of `--device` (`auto` is CUDA when libtorch sees a GPU).
//!
//! newsmill is linked against libtorch's CPU library only; CUDA support is loaded at run time:
//! [`cuda_devices`] opens `libtorch_cuda.so` (found through `LD_LIBRARY_PATH`, i.e. the
//! machine's own torch), whose initializers register the CUDA backend with libtorch. Where it
//! is missing (this machine, CI) the binary runs on the CPU as before.

use std::sync::OnceLock;

use crate::error::{CudaLoadError, DeviceError, ModelError};
pub use crate::kinds::{Device, Precision};

/// What the user asked for with `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum DeviceChoice {
    /// The CPU.
    Cpu,
    /// The first GPU (needs the libtorch 2.11 build, README "GPU").
    Cuda,
    /// CUDA when libtorch sees a GPU, else the CPU.
    #[default]
    Auto,
}

/// Device and precision of a run's models, resolved once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compute {
    pub device: Device,
    pub precision: Precision,
}

impl Compute {
    /// The tensor kind of the encoder's activations.
    pub fn precision_kind(&self) -> tch::Kind {
        self.precision.kind()
    }

    /// Resolves `choice` (loading libtorch's CUDA library when it may be used) and checks that
    /// `precision` runs there (int8 is CPU-only).
    pub fn resolve(choice: DeviceChoice, precision: Precision) -> Result<Compute, ModelError> {
        let device = match choice {
            DeviceChoice::Cpu => Device::Cpu,
            DeviceChoice::Cuda => match cuda_devices() {
                Ok(n) if n > 0 => Device::Cuda(0),
                Ok(_) => return Err(DeviceError::NoGpu.into()),
                Err(e) => return Err(DeviceError::CudaUnavailable(e).into()),
            },
            // int8 has no GPU kernels here: auto keeps an int8 run on the CPU
            DeviceChoice::Auto if precision == Precision::Int8 => Device::Cpu,
            DeviceChoice::Auto => match cuda_devices() {
                Ok(n) if n > 0 => Device::Cuda(0),
                _ => Device::Cpu,
            },
        };
        let compute = Compute { device, precision };
        compute.check()?;
        Ok(compute)
    }

    /// Whether the precision runs on the device: int8 is CPU-only (fp16 and bf16 run on the CPU
    /// too, slowly: they are meant for GPUs).
    pub fn check(&self) -> Result<(), ModelError> {
        match (self.device, self.precision) {
            (device @ Device::Cuda(_), Precision::Int8) => {
                Err(DeviceError::Int8OnGpu { device }.into())
            }
            _ => Ok(()),
        }
    }
}

/// Opens libtorch's CUDA library once and returns how many GPUs libtorch sees, or why CUDA
/// cannot be used.
pub fn cuda_devices() -> Result<usize, CudaLoadError> {
    static LOADED: OnceLock<Result<(), CudaLoadError>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            // SAFETY: dlopen/dlerror with a NUL-terminated name; the handle is kept for the
            // life of the process (the library registers itself with libtorch when loaded).
            unsafe {
                let h = libc::dlopen(
                    c"libtorch_cuda.so".as_ptr(),
                    libc::RTLD_NOW | libc::RTLD_GLOBAL,
                );
                if h.is_null() {
                    let e = libc::dlerror();
                    let dlerror = if e.is_null() {
                        "unknown error".to_string()
                    } else {
                        std::ffi::CStr::from_ptr(e).to_string_lossy().into_owned()
                    };
                    return Err(CudaLoadError { dlerror });
                }
            }
            Ok(())
        })
        .clone()?;
    Ok(tch::Cuda::device_count().max(0) as usize)
}
