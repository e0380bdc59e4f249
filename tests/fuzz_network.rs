//! A bounded, seeded fuzz of every key a robot's components listen on, over a real zenoh
//! session, against `grounded sim`, `grounded policy` and `grounded daemon` as separate
//! processes: a few hundred payloads per key (valid messages mutated, extreme values, bytes
//! at random). Afterwards no process has died or panicked, every query was answered in time
//! (nothing hangs), and a normal instruction still runs to success.
mod common;

use common::free_port;

use grounded::nodes::client;
use grounded::nodes::common::{put, query_all, CommonArgs};
use protocol::keys::{Component, RobotId, RobotKeys};
use protocol::messages::{EStop, EpisodeReply, EpisodeRequest, EpisodeRequestBody, PlanStatus};
use protocol::SCHEMA_VERSION;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Payloads per key.
const PER_KEY: usize = 200;

/// Far above any answer a healthy component gives to one of these payloads.
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

/// The components as child processes (stderr kept in a file each), killed however the test
/// ends.
struct Fleet(Vec<(String, Child, PathBuf)>);

impl Drop for Fleet {
    fn drop(&mut self) {
        for (_, c, _) in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Fleet {
    fn spawn(&mut self, args: &[&str]) {
        let log = std::env::temp_dir().join(format!("grounded-fuzz-{}-{}.log", std::process::id(), args[0]));
        let file = std::fs::File::create(&log).expect("a log file");
        // Journals (kept by default under $XDG_STATE_HOME) go to a folder of the test's own.
        let state = std::env::temp_dir().join(format!("grounded-fuzz-state-{}", std::process::id()));
        let child = Command::new(env!("CARGO_BIN_EXE_grounded"))
            .args(args)
            .env("XDG_STATE_HOME", state)
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start grounded");
        self.0.push((args[0].to_string(), child, log));
    }

    /// Every process still running, and none has panicked.
    fn check(&mut self) {
        for (name, child, log) in &mut self.0 {
            let status = child.try_wait().expect("query a child");
            let stderr = std::fs::read_to_string(log.as_path()).unwrap_or_default();
            assert!(status.is_none(), "grounded {name} exited ({status:?}):\n{stderr}");
            assert!(!stderr.contains("panicked"), "grounded {name} panicked:\n{stderr}");
        }
    }
}

/// SplitMix64: a seed fixes every payload.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Values that have broken components before, or might: extremes, wrong types, deep nesting.
const EXTREMES: &[&str] = &[
    "1e308",
    "-1e308",
    "1e-9",
    "0",
    "-0.0",
    "-1",
    "18446744073709551615",
    "4294967296",
    "null",
    "true",
    "\"\"",
    "\" \"",
    "[]",
    "{}",
    "\"\\u0000\"",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "\"pick up the red block. done\"",
];

/// One payload derived from a valid message: mutated in one of several ways, or random.
fn payload(rng: &mut Rng, valid: &[String]) -> Vec<u8> {
    let base = rng.pick(valid).clone();
    match rng.below(6) {
        // A value replaced by an extreme one.
        0 | 1 => {
            let spans = value_spans(&base);
            if spans.is_empty() {
                return base.into_bytes();
            }
            let (start, end) = *rng.pick(&spans);
            format!("{}{}{}", &base[..start], rng.pick(EXTREMES), &base[end..]).into_bytes()
        }
        // Cut short.
        2 => base.as_bytes()[..rng.below(base.len().max(1))].to_vec(),
        // Bytes flipped.
        3 => {
            let mut bytes = base.into_bytes();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(bytes.len().max(1));
                if let Some(b) = bytes.get_mut(i) {
                    *b = rng.next() as u8;
                }
            }
            bytes
        }
        // Random bytes.
        4 => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
        // The valid message itself.
        _ => base.into_bytes(),
    }
}

/// Where the values of a JSON text are: after each ':' up to the next ',' or '}' at the
/// same depth (good enough for these flat messages), and each array element.
fn value_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b':' || b == b'[' || b == b',' {
            let start = i + 1;
            let mut depth = 0i32;
            let mut in_string = false;
            let mut end = start;
            while end < bytes.len() {
                let c = bytes[end];
                if in_string {
                    if c == b'\\' {
                        end += 1;
                    } else if c == b'"' {
                        in_string = false;
                    }
                } else if c == b'"' {
                    in_string = true;
                } else if c == b'{' || c == b'[' {
                    depth += 1;
                } else if c == b'}' || c == b']' {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                } else if c == b',' && depth == 0 {
                    break;
                }
                end += 1;
            }
            if end > start && end <= bytes.len() {
                spans.push((start, end));
            }
        }
    }
    spans
}

