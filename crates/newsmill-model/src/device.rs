//! Where and in what arithmetic the encoders run: [`Compute`] (device and precision), and the
//! resolution of `--device` (`auto` is CUDA when libtorch sees a GPU).
//!
//! newsmill is linked against libtorch's CPU library only; CUDA support is loaded at run time:
//! [`cuda_devices`] opens `libtorch_cuda.so` (found through `LD_LIBRARY_PATH`, i.e. the
//! machine's own torch), whose initializers register the CUDA backend with libtorch. Where it
//! is missing (this machine, CI) the binary runs on the CPU as before.

use std::sync::OnceLock;

use crate::error::{CudaLoadError, DeviceError, ModelError};
pub use crate::kinds::{Device, ModelType, Precision, PrecisionChoice};

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
    /// The precision of BERT models (every joint-format checkpoint is one).
    pub precision: Precision,
    /// Whether `precision` was chosen by `--precision auto`: then a model type it does not
    /// cover runs in fp32 ([`Compute::precision_for`]) instead of failing to load.
    pub auto: bool,
}

impl Compute {
    /// The tensor kind of the encoder's activations.
    pub fn precision_kind(&self) -> tch::Kind {
        self.precision.kind()
    }

    /// Resolves `choice` (loading libtorch's CUDA library when it may be used) and the
    /// precision (`auto`: bf16 on a GPU, int8 on a CPU whose kernels run it, else fp32), and
    /// checks that the precision runs there (int8 is CPU-only).
    pub fn resolve(choice: DeviceChoice, asked: PrecisionChoice) -> Result<Compute, ModelError> {
        let device = Self::device(choice, asked.named())?;
        let compute = match asked.named() {
            Some(precision) => Compute {
                device,
                precision,
                auto: false,
            },
            None => Compute {
                device,
                precision: match device {
                    Device::Cuda(_) => Precision::Bf16,
                    Device::Cpu if cpu_runs_int8() => Precision::Int8,
                    Device::Cpu => Precision::Fp32,
                },
                auto: true,
            },
        };
        compute.check()?;
        Ok(compute)
    }

    /// The precision a model of `model_type` runs in: with `auto`, fp32 for the types int8,
    /// fp16 and bf16 are not implemented for (they run through rust-bert's own modules).
    pub fn precision_for(&self, model_type: ModelType) -> Precision {
        match model_type {
            ModelType::Bert => self.precision,
            _ if self.auto => Precision::Fp32,
            _ => self.precision,
        }
    }

    fn device(choice: DeviceChoice, precision: Option<Precision>) -> Result<Device, ModelError> {
        Ok(match choice {
            DeviceChoice::Cpu => Device::Cpu,
            DeviceChoice::Cuda => match cuda_devices() {
                Ok(n) if n > 0 => Device::Cuda(0),
                Ok(_) => return Err(DeviceError::NoGpu.into()),
                Err(e) => return Err(DeviceError::CudaUnavailable(e).into()),
            },
            // int8 has no GPU kernels here: auto keeps an int8 run on the CPU
            DeviceChoice::Auto if precision == Some(Precision::Int8) => Device::Cpu,
            DeviceChoice::Auto => match cuda_devices() {
                Ok(n) if n > 0 => Device::Cuda(0),
                _ => Device::Cpu,
            },
        })
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

/// Whether this CPU runs libtorch's int8 kernels at speed: fbgemm, x86-64 with AVX2 (without
/// AVX2 fbgemm falls back to reference kernels, slower than fp32).
pub fn cpu_runs_int8() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_int8_on_a_cpu_that_runs_it_and_fp32_for_types_int8_does_not_cover() {
        let auto = Compute::resolve(DeviceChoice::Cpu, PrecisionChoice::Auto).unwrap();
        let want = if cpu_runs_int8() {
            Precision::Int8
        } else {
            Precision::Fp32
        };
        assert_eq!((auto.precision, auto.auto), (want, true));
        assert_eq!(auto.precision_for(ModelType::Bert), want);
        assert_eq!(auto.precision_for(ModelType::DistilBert), Precision::Fp32);
        assert_eq!(auto.precision_for(ModelType::Roberta), Precision::Fp32);
        // asked by name: every type gets it (and a type it does not cover fails to load)
        let int8 = Compute::resolve(DeviceChoice::Cpu, PrecisionChoice::Int8).unwrap();
        assert!(!int8.auto);
        assert_eq!(int8.precision_for(ModelType::Roberta), Precision::Int8);
        let fp32 = Compute::resolve(DeviceChoice::Cpu, PrecisionChoice::Fp32).unwrap();
        assert_eq!(fp32.precision_for(ModelType::Bert), Precision::Fp32);
    }
}
