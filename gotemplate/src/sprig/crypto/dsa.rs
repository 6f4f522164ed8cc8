//! `genPrivateKey "dsa"`: Go's `dsa.GenerateParameters(L2048N256)` and
//! `dsa.GenerateKey`, written as sprig's `DSAKeyFormat` ("DSA PRIVATE KEY").

use num_bigint::BigUint;

use super::der::{self, pem_encode, seq, uint};

const L: usize = 2048;
const N: usize = 256;
/// Miller-Rabin rounds: Go uses 64; 32 leave a false prime at most 2^-64 likely.
const ROUNDS: usize = 32;

fn random(bytes: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).ok()?;
    Some(buf)
}

fn small_primes() -> Vec<u32> {
    let mut primes: Vec<u32> = Vec::new();
    for n in 3u32..2000 {
        if primes
            .iter()
            .take_while(|&&p| p * p <= n)
            .all(|&p| n % p != 0)
        {
            primes.push(n);
        }
    }
    primes
}

fn probably_prime(n: &BigUint, small: &[u32]) -> Option<bool> {
    if small.iter().any(|&p| (n % p) == BigUint::from(0u32)) {
        return Some(false);
    }
    let one = BigUint::from(1u32);
    let n_minus_1 = n - &one;
    let s = n_minus_1.trailing_zeros()?;
    let d = &n_minus_1 >> s;
    let bytes = n.bits().div_ceil(8) as usize;
    'rounds: for _ in 0..ROUNDS {
        let a = BigUint::from_bytes_be(&random(bytes)?) % (&n_minus_1 - &one) + &one + &one;
        let mut x = a.modpow(&d, n);
        if x == one || x == n_minus_1 {
            continue;
        }
        for _ in 1..s {
            x = x.modpow(&BigUint::from(2u32), n);
            if x == n_minus_1 {
                continue 'rounds;
            }
        }
        return Some(false);
    }
    Some(true)
}

fn generate() -> Option<[BigUint; 5]> {
    let small = small_primes();
    let one = BigUint::from(1u32);
    let (p, q) = 'found: loop {
        let mut qb = random(N / 8)?;
        qb[N / 8 - 1] |= 1;
        qb[0] |= 0x80;
        let q = BigUint::from_bytes_be(&qb);
        if !probably_prime(&q, &small)? {
            continue;
        }
        for _ in 0..4 * L {
            let mut pb = random(L / 8)?;
            pb[L / 8 - 1] |= 1;
            pb[0] |= 0x80;
            let p = BigUint::from_bytes_be(&pb);
            // p = p - (p mod q) + 1, so q divides p - 1.
            let rem = &p % &q;
            let p = p - rem + &one;
            if (p.bits() as usize) < L {
                continue;
            }
            if probably_prime(&p, &small)? {
                break 'found (p, q);
            }
        }
    };
    let e = (&p - &one) / &q;
    let mut h = BigUint::from(2u32);
    let g = loop {
        let g = h.modpow(&e, &p);
        if g != one {
            break g;
        }
        h += &one;
    };
    let x = loop {
        let x = BigUint::from_bytes_be(&random(N / 8)?);
        if x != BigUint::from(0u32) && x < q {
            break x;
        }
    };
    let y = g.modpow(&x, &p);
    Some([p, q, g, y, x])
}

/// The PEM text, or Go's failure text.
pub(super) fn generate_pem() -> String {
    match generate() {
        Some(parts) => {
            let ints: Vec<Vec<u8>> = parts.iter().map(|n| uint(&n.to_bytes_be())).collect();
            let mut fields: Vec<&[u8]> = vec![&[2, 1, 0]];
            fields.extend(ints.iter().map(Vec::as_slice));
            pem_encode("DSA PRIVATE KEY", &seq(&fields))
        }
        None => "failed to generate dsa params: crypto/rand: read failed".into(),
    }
}

/// Checks the `DSAKeyFormat` shape: a SEQUENCE of six INTEGERs.
pub(super) fn parse(data: &[u8]) -> Option<()> {
    let (tag, content, _, _) = der::read(data)?;
    let items = der::items(content)?;
    (tag == der::SEQ && items.len() == 6 && items.iter().all(|(t, _)| *t == der::INT)).then_some(())
}
