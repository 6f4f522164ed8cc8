//! The client and the envelope against a real KMS v2 plugin: the SoftHSM
//! plugin (`kms-softhsm-plugin`), each test with a token of its own in a
//! temporary directory. Off by default; see kms/README.md:
//!
//! ```sh
//! SEALED_SECRETS_KMS_PLUGIN=/path/to/kms-softhsm-plugin \
//!   cargo test -p sealed-secrets-kms --features plugin-tests
//! ```
//!
//! Needs `softhsm2-util` (Debian `softhsm2`), its PKCS#11 library
//! (`/usr/lib/softhsm/libsofthsm2.so`, or `SEALED_SECRETS_SOFTHSM2_LIB`) and
//! `pkcs11-tool` (Debian `opensc`).
#![cfg(feature = "plugin-tests")]

use std::fs;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sealed_secrets_crypto::{Certificate, CertificateParams, PrivateKey};
use sealed_secrets_kms::{
    unwrap_private_key, wrap_private_key, Error, ErrorKind, KmsClient, Method, WrappedKey,
};

const PLUGIN_ENV: &str = "SEALED_SECRETS_KMS_PLUGIN";
const LIB_ENV: &str = "SEALED_SECRETS_SOFTHSM2_LIB";
const DEFAULT_LIB: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN: &str = "sealed-secrets-test";
const PIN: &str = "1234";
const TIMEOUT: Duration = Duration::from_secs(2);

/// A SoftHSM token in a temporary directory with AES-256 keys, and the
/// plugin serving it on a socket there.
struct Plugin {
    dir: tempfile::TempDir,
    binary: PathBuf,
    /// The PKCS#11 library.
    lib: String,
    child: Option<Child>,
}

impl Plugin {
    /// A token holding `labels` (AES-256 keys), the first one current, and
    /// the plugin started on it.
    fn start(labels: &[&str]) -> Self {
        let mut plugin = Self::prepare(labels);
        plugin.restart();
        plugin
    }

