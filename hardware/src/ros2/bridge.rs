//! A ROS 2 robot reached over rmw_zenoh. The robot side runs (with `rmw_zenoh_cpp`, or any
//! rmw_zenoh implementation) under a namespace:
//!
//! - publishes `grounded_interfaces/msg/Scene` on `<ns>/scene`;
//! - serves `grounded_interfaces/srv/Affordance` on `<ns>/affordance`;
//! - serves the action `grounded_interfaces/action/ExecuteSkill` on `<ns>/execute_skill`
//!   (its services `_action/send_goal`, `_action/get_result`, `_action/cancel_goal` and its
//!   topic `_action/feedback`);
//! - subscribes `std_msgs/msg/Bool` on `<ns>/estop` (latched: transient local, depth 1; the
//!   bridge answers history queries, and says the state again every second).
//!
//! This side is a ROS node (`grounded_bridge` by default) whose liveliness tokens put it in
//! `ros2 node list`; every service request carries rmw_zenoh's attachment, and every
//! payload is CDR.

use super::attachment::Attachment;
use super::cdr;
use super::idl::TypeName;
use super::names::{data_key, qualify, EntityKind, Node, Qos};
use super::store::TypeStore;
use super::type_hash::rihs01;
use crate::bridge::{BridgeError, RobotBridge, SkillEnd, SkillGoal, SkillProgress};
use crate::frames::BaseInTable;
use protocol::{ObjectKind, Observation, RobotState, SceneObject, SCHEMA_VERSION};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use zenoh::Wait;

/// Where the robot is and how to talk to it.
#[derive(Clone, Debug)]
pub struct Ros2Config {
    /// `ROS_DOMAIN_ID`.
    pub domain: u32,
    /// `/` or `/r1`.
    pub namespace: String,
    /// The node name this bridge shows under.
    pub node_name: String,
    pub base: BaseInTable,
    /// Longest a service call (affordance, send goal, cancel) may take.
    pub call_timeout: Duration,
    /// Longest one skill may take on the robot.
    pub skill_timeout: Duration,
    /// A scene older than this is not the robot's current one.
    pub scene_max_age: Duration,
}

impl Default for Ros2Config {
    fn default() -> Self {
        Self {
            domain: 0,
            namespace: "/".into(),
            node_name: "grounded_bridge".into(),
            base: BaseInTable::default(),
            call_timeout: Duration::from_secs(5),
            skill_timeout: Duration::from_secs(600),
            scene_max_age: Duration::from_secs(2),
        }
    }
}

/// One ROS endpoint: its name, its type, the key expression of its data.
#[derive(Clone, Debug)]
struct Endpoint {
    name: String,
    ty: TypeName,
    hash: String,
    key: String,
}

/// The latest scene, or why there is none.
enum SceneSlot {
    None,
    Seen(Box<Observation>, Instant),
    Wrong(String),
}

/// The goal ids of ExecuteSkill: 16 bytes, distinct per bridge and goal.
fn goal_id(gid: &[u8; 16], n: i64) -> [u8; 16] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(gid);
    h.update(n.to_le_bytes());
    h.update(now_ns().to_le_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize()[..16]);
    out
}

fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

fn uuid(bytes: &[u8; 16]) -> Value {
    json!({ "uuid": bytes.to_vec() })
}

/// A robot speaking ROS 2 over rmw_zenoh, as a [`RobotBridge`].
pub struct Ros2Bridge {
    session: zenoh::Session,
    config: Ros2Config,
    store: TypeStore,
    scene: Endpoint,
    affordance: Endpoint,
    send_goal: Endpoint,
    get_result: Endpoint,
    cancel_goal: Endpoint,
    feedback: Endpoint,
    estop: Endpoint,
    latest: Arc<Mutex<SceneSlot>>,
    /// The last e-stop sample, for late joiners.
    latched: Arc<Mutex<Option<Vec<u8>>>>,
    sequence: AtomicI64,
    gid: [u8; 16],
    /// The goal under way, to cancel on an emergency stop.
    running: Mutex<Option<[u8; 16]>>,
    _tokens: Vec<zenoh::liveliness::LivelinessToken>,
    _scene_sub: zenoh::pubsub::Subscriber<()>,
    _estop_cache: zenoh::query::Queryable<()>,
}