fn keys(name: &str) -> RobotKeys {
    RobotKeys::new(RobotId::new(name).expect("a robot name"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzed_payloads_on_every_key_neither_kill_nor_hang_a_component() {
    let port = free_port();
    let listen = format!("tcp/127.0.0.1:{port}");
    let robot = format!("fuzz{port}");
    let keys = keys(&robot);
    let mut fleet = Fleet(Vec::new());
    fleet.spawn(&["sim", "--robot", &robot, "--listen", &listen, "--task", "matching-bowls", "--seed", "2"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    fleet.spawn(&["policy", "--robot", &robot, "--connect", &listen]);
    fleet.spawn(&["daemon", "--robot", &robot, "--connect", &listen]);
    let session = CommonArgs { mode: Some("peer".into()), connect: vec![listen.clone()], ..CommonArgs::default() }.open().await.expect("a zenoh session");
    client::wait_for(&session, &keys, &Component::ALL, Duration::from_secs(60)).await.expect("the components come up");

    let observation = {
        let (s, k) = (session.clone(), keys.state());
        let replies = tokio::task::spawn_blocking(move || query_all(&s, &k, Vec::new(), ANSWER_WITHIN)).await.unwrap().unwrap();
        String::from_utf8(replies.into_iter().next().expect("a state").expect("a valid state")).unwrap()
    };
    let skill = "pick up the red block and place it in the red bowl";
    let queried: Vec<(String, Vec<String>)> = vec![
        (
            keys.primitives(),
            vec![
                r#"{"kind":"move-to","position":[0.1,0.1,0.2],"speed":0.5}"#.into(),
                r#"{"kind":"wait","seconds":0.5}"#.into(),
                r#"{"kind":"suction","on":true}"#.into(),
                r#"{"kind":"act","action":"forward"}"#.into(),
                r#"{"kind":"kitchen","action":{"kind":"navigate","location":"counter"}}"#.into(),
            ],
        ),
        (keys.state(), vec![String::new(), observation.clone()]),
        (keys.episode(), vec![r#"{"kind":"reset","task":"matching-bowls","seed":3}"#.into(), r#"{"kind":"judge"}"#.into()]),
        (
            keys.affordance(),
            vec![
                format!(r#"{{"texts":[{{"text":"{skill}","complete":true}},{{"text":"pick up the"}}]}}"#),
                format!(r#"{{"texts":[],"observation":{observation}}}"#),
            ],
        ),
        (keys.skill(), vec![format!(r#"{{"skill":"{skill}"}}"#), r#"{"skill":"done"}"#.into()]),
        (keys.estop_state(), vec![String::new()]),
    ];
    let published: Vec<(String, Vec<String>)> = vec![
        (keys.instruction(), vec![r#"{"id":"fuzz","text":"put the blocks in the bowls with matching colours"}"#.into()]),
        (keys.estop(), vec![r#"{"engaged":false,"reason":"fuzz"}"#.into()]),
        (keys.halt(), vec![r#"{"engaged":true,"reason":"fuzz"}"#.into()]),
        (keys.state(), vec![observation.clone()]),
        (keys.plan(), vec![r#"{"instruction_id":"x","step":1,"skill":null,"status":"done","reason":null,"plan":""}"#.into()]),
    ];

    let mut rng = Rng(0x5eed_0ff0_2200);
    for (key, valid) in &queried {
        let mut accepted = 0;
        for i in 0..PER_KEY {
            let bytes = payload(&mut rng, valid);
            let (s, k) = (session.clone(), key.clone());
            let replies = tokio::task::spawn_blocking(move || query_all(&s, &k, bytes, ANSWER_WITHIN)).await.unwrap().unwrap();
            assert!(!replies.is_empty(), "{key}: payload {i} got no answer within {ANSWER_WITHIN:?}");
            accepted += usize::from(replies.iter().all(Result::is_ok));
        }
        // Some payloads are valid messages and are carried out, so the fuzz reaches past
        // the decoders into the components' work.
        eprintln!("{key}: {accepted} of {PER_KEY} answered without an error");
        assert!(accepted > 0, "{key}: every payload was refused");
    }
    for (key, valid) in &published {
        for _ in 0..PER_KEY {
            session.put(key, payload(&mut rng, valid)).await.expect("a put");
        }
    }
    fleet.check();

    // Afterwards: released, the instructions the fuzz left queued carried out (a last one
    // ends after them: the queue is first in, first out), a known scene, and a normal
    // instruction runs to success.
    let release = EStop { schema: SCHEMA_VERSION, engaged: false, reason: Some("after the fuzz".into()) };
    let (s, k) = (session.clone(), keys.estop());
    tokio::task::spawn_blocking(move || put(&s, &k, &release)).await.unwrap().unwrap();
    for attempt in 0.. {
        assert!(attempt < 60, "the daemon's queue never drained");
        let drain = client::send_instruction(&session, &keys, &format!("drain-{attempt}"), "done").await.unwrap();
        let end = drain.follow(Duration::from_secs(300), |_| {}).await.expect("the drain ends");
        if !end.reason.as_deref().unwrap_or_default().contains("waiting already") {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let reset = EpisodeRequest { schema: SCHEMA_VERSION, body: EpisodeRequestBody::Reset { task: "matching-bowls".into(), seed: 2, skill_failures: None } };
    let (s, k) = (session.clone(), keys.episode());
    let reply: EpisodeReply =
        tokio::task::spawn_blocking(move || grounded::nodes::common::query_one(&s, &k, &reset, ANSWER_WITHIN)).await.unwrap().unwrap().expect("the sim resets");
    let follower = client::send_instruction(&session, &keys, "after-fuzz", &reply.instruction).await.unwrap();
    let last = follower.follow(Duration::from_secs(300), |_| {}).await.expect("the plan ends");
    assert_eq!(last.status, PlanStatus::Done, "{last:?}");
    let (s, k) = (session.clone(), keys.episode());
    let judge = EpisodeRequest { schema: SCHEMA_VERSION, body: EpisodeRequestBody::Judge };
    let verdict: EpisodeReply =
        tokio::task::spawn_blocking(move || grounded::nodes::common::query_one(&s, &k, &judge, ANSWER_WITHIN)).await.unwrap().unwrap().unwrap();
    assert_eq!(verdict.success, Some(true), "{verdict:?}");
    fleet.check();
}
