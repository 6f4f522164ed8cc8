//! `/v1/verify` and `/v1/rotate` under a flood, on the controller's own port
//! (loopback, not through the API server), for a bounded time: 32 clients,
//! each posting 10 MiB SealedSecrets of thousands of items as fast as the
//! controller answers (the rate limit raised so the flood reaches the
//! handlers). Throughout: the controller's peak memory stays bounded,
//! `/healthz` answers within a second, and SealedSecrets applied meanwhile
//! unseal.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sealed_secrets_e2e::controller::ControllerOptions;
use sealed_secrets_e2e::kubeseal::{kubeseal, succeeded};
use sealed_secrets_e2e::secrets::wait_secret_value;
use sealed_secrets_e2e::{ControlPlane, TestNamespace};
use serde_json::json;

const CLIENTS: usize = 32;
const FLOOD: Duration = Duration::from_secs(15);
const BODY_LIMIT: usize = 10 << 20;

/// The bound on the controller's peak resident memory above its baseline:
/// the body budget (40 MiB of bodies held at once, http.rs), plus one
/// decoding job per core (2 here), each holding its body's parsed forms
/// (JSON value, SealedSecret, errors: about 4x the body, so 40 MiB for a
/// 10 MiB body; a YAML body takes more while parsed), plus the allocator's
/// slack. Without the budget every client's 10 MiB body is held at once:
/// 32 x 10 MiB = 320 MiB for the bodies alone.
const PEAK_OVER_BASELINE_KIB: u64 = 256 << 10;

/// Peak resident memory (VmHWM) of `pid`, in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// A SealedSecret just under `BODY_LIMIT` bytes of JSON (or YAML), of
/// thousands of items that do not open: a zero RSA length, then noise, so
/// each is refused without RSA work (the flood is about memory).
fn body(namespace: &str, yaml: bool) -> Vec<u8> {
    let noise: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut item = vec![0u8, 0u8];
    item.extend_from_slice(&noise);
    let value = base64::engine::general_purpose::STANDARD.encode(&item);
    let per_item = value.len() + 24;
    let count = (BODY_LIMIT - 4096) / per_item;
    let items: serde_json::Map<String, serde_json::Value> = (0..count)
        .map(|i| (format!("item{i:06}"), value.clone().into()))
        .collect();
    let object = json!({
        "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": "flood", "namespace": namespace},
        "spec": {"template": {"metadata": {"name": "flood"}}, "encryptedData": items},
    });
    let text = if yaml {
        serde_yaml::to_string(&object).expect("yaml")
    } else {
        object.to_string()
    };
    assert!(text.len() <= BODY_LIMIT, "{} bytes", text.len());
    assert!(count > 1_000);
    text.into_bytes()
}

/// POSTs `body`, returns the status code (0: the connection failed).
fn post(address: &str, path: &str, body: &[u8]) -> u16 {
    let attempt = || -> std::io::Result<u16> {
        let mut stream = TcpStream::connect(address)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        stream.set_write_timeout(Some(Duration::from_secs(60)))?;
        write!(
            stream,
            "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nContent-Type: application/json\r\n\r\n",
            body.len()
        )?;
        stream.write_all(body)?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        let code = std::str::from_utf8(&head[9..12])
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        std::io::copy(&mut stream, &mut std::io::sink())?;
        Ok(code)
    };
    attempt().unwrap_or(0)
}

fn healthz_millis(address: &str) -> Option<u128> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    reply
        .starts_with("HTTP/1.0 200")
        .then(|| started.elapsed().as_millis())
}