impl Ros2Bridge {
    /// Join the ROS graph on `session` (which reaches the robot's zenoh router).
    pub fn start(session: zenoh::Session, config: Ros2Config) -> Result<Self, BridgeError> {
        let store = TypeStore::with_grounded_interfaces();
        let z = |e: zenoh::Error| BridgeError::Zenoh(e.to_string());
        let endpoint = |relative: &str, ty: &str| -> Result<Endpoint, BridgeError> {
            let ty = TypeName::parse(ty).map_err(|e| BridgeError::Protocol { what: "a bundled type".into(), reason: e.to_string() })?;
            let hash = rihs01(&store, &ty).map_err(|e| BridgeError::Protocol { what: "a bundled type".into(), reason: e.to_string() })?;
            let name = qualify(&config.namespace, relative);
            let key = data_key(config.domain, &name, &ty, &hash);
            Ok(Endpoint { name, ty, hash, key })
        };
        let scene = endpoint("scene", "grounded_interfaces/msg/Scene")?;
        let affordance = endpoint("affordance", "grounded_interfaces/srv/Affordance")?;
        let send_goal = endpoint("execute_skill/_action/send_goal", "grounded_interfaces/action/ExecuteSkill_SendGoal")?;
        let get_result = endpoint("execute_skill/_action/get_result", "grounded_interfaces/action/ExecuteSkill_GetResult")?;
        let cancel_goal = endpoint("execute_skill/_action/cancel_goal", "action_msgs/srv/CancelGoal")?;
        let feedback = endpoint("execute_skill/_action/feedback", "grounded_interfaces/action/ExecuteSkill_FeedbackMessage")?;
        let estop = endpoint("estop", "std_msgs/msg/Bool")?;

        let zid = session.zid().to_string();
        let mut gid = [0u8; 16];
        for (slot, b) in gid.iter_mut().zip(zid.bytes().chain(std::iter::repeat(0))) {
            *slot = b;
        }
        let node = Node { domain: config.domain, zid, id: 0, namespace: config.namespace.clone(), name: config.node_name.clone() };
        let mut tokens = vec![session.liveliness().declare_token(node.token()).wait().map_err(z)?];
        let entities = [
            (&scene, EntityKind::Subscription, Qos::default()),
            (&affordance, EntityKind::Client, Qos::default()),
            (&send_goal, EntityKind::Client, Qos::default()),
            (&get_result, EntityKind::Client, Qos::default()),
            (&cancel_goal, EntityKind::Client, Qos::default()),
            (&feedback, EntityKind::Subscription, Qos::default()),
            (&estop, EntityKind::Publisher, Qos::LATCHED),
        ];
        let entities_len = entities.len() as u32;
        for (i, (e, kind, qos)) in entities.into_iter().enumerate() {
            let token = node.endpoint_token(i as u32 + 1, kind, &e.name, &e.ty, &e.hash, &qos);
            tokens.push(session.liveliness().declare_token(token).wait().map_err(z)?);
        }

        let latest = Arc::new(Mutex::new(SceneSlot::None));
        let scene_sub = {
            let (slot, store, base, want) = (latest.clone(), store.clone(), config.base, scene.clone());
            // Any hash, so that a robot built from other interface files is named, not ignored.
            let pattern = format!("{}/*", want.key.rsplit_once('/').map_or(want.key.as_str(), |(k, _)| k));
            session
                .declare_subscriber(pattern)
                .callback(move |sample| {
                    let key = sample.key_expr().as_str();
                    let next = if !key.ends_with(&want.hash) {
                        SceneSlot::Wrong(format!(
                            "the robot publishes {} with type hash {}, this bridge knows {}: build hardware/ros2/grounded_interfaces of this grounded on the robot",
                            want.ty,
                            key.rsplit('/').next().unwrap_or(""),
                            want.hash
                        ))
                    } else {
                        match scene_to_observation(&store, &base, &sample.payload().to_bytes()) {
                            Ok(obs) => SceneSlot::Seen(Box::new(obs), Instant::now()),
                            Err(e) => SceneSlot::Wrong(e),
                        }
                    };
                    *slot.lock().unwrap_or_else(PoisonError::into_inner) = next;
                })
                .wait()
                .map_err(z)?
        };
        let latched: Arc<Mutex<Option<Vec<u8>>>> = Arc::new(Mutex::new(None));
        let estop_cache = {
            let last = latched.clone();
            // Where rmw_zenoh's transient-local subscribers ask a publisher for its history
            // (the advanced publisher's cache).
            session
                .declare_queryable(format!("{}/@adv/pub/{}/{}/_", estop.key, session.zid(), entities_len))
                .callback(move |q| {
                    if let Some(bytes) = last.lock().unwrap_or_else(PoisonError::into_inner).clone() {
                        let _ = q.reply(q.key_expr().clone(), bytes).wait();
                    }
                })
                .wait()
                .map_err(z)?
        };
        Ok(Self {
            session,
            config,
            store,
            scene,
            affordance,
            send_goal,
            get_result,
            cancel_goal,
            feedback,
            estop,
            latest,
            latched,
            sequence: AtomicI64::new(0),
            gid,
            running: Mutex::new(None),
            _tokens: tokens,
            _scene_sub: scene_sub,
            _estop_cache: estop_cache,
        })
    }

