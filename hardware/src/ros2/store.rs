//! The structures a bridge knows: the standard interfaces it needs (bundled from
//! `hardware/ros2/standard/`), grounded's own (`hardware/ros2/grounded_interfaces/`), and
//! any added at run time; each service and action expanded into the structures rosidl
//! derives from it (`_Request`, `_Response`, `_Event`; `_Goal`, `_SendGoal`, `_GetResult`,
//! `_FeedbackMessage`, ...), which is what travels and what is hashed.

use super::idl::{self, Base, Field, FieldType, IdlError, Interface, Message, Primitive, Shape, TypeName};
use std::collections::BTreeMap;

/// Bundled definitions: (type name, file text).
const STANDARD: &[(&str, &str)] = &[
    ("builtin_interfaces/msg/Time", include_str!("../../ros2/standard/builtin_interfaces/msg/Time.msg")),
    ("std_msgs/msg/String", include_str!("../../ros2/standard/std_msgs/msg/String.msg")),
    ("std_msgs/msg/Bool", include_str!("../../ros2/standard/std_msgs/msg/Bool.msg")),
    ("std_msgs/msg/Header", include_str!("../../ros2/standard/std_msgs/msg/Header.msg")),
    ("geometry_msgs/msg/Point", include_str!("../../ros2/standard/geometry_msgs/msg/Point.msg")),
    ("geometry_msgs/msg/Quaternion", include_str!("../../ros2/standard/geometry_msgs/msg/Quaternion.msg")),
    ("geometry_msgs/msg/Pose", include_str!("../../ros2/standard/geometry_msgs/msg/Pose.msg")),
    ("unique_identifier_msgs/msg/UUID", include_str!("../../ros2/standard/unique_identifier_msgs/msg/UUID.msg")),
    ("service_msgs/msg/ServiceEventInfo", include_str!("../../ros2/standard/service_msgs/msg/ServiceEventInfo.msg")),
    ("action_msgs/msg/GoalInfo", include_str!("../../ros2/standard/action_msgs/msg/GoalInfo.msg")),
    ("action_msgs/msg/GoalStatus", include_str!("../../ros2/standard/action_msgs/msg/GoalStatus.msg")),
    ("action_msgs/msg/GoalStatusArray", include_str!("../../ros2/standard/action_msgs/msg/GoalStatusArray.msg")),
    ("action_msgs/srv/CancelGoal", include_str!("../../ros2/standard/action_msgs/srv/CancelGoal.srv")),
];

/// grounded's own interfaces, as the robot side builds them.
const GROUNDED: &[(&str, &str)] = &[
    ("grounded_interfaces/msg/SceneObject", include_str!("../../ros2/grounded_interfaces/msg/SceneObject.msg")),
    ("grounded_interfaces/msg/Scene", include_str!("../../ros2/grounded_interfaces/msg/Scene.msg")),
    ("grounded_interfaces/srv/Affordance", include_str!("../../ros2/grounded_interfaces/srv/Affordance.srv")),
    ("grounded_interfaces/action/ExecuteSkill", include_str!("../../ros2/grounded_interfaces/action/ExecuteSkill.action")),
];

/// Every structure known, by name.
#[derive(Clone, Debug, Default)]
pub struct TypeStore {
    structs: BTreeMap<TypeName, Message>,
}

fn nested(package: &str, kind: &str, name: &str) -> Base {
    Base::Nested(TypeName::new(package, kind, name))
}

impl TypeStore {
    /// The standard interfaces and grounded's own.
    pub fn with_grounded_interfaces() -> Self {
        let mut store = Self::default();
        for (name, text) in STANDARD.iter().chain(GROUNDED) {
            // Bundled and checked by this crate's tests: a failure here is a build defect.
            if let Err(e) = TypeName::parse(name).and_then(|n| store.add(&n, text)) {
                panic!("bundled interface {name}: {e}");
            }
        }
        store
    }

