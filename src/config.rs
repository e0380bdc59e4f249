//! The configuration file (TOML): the model, decoder and grounded-model settings, each
//! optional. Precedence: command-line flag, then the file, then the built-in default.
//! `grounded config` prints a file with every default and what it means (examples/grounded.toml).

use crate::decoder::{DecodeConfig, Search};
use crate::planner::Method;
use crate::setup::{read_text, SetupError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The documented defaults, as shipped in examples/grounded.toml.
pub const DEFAULTS_TOML: &str = include_str!("../examples/grounded.toml");

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub model: ModelSection,
    #[serde(default)]
    pub decoder: DecoderSection,
    #[serde(default)]
    pub grounding: GroundingSection,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// Model directory (relative paths are read from the config file's folder).
    pub dir: Option<PathBuf>,
    /// ONNX Runtime threads for the language model.
    pub threads: Option<usize>,
    /// The prefix cache's budget in MiB (0: off).
    pub prefix_cache_mib: Option<usize>,
    /// Where the language model runs: "cpu", "cuda" or "cuda:N".
    pub device: Option<grounding::Device>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecoderSection {
    /// llm, saycan, gd-greedy or gd-beam.
    pub method: Option<String>,
    pub top_k: Option<usize>,
    pub beam_width: Option<usize>,
    pub floor: Option<f64>,
    pub max_skill_tokens: Option<usize>,
    pub max_steps: Option<usize>,
    pub beam_margin: Option<f32>,
    pub renorm_floor: Option<f64>,
    /// best-first or lock-step.
    pub search: Option<Search>,
    pub jump_forward: Option<bool>,
    pub beyond_top_k: Option<bool>,
    pub max_departure: Option<f32>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroundingSection {
    /// Safety rules (JSON file).
    pub safety: Option<PathBuf>,
    /// Preferred objects (JSON file).
    pub preference: Option<PathBuf>,
    /// Learned ONNX grounded models (directories).
    #[serde(default)]
    pub scorers: Vec<PathBuf>,
    /// Weight of each grounded model by name.
    #[serde(default)]
    pub weights: BTreeMap<String, f32>,
}

impl ConfigFile {
    /// Read a configuration file; relative paths in it are made relative to its folder.
    pub fn load(path: &Path) -> Result<Self, SetupError> {
        let text = read_text(path)?;
        let mut file = Self::parse(&text).map_err(|message| SetupError::Config { path: path.to_path_buf(), what: "configuration (TOML)", message })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rebase = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        file.model.dir.as_mut().map(rebase);
        file.grounding.safety.as_mut().map(rebase);
        file.grounding.preference.as_mut().map(rebase);
        file.grounding.scorers.iter_mut().for_each(rebase);
        Ok(file)
    }

    /// Parse and check the values (not the paths).
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(m) = &file.decoder.method {
            parse_method(m)?;
        }
        for (name, w) in &file.grounding.weights {
            if !w.is_finite() || *w < 0.0 {
                return Err(format!("grounding.weights.{name} = {w}: a weight is a finite number >= 0"));
            }
        }
        if file.model.threads == Some(0) {
            return Err("model.threads = 0: use 1 or more".into());
        }
        file.decoder_config(&DecodeConfig::default()).validate().map_err(|e| format!("[decoder]: {e}"))?;
        Ok(file)
    }

    /// The method the file names, if any.
    pub fn method(&self) -> Option<Method> {
        self.decoder.method.as_deref().and_then(|m| parse_method(m).ok())
    }

    /// `base` with every decoder value the file sets.
    pub fn decoder_config(&self, base: &DecodeConfig) -> DecodeConfig {
        let d = &self.decoder;
        DecodeConfig {
            top_k: d.top_k.unwrap_or(base.top_k),
            beam_width: d.beam_width.unwrap_or(base.beam_width),
            floor: d.floor.unwrap_or(base.floor),
            max_skill_tokens: d.max_skill_tokens.unwrap_or(base.max_skill_tokens),
            max_steps: d.max_steps.unwrap_or(base.max_steps),
            beam_margin: d.beam_margin.unwrap_or(base.beam_margin),
            renorm_floor: d.renorm_floor.unwrap_or(base.renorm_floor),
            search: d.search.unwrap_or(base.search),
            jump_forward: d.jump_forward.unwrap_or(base.jump_forward),
            beyond_top_k: d.beyond_top_k.unwrap_or(base.beyond_top_k),
            max_departure: d.max_departure.unwrap_or(base.max_departure),
        }
    }
}

fn parse_method(m: &str) -> Result<Method, String> {
    <Method as clap::ValueEnum>::from_str(m, false).map_err(|_| format!("decoder.method = {m:?}: use llm, saycan, gd-greedy or gd-beam"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_defaults_file_says_the_built_in_defaults() {
        let file = ConfigFile::parse(DEFAULTS_TOML).expect("examples/grounded.toml parses");
        assert_eq!(
            file.decoder_config(&DecodeConfig {
                top_k: 1,
                beam_width: 1,
                floor: 0.5,
                max_skill_tokens: 1,
                max_steps: 1,
                renorm_floor: 1.0,
                beam_margin: 1.0,
                search: Search::LockStep,
                jump_forward: false,
                beyond_top_k: false,
                max_departure: 1.0,
            }),
            DecodeConfig::default()
        );
        assert_eq!(file.method(), Some(Method::GdBeam));
        assert_eq!(file.model.threads, Some(1));
        assert_eq!(file.model.prefix_cache_mib, Some(crate::lm::DEFAULT_PREFIX_CACHE_MIB));
        assert_eq!(file.model.device, Some(grounding::Device::Cpu));
        assert!(file.grounding.weights.is_empty() && file.grounding.safety.is_none());
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let err = |t: &str| ConfigFile::parse(t).unwrap_err();
        assert!(err("[decoder]\ntop_k = 0\n").contains("top"), "{}", err("[decoder]\ntop_k = 0\n"));
        assert!(err("[decoder]\nmethod = \"magic\"\n").contains("gd-beam"));
        assert!(err("[decoder]\nsearch = \"sideways\"\n").contains("expected `best-first` or `lock-step`"));
        assert!(err("[decoder]\ntopk = 3\n").contains("topk"), "unknown keys are named");
        assert!(err("[grounding.weights]\nsafety = -1\n").contains("safety"));
        assert!(err("[model]\nthreads = 0\n").contains("threads"));
        assert!(err("[model]\ndevice = \"tpu\"\n").contains("cuda:N"), "{}", err("[model]\ndevice = \"tpu\"\n"));
        assert!(err("this is not toml").len() > 10);
    }

    #[test]
    fn relative_paths_are_read_from_the_file_folder() {
        let dir = std::env::temp_dir().join(format!("grounded-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("g.toml");
        std::fs::write(&path, "[model]\ndir = \"m\"\n[grounding]\nsafety = \"/abs/s.json\"\n").unwrap();
        let f = ConfigFile::load(&path).unwrap();
        assert_eq!(f.model.dir, Some(dir.join("m")));
        assert_eq!(f.grounding.safety, Some(PathBuf::from("/abs/s.json")));
        std::fs::remove_dir_all(&dir).ok();
    }
}