#[test]
fn verify_and_rotate_under_a_flood() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "http-flood").expect("namespace");
    let controller = ControllerOptions::for_namespace(&ns)
        .args(["--rate-limit=100000", "--rate-limit-burst=100000"])
        .start(cp)
        .expect("controller starts");
    let (address, pid) = (controller.http_address(), controller.pid());
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, pem) = controller.get("/v1/cert.pem").expect("cert");
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, pem).expect("cert file");
    let cert = cert.to_string_lossy().into_owned();

    let json_body = Arc::new(body(ns.name(), false));
    let yaml_body = Arc::new(body(ns.name(), true));
    // Warm up (allocator arenas, first decode), then the baseline.
    assert_eq!(post(&address, "/v1/verify", &json_body), 409);
    let baseline = peak_kib(pid);

    let stop = Arc::new(AtomicBool::new(false));
    let codes = Arc::new(Mutex::new(std::collections::BTreeMap::<u16, u64>::new()));
    let sent_bytes = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (stop, codes, sent) = (stop.clone(), codes.clone(), sent_bytes.clone());
            // A quarter send YAML; half of all go to rotate.
            let body = if i % 4 == 3 {
                yaml_body.clone()
            } else {
                json_body.clone()
            };
            let path = if i % 2 == 0 {
                "/v1/verify"
            } else {
                "/v1/rotate"
            };
            let address = address.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let code = post(&address, path, &body);
                    sent.fetch_add(body.len() as u64, Ordering::Relaxed);
                    *codes.lock().expect("codes").entry(code).or_default() += 1;
                }
            })
        })
        .collect();
    let health = {
        let stop = stop.clone();
        let address = address.clone();
        std::thread::spawn(move || {
            let mut worst = 0u128;
            let mut checks = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let millis = healthz_millis(&address).unwrap_or(u128::MAX);
                worst = worst.max(millis);
                checks += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
            (worst, checks)
        })
    };

    // Meanwhile, ordinary SealedSecrets are applied and unseal.
    let mut unsealed_during_flood = 0;
    for i in 0..3 {
        let name = format!("during-{i}");
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": ns.name()}, "stringData": {"k": format!("v{i}")}});
        let sealed = succeeded(
            &kubeseal(cp, &["--cert", &cert, "-o", "json"], &secret.to_string()).expect("kubeseal"),
        );
        ns.kubectl().create(&sealed).expect("create");
        wait_secret_value(&ns, &name, "k", &format!("v{i}"))
            .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
        if started.elapsed() < FLOOD {
            unsealed_during_flood += 1;
        }
    }
    std::thread::sleep(FLOOD.saturating_sub(started.elapsed()));
    stop.store(true, Ordering::Relaxed);
    let (worst_healthz, checks) = health.join().expect("health thread");
    for client in clients {
        client.join().expect("client");
    }
    let elapsed = started.elapsed();
    let peak = peak_kib(pid);
    let codes = codes.lock().expect("codes").clone();
    let sent = sent_bytes.load(Ordering::Relaxed) >> 20;
    eprintln!(
        "flood: {elapsed:?}, {sent} MiB sent, answers {codes:?}; peak memory {} MiB (baseline {} MiB); \
         /healthz worst {worst_healthz} ms over {checks} checks; {unsealed_during_flood}/3 unsealed during the flood",
        peak >> 10,
        baseline >> 10
    );

    let (code, _) = controller.get("/healthz").expect("alive after the flood");
    assert_eq!(code, 200);
    assert!(
        codes.get(&409).copied().unwrap_or(0) > 0,
        "verify answered: {codes:?}"
    );
    assert!(
        codes.get(&500).copied().unwrap_or(0) > 0,
        "rotate answered: {codes:?}"
    );
    assert!(
        !codes.contains_key(&429),
        "the rate limit was raised: {codes:?}"
    );
    assert!(worst_healthz < 1_000, "/healthz took {worst_healthz} ms");
    assert!(checks >= 10, "{checks} health checks");
    assert!(
        peak <= baseline + PEAK_OVER_BASELINE_KIB,
        "peak {} MiB over a baseline of {} MiB",
        peak >> 10,
        baseline >> 10
    );
    assert!(
        unsealed_during_flood >= 1,
        "nothing unsealed during the flood"
    );
    assert!(!controller.log().contains("panicked"));
}
