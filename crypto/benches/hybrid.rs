use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sealed_secrets_crypto::{open, seal, PrivateKey, Scope};

fn hybrid(c: &mut Criterion) {
    let label = Scope::Strict.label("bench-ns", "bench-name");
    let plaintext = vec![0x5a_u8; 64];
    let mut group = c.benchmark_group("hybrid");
    for bits in [2048_usize, 4096] {
        let key = PrivateKey::generate(bits).expect("keygen");
        let sealed = seal(key.public_key(), &plaintext, &label).expect("seal");
        group.bench_with_input(BenchmarkId::new("seal", bits), &bits, |b, _| {
            b.iter(|| seal(key.public_key(), &plaintext, &label).expect("seal"))
        });
        group.bench_with_input(BenchmarkId::new("open", bits), &bits, |b, _| {
            b.iter(|| open(&key, &sealed, &label).expect("open"))
        });
    }
    group.finish();
}

criterion_group!(benches, hybrid);
criterion_main!(benches);
