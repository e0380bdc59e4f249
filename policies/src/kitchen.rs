//! Kitchen skills: find (go where the object was seen, or search the surfaces not yet looked
//! at), pick up, go to, put down. Objects are named in open vocabulary and resolved against
//! what the robot has seen by text similarity ([`grounding::open_vocab`]).
//!
//! The same knowledge grounds decoding: [`KitchenSkills`] lists every catalogue skill with its
//! feasibility (what SayCan scores), and scores partial skill texts in open vocabulary (what
//! grounded decoding uses): how well the object span names an object the robot has seen,
//! times the detector's box score for it.

use grounding::open_vocab::{Names, Phrase, Vocabulary, NAMING_THRESHOLD};
use grounding::{BoundModel, Continuation, GroundingError, LogProb, ScoredSkill, SkillPrefix, SkillSpace};
use protocol::kitchen::{entry, Detection, KitchenAction, KitchenSkill, KitchenState, Location, CATALOGUE, DETECTION_THRESHOLD};
use protocol::Observation;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The feasibility of `done` (SayCan's).
pub const DONE_FEASIBILITY: f64 = 0.2;
/// Going where the robot already is: possible (it looks again), seldom wanted.
pub const HERE_FEASIBILITY: f64 = 0.1;
/// Finding an object not seen yet while some surface is unlooked: it may be there. About
/// the chance that it is: a scene holds a third of the catalogue, spread over three surfaces.
pub const UNSEEN_FIND_FEASIBILITY: f64 = 0.1;
/// What a partial text no skill starts with scores.
pub const FLOOR: f64 = 1e-6;

/// Something that carries out kitchen primitives: the simulated kitchen, or one over zenoh.
pub trait KitchenAgent {
    fn state(&mut self) -> Result<KitchenState, String>;
    fn act(&mut self, action: KitchenAction) -> Result<(), String>;
}

impl KitchenAgent for sim::kitchen::KitchenWorld {
    fn state(&mut self) -> Result<KitchenState, String> {
        Ok(self.view.clone())
    }

    fn act(&mut self, action: KitchenAction) -> Result<(), String> {
        match action {
            KitchenAction::Navigate { location } => {
                self.navigate(location);
                Ok(())
            }
            KitchenAction::Grasp { object } => self.grasp(&object).map_err(|e| e.to_string()),
            KitchenAction::Place => self.place().map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// The kitchen's words, weighted by how well they tell its objects apart.
fn vocabulary() -> &'static Arc<Vocabulary> {
    static V: OnceLock<Arc<Vocabulary>> = OnceLock::new();
    V.get_or_init(|| Arc::new(Vocabulary::new(CATALOGUE.iter().map(|e| (e.name, e.aliases)))))
}

/// The names (catalogue name and aliases) of an object, for matching.
fn names_of(name: &str) -> Names {
    vocabulary().names(name, entry(name).map(|e| e.aliases.iter().copied()).into_iter().flatten())
}

/// The seen object `phrase` names best (similarity at least the naming threshold; ties go to
/// the higher box score).
pub fn resolve<'a>(phrase: &str, seen: impl IntoIterator<Item = &'a Detection>) -> Option<&'a Detection> {
    let p = Phrase::complete(phrase);
    seen.into_iter()
        .map(|d| (names_of(&d.name).similarity(&p), d))
        .filter(|(s, _)| *s >= NAMING_THRESHOLD)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.score.total_cmp(&b.1.score)))
        .map(|(_, d)| d)
}

/// Whether `phrase` names the object called `name`.
pub fn names(phrase: &str, name: &str) -> bool {
    names_of(name).similarity(&Phrase::complete(phrase)) >= NAMING_THRESHOLD
}

/// Carry out a skill text.
pub fn execute(skill: &str, agent: &mut dyn KitchenAgent) -> crate::SkillOutcome {
    let result = run(skill, agent);
    crate::SkillOutcome { success: result.is_ok(), reason: result.err() }
}