    fn attachment(&self) -> Vec<u8> {
        Attachment { sequence: self.sequence.fetch_add(1, Ordering::SeqCst) + 1, timestamp_ns: now_ns(), gid: self.gid }.encode()
    }

    /// Start a service call; the replies arrive on the returned channel.
    fn start_call(&self, e: &Endpoint, request: &Value, timeout: Duration) -> Result<zenoh::handlers::FifoChannelHandler<zenoh::query::Reply>, BridgeError> {
        let req_ty =
            self.store.require(&e.ty.with_suffix("_Request")).map_err(|err| BridgeError::Protocol { what: e.name.clone(), reason: err.to_string() })?;
        let payload = cdr::encode(&self.store, req_ty, request)
            .map_err(|err| BridgeError::Protocol { what: format!("the request to {}", e.name), reason: err.to_string() })?;
        self.session
            .get(&e.key)
            .payload(payload)
            .attachment(self.attachment())
            .target(zenoh::query::QueryTarget::AllComplete)
            .consolidation(zenoh::query::ConsolidationMode::None)
            .timeout(timeout)
            .wait()
            .map_err(|err| BridgeError::Zenoh(err.to_string()))
    }

    /// The response to a call, decoded.
    fn response(&self, e: &Endpoint, reply: zenoh::query::Reply) -> Result<Value, BridgeError> {
        let sample = reply
            .into_result()
            .map_err(|err| BridgeError::Refused { what: e.name.clone(), reason: String::from_utf8_lossy(&err.payload().to_bytes()).into_owned() })?;
        let resp_ty =
            self.store.require(&e.ty.with_suffix("_Response")).map_err(|err| BridgeError::Protocol { what: e.name.clone(), reason: err.to_string() })?;
        cdr::decode(&self.store, resp_ty, &sample.payload().to_bytes())
            .map_err(|err| BridgeError::Protocol { what: format!("the response of {}", e.name), reason: err.to_string() })
    }

    /// A service call, waited for.
    fn call(&self, e: &Endpoint, request: &Value) -> Result<Value, BridgeError> {
        let timeout = self.config.call_timeout;
        let replies = self.start_call(e, request, timeout)?;
        match replies.recv_timeout(timeout + Duration::from_millis(500)) {
            Ok(Some(reply)) => self.response(e, reply),
            _ => Err(BridgeError::Timeout { what: e.name.clone(), seconds: timeout.as_secs_f64() }),
        }
    }

    fn cancel(&self, id: &[u8; 16]) -> Result<(), BridgeError> {
        let request = json!({ "goal_info": { "goal_id": uuid(id), "stamp": { "sec": 0, "nanosec": 0 } } });
        let reply = self.call(&self.cancel_goal, &request)?;
        match reply["return_code"].as_i64() {
            Some(0) | Some(3) => Ok(()),
            Some(code) => Err(BridgeError::Refused { what: self.cancel_goal.name.clone(), reason: format!("return code {code}") }),
            None => Err(BridgeError::Protocol { what: self.cancel_goal.name.clone(), reason: "no return code".into() }),
        }
    }

