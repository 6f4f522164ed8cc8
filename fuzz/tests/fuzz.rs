//! The fuzz targets. Under `cargo test` (stable) each replays its corpus
//! (`tests/__fuzz__/<target>/corpus`) and then runs random inputs for
//! a bounded time (`BOLERO_RANDOM_TEST_TIME_MS`, default 2 s); the
//! `*_mutated` twins edit the corpus files at random, which gets much further
//! into the parsers than random bytes. Coverage-guided, on nightly:
//! `scripts/fuzz TARGET` (cargo-bolero with libFuzzer). See docs/fuzzing.md.

use std::path::PathBuf;
use std::time::Duration;

use sealed_secrets_fuzz as checks;
use sealed_secrets_fuzz::mutate::{seeds, Mutation};

const TEST_TIME: Duration = Duration::from_secs(2);

fn corpus(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/__fuzz__")
        .join(target)
        .join("corpus")
}

macro_rules! targets {
    ($($target:ident, $mutated:ident;)*) => {$(
        #[test]
        fn $target() {
            bolero::check!()
                .with_test_time(TEST_TIME)
                .for_each(|input: &[u8]| checks::$target(input));
        }

        #[test]
        fn $mutated() {
            let seeds = seeds(&corpus(stringify!($target)));
            assert!(!seeds.is_empty(), "no seed corpus for {}", stringify!($target));
            bolero::check!()
                .with_type::<Mutation>()
                .with_test_time(TEST_TIME)
                .for_each(|m: &Mutation| checks::$target(&m.apply(&seeds)));
        }
    )*};
}

/// Every file of every target's corpus (seeds, and inputs the fuzzer found),
/// whatever the time bound of the random runs: bolero's own replay stops
/// when the target's time is up.
#[test]
fn every_corpus_input_passes() {
    type Check = fn(&[u8]);
    let checks: [(&str, Check); 7] = [
        ("documents", checks::documents),
        ("sealed_secret", checks::sealed_secret),
        ("seal_unseal", checks::seal_unseal),
        ("hybrid_open", checks::hybrid_open),
        ("pem", checks::pem),
        ("key_backup", checks::key_backup),
        ("http_body", checks::http_body),
    ];
    for (target, check) in checks {
        let inputs = seeds(&corpus(target));
        assert!(inputs.len() >= 3, "{target}: {} seeds", inputs.len());
        for input in inputs {
            check(&input);
        }
    }
}

targets! {
    documents, documents_mutated;
    sealed_secret, sealed_secret_mutated;
    seal_unseal, seal_unseal_mutated;
    hybrid_open, hybrid_open_mutated;
    pem, pem_mutated;
    key_backup, key_backup_mutated;
    http_body, http_body_mutated;
}