fn run(skill: &str, agent: &mut dyn KitchenAgent) -> Result<(), String> {
    let skill = KitchenSkill::parse(skill).map_err(|e| e.to_string())?;
    let state = agent.state()?;
    match skill {
        KitchenSkill::Done => Ok(()),
        KitchenSkill::GoTo(location) => agent.act(KitchenAction::Navigate { location }),
        KitchenSkill::PickUp(phrase) => {
            if let Some(h) = &state.holding {
                return Err(format!("the robot already holds the {h}; put it down first"));
            }
            let here = state.detections.iter().filter(|d| d.location == state.robot_at);
            let Some(d) = resolve(&phrase, here) else {
                return Err(format!("no {phrase} seen at the {}", state.robot_at));
            };
            agent.act(KitchenAction::Grasp { object: d.name.clone() })
        }
        KitchenSkill::PutDown(phrase) => match &state.holding {
            None => Err("the robot holds nothing to put down".into()),
            Some(h) if !names(&phrase, h) => Err(format!("the robot holds the {h}, not the {phrase}")),
            Some(_) => agent.act(KitchenAction::Place),
        },
        KitchenSkill::Find(phrase) => {
            if state.holding.as_deref().is_some_and(|h| names(&phrase, h)) {
                return Ok(());
            }
            // Where it was seen first, then every surface not looked at (nearest first).
            let mut route: Vec<Location> = resolve(&phrase, &state.detections).map(|d| d.location).into_iter().collect();
            let mut unlooked = state.unlooked();
            unlooked.sort_by(|a, b| state.robot_at.distance(*a).total_cmp(&state.robot_at.distance(*b)));
            route.extend(unlooked);
            for location in route {
                agent.act(KitchenAction::Navigate { location })?;
                let now = agent.state()?;
                if resolve(&phrase, now.detections.iter().filter(|d| d.location == location)).is_some() {
                    return Ok(());
                }
            }
            let looked: Vec<&str> = agent.state()?.looked.iter().map(|l| l.name()).collect();
            Err(format!("no {phrase} anywhere the robot has looked ({})", looked.join(", ")))
        }
    }
}

/// The view after `skill` as if carried out perfectly, knowing only what the view shows
/// (open-loop planning). `Err` says why it cannot be.
pub fn apply(view: &KitchenState, skill: &str) -> Result<KitchenState, String> {
    let skill = KitchenSkill::parse(skill).map_err(|e| e.to_string())?;
    let mut next = view.clone();
    match skill {
        KitchenSkill::Done => {}
        KitchenSkill::GoTo(l) => next.robot_at = l,
        KitchenSkill::Find(p) => match resolve(&p, &view.detections) {
            Some(d) => next.robot_at = d.location,
            None if view.holding.as_deref().is_some_and(|h| names(&p, h)) => {}
            None => return Err(format!("the {p} has not been seen; an open-loop plan knows only what the scene shows (a closed-loop demo searches)")),
        },
        KitchenSkill::PickUp(p) => {
            if let Some(h) = &view.holding {
                return Err(format!("the robot already holds the {h}"));
            }
            let d =
                resolve(&p, view.detections.iter().filter(|d| d.location == view.robot_at)).ok_or_else(|| format!("no {p} seen at the {}", view.robot_at))?;
            let name = d.name.clone();
            next.detections.retain(|d| d.name != name);
            next.holding = Some(name);
        }
        KitchenSkill::PutDown(p) => {
            let h = view.holding.clone().ok_or("the robot holds nothing to put down")?;
            if !names(&p, &h) {
                return Err(format!("the robot holds the {h}, not the {p}"));
            }
            next.holding = None;
            if Location::SURFACES.contains(&view.robot_at) {
                next.detections.push(Detection { name: h, location: view.robot_at, score: 1.0 });
            }
        }
    }
    Ok(next)
}