    /// The observation as a Scene message (the affordance request carries it).
    fn scene_value(&self, obs: &Observation) -> Value {
        let base = &self.config.base;
        let objects: Vec<Value> = obs
            .objects
            .iter()
            .map(|o| {
                let p = base.to_base(o.position);
                let q = base.orientation_in_base(o.yaw);
                json!({
                    "id": o.id, "name": o.name, "kind": o.kind.name(),
                    "pose": { "position": { "x": p[0], "y": p[1], "z": p[2] }, "orientation": { "x": q[0], "y": q[1], "z": q[2], "w": q[3] } },
                    "rgb": o.rgb.map(|c| c.to_vec()).unwrap_or_default(),
                    "tags": o.tags,
                })
            })
            .collect();
        let robot = obs.robot.as_ref();
        let tip = base.to_base(robot.map(|r| r.gripper).unwrap_or_default());
        let t = robot.map(|r| r.time_s).unwrap_or(0.0).max(0.0);
        json!({
            "header": { "stamp": { "sec": t.trunc().min(f64::from(i32::MAX)) as i32, "nanosec": (t.fract() * 1e9) as u32 }, "frame_id": "base" },
            "domain": obs.domain.name(),
            "objects": objects,
            "holding": robot.and_then(|r| r.holding.clone()).unwrap_or_default(),
            "gripper": { "x": tip[0], "y": tip[1], "z": tip[2] },
        })
    }
}

/// A Scene payload as grounded's observation, in the table frame.
fn scene_to_observation(store: &TypeStore, base: &BaseInTable, bytes: &[u8]) -> Result<Observation, String> {
    let ty = TypeName::new("grounded_interfaces", "msg", "Scene");
    let m = store.require(&ty).map_err(|e| e.to_string())?;
    let v = cdr::decode(store, m, bytes).map_err(|e| format!("the robot's Scene: {e}"))?;
    let domain = protocol::Domain::named(v["domain"].as_str().unwrap_or_default()).map_err(|e| format!("the robot's Scene: {e}"))?;
    let f = |v: &Value| v.as_f64().unwrap_or_default();
    let mut objects = Vec::new();
    for o in v["objects"].as_array().into_iter().flatten() {
        let kind_name = o["kind"].as_str().unwrap_or_default();
        let kind = ObjectKind::ALL.into_iter().find(|k| k.name() == kind_name).ok_or_else(|| {
            format!("the robot's Scene: object kind {} is none of block, bowl, letter, item, box (say more with tags)", protocol::quote::Quoted(kind_name))
        })?;
        let p = &o["pose"]["position"];
        let q = &o["pose"]["orientation"];
        let mut obj = SceneObject::new(
            o["id"].as_str().unwrap_or_default(),
            o["name"].as_str().unwrap_or_default(),
            kind,
            base.to_table([f(&p["x"]), f(&p["y"]), f(&p["z"])]),
        );
        obj.yaw = base.yaw_in_table([f(&q["x"]), f(&q["y"]), f(&q["z"]), f(&q["w"])]);
        let rgb: Vec<u8> = o["rgb"].as_array().into_iter().flatten().filter_map(|c| c.as_u64().map(|c| c as u8)).collect();
        obj.rgb = match rgb[..] {
            [] => None,
            [r, g, b] => Some([r, g, b]),
            _ => return Err(format!("the robot's Scene: {}'s rgb has {} values; give 3 or none", obj.name, rgb.len())),
        };
        obj.tags = o["tags"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(String::from)).collect();
        objects.push(obj);
    }
    let stamp = &v["header"]["stamp"];
    let holding = v["holding"].as_str().filter(|h| !h.is_empty()).map(String::from);
    let g = &v["gripper"];
    let robot = RobotState { time_s: f(&stamp["sec"]) + f(&stamp["nanosec"]) * 1e-9, gripper: base.to_table([f(&g["x"]), f(&g["y"]), f(&g["z"])]), holding };
    let obs = Observation { schema: SCHEMA_VERSION, domain, objects, robot: Some(robot), grid: None, kitchen: None };
    obs.validate().map_err(|e| format!("the robot's Scene: {e}"))?;
    Ok(obs)
}

