//! The two hash functions Go has used for coverage meta-data: MD5 (Go 1.20
//! to 1.23) and FNV-1a/128 (later releases). The layouts hashed are the
//! same; only the function changed, so readers recompute with both.

use md5::Digest;

/// Which hash function a meta-data file was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgo {
    /// MD5 (Go 1.20 to 1.23).
    Md5,
    /// FNV-1a, 128 bits (later Go releases).
    Fnv128a,
}

/// An incremental hash of either kind.
pub(crate) enum Hasher {
    Md5(md5::Md5),
    Fnv(u128),
}

const FNV_OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
const FNV_PRIME: u128 = 0x0000000001000000000000000000013b;

impl Hasher {
    pub(crate) fn new(algo: HashAlgo) -> Hasher {
        match algo {
            HashAlgo::Md5 => Hasher::Md5(md5::Md5::new()),
            HashAlgo::Fnv128a => Hasher::Fnv(FNV_OFFSET),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Fnv(h) => {
                for &b in data {
                    *h ^= u128::from(b);
                    *h = h.wrapping_mul(FNV_PRIME);
                }
            }
        }
    }

    pub(crate) fn update_u32(&mut self, v: u32) {
        self.update(&v.to_le_bytes());
    }

    pub(crate) fn finish(self) -> [u8; 16] {
        match self {
            Hasher::Md5(h) => {
                let mut out = [0u8; 16];
                out.copy_from_slice(&h.finalize());
                out
            }
            // Go's hash/fnv appends the sum big-endian.
            Hasher::Fnv(h) => h.to_be_bytes(),
        }
    }
}

/// One-shot hash of `data`.
pub(crate) fn digest(algo: HashAlgo, data: &[u8]) -> [u8; 16] {
    let mut h = Hasher::new(algo);
    h.update(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(
            super::super::wire::hex(&digest(HashAlgo::Md5, b"abc")),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        // FNV-1a/128 of "" is the offset basis; of "a" from the reference.
        assert_eq!(
            super::super::wire::hex(&digest(HashAlgo::Fnv128a, b"")),
            "6c62272e07bb014262b821756295c58d"
        );
        assert_eq!(
            super::super::wire::hex(&digest(HashAlgo::Fnv128a, b"a")),
            "d228cb696f1a8caf78912b704e4a8964"
        );
    }
}