/// Every catalogue skill worth naming in `view`, with its feasibility: an object skill has the
/// box score of its detection; finding an object not seen has [`UNSEEN_FIND_FEASIBILITY`]
/// while a surface is unlooked.
pub fn admissible(view: &KitchenState) -> Vec<(KitchenSkill, f64)> {
    let mut out = vec![(KitchenSkill::Done, DONE_FEASIBILITY)];
    for l in Location::ALL {
        out.push((KitchenSkill::GoTo(l), if l == view.robot_at { HERE_FEASIBILITY } else { 1.0 }));
    }
    let unlooked = !view.unlooked().is_empty();
    for e in &CATALOGUE {
        let name = e.name.to_string();
        if view.holding.as_deref() == Some(e.name) {
            out.push((KitchenSkill::PutDown(name), 1.0));
            continue;
        }
        match view.detection(e.name) {
            Some(d) => {
                out.push((KitchenSkill::Find(name.clone()), d.score));
                if view.holding.is_none() && d.location == view.robot_at {
                    out.push((KitchenSkill::PickUp(name), d.score));
                }
            }
            None if unlooked => out.push((KitchenSkill::Find(name), UNSEEN_FIND_FEASIBILITY)),
            None => {}
        }
    }
    out
}

/// The view as a thresholded detector reports it (the SayCan baseline's "object detected or
/// not"): detections at or above [`DETECTION_THRESHOLD`] are certain, the rest not seen.
pub fn thresholded(view: &KitchenState) -> KitchenState {
    let mut v = view.clone();
    v.detections.retain(|d| d.score >= DETECTION_THRESHOLD);
    for d in &mut v.detections {
        d.score = 1.0;
    }
    v
}

/// The kitchen skills as grounded models see them.
#[derive(Clone, Debug, Default)]
pub struct KitchenSkills;

fn view_of(obs: &Observation) -> Result<&KitchenState, GroundingError> {
    obs.kitchen.as_ref().ok_or_else(|| GroundingError::Config("a kitchen observation has no \"kitchen\" state".into()))
}

impl SkillSpace for KitchenSkills {
    fn admissible(&self, obs: &Observation) -> Result<Vec<ScoredSkill>, GroundingError> {
        Ok(admissible(view_of(obs)?).into_iter().map(|(s, f)| ScoredSkill { text: s.to_string(), feasibility: f }).collect())
    }

    fn prefix_model<'a>(&'a self, obs: &Observation) -> Result<Option<Box<dyn BoundModel + 'a>>, GroundingError> {
        Ok(Some(Box::new(OpenVocabulary::new(view_of(obs)?.clone()))))
    }
}

/// Scores partial kitchen skill texts: the verb's feasibility in the view, then how well the
/// object span names a seen object (text similarity times box score).
struct OpenVocabulary {
    view: KitchenState,
    seen: Vec<(Names, f64, Location)>,
    catalogue: Vec<Names>,
    held: Option<Names>,
    memo: HashMap<(String, bool), LogProb>,
}

impl OpenVocabulary {
    fn new(view: KitchenState) -> Self {
        let seen = view.detections.iter().map(|d| (names_of(&d.name), d.score, d.location)).collect();
        let catalogue = CATALOGUE.iter().map(|e| names_of(e.name)).collect();
        let held = view.holding.as_deref().map(names_of);
        Self { view, seen, catalogue, held, memo: HashMap::new() }
    }

    /// The feasibility of `text`, 0 where it cannot be.
    fn feasibility(&self, text: &str, complete: bool) -> f64 {
        if complete && text == "done" {
            return DONE_FEASIBILITY;
        }
        let mut best: f64 = 0.0;
        if !complete {
            if "done".starts_with(text) {
                best = DONE_FEASIBILITY;
            }
            for verb in KitchenSkill::VERBS {
                if verb.len() > text.len() && verb.starts_with(text) {
                    best = best.max(self.verb(verb));
                }
            }
        }
        for verb in KitchenSkill::VERBS {
            if let Some(span) = text.strip_prefix(verb) {
                best = best.max(self.object(verb, span, complete));
            }
        }
        best
    }

