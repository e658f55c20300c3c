//! What libtorch the process runs on, and which accelerators it sees.

use std::fmt;

/// The libtorch build and the CUDA devices visible to it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct RuntimeInfo {
    /// PyTorch version of the libtorch this crate was built and linked against, e.g.
    /// `2.11.0+cu130` (`unknown` when the build could not read it).
    pub libtorch_version: String,
    /// Whether libtorch has a usable CUDA device (`tch::Cuda::is_available`).
    pub cuda_available: bool,
    /// Number of CUDA devices (0 without CUDA).
    pub cuda_device_count: i64,
    /// Whether cuDNN is available.
    pub cudnn_available: bool,
}

impl RuntimeInfo {
    /// Queries libtorch now.
    pub fn detect() -> Self {
        let cuda_available = tch::Cuda::is_available();
        Self {
            libtorch_version: env!("PTX_LIBTORCH_VERSION").to_owned(),
            cuda_available,
            cuda_device_count: if cuda_available {
                tch::Cuda::device_count()
            } else {
                0
            },
            cudnn_available: cuda_available && tch::Cuda::cudnn_is_available(),
        }
    }
}

impl fmt::Display for RuntimeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "libtorch {}, CUDA ", self.libtorch_version)?;
        if self.cuda_available {
            write!(
                f,
                "available ({} device{}, cuDNN {})",
                self.cuda_device_count,
                if self.cuda_device_count == 1 { "" } else { "s" },
                if self.cudnn_available { "yes" } else { "no" }
            )
        } else {
            write!(f, "not available")
        }
    }
}
