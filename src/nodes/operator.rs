//! The daemon's operator over zenoh: a question is published on `question` and the answer
//! awaited on `answer` (docs/protocol.md). No answer within the timeout, or the emergency
//! stop engaged meanwhile, stops the instruction: on doubt, the robot stops.

use super::common::put;
use crate::controller::{Asked, Operator, OperatorAnswer};
use protocol::keys::RobotKeys;
use protocol::messages::{decode, Answer, AnswerChoice, Question, QuestionOption};
use protocol::SCHEMA_VERSION;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zenoh::Wait;

/// How often a wait for an answer looks at the emergency stop.
const POLL: Duration = Duration::from_millis(50);

/// Asks over zenoh for one instruction.
pub struct ZenohOperator {
    pub session: zenoh::Session,
    pub keys: RobotKeys,
    pub instruction_id: String,
    pub timeout: Duration,
    /// Set while the emergency stop is engaged.
    pub stopped: Arc<AtomicBool>,
    /// Questions asked so far (each question's id is the instruction's, then its number).
    pub asked: usize,
}

impl Operator for ZenohOperator {
    fn ask(&mut self, q: &Asked) -> OperatorAnswer {
        self.asked += 1;
        let question_id = format!("{}#{}", self.instruction_id, self.asked);
        let answers = match self.session.declare_subscriber(self.keys.answer()).wait() {
            Ok(s) => s,
            Err(e) => return OperatorAnswer::NoAnswer(format!("cannot hear answers: {e}")),
        };
        let question = Question {
            schema: SCHEMA_VERSION,
            daemon: self.session.zid().to_string(),
            instruction_id: self.instruction_id.clone(),
            question_id: question_id.clone(),
            step: q.step,
            text: q.text.clone(),
            options: q.options.iter().map(|(skill, confidence)| QuestionOption { skill: skill.clone(), confidence: *confidence }).collect(),
            timeout_s: self.timeout.as_secs_f64(),
        };
        if let Err(e) = put(&self.session, &self.keys.question(), &question) {
            return OperatorAnswer::NoAnswer(format!("cannot ask the operator: {e}"));
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            if self.stopped.load(Ordering::SeqCst) {
                return OperatorAnswer::NoAnswer("the emergency stop was engaged while the robot waited for an answer".into());
            }
            let now = Instant::now();
            if now >= deadline {
                return OperatorAnswer::NoAnswer(format!("no answer to the question of step {} within {:.0} s", q.step, self.timeout.as_secs_f64()));
            }
            let sample = match answers.recv_timeout(POLL.min(deadline - now)) {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => return OperatorAnswer::NoAnswer(format!("the answer channel closed: {e}")),
            };
            let answer = match decode::<Answer>(&sample.payload().to_bytes()) {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("daemon: ignored a malformed answer: {e}");
                    continue;
                }
            };
            if answer.question_id != question_id {
                tracing::debug!("daemon: ignored an answer to question {:?} (waiting for {question_id:?})", answer.question_id);
                continue;
            }
            match answer.choice {
                AnswerChoice::Option { index } if index < q.options.len() => return OperatorAnswer::Choose(index),
                AnswerChoice::Option { index } => {
                    tracing::warn!("daemon: ignored an answer naming option {index} of {}", q.options.len());
                }
                AnswerChoice::NoneOfThese { text } => return OperatorAnswer::NoneOfThese(text),
            }
        }
    }
}