    /// The best any skill of this verb can do here.
    fn verb(&self, verb: &str) -> f64 {
        match verb {
            "pick up the " if self.view.holding.is_some() => 0.0,
            "pick up the " => self.seen.iter().filter(|s| s.2 == self.view.robot_at).map(|s| s.1).fold(0.0, f64::max),
            "put down the " => {
                if self.view.holding.is_some() {
                    1.0
                } else {
                    0.0
                }
            }
            _ => 1.0,
        }
    }

    fn object(&self, verb: &str, span: &str, complete: bool) -> f64 {
        let phrase = if complete { Phrase::complete(span) } else { Phrase::partial(span) };
        let sim = |n: &Names| {
            let s = n.similarity(&phrase);
            if complete && s < NAMING_THRESHOLD {
                0.0
            } else {
                s
            }
        };
        match verb {
            "go to the " => Location::ALL
                .into_iter()
                .filter(|l| if complete { l.name() == span } else { l.name().starts_with(span) })
                .map(|l| if l == self.view.robot_at { HERE_FEASIBILITY } else { 1.0 })
                .fold(0.0, f64::max),
            "pick up the " if self.view.holding.is_some() => 0.0,
            "pick up the " => self.seen.iter().filter(|s| s.2 == self.view.robot_at).map(|s| sim(&s.0) * s.1).fold(0.0, f64::max),
            "put down the " => self.held.as_ref().map_or(0.0, sim),
            _ => {
                let seen = self.seen.iter().map(|s| sim(&s.0) * s.1).fold(0.0, f64::max);
                let held = self.held.as_ref().map_or(0.0, |h| sim(h) * HERE_FEASIBILITY);
                let unseen = if self.view.unlooked().is_empty() { 0.0 } else { UNSEEN_FIND_FEASIBILITY * self.catalogue.iter().map(sim).fold(0.0, f64::max) };
                seen.max(held).max(unseen)
            }
        }
    }
}

