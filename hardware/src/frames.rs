//! The robot's base frame against grounded's table frame: grounded's observations are in the
//! table frame (x right, y away from the robot, z up from the table surface); a robot
//! reports and takes poses in its own base frame. The bridge's configuration gives the base's
//! pose in the table frame.

use nalgebra::{Isometry3, Point3, Translation3, UnitQuaternion, Vector3};

/// The robot base's pose in the table frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BaseInTable(pub Isometry3<f64>);

impl Default for BaseInTable {
    /// The base at the table frame's origin, unrotated.
    fn default() -> Self {
        Self(Isometry3::identity())
    }
}

impl BaseInTable {
    /// From `x,y,z,yaw` (metres, radians about the table's z axis).
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<f64> = text
            .split(',')
            .map(|p| p.trim().parse::<f64>().map_err(|_| format!("{p:?} is not a number")))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("--base-in-table {text:?}: {e}; give X,Y,Z,YAW (metres, radians)"))?;
        let [x, y, z, yaw] = parts[..] else { return Err(format!("--base-in-table {text:?}: give four numbers X,Y,Z,YAW (metres, radians)")) };
        if parts.iter().any(|v| !v.is_finite()) || [x, y, z].iter().any(|v| v.abs() > 100.0) {
            return Err(format!("--base-in-table {text:?}: positions within 100 m, every number finite"));
        }
        Ok(Self(Isometry3::from_parts(Translation3::new(x, y, z), UnitQuaternion::from_axis_angle(&Vector3::z_axis(), yaw))))
    }

    /// A point the robot reports in its base frame, in the table frame.
    pub fn to_table(&self, base: [f64; 3]) -> [f64; 3] {
        let p = self.0 * Point3::new(base[0], base[1], base[2]);
        [p.x, p.y, p.z]
    }

    /// A point of the table frame, in the robot's base frame.
    pub fn to_base(&self, table: [f64; 3]) -> [f64; 3] {
        let p = self.0.inverse() * Point3::new(table[0], table[1], table[2]);
        [p.x, p.y, p.z]
    }

    /// An orientation the robot reports (a unit quaternion x, y, z, w in its base frame): the
    /// yaw about the table's vertical axis.
    pub fn yaw_in_table(&self, q: [f64; 4]) -> f64 {
        let in_base = UnitQuaternion::from_quaternion(nalgebra::Quaternion::new(q[3], q[0], q[1], q[2]));
        (self.0.rotation * in_base).euler_angles().2
    }

    /// A yaw in the table frame as a unit quaternion (x, y, z, w) in the robot's base frame.
    pub fn orientation_in_base(&self, yaw: f64) -> [f64; 4] {
        let q = self.0.rotation.inverse() * UnitQuaternion::from_axis_angle(&Vector3::z_axis(), yaw);
        [q.i, q.j, q.k, q.w]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_and_yaws_go_between_the_frames_and_back() {
        let base = BaseInTable::parse("0.5, -0.2, 0.1, 1.5707963267948966").unwrap();
        // The base turned a quarter left: its x axis is the table's y axis.
        let t = base.to_table([1.0, 0.0, 0.0]);
        assert!((t[0] - 0.5).abs() < 1e-9 && (t[1] - 0.8).abs() < 1e-9 && (t[2] - 0.1).abs() < 1e-9, "{t:?}");
        let b = base.to_base(t);
        assert!((b[0] - 1.0).abs() < 1e-9 && b[1].abs() < 1e-9 && b[2].abs() < 1e-9, "{b:?}");
        let q = base.orientation_in_base(0.3);
        assert!((base.yaw_in_table(q) - 0.3).abs() < 1e-9);
        assert!(BaseInTable::parse("1,2,3").unwrap_err().contains("four numbers"));
        assert!(BaseInTable::parse("1,2,x,0").unwrap_err().contains("\"x\" is not a number"));
        assert!(BaseInTable::parse("1,2,3,NaN").is_err());
    }
}