    /// Parse and add one interface file (with the structures derived from it).
    pub fn add(&mut self, name: &TypeName, text: &str) -> Result<(), IdlError> {
        match idl::parse(name, text)? {
            Interface::Message(m) => self.insert(m),
            Interface::Service { name, request, response } => self.add_service(&name, request, response),
            Interface::Action { name, goal, result, feedback } => {
                let uuid = nested("unique_identifier_msgs", "msg", "UUID");
                let send = name.with_suffix("_SendGoal");
                let send_request = Message::of(send.with_suffix("_Request"), &[("goal_id", uuid.clone()), ("goal", Base::Nested(goal.name.clone()))]);
                let send_response = Message::of(
                    send.with_suffix("_Response"),
                    &[("accepted", Base::Primitive(Primitive::Bool)), ("stamp", nested("builtin_interfaces", "msg", "Time"))],
                );
                let get = name.with_suffix("_GetResult");
                let get_request = Message::of(get.with_suffix("_Request"), &[("goal_id", uuid.clone())]);
                let get_response =
                    Message::of(get.with_suffix("_Response"), &[("status", Base::Primitive(Primitive::Int8)), ("result", Base::Nested(result.name.clone()))]);
                let feedback_message =
                    Message::of(name.with_suffix("_FeedbackMessage"), &[("goal_id", uuid), ("feedback", Base::Nested(feedback.name.clone()))]);
                let action = Message::of(
                    name.clone(),
                    &[
                        ("goal", Base::Nested(goal.name.clone())),
                        ("result", Base::Nested(result.name.clone())),
                        ("feedback", Base::Nested(feedback.name.clone())),
                        ("send_goal_service", Base::Nested(send.clone())),
                        ("get_result_service", Base::Nested(get.clone())),
                        ("feedback_message", Base::Nested(feedback_message.name.clone())),
                    ],
                );
                for m in [goal, result, feedback, feedback_message, action] {
                    self.insert(m);
                }
                self.add_service(&send, send_request, send_response);
                self.add_service(&get, get_request, get_response);
            }
        }
        Ok(())
    }

    /// A service's request and response, its event, and the service structure itself.
    fn add_service(&mut self, name: &TypeName, request: Message, response: Message) {
        let bounded =
            |m: &Message| Field { name: String::new(), ty: FieldType { base: Base::Nested(m.name.clone()), shape: Shape::Sequence(Some(1)) }, default: None };
        let mut event = Message::of(name.with_suffix("_Event"), &[("info", nested("service_msgs", "msg", "ServiceEventInfo"))]);
        event.fields.push(Field { name: "request".into(), ..bounded(&request) });
        event.fields.push(Field { name: "response".into(), ..bounded(&response) });
        let service = Message::of(
            name.clone(),
            &[
                ("request_message", Base::Nested(request.name.clone())),
                ("response_message", Base::Nested(response.name.clone())),
                ("event_message", Base::Nested(event.name.clone())),
            ],
        );
        for m in [request, response, event, service] {
            self.insert(m);
        }
    }

    fn insert(&mut self, m: Message) {
        self.structs.insert(m.name.clone(), m);
    }

    /// A structure by name.
    pub fn get(&self, name: &TypeName) -> Option<&Message> {
        self.structs.get(name)
    }

    /// A structure by name, or an error that says it is unknown.
    pub fn require(&self, name: &TypeName) -> Result<&Message, UnknownType> {
        self.get(name).ok_or_else(|| UnknownType(name.clone()))
    }
}

/// A structure no definition was given for.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown ROS 2 type {0}: add its definition")]
pub struct UnknownType(pub TypeName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_and_actions_expand_into_the_structures_that_travel() {
        let store = TypeStore::with_grounded_interfaces();
        for name in [
            "grounded_interfaces/srv/Affordance_Request",
            "grounded_interfaces/srv/Affordance_Event",
            "grounded_interfaces/action/ExecuteSkill_SendGoal_Request",
            "grounded_interfaces/action/ExecuteSkill_GetResult_Response",
            "grounded_interfaces/action/ExecuteSkill_FeedbackMessage",
            "action_msgs/srv/CancelGoal_Response",
        ] {
            assert!(store.get(&TypeName::parse(name).unwrap()).is_some(), "{name}");
        }
        let feedback = store.get(&TypeName::parse("grounded_interfaces/action/ExecuteSkill_FeedbackMessage").unwrap()).unwrap();
        assert_eq!(feedback.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["goal_id", "feedback"]);
    }
}