    /// The token and the configuration, the plugin not started.
    fn prepare(labels: &[&str]) -> Self {
        let binary = PathBuf::from(std::env::var_os(PLUGIN_ENV).unwrap_or_else(|| {
            panic!(
                "{PLUGIN_ENV} is not set: set it to the path of the KMS v2 SoftHSM plugin \
                 (kms-softhsm-plugin) to run these tests, e.g. \
                 {PLUGIN_ENV}=/path/to/kms-softhsm-plugin cargo test -p sealed-secrets-kms \
                 --features plugin-tests (kms/README.md)"
            )
        }));
        assert!(
            binary.is_file(),
            "{PLUGIN_ENV}={} is not a file",
            binary.display()
        );
        let lib = std::env::var(LIB_ENV).unwrap_or_else(|_| DEFAULT_LIB.into());
        assert!(
            Path::new(&lib).exists(),
            "no SoftHSM PKCS#11 library at {lib} (apt-get install softhsm2, or set {LIB_ENV})"
        );

        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        fs::create_dir(&tokens).unwrap();
        fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                tokens.display()
            ),
        )
        .unwrap();
        // crypto11's configuration, as the plugin reads it.
        fs::write(
            dir.path().join("crypto11.json"),
            format!(r#"{{"Path": "{lib}", "TokenLabel": "{TOKEN}", "Pin": "{PIN}"}}"#),
        )
        .unwrap();
        let plugin = Self {
            dir,
            binary,
            lib,
            child: None,
        };
        plugin.softhsm(&[
            "--init-token",
            "--free",
            "--label",
            TOKEN,
            "--pin",
            PIN,
            "--so-pin",
            "5678",
        ]);
        for (i, label) in labels.iter().enumerate() {
            plugin.add_key(label, i + 1);
        }
        plugin.set_current(labels[0]);
        plugin
    }

    fn softhsm(&self, args: &[&str]) {
        let out = Command::new("softhsm2-util")
            .args(args)
            .env("SOFTHSM2_CONF", self.dir.path().join("softhsm2.conf"))
            .output()
            .unwrap_or_else(|e| panic!("softhsm2-util (apt-get install softhsm2): {e}"));
        assert!(
            out.status.success(),
            "softhsm2-util {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// An AES-256 key labelled `label`, made in the token (works while the
    /// plugin runs: it looks keys up by label on first use). pkcs11-tool,
    /// not `softhsm2-util --import --aes`: with imported keys the plugin's
    /// first Encrypt panicked (CKR_MECHANISM_INVALID in crypto11's GCM) in
    /// 6 of 32 fresh starts; with generated ones, never in 30.
    fn add_key(&self, label: &str, id: usize) {
        let id = format!("{id:02x}");
        let args = [
            "--module",
            &self.lib,
            "--token-label",
            TOKEN,
            "--login",
            "--pin",
            PIN,
            "--keygen",
            "--key-type",
            "aes:32",
            "--label",
            label,
            "--id",
            &id,
        ];
        let out = Command::new("pkcs11-tool")
            .args(args)
            .env("SOFTHSM2_CONF", self.dir.path().join("softhsm2.conf"))
            .output()
            .unwrap_or_else(|e| panic!("pkcs11-tool (apt-get install opensc): {e}"));
        assert!(
            out.status.success(),
            "pkcs11-tool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Rotation: the plugin re-reads this file on every Status and Encrypt.
    fn set_current(&self, label: &str) {
        fs::write(self.dir.path().join("current-key"), format!("{label}\n")).unwrap();
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("kms.sock")
    }

    fn endpoint(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// Starts the plugin (again) and waits until it accepts connections.
    fn restart(&mut self) {
        assert!(self.child.is_none(), "the plugin is running");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("plugin.log"))
            .unwrap();
        let child = Command::new(&self.binary)
            .arg("--listen-addr")
            .arg(self.endpoint())
            .arg("--config-file-path")
            .arg(self.dir.path().join("crypto11.json"))
            .arg("--current-key-file")
            .arg(self.dir.path().join("current-key"))
            .env("SOFTHSM2_CONF", self.dir.path().join("softhsm2.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{PLUGIN_ENV}={}: {e}", self.binary.display()));
        self.child = Some(child);
        // A stale socket of a killed plugin refuses connections until the
        // new one has replaced it.
        let deadline = Instant::now() + Duration::from_secs(20);
        while UnixStream::connect(self.socket()).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the plugin exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "the plugin is not listening:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the plugin (SIGKILL: its socket file stays behind).
    fn stop(&mut self) {
        let mut child = self.child.take().expect("the plugin is not running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Stops (SIGSTOP) or continues (SIGCONT) the plugin, and waits until it
    /// is so: a plugin that hangs.
    fn pause(&self, paused: bool) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let signal = if paused { "-STOP" } else { "-CONT" };
        let ok = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(ok.success(), "kill {signal} {pid}");
        // /proc/PID/stat: "PID (comm) STATE ...", T when stopped.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            let state = stat.rsplit_once(") ").unwrap().1.chars().next();
            if (state == Some('T')) == paused {
                return;
            }
            assert!(Instant::now() < deadline, "plugin state {state:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("plugin.log")).unwrap_or_default()
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("the plugin's log:\n{}", self.log());
        }
    }
}

async fn client(plugin: &Plugin) -> KmsClient {
    KmsClient::connect(&plugin.endpoint(), TIMEOUT)
        .await
        .unwrap()
}

fn key_and_cert(bits: usize) -> (PrivateKey, Certificate) {
    let key = PrivateKey::generate(bits).unwrap();
    let cert = Certificate::self_signed(&key, &CertificateParams::default()).unwrap();
    (key, cert)
}

#[tokio::test]
async fn status_and_a_round_trip_of_an_rsa_4096_pem() {
    let plugin = Plugin::start(&["kek-1"]);
    let kms = client(&plugin).await;

    let status = kms.status().await.unwrap();
    assert_eq!(
        (
            status.version.as_str(),
            status.healthz.as_str(),
            status.key_id.as_str()
        ),
        ("v2", "ok", "kek-1")
    );

    // Encrypt/Decrypt themselves.
    let wrapped = kms
        .encrypt(b"a 32-byte DEK, or anything short")
        .await
        .unwrap();
    assert_eq!(wrapped.key_id, "kek-1");
    // The SoftHSM plugins name their format in one annotation.
    assert_eq!(wrapped.annotations.len(), 1, "{:?}", wrapped.annotations);
    assert!(!wrapped.ciphertext.is_empty() && wrapped.ciphertext.len() <= 1024);
    assert_eq!(
        kms.decrypt(&wrapped).await.unwrap().as_slice(),
        b"a 32-byte DEK, or anything short"
    );

    // The reference's key size, as PEM (key and certificate).
    let (key, cert) = key_and_cert(4096);
    let pem = key.to_pkcs1_pem().unwrap();
    let wrapped = wrap_private_key(&kms, pem.as_bytes(), cert.to_pem().as_bytes())
        .await
        .unwrap();
    assert_eq!(wrapped.wrapped_dek.key_id, "kek-1");
    // HSM GCM: nonce (12 or 16 bytes) || sealed 32-byte DEK || tag.
    let len = wrapped.wrapped_dek.ciphertext.len();
    assert!((12 + 32 + 16..=16 + 32 + 16).contains(&len), "{len}");
    let back = unwrap_private_key(&kms, &wrapped, cert.to_pem().as_bytes())
        .await
        .unwrap();
    assert_eq!(*back, *key.to_pkcs1_der().unwrap());
    assert_eq!(
        PrivateKey::from_pkcs1_der(&back).unwrap().fingerprint(),
        key.fingerprint()
    );
}

#[tokio::test]
async fn rotation_keeps_old_wrapped_keys_readable() {
    let plugin = Plugin::start(&["kek-1"]);
    let kms = client(&plugin).await;
    let (key, cert) = key_and_cert(2048);
    let der = key.to_pkcs1_der().unwrap();

    let old = wrap_private_key(&kms, &der, cert.der()).await.unwrap();
    assert_eq!(old.wrapped_dek.key_id, "kek-1");

    // A new key in the token, made current while the plugin runs.
    plugin.add_key("kek-2", 2);
    plugin.set_current("kek-2");
    assert_eq!(kms.status().await.unwrap().key_id, "kek-2");
    let new = wrap_private_key(&kms, &der, cert.der()).await.unwrap();
    assert_eq!(new.wrapped_dek.key_id, "kek-2");

    for wrapped in [&old, &new] {
        assert_eq!(
            *unwrap_private_key(&kms, wrapped, cert.der()).await.unwrap(),
            *der
        );
    }
    // Re-wrapping the old one (what the controller does on a key_id
    // change): its DEK now under kek-2.
    let dek = kms.decrypt(&old.wrapped_dek).await.unwrap();
    let rewrapped = WrappedKey {
        wrapped_dek: kms.encrypt(&dek).await.unwrap(),
        sealed_key: old.sealed_key.clone(),
    };
    assert_eq!(rewrapped.wrapped_dek.key_id, "kek-2");
    assert_eq!(
        *unwrap_private_key(&kms, &rewrapped, cert.der())
            .await
            .unwrap(),
        *der
    );

    // A current key the token does not have: the plugin says so in healthz,
    // naming the label as is or in hex (6b656b2d39).
    plugin.set_current("kek-9");
    let err = kms.status().await.unwrap_err();
    assert!(
        matches!(&err, Error::Unhealthy { healthz } 
            if healthz.contains("kek-9") || healthz.contains("6b656b2d39")),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let err = kms.encrypt(&[0; 32]).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused {
                method: Method::Encrypt,
                ..
            }
        ),
        "{err:?}"
    );
    // Still able to read what it wrapped.
    assert_eq!(
        *unwrap_private_key(&kms, &old, cert.der()).await.unwrap(),
        *der
    );
}

#[tokio::test]
async fn tampering_and_swapping_fail() {
    let plugin = Plugin::start(&["kek-1"]);
    let kms = client(&plugin).await;
    let (key1, cert1) = key_and_cert(2048);
    let (key2, cert2) = key_and_cert(2048);
    let w1 = wrap_private_key(&kms, &key1.to_pkcs1_der().unwrap(), cert1.der())
        .await
        .unwrap();
    let w2 = wrap_private_key(&kms, &key2.to_pkcs1_der().unwrap(), cert2.der())
        .await
        .unwrap();

    // The sealed key altered.
    let mut bad = w1.clone();
    let mid = bad.sealed_key.len() / 2;
    bad.sealed_key[mid] ^= 0x80;
    let err = unwrap_private_key(&kms, &bad, cert1.der())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SealedKeyDoesNotOpen), "{err:?}");

    // The right parts with another Secret's certificate, or with another
    // Secret's wrapped DEK.
    let err = unwrap_private_key(&kms, &w1, cert2.der())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SealedKeyDoesNotOpen), "{err:?}");
    let swapped = WrappedKey {
        wrapped_dek: w2.wrapped_dek.clone(),
        sealed_key: w1.sealed_key.clone(),
    };
    let err = unwrap_private_key(&kms, &swapped, cert1.der())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SealedKeyDoesNotOpen), "{err:?}");

    // The wrapped DEK altered, or its annotations, or its key_id: the plugin
    // refuses (HSM GCM tag, its own annotation check, an unknown key).
    let mut bad = w1.clone();
    bad.wrapped_dek.ciphertext[20] ^= 0x01;
    let err = unwrap_private_key(&kms, &bad, cert1.der())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused {
                method: Method::Decrypt,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Refused);
    let mut bad = w1.clone();
    let annotation = bad.wrapped_dek.annotations.values_mut().next().unwrap();
    annotation.push(b'2');
    let err = unwrap_private_key(&kms, &bad, cert1.der())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Refused { .. }), "{err:?}");
    let mut bad = w1.clone();
    bad.wrapped_dek.key_id = "kek-404".into();
    let err = unwrap_private_key(&kms, &bad, cert1.der())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Refused { message, .. } 
            if message.contains("kek-404") || message.contains("6b656b2d343034")),
        "{err:?}"
    );

    // Nothing of the keys in any of those errors.
    let pem = key1.to_pkcs1_pem().unwrap();
    let body = pem.lines().nth(1).unwrap();
    assert!(!format!("{err} {err:?}").contains(body));
}

