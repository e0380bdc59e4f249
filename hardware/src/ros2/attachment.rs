//! The attachment rmw_zenoh puts on every publication, query and reply: the sender's sequence
//! number, its source timestamp (ns since the epoch) and its GID, which a service server
//! echoes in its reply so that the client can pair the two. Written with zenoh-ext's
//! serializer: two little-endian 64-bit integers, then the GID's length (a LEB128 varint, one
//! byte for 16) and its bytes.

/// The GID length rmw_zenoh uses.
pub const GID_LEN: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub sequence: i64,
    pub timestamp_ns: i64,
    pub gid: [u8; GID_LEN],
}

/// Why bytes are not an attachment.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AttachmentError {
    #[error("an rmw_zenoh attachment is {expected} bytes; this one is {found}")]
    Length { expected: usize, found: usize },
    #[error("the attachment's GID is {0} bytes; rmw_zenoh's are 16")]
    Gid(u8),
}

impl Attachment {
    pub const LEN: usize = 8 + 8 + 1 + GID_LEN;

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.extend(self.sequence.to_le_bytes());
        out.extend(self.timestamp_ns.to_le_bytes());
        out.push(GID_LEN as u8);
        out.extend(self.gid);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, AttachmentError> {
        if bytes.len() != Self::LEN {
            return Err(AttachmentError::Length { expected: Self::LEN, found: bytes.len() });
        }
        if bytes[16] as usize != GID_LEN {
            return Err(AttachmentError::Gid(bytes[16]));
        }
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[i..i + 8]);
            i64::from_le_bytes(b)
        };
        let mut gid = [0u8; GID_LEN];
        gid.copy_from_slice(&bytes[17..]);
        Ok(Self { sequence: word(0), timestamp_ns: word(8), gid })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_lengths() {
        let a = Attachment { sequence: 7, timestamp_ns: -1, gid: [9; GID_LEN] };
        let bytes = a.encode();
        assert_eq!(bytes.len(), Attachment::LEN);
        assert_eq!(Attachment::decode(&bytes), Ok(a));
        assert_eq!(Attachment::decode(&bytes[1..]), Err(AttachmentError::Length { expected: 33, found: 32 }));
        let mut odd = bytes.clone();
        odd[16] = 8;
        assert_eq!(Attachment::decode(&odd), Err(AttachmentError::Gid(8)));
    }
}
