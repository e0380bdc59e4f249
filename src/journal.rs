//! The daemon's journal: one JSON line per event (an instruction, each state it planned on,
//! each decoded skill with its scores and explanation, each skill's phases and outcome, the
//! plan's end, every emergency stop), written and handed to the operating system as it
//! happens, so that a daemon killed mid-plan leaves a journal complete up to the kill.
//! `grounded replay FILE` turns one into a rerun recording.

use crate::controller::{Robot, RobotError};
use crate::planner::{Proposal, StepOutcome};
use protocol::messages::PlanStatus;
use protocol::Observation;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// One line of a journal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// Wall-clock time, seconds since the Unix epoch.
    pub t: f64,
    #[serde(flatten)]
    pub event: Event,
}

/// What happened.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The daemon started: its robot, zenoh id and decoding method.
    Started { robot: String, daemon: String, method: String, version: String },
    /// An instruction was accepted (queued for the planner).
    Instruction { id: String, text: String },
    /// An instruction was refused before planning (malformed, queue full), with why.
    Refused { id: String, reason: String },
    /// The state a plan step was decoded on.
    Observation { id: String, observation: Box<Observation> },
    /// A skill was decoded.
    Decoded { id: String, proposal: Box<Proposal> },
    /// A phase of a skill started.
    Phase { id: String, index: usize, phase: String },
    /// What became of a skill.
    Executed { id: String, index: usize, skill: String, outcome: StepOutcome },
    /// The plan ended.
    Ended { id: String, status: PlanStatus, reason: Option<String>, plan: String },
    /// The emergency stop was engaged or released.
    EStop { engaged: bool, reason: Option<String> },
    /// The daemon asked its operator (asking for help).
    Asked { id: String, question: crate::controller::Asked },
    /// The operator's answer (or why none came).
    Answered { id: String, step: usize, answer: crate::controller::OperatorAnswer },
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    // The I/O error is in the message and not a `source`: the CLI prints an error's chain,
    // which would say it twice.
    #[error("cannot write the journal in {dir}: {error} (choose another folder with --journal DIR, or turn it off with --no-journal)")]
    Create { dir: PathBuf, error: std::io::Error },
    #[error("cannot read the journal {path}: {error}")]
    Read { path: PathBuf, error: std::io::Error },
}

/// Where journals go unless `--journal DIR` says otherwise: `$XDG_STATE_HOME/grounded/journal`,
/// else `~/.local/state/grounded/journal`, else `.grounded/journal` in the current folder.
pub fn default_dir() -> PathBuf {
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|s| !s.is_empty()) {
        return PathBuf::from(state).join("grounded/journal");
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/state/grounded/journal"),
        None => PathBuf::from(".grounded/journal"),
    }
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// A file of JSON lines, appended from any thread. Each value is one `write` of a whole
/// line, so that a kill leaves whole lines behind (at most the last one cut short). The
/// daemon's journal and `eval --out` write through it.
#[derive(Debug)]
pub struct JsonLines {
    file: Mutex<File>,
}

impl JsonLines {
    pub fn new(file: File) -> Self {
        Self { file: Mutex::new(file) }
    }

    /// Append `value` as one line; with `sync`, wait until it is on the disk itself.
    pub fn append(&self, value: &impl Serialize, sync: bool) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(value)?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(&line)?;
        if sync {
            file.sync_data()?;
        }
        Ok(())
    }
}

/// An open journal file.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    lines: JsonLines,
}

impl Journal {
    /// A new journal file in `dir` (created if missing), named after the robot and the time.
    pub fn create(dir: &Path, robot: &str) -> Result<Self, JournalError> {
        let err = |error| JournalError::Create { dir: dir.to_path_buf(), error };
        std::fs::create_dir_all(dir).map_err(err)?;
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        let path = dir.join(format!("{robot}-{stamp}-{}.jsonl", std::process::id()));
        let file = std::fs::OpenOptions::new().create_new(true).append(true).open(&path).map_err(err)?;
        Ok(Self { path, lines: JsonLines::new(file) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one event. A failed write is logged, not fatal: the robot is not stopped for
    /// its records.
    pub fn record(&self, event: Event) {
        // A plan's end reaches the disk itself, not only the operating system.
        let ended = matches!(event, Event::Ended { .. });
        if let Err(e) = self.lines.append(&Entry { t: now(), event }, ended) {
            tracing::error!("journal {}: {e}", self.path.display());
        }
    }
}

/// A journal read back: its entries, and the lines that could not be read (the last one,
/// where the daemon was killed while writing it), with why.
pub struct ReadBack {
    pub entries: Vec<Entry>,
    pub unreadable: Vec<(usize, String)>,
}

pub fn read(path: &Path) -> Result<ReadBack, JournalError> {
    let text = std::fs::read_to_string(path).map_err(|error| JournalError::Read { path: path.to_path_buf(), error })?;
    let mut back = ReadBack { entries: Vec::new(), unreadable: Vec::new() };
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<Entry>(line) {
            Ok(e) => back.entries.push(e),
            Err(e) => back.unreadable.push((i + 1, e.to_string())),
        }
    }
    Ok(back)
}

/// A robot whose observations go to the journal as they are made.
pub struct Recorded<'a> {
    pub robot: &'a mut dyn Robot,
    pub journal: Option<&'a Journal>,
    pub id: &'a str,
}

impl Robot for Recorded<'_> {
    fn observe(&mut self) -> Result<Observation, RobotError> {
        let obs = self.robot.observe()?;
        if let Some(j) = self.journal {
            j.record(Event::Observation { id: self.id.to_string(), observation: Box::new(obs.clone()) });
        }
        Ok(obs)
    }

    fn execute(&mut self, skill: &str, progress: &mut dyn FnMut(&str)) -> Result<policies::SkillOutcome, RobotError> {
        self.robot.execute(skill, progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_a_cut_line_is_reported() {
        let dir = std::env::temp_dir().join(format!("grounded-journal-test-{}", std::process::id()));
        let journal = Journal::create(&dir, "r1").unwrap();
        journal.record(Event::Instruction { id: "a".into(), text: "stack the blocks".into() });
        journal.record(Event::Ended { id: "a".into(), status: PlanStatus::Done, reason: None, plan: "1. done.".into() });
        let path = journal.path().to_path_buf();
        drop(journal);
        // A kill in the middle of a write leaves a cut line at the end.
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"t": 1.0, "event": "deco"#).unwrap();
        let back = read(&path).unwrap();
        assert_eq!(back.entries.len(), 2);
        assert!(matches!(&back.entries[0].event, Event::Instruction { text, .. } if text == "stack the blocks"));
        assert!(matches!(back.entries[1].event, Event::Ended { status: PlanStatus::Done, .. }));
        assert_eq!(back.unreadable.len(), 1);
        assert_eq!(back.unreadable[0].0, 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_journal_folder_that_cannot_be_made_says_so() {
        let file = std::env::temp_dir().join(format!("grounded-journal-file-{}", std::process::id()));
        std::fs::write(&file, b"not a folder").unwrap();
        let err = Journal::create(&file.join("sub"), "r1").expect_err("a folder under a file").to_string();
        assert!(err.contains("--journal DIR") && err.contains("--no-journal"), "{err}");
        let _ = std::fs::remove_file(&file);
    }
}