impl RobotBridge for Ros2Bridge {
    fn observe(&self) -> Result<Observation, BridgeError> {
        match &*self.latest.lock().unwrap_or_else(PoisonError::into_inner) {
            SceneSlot::None => Err(BridgeError::NoObservation(format!(": no Scene on {} yet", self.scene.name))),
            SceneSlot::Wrong(why) => Err(BridgeError::Protocol { what: self.scene.name.clone(), reason: why.clone() }),
            SceneSlot::Seen(obs, at) if at.elapsed() <= self.config.scene_max_age => Ok((**obs).clone()),
            SceneSlot::Seen(_, at) => Err(BridgeError::NoObservation(format!(
                ": its last Scene on {} is {:.1} s old (at most {:.1} s)",
                self.scene.name,
                at.elapsed().as_secs_f64(),
                self.config.scene_max_age.as_secs_f64()
            ))),
        }
    }

    fn affordance(&self, skills: &[String], scene: &Observation) -> Result<Vec<f32>, BridgeError> {
        let reply = self.call(&self.affordance, &json!({ "skills": skills, "scene": self.scene_value(scene) }))?;
        let scores: Vec<f32> = reply["scores"].as_array().into_iter().flatten().map(|s| s.as_f64().unwrap_or(0.0) as f32).collect();
        if scores.len() != skills.len() {
            return Err(BridgeError::Protocol { what: self.affordance.name.clone(), reason: format!("{} scores for {} skills", scores.len(), skills.len()) });
        }
        Ok(scores)
    }

