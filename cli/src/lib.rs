//! The pure parts of `kubeseal` that read untrusted input, as a library so
//! the fuzz targets (`fuzz/`) can call exactly the code the binary runs:
//! input documents (JSON, YAML, several per stream) and private keys or key
//! backups (`--recovery-private-key`, `kubeseal admin keys restore`).

pub mod input;
pub mod recovery;
