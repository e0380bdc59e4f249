//! `grounded send`: an instruction to a robot's daemon, following its progress to the end.

use super::common::{robot_keys, runtime};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SendArgs {
    #[arg(long)]
    pub robot: String,
    /// Longest to wait for the plan to end, in seconds.
    #[arg(long, default_value_t = 300.0)]
    pub timeout: f64,
    /// Print every progress message (and question) as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Do not answer the daemon's questions here (asking for help): show them only.
    #[arg(long)]
    pub no_answer: bool,
    #[command(flatten)]
    pub zenoh: grounded::nodes::common::CommonArgs,
    /// The instruction.
    pub instruction: String,
}

pub fn run(args: SendArgs) -> Result<ExitCode> {
    use grounded::nodes::client;
    use protocol::messages::PlanStatus;
    let keys = robot_keys(&args.robot)?;
    // The daemon checks it too; checked here, a bad one is refused before any network.
    grounded::prompt::Instruction::new(&args.instruction)?;
    let within = match std::time::Duration::try_from_secs_f64(args.timeout) {
        Ok(d) if !d.is_zero() => d,
        _ => anyhow::bail!("--timeout {} is not a positive number of seconds", args.timeout),
    };
    let code = runtime()?.block_on(async {
        let session = args.zenoh.open().await?;
        let id = format!("send-{}", std::process::id());
        // It waits for the daemon's token itself, a new session needing a moment to meet it.
        let follower = match client::send_instruction(&session, &keys, &id, &args.instruction).await {
            Ok(f) => f,
            Err(e @ client::ClientError::NotUp { .. }) => {
                anyhow::bail!("{e}; start `grounded daemon --robot {}` and connect to it (same --mode, --connect)", args.robot)
            }
            Err(e) => return Err(e.into()),
        };
        let mut printed = Ok(());
        let no_answer = args.no_answer;
        let json = args.json;
        let ask = move |q: &protocol::messages::Question| {
            show_question(q, json);
            if no_answer {
                return None;
            }
            Some(read_answer(q.options.len()))
        };
        let last = follower
            .follow_answering(
                within,
                |p| {
                    if args.json {
                        match serde_json::to_string(p) {
                            Ok(line) => println!("{line}"),
                            Err(e) => printed = Err(e),
                        }
                    } else {
                        println!(
                            "{:>2} {:?} {}{}",
                            p.step,
                            p.status,
                            shown(p.skill.as_deref().unwrap_or_default()),
                            p.reason.as_ref().map(|r| format!(" ({})", shown(r))).unwrap_or_default()
                        );
                    }
                },
                ask,
            )
            .await?;
        printed?;
        Ok::<_, anyhow::Error>(if last.status == PlanStatus::Done { 0u8 } else { 3u8 })
    })?;
    Ok(ExitCode::from(code))
}

/// Text from the network as a terminal may show it: control characters (an escape sequence
/// a peer slipped into a reason or a question would otherwise drive the operator's
/// terminal) and bidirectional overrides are written as `\u{..}` escapes.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| c.is_control() || grounded::prompt::is_bidi_control(c);
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.chars().map(|c| if hidden(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect())
}

/// A question on the terminal (or as one JSON line with --json).
fn show_question(q: &protocol::messages::Question, json: bool) {
    if json {
        if let Ok(line) = serde_json::to_string(q) {
            println!("{line}");
        }
        return;
    }
    println!("?  {}", shown(&q.text));
    for (i, o) in q.options.iter().enumerate() {
        println!("   {}) {} ({:.0}%)", i + 1, shown(&o.skill), 100.0 * o.confidence);
    }
    println!("   0) none of these: stop (or type what you mean instead)");
    println!("   (the robot waits {:.0} s for an answer, then stops)", q.timeout_s);
}

/// The operator's answer, read from standard input: a line with an option's number, 0 or an
/// empty line for "none of these" (stop), other words for "none of these: <words>". A number
/// that names no option is asked again (a typo must not answer for the operator). The end
/// of the input answers "none of these" (stop).
fn read_answer(options: usize) -> protocol::messages::AnswerChoice {
    use std::io::Write;
    loop {
        print!("   answer: ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        let read = match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => parse_answer("", options),
            Ok(_) => parse_answer(&line, options),
        };
        match read {
            Ok(choice) => return choice,
            Err(n) => println!("   there is no option {n}: type 1 to {options}, 0 to stop, or say what you mean"),
        }
    }
}

use protocol::limits::MAX_ANSWER_LEN as MAX_ANSWER_TEXT;

/// What a line typed as an answer means (see [`read_answer`]), or the number typed when it
/// names no option; words beyond [`MAX_ANSWER_TEXT`] bytes are cut at a character's boundary.
fn parse_answer(line: &str, options: usize) -> Result<protocol::messages::AnswerChoice, usize> {
    use protocol::messages::AnswerChoice;
    let mut line = line.trim();
    if line.len() > MAX_ANSWER_TEXT {
        let mut end = MAX_ANSWER_TEXT;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        eprintln!("   (the answer is cut to its first {end} bytes)");
        line = &line[..end];
    }
    match line.parse::<usize>() {
        Ok(0) => Ok(AnswerChoice::NoneOfThese { text: String::new() }),
        Ok(n) if n <= options => Ok(AnswerChoice::Option { index: n - 1 }),
        Ok(n) => Err(n),
        Err(_) => Ok(AnswerChoice::NoneOfThese { text: line.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::messages::AnswerChoice;

    #[test]
    fn network_text_reaches_the_terminal_without_its_control_characters() {
        assert_eq!(shown("pick up the red block"), "pick up the red block");
        assert_eq!(shown("lost\u{1b}[2J\nnow"), "lost\\u{1b}[2J\\u{a}now");
        assert_eq!(shown("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(shown("café 🙂"), "café 🙂");
    }

    #[test]
    fn typed_answers_choose_an_option_stop_or_say_what_is_meant() {
        assert_eq!(parse_answer("2\n", 3), Ok(AnswerChoice::Option { index: 1 }));
        assert_eq!(parse_answer(" 1 ", 1), Ok(AnswerChoice::Option { index: 0 }));
        // 0 and nothing at all: none of these, stop.
        for stop in ["0", "", "  \n"] {
            assert_eq!(parse_answer(stop, 3), Ok(AnswerChoice::NoneOfThese { text: String::new() }), "{stop:?}");
        }
        // A number that names no option is asked again.
        assert_eq!(parse_answer("4", 3), Err(4));
        assert_eq!(parse_answer("99\n", 1), Err(99));
        assert_eq!(parse_answer("the red one\n", 3), Ok(AnswerChoice::NoneOfThese { text: "the red one".into() }));
        let long = "é".repeat(400);
        let Ok(AnswerChoice::NoneOfThese { text }) = parse_answer(&long, 3) else { panic!("words") };
        assert!(text.len() <= MAX_ANSWER_TEXT && text.chars().all(|c| c == 'é'));
    }
}