    fn execute(&self, goal: &SkillGoal, progress: &mut dyn FnMut(SkillProgress), cancel: &AtomicBool) -> Result<SkillEnd, BridgeError> {
        let id = goal_id(&self.gid, self.sequence.fetch_add(1, Ordering::SeqCst));
        // Feedback of this goal only, heard from before the goal is sent.
        let (tx, rx) = mpsc::channel::<SkillProgress>();
        let (store, fb_ty) = (self.store.clone(), self.feedback.ty.clone());
        let _feedback = self
            .session
            .declare_subscriber(&self.feedback.key)
            .callback(move |sample| {
                let Ok(m) = store.require(&fb_ty) else { return };
                if let Ok(v) = cdr::decode(&store, m, &sample.payload().to_bytes()) {
                    if v["goal_id"] == uuid(&id) {
                        let fb = &v["feedback"];
                        let _ = tx.send(SkillProgress {
                            phase: fb["phase"].as_str().unwrap_or_default().to_string(),
                            fraction: fb["progress"].as_f64().unwrap_or(0.0) as f32,
                        });
                    }
                }
            })
            .wait()
            .map_err(|e| BridgeError::Zenoh(e.to_string()))?;
        let (names, values): (Vec<&str>, Vec<&str>) = goal.slots.iter().map(|(n, v)| (n.as_str(), v.as_str())).unzip();
        let request = json!({
            "goal_id": uuid(&id),
            "goal": { "skill": goal.skill, "template": goal.template.clone().unwrap_or_default(), "slot_names": names, "slot_values": values },
        });
        let accepted = self.call(&self.send_goal, &request)?;
        if accepted["accepted"] != Value::Bool(true) {
            return Ok(SkillEnd { success: false, reason: Some(format!("the robot rejected the skill {:?}", goal.skill)) });
        }
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) = Some(id);
        let replies = self.start_call(&self.get_result, &json!({ "goal_id": uuid(&id) }), self.config.skill_timeout);
        let started = Instant::now();
        let mut cancelled = false;
        let outcome = (|| {
            let replies = replies?;
            loop {
                while let Ok(p) = rx.try_recv() {
                    progress(p);
                }
                if cancel.load(Ordering::SeqCst) && !cancelled {
                    cancelled = true;
                    if let Err(e) = self.cancel(&id) {
                        tracing::warn!("bridge: could not cancel the skill: {e}");
                    }
                }
                match replies.recv_timeout(Duration::from_millis(20)) {
                    Ok(Some(reply)) => return self.response(&self.get_result, reply),
                    Ok(None) if started.elapsed() < self.config.skill_timeout => {}
                    _ => return Err(BridgeError::Timeout { what: self.get_result.name.clone(), seconds: self.config.skill_timeout.as_secs_f64() }),
                }
            }
        })();
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) = None;
        while let Ok(p) = rx.try_recv() {
            progress(p);
        }
        let result = outcome?;
        let status = result["status"].as_i64().unwrap_or(0);
        let success = status == 4 && result["result"]["success"] == Value::Bool(true);
        let reason = result["result"]["reason"].as_str().filter(|r| !r.is_empty()).map(String::from);
        let reason = match status {
            4 if success => None,
            5 => Some(format!("cancelled{}", reason.map(|r| format!(": {r}")).unwrap_or_default())),
            6 => Some(format!("aborted by the robot{}", reason.map(|r| format!(": {r}")).unwrap_or_default())),
            _ => Some(reason.unwrap_or_else(|| format!("the skill ended with status {status}"))),
        };
        Ok(SkillEnd { success, reason })
    }

    fn estop(&self, engaged: bool, _reason: Option<&str>) -> Result<(), BridgeError> {
        let ty = self.store.require(&self.estop.ty).map_err(|e| BridgeError::Protocol { what: self.estop.name.clone(), reason: e.to_string() })?;
        let bytes = cdr::encode(&self.store, ty, &json!({ "data": engaged }))
            .map_err(|e| BridgeError::Protocol { what: self.estop.name.clone(), reason: e.to_string() })?;
        *self.latched.lock().unwrap_or_else(PoisonError::into_inner) = Some(bytes.clone());
        self.session
            .put(&self.estop.key, bytes)
            .attachment(self.attachment())
            .priority(zenoh::qos::Priority::RealTime)
            .congestion_control(zenoh::qos::CongestionControl::Block)
            .wait()
            .map_err(|e| BridgeError::Zenoh(e.to_string()))?;
        let running = *self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if let (true, Some(id)) = (engaged, running) {
            self.cancel(&id)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(kind: &str, rgb: Vec<u8>) -> Value {
        json!({
            "header": { "stamp": { "sec": 3, "nanosec": 500_000_000 }, "frame_id": "base" },
            "domain": "tabletop",
            "objects": [{
                "id": "b1", "name": "red block", "kind": kind,
                "pose": { "position": { "x": 0.4, "y": 0.0, "z": 0.02 }, "orientation": { "x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0 } },
                "rgb": rgb, "tags": ["cube"],
            }],
            "holding": "",
            "gripper": { "x": 0.0, "y": 0.0, "z": 0.3 },
        })
    }

    fn bytes(store: &TypeStore, v: &Value) -> Vec<u8> {
        let m = store.require(&TypeName::new("grounded_interfaces", "msg", "Scene")).unwrap();
        cdr::encode(store, m, v).unwrap()
    }

    #[test]
    fn a_scene_in_the_base_frame_becomes_an_observation_in_the_table_frame() {
        let store = TypeStore::with_grounded_interfaces();
        // The base 0.5 m along the table's x, turned a quarter left: its x is the table's y.
        let base = BaseInTable::parse("0.5,0,0,1.5707963267948966").unwrap();
        let obs = scene_to_observation(&store, &base, &bytes(&store, &scene("block", vec![200, 0, 0]))).unwrap();
        let o = &obs.objects[0];
        assert!((o.position[0] - 0.5).abs() < 1e-9 && (o.position[1] - 0.4).abs() < 1e-9 && (o.position[2] - 0.02).abs() < 1e-9, "{:?}", o.position);
        assert!((o.yaw - std::f64::consts::FRAC_PI_2).abs() < 1e-9);
        assert_eq!((o.kind, o.rgb, o.tags.clone()), (ObjectKind::Block, Some([200, 0, 0]), vec!["cube".to_string()]));
        let robot = obs.robot.unwrap();
        assert_eq!((robot.time_s, robot.holding), (3.5, None));
        let e = scene_to_observation(&store, &base, &bytes(&store, &scene("drawer", vec![]))).unwrap_err();
        assert!(e.contains("object kind \"drawer\""), "{e}");
        let e = scene_to_observation(&store, &base, &bytes(&store, &scene("block", vec![1, 2]))).unwrap_err();
        assert!(e.contains("rgb has 2 values"), "{e}");
        assert!(scene_to_observation(&store, &base, &[0, 1, 0, 0, 9]).is_err(), "a truncated payload");
    }
}
