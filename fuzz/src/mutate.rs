//! Structured mutations of the seed corpus, for the stable (not
//! coverage-guided) runs in `cargo test`: random bytes rarely get past the
//! first byte of a JSON parser, edits of a real SealedSecret do.

use bolero::generator::TypeGenerator;

/// Tokens that matter to the parsers: structure, escapes, YAML's anchors,
/// tags and document markers, PEM armour, base64 padding.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\n",
    b"---\n",
    b"...\n",
    b"&a ",
    b"*a",
    b"!!binary ",
    b"!!str ",
    b"<<: *a\n",
    b"\\u0000",
    b"\\ud800",
    b"1e999",
    b"-0",
    b"18446744073709551616",
    b"null",
    b"~",
    b"'",
    b"|\n  ",
    b"\t",
    b"\xef\xbb\xbf",
    b"=",
    b"-----BEGIN ",
    b"-----END ",
    b"PRIVATE KEY-----\n",
    b"CERTIFICATE-----\n",
    b"\x30\x82",
    b"\x02\x01\x00",
    b"\x00",
];

#[derive(Debug, TypeGenerator)]
pub enum Edit {
    /// Flip one bit.
    Flip { at: u32, bit: u8 },
    /// Overwrite one byte.
    Set { at: u32, byte: u8 },
    /// Insert a token of `TOKENS`.
    Token { at: u32, which: u8 },
    /// Remove a run of bytes.
    Delete { at: u32, len: u8 },
    /// Copy a run of bytes elsewhere (grows lists, nests objects).
    Copy { from: u32, len: u16, to: u32 },
    /// Cut the input short.
    Truncate { at: u32 },
}

/// One seed and the edits to make to it.
#[derive(Debug, TypeGenerator)]
pub struct Mutation {
    pub seed: u16,
    #[generator(bolero::generator::produce::<Vec<Edit>>().with().len(0usize..8))]
    pub edits: Vec<Edit>,
}

impl Mutation {
    /// The edited seed; empty when there is no seed.
    pub fn apply(&self, seeds: &[Vec<u8>]) -> Vec<u8> {
        if seeds.is_empty() {
            return Vec::new();
        }
        let mut out = seeds[usize::from(self.seed) % seeds.len()].clone();
        for edit in &self.edits {
            let at = |i: u32, extra: usize| (i as usize) % (out.len() + extra).max(1);
            match *edit {
                Edit::Flip { at: i, bit } if !out.is_empty() => {
                    let i = at(i, 0);
                    out[i] ^= 1 << (bit % 8);
                }
                Edit::Set { at: i, byte } if !out.is_empty() => {
                    let i = at(i, 0);
                    out[i] = byte;
                }
                Edit::Token { at: i, which } => {
                    let i = at(i, 1);
                    let token = TOKENS[usize::from(which) % TOKENS.len()];
                    out.splice(i..i, token.iter().copied());
                }
                Edit::Delete { at: i, len } if !out.is_empty() => {
                    let i = at(i, 0);
                    let end = (i + usize::from(len)).min(out.len());
                    out.drain(i..end);
                }
                Edit::Copy { from, len, to } if !out.is_empty() => {
                    let from = at(from, 0);
                    let end = (from + usize::from(len)).min(out.len());
                    let run = out[from..end].to_vec();
                    let to = at(to, 1);
                    out.splice(to..to, run);
                }
                Edit::Truncate { at: i } => {
                    let i = at(i, 1);
                    out.truncate(i);
                }
                _ => {}
            }
        }
        out
    }
}

/// Every file of a corpus directory, in name order.
pub fn seeds(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}
