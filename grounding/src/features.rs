//! A fixed-size feature vector of an observation, the state input of learned scorers.
//!
//! Feature `i` counts the observed objects whose name hashes (FNV-1a, 64 bit, of the UTF-8
//! name) to `i` modulo the vector's length. Python: see tools/make_test_scorer.py.

use protocol::Observation;

pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Bag of hashed object names, `len` features long.
pub fn state_features(observation: &Observation, len: usize) -> Vec<f32> {
    let mut v = vec![0.0f32; len];
    if len == 0 {
        return v;
    }
    for o in &observation.objects {
        v[(fnv1a(o.name.as_bytes()) % len as u64) as usize] += 1.0;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
    }
}