impl BoundModel for OpenVocabulary {
    fn score(&mut self, prefixes: &[SkillPrefix<'_>]) -> Result<Vec<LogProb>, GroundingError> {
        Ok(prefixes
            .iter()
            .map(|p| {
                let key = (p.text.to_string(), p.complete);
                if let Some(s) = self.memo.get(&key) {
                    return *s;
                }
                let f = self.feasibility(p.text, p.complete);
                let s = if p.complete && f <= 0.0 { LogProb::NEVER } else { LogProb::from_prob(f.max(FLOOR)) };
                self.memo.insert(key, s);
                s
            })
            .collect())
    }

    /// The words of the skills feasible here: `done`, each feasible verb, after "go to the "
    /// each place, after "pick up the " the names of what was seen here and after "put down
    /// the " the name of what is held. An object may be called other names (open
    /// vocabulary), so the names are a guess: a good one, and the decoder checks every guess.
    /// After "find the " nothing is forced.
    fn continuation(&mut self, prefix: &str) -> Option<Continuation> {
        let mut texts: Vec<(String, bool)> = vec![("done".into(), true)];
        for verb in KitchenSkill::VERBS.into_iter().filter(|v| self.verb(v) > 0.0) {
            let whole = |name: &str| (format!("{verb}{name}"), true);
            match verb {
                "go to the " => texts.extend(Location::ALL.iter().map(|l| whole(l.name()))),
                "pick up the " => {
                    texts.extend(self.view.detections.iter().filter(|d| d.location == self.view.robot_at && d.score > 0.0).map(|d| whole(&d.name)))
                }
                "put down the " => texts.extend(self.view.holding.as_deref().map(whole)),
                _ => texts.push((verb.to_string(), false)),
            }
        }
        if texts.iter().any(|(t, ends)| !ends && prefix.len() > t.len() && prefix.starts_with(t.as_str())) {
            return None;
        }
        let rests: Vec<(&str, bool)> = texts.iter().filter_map(|(t, ends)| t.strip_prefix(prefix).map(|rest| (rest, *ends))).collect();
        let (first, _) = *rests.first()?;
        let shared = rests.iter().fold(first.len(), |n, (rest, _)| first.bytes().zip(rest.bytes()).take(n).take_while(|(a, b)| a == b).count());
        let ends_skill = rests.len() == 1 && rests[0].1;
        (shared > 0 || ends_skill).then(|| Continuation { text: first[..shared].to_string(), ends_skill })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::kitchen::{episode, task_named, KitchenConfig, KitchenWorld, Place};

    fn view() -> KitchenState {
        KitchenState {
            robot_at: Location::User,
            holding: None,
            looked: vec![Location::NearCounter, Location::Table],
            detections: vec![
                Detection { name: "coke can".into(), location: Location::Table, score: 0.9 },
                Detection { name: "apple".into(), location: Location::NearCounter, score: 0.3 },
            ],
        }
    }

    fn score(model: &mut OpenVocabulary, text: &str, complete: bool) -> f64 {
        model.score(&[SkillPrefix { text, complete }]).unwrap()[0].prob()
    }

    #[test]
    fn the_words_of_the_feasible_skills_are_the_way_on() {
        let mut m = OpenVocabulary::new(view());
        let way = |m: &mut OpenVocabulary, p: &str| m.continuation(p).map(|c| (c.text, c.ends_skill));
        assert_eq!(way(&mut m, "fi"), Some(("nd the ".into(), false)));
        assert_eq!(way(&mut m, "go to the ta"), Some(("ble".into(), true)));
        assert_eq!(way(&mut m, "d"), Some(("one".into(), true)));
        // Skills part at their first letters; names of things are open vocabulary.
        assert_eq!(way(&mut m, ""), None);
        assert_eq!(way(&mut m, "find the co"), None);
        // Holding nothing and seeing nothing here, there is nothing to pick up or put down.
        assert_eq!(way(&mut m, "pi"), None);
        assert_eq!(way(&mut m, "pu"), None);
        m.view.robot_at = Location::Table;
        // At the table the robot saw a coke can: picking it up is the one way on.
        assert_eq!(way(&mut m, "pi"), Some(("ck up the coke can".into(), true)));
        m.view.holding = Some("apple".into());
        assert_eq!(way(&mut m, "put down the"), Some((" apple".into(), true)));
        assert_eq!(way(&mut m, "put down the sponge"), None);
    }

    #[test]
    fn open_vocabulary_scores_follow_what_was_seen() {
        let mut m = OpenVocabulary::new(view());
        assert_eq!(score(&mut m, "fi", false), 1.0);
        assert!((score(&mut m, "find the co", false) - 0.9).abs() < 1e-6);
        assert!((score(&mut m, "find the coca cola", true) - 0.9).abs() < 1e-6, "an alias");
        assert!((score(&mut m, "find the apple", true) - 0.3).abs() < 1e-6, "partly hidden: its box score");
        assert!((score(&mut m, "find the banana", true) - UNSEEN_FIND_FEASIBILITY).abs() < 1e-6, "may be on the far counter");
        assert_eq!(score(&mut m, "find the hammer", true), 0.0, "no such object in the kitchen");
        assert_eq!(score(&mut m, "pick up the coke can", true), 0.0, "not where the robot is");
        assert!(score(&mut m, "pick", false) <= FLOOR * 1.01, "nothing to pick up here");
        assert_eq!(score(&mut m, "put down the apple", true), 0.0, "holds nothing");
        assert_eq!(score(&mut m, "go to the table", true), 1.0);
        assert!((score(&mut m, "go to the user", true) - HERE_FEASIBILITY).abs() < 1e-6);
        assert_eq!(score(&mut m, "go to the moon", true), 0.0);
        assert!((score(&mut m, "done", true) - DONE_FEASIBILITY).abs() < 1e-6);
        let mut all_looked = view();
        all_looked.looked.push(Location::FarCounter);
        let mut m = OpenVocabulary::new(all_looked);
        assert_eq!(score(&mut m, "find the banana", true), 0.0, "every surface looked at: it is not here");
    }

    #[test]
    fn saycan_sees_only_confident_detections() {
        let t = thresholded(&view());
        assert_eq!(t.detections.len(), 1);
        assert_eq!(t.detections[0].score, 1.0);
        let skills = admissible(&t);
        assert!(skills.contains(&(KitchenSkill::Find("apple".into()), UNSEEN_FIND_FEASIBILITY)), "the hidden apple is just not seen");
        assert!(skills.contains(&(KitchenSkill::Find("coke can".into()), 1.0)));
    }

    #[test]
    fn find_searches_unlooked_surfaces_then_pick_and_put_down_deliver() {
        let task = task_named("bring-apple").unwrap();
        let (seed, e) = (0..50)
            .map(|s| (s, episode(task, s)))
            .find(|(_, e)| e.objects.iter().any(|o| o.name == "apple" && o.place == Place::At(e.unlooked)))
            .expect("a seed with the apple out of sight");
        let mut w = KitchenWorld::new(&e, KitchenConfig::PERFECT);
        assert!(w.view.detection("apple").is_none(), "seed {seed}");
        let o = execute("find the apple", &mut w);
        assert!(o.success, "{o:?}");
        assert_eq!(w.view.robot_at, e.unlooked);
        assert!(!execute("put down the apple", &mut w).success);
        assert!(execute("pick up the apple", &mut w).success);
        assert!(execute("find the apple", &mut w).success, "it holds it");
        assert!(execute("go to the user", &mut w).success);
        let wrong = execute("put down the sponge", &mut w);
        assert!(wrong.reason.unwrap().contains("holds the apple"));
        assert!(execute("put down the apple", &mut w).success);
        assert_eq!(sim::kitchen::judge(&e, &w), Ok(()));
    }

    #[test]
    fn objects_named_in_other_words_are_found_and_picked() {
        let t = task_named("bring-coke-far-counter").unwrap();
        let e = episode(t, 1);
        let mut w = KitchenWorld::new(&e, KitchenConfig::PERFECT);
        assert!(execute("find the can of coca-cola", &mut w).success);
        assert_eq!(w.view.robot_at, Location::FarCounter);
        assert!(execute("pick up the coke", &mut w).success);
        assert_eq!(w.view.holding.as_deref(), Some("coke can"));
        assert!(execute("go to the user", &mut w).success);
        assert!(execute("put down the cola can", &mut w).success);
        assert_eq!(sim::kitchen::judge(&e, &w), Ok(()));
    }

    #[test]
    fn finding_what_is_nowhere_fails_after_looking_everywhere() {
        let e = episode(task_named("bring-apple").unwrap(), 2);
        let absent = CATALOGUE.iter().map(|c| c.name).find(|n| e.objects.iter().all(|o| o.name != *n)).unwrap();
        let mut w = KitchenWorld::new(&e, KitchenConfig::PERFECT);
        let o = execute(&format!("find the {absent}"), &mut w);
        assert!(!o.success && o.reason.as_deref().unwrap().contains("anywhere the robot has looked"), "{o:?}");
        assert!(w.view.unlooked().is_empty());
        assert!(!admissible(&w.view).iter().any(|(s, _)| *s == KitchenSkill::Find(absent.to_string())));
        let o = execute("pick up the moon", &mut w);
        assert!(!o.success);
        assert!(!execute("fly away", &mut w).success);
    }

    #[test]
    fn open_loop_application_knows_only_the_view() {
        let v = view();
        let after = apply(&v, "find the coke can").unwrap();
        assert_eq!(after.robot_at, Location::Table);
        let after = apply(&after, "pick up the coke").unwrap();
        assert_eq!(after.holding.as_deref(), Some("coke can"));
        assert!(apply(&v, "find the banana").unwrap_err().contains("has not been seen"));
        let after = apply(&apply(&after, "go to the user").unwrap(), "put down the coke can").unwrap();
        assert!(after.holding.is_none());
    }
}
