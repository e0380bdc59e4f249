//! Where a model runs: the CPU, or one CUDA GPU.

use std::fmt;
use std::str::FromStr;

/// The device a language model runs on (`--device`, config `model.device`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Device {
    /// ONNX Runtime's CPU execution provider (the default).
    #[default]
    Cpu,
    /// ONNX Runtime's CUDA execution provider on GPU `ordinal` (`cuda` is `cuda:0`).
    Cuda { ordinal: u32 },
}

impl Device {
    pub fn is_cuda(self) -> bool {
        matches!(self, Device::Cuda { .. })
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda { ordinal } => write!(f, "cuda:{ordinal}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a device: use cpu, cuda (the first GPU) or cuda:N (GPU number N, from 0)")]
pub struct BadDevice(pub String);

impl FromStr for Device {
    type Err = BadDevice;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda { ordinal: 0 }),
            _ => t.strip_prefix("cuda:").and_then(|n| n.parse::<u32>().ok()).map(|ordinal| Device::Cuda { ordinal }).ok_or_else(|| BadDevice(s.to_string())),
        }
    }
}

impl serde::Serialize for Device {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Device {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!("cpu".parse::<Device>(), Ok(Device::Cpu));
        assert_eq!("CUDA".parse::<Device>(), Ok(Device::Cuda { ordinal: 0 }));
        assert_eq!("cuda:3".parse::<Device>(), Ok(Device::Cuda { ordinal: 3 }));
        for d in [Device::Cpu, Device::Cuda { ordinal: 0 }, Device::Cuda { ordinal: 7 }] {
            assert_eq!(d.to_string().parse::<Device>(), Ok(d));
        }
        for bad in ["", "tpu", "cuda:", "cuda:-1", "cuda:x", "cuda0"] {
            let e = bad.parse::<Device>().unwrap_err();
            assert!(e.to_string().contains("cuda:N"), "{e}");
        }
    }
}