#[tokio::test]
async fn a_plugin_away_is_unreachable_and_the_same_client_recovers() {
    // The client first, the plugin not up yet.
    let mut plugin = Plugin::prepare(&["kek-1"]);
    let kms = client(&plugin).await;
    let err = kms.status().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unreachable {
                method: Method::Status,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());

    plugin.restart();
    assert_eq!(kms.status().await.unwrap().key_id, "kek-1");
    let (key, cert) = key_and_cert(2048);
    let der = key.to_pkcs1_der().unwrap();
    let wrapped = wrap_private_key(&kms, &der, cert.der()).await.unwrap();

    // Killed: every call fails at once, within the timeout, as unreachable.
    plugin.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let err = kms.status().await.unwrap_err();
        assert!(started.elapsed() < TIMEOUT, "took {:?}", started.elapsed());
        assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
        let err = unwrap_private_key(&kms, &wrapped, cert.der())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Unreachable {
                    method: Method::Decrypt,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    // Back: the same client works again, and reads what it wrapped before.
    plugin.restart();
    assert_eq!(kms.status().await.unwrap().key_id, "kek-1");
    assert_eq!(
        *unwrap_private_key(&kms, &wrapped, cert.der())
            .await
            .unwrap(),
        *der
    );

    // Hung (SIGSTOP): the call ends after the timeout, retryable.
    plugin.pause(true);
    let started = Instant::now();
    let err = kms.status().await.unwrap_err();
    let took = started.elapsed();
    plugin.pause(false);
    assert!(
        matches!(
            err,
            Error::TimedOut {
                method: Method::Status,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        took >= TIMEOUT && took < TIMEOUT + Duration::from_secs(1),
        "took {took:?}"
    );
    assert_eq!(kms.status().await.unwrap().key_id, "kek-1");
}
