//! The sealing page (`--web-ui`) in headless Chromium, reached as a person
//! without kubeseal reaches it: `kubectl proxy`, then the API server's
//! service proxy to our controller running on the node. For each scope the
//! page seals a typed value and a picked file; the controller unseals the
//! result into the expected Secret, our kubeseal and the reference open it
//! with the private key, and the output is kubeseal's, byte for byte but the
//! ciphertexts. DevTools' network log shows that no request carried a value.
//! The page names the cluster it seals for (`--cluster-name`), or says the
//! controller has none.

use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sealed_secrets_e2e::browser::{Browser, KubectlProxy, Request};
use sealed_secrets_e2e::controller::ControllerOptions;
use sealed_secrets_e2e::http::{self, Send};
use sealed_secrets_e2e::kubeseal::{kubeseal, reference_kubeseal, succeeded};
use sealed_secrets_e2e::secrets::{wait_secret_value, KEY_SELECTOR};
use sealed_secrets_e2e::{unique_name, ControlPlane, TestNamespace};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(30);

/// The controller's address through the API server, as `kubeseal` reaches it.
fn service_proxy(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/services/http:sealed-secrets-controller:http/proxy/")
}

/// What a person types into the form for one scope.
struct Case {
    scope: &'static str,
    format: &'static str,
    name: String,
    /// Empty: none (cluster-wide only).
    namespace: String,
    secret_type: &'static str,
    /// Typed into the first item, under key `password`.
    text: String,
    /// Picked as a file in the second item, with no key: stored as `blob.bin`.
    file: Vec<u8>,
    /// Applied under this name (the scope allows it, except strict).
    applied_as: String,
}

fn cases(ns: &str) -> Vec<Case> {
    let secret = |scope: &str| {
        let marker = unique_name(&format!("plain-{scope}"));
        (
            format!("pässwörd ✓ {marker}\nsecond line {marker}"),
            [format!("FILE-{marker}").into_bytes(), (0u8..=255).collect()].concat(),
        )
    };
    let case = |scope, format, namespace: &str, secret_type, applied_as: &str| {
        let (text, file) = secret(scope);
        Case {
            scope,
            format,
            name: format!("web-{scope}"),
            namespace: namespace.to_string(),
            secret_type,
            text,
            file,
            applied_as: applied_as.to_string(),
        }
    };
    vec![
        case("strict", "yaml", ns, "Opaque", "web-strict"),
        case(
            "namespace-wide",
            "json",
            ns,
            "example.com/web-ui",
            "renamed-ns-wide",
        ),
        case("cluster-wide", "yaml", "", "", "renamed-cluster-wide"),
    ]
}

/// Fills the form for `case` on a freshly loaded page, seals, and returns
/// what the output box shows.
fn seal_in_page(browser: &Browser, page: &str, case: &Case, dir: &Path) -> String {
    browser.goto(page).expect("open the page");
    browser
        .wait_for(
            "the certificate to load",
            "!document.getElementById('seal').disabled",
            WAIT,
        )
        .expect("certificate");
    let field = |css: &str| browser.find(css).expect(css);
    let type_into = |css: &str, text: &str| {
        if !text.is_empty() {
            field(css).send_keys(text).expect(css);
        }
    };
    type_into("#name", &case.name);
    type_into("#namespace", &case.namespace);
    field(&format!("#scope-{}", case.scope))
        .click()
        .expect("scope");
    field("#type").clear().expect("clear type");
    type_into("#type", case.secret_type);
    field("#item-list .item:nth-child(1) .key")
        .send_keys("password")
        .expect("key");
    field("#item-list .item:nth-child(1) .value")
        .send_keys(&case.text)
        .expect("value");
    field("#add-item").click().expect("add item");
    let file = dir.join("blob.bin");
    std::fs::write(&file, &case.file).expect("write file");
    field("#item-list .item:nth-child(2) .file")
        .send_keys(&file.to_string_lossy())
        .expect("pick file");
    field(&format!("#format-{}", case.format))
        .click()
        .expect("format");
    field("#seal").click().expect("seal");
    browser
        .wait_for(
            "the sealed output",
            "document.getElementById('output').value.length > 0 || !document.getElementById('form-error').hidden",
            WAIT,
        )
        .expect("output");
    let error = field("#form-error").text().unwrap_or_default();
    assert!(error.is_empty(), "{}: the page said {error}", case.scope);
    field("#output").value().expect("output")
}

/// The Secret the form describes, as a person would give it to kubeseal.
fn secret_json(case: &Case, items: &[(&str, &[u8])]) -> String {
    let data: serde_json::Map<String, Value> = items
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(B64.encode(v))))
        .collect();
    let mut metadata = json!({ "name": case.name });
    if !case.namespace.is_empty() {
        metadata["namespace"] = json!(case.namespace);
    }
    let mut secret =
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "data": data});
    if !case.secret_type.is_empty() {
        secret["type"] = json!(case.secret_type);
    }
    secret.to_string()
}

/// `text` with every ciphertext of its `spec.encryptedData` replaced by `SEALED`.
fn masked(text: &str) -> String {
    let object: Value = serde_yaml::from_str(text).expect("YAML or JSON");
    let mut out = text.to_string();
    for value in object["spec"]["encryptedData"]
        .as_object()
        .expect("encryptedData")
        .values()
    {
        out = out.replace(value.as_str().expect("string"), "SEALED");
    }
    out
}

/// `data` of the Secret a `--recovery-unseal` printed.
fn recovered(out: &std::process::Output) -> Value {
    let secret: Value = serde_yaml::from_str(&succeeded(out)).expect("Secret");
    secret["data"].clone()
}

fn private_key_file(ns: &TestNamespace, dir: &Path) -> String {
    let list = ns
        .kubectl()
        .get_json(["get", "secrets", "-l", KEY_SELECTOR])
        .expect("key secrets");
    let pem = B64
        .decode(
            list["items"][0]["data"]["tls.key"]
                .as_str()
                .expect("tls.key"),
        )
        .expect("base64");
    let path = dir.join("key.pem");
    std::fs::write(&path, pem).expect("write key");
    path.to_string_lossy().into_owned()
}

#[test]
fn the_page_seals_in_the_browser_and_the_controller_unseals_it() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "web-ui").expect("namespace");
    let _controller = ControllerOptions::for_namespace(&ns)
        .arg("--web-ui")
        .args(["--cluster-name", CLUSTER])
        .in_node()
        .start(cp)
        .expect("controller in the node");
    let proxy = KubectlProxy::start(cp).expect("kubectl proxy");
    let prefix = service_proxy(ns.name());
    let origin = format!("http://127.0.0.1:{}", proxy.port);
    // The address `kubeseal --open-ui` prints, on our proxy's port.
    let printed = succeeded(
        &kubeseal(cp, &["--open-ui", "--controller-namespace", ns.name()], "").expect("--open-ui"),
    );
    let page = printed
        .trim()
        .replace("http://127.0.0.1:8001/", &format!("{origin}/"));
    assert_eq!(page, format!("{origin}{prefix}ui/"), "{printed}");
    let dir = tempfile::tempdir().expect("tempdir");

    // Through the service proxy, with the headers it was served with.
    let get = |path: &str| {
        http::call(
            "GET",
            &format!("{origin}{prefix}{path}"),
            None,
            Send::Body(b""),
        )
        .expect("GET through kubectl proxy")
    };
    for path in [
        "ui/",
        "ui/app.js",
        "ui/seal.js",
        "ui/render.js",
        "ui/style.css",
        "ui/cluster.json",
    ] {
        let reply = get(path);
        assert_eq!(reply.code, 200, "{path}: {}", reply.body);
        assert!(
            reply.headers["content-security-policy"]
                .starts_with("default-src 'none'; script-src 'self';"),
            "{path}: {:?}",
            reply.headers
        );
        assert_eq!(reply.headers["x-content-type-options"], "nosniff");
        assert_eq!(reply.headers["referrer-policy"], "no-referrer");
        assert_eq!(reply.headers["cache-control"], "no-store");
    }
    assert_eq!(
        get("ui/cluster.json").body,
        format!(r#"{{"cluster":"{CLUSTER}"}}"#)
    );
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, get("v1/cert.pem").body).expect("write cert");
    let key = private_key_file(&ns, dir.path());

    let browser = Browser::start(cp.repo_dir(), 1000, 1400).expect("browser");
    // Forget what the browser did before it opened the page (its start page).
    browser.requests().expect("network log");
    browser.goto(&page).expect("open the page");
    browser
        .wait_for(
            "the fingerprint",
            "document.getElementById('fingerprint').textContent.startsWith('SHA256:')",
            WAIT,
        )
        .expect("fingerprint");
    // The same fingerprint and expiry as `kubeseal admin keys list`.
    let report: Value = serde_json::from_str(&succeeded(
        &kubeseal(
            cp,
            &[
                "admin",
                "keys",
                "list",
                "-o",
                "json",
                "--controller-namespace",
                ns.name(),
                "--watched-namespaces",
                ns.name(),
            ],
            "",
        )
        .expect("keys list"),
    ))
    .expect("JSON");
    let listed = &report["keys"][0];
    let shown = |id: &str| browser.find(&format!("#{id}")).expect(id).text().expect(id);
    assert_eq!(
        shown("fingerprint"),
        listed["fingerprint"].as_str().expect("fingerprint")
    );
    assert_eq!(
        shown("not-after"),
        listed["expires"].as_str().expect("expires")
    );
    assert_eq!(shown("key-bits"), "2048 bits");
    assert_eq!(
        shown_cluster(&browser),
        format!("Sealing for cluster {CLUSTER}")
    );
    assert_eq!(
        page_title(&browser),
        format!("Seal a Secret for cluster {CLUSTER}")
    );

    let mut sealed_outputs = Vec::new();
    let mut secrets = Vec::new();
    for case in cases(ns.name()) {
        let output = seal_in_page(&browser, &page, &case, dir.path());
        let items: [(&str, &[u8]); 2] =
            [("password", case.text.as_bytes()), ("blob.bin", &case.file)];

        // kubeseal's output for the same Secret, but for the ciphertexts.
        let args = [
            "--cert",
            cert.to_str().expect("path"),
            "--scope",
            case.scope,
            "-o",
            case.format,
        ];
        let theirs =
            succeeded(&kubeseal(cp, &args, &secret_json(&case, &items)).expect("kubeseal"));
        assert_eq!(
            masked(&output),
            masked(&theirs),
            "{}: the page's output differs from kubeseal's",
            case.scope
        );
        if case.format == "yaml" {
            assert!(
                output.starts_with("---\napiVersion: bitnami.com/v1alpha1\n"),
                "{output}"
            );
        } else {
            assert!(
                output.starts_with("{\n  \"apiVersion\": \"bitnami.com/v1alpha1\",\n"),
                "{output}"
            );
        }

        // "Check": the controller opens it.
        browser
            .find("#check")
            .expect("check")
            .click()
            .expect("click check");
        browser
            .wait_for(
                "the controller's answer",
                "document.getElementById('status').textContent.startsWith('The controller')",
                WAIT,
            )
            .expect("answer");
        assert_eq!(
            shown("status"),
            "The controller can unseal every item.",
            "{}",
            case.scope
        );
        sealed_outputs.push(output.clone());
        assert_eq!(
            download_name(&browser),
            format!("{}-sealed.{CLUSTER}.{}", case.name, case.format)
        );

        // The controller unseals it into the Secret described, under another
        // name where the scope allows.
        let mut object: Value = serde_yaml::from_str(&output).expect("output parses");
        object["metadata"]["name"] = json!(case.applied_as);
        ns.kubectl().apply(&object.to_string()).expect("apply");
        wait_secret_value(&ns, &case.applied_as, "password", &case.text)
            .unwrap_or_else(|e| panic!("{}: {e}", case.scope));
        let secret = ns
            .kubectl()
            .get_json(["get", "secret", &case.applied_as])
            .expect("secret");
        assert_eq!(
            secret["data"]["blob.bin"],
            B64.encode(&case.file),
            "{}",
            case.scope
        );
        let want_type = if case.secret_type.is_empty() {
            "Opaque"
        } else {
            case.secret_type
        };
        assert_eq!(secret["type"], want_type, "{}", case.scope);

        // Offline, with the private key: ours and the reference.
        let expected = json!({"blob.bin": B64.encode(&case.file), "password": B64.encode(case.text.as_bytes())});
        let ours = kubeseal(
            cp,
            &[
                "--recovery-unseal",
                "--recovery-private-key",
                &key,
                "-o",
                "json",
            ],
            &output,
        )
        .expect("ours");
        assert_eq!(
            recovered(&ours),
            expected,
            "{}: our --recovery-unseal",
            case.scope
        );
        if cp.reference_bin_dir().join("kubeseal").is_file() {
            let reference = reference_kubeseal(
                cp,
                &[
                    "--recovery-unseal",
                    "--recovery-private-key",
                    &key,
                    "-o",
                    "json",
                ],
                &output,
            )
            .expect("reference");
            assert_eq!(
                recovered(&reference),
                expected,
                "{}: the reference's --recovery-unseal",
                case.scope
            );
        } else {
            assert_ne!(
                std::env::var("REQUIRE_REFERENCE").as_deref(),
                Ok("1"),
                "REQUIRE_REFERENCE=1 but the reference kubeseal is missing"
            );
            eprintln!("SKIPPED: reference kubeseal not installed; run scripts/install-tools");
        }
        secrets.push((case.text.clone(), case.file.clone()));
        if case.scope == "strict" {
            screenshot(cp, &browser);
        }
    }

    let requests = browser.requests().expect("network log");
    no_value_left_the_page(&requests, &secrets, &origin, &prefix, &sealed_outputs);
    let problems = browser.console_problems().expect("console");
    assert!(problems.is_empty(), "console: {problems:?}");
    yaml_matches_serde_yaml(cp, &browser, &cert);
    fits_a_phone(&browser);
}

/// The `--cluster-name` of the first test's controller.
const CLUSTER: &str = "oslo";

/// The line naming the cluster, once the page has asked for the name (the
/// HTML's text until then is "Sealing for this cluster").
fn shown_cluster(browser: &Browser) -> String {
    browser
        .wait_for(
            "the cluster's name",
            "document.getElementById('cluster').textContent !== 'Sealing for this cluster'",
            WAIT,
        )
        .expect("cluster name");
    browser
        .find("#cluster")
        .expect("cluster")
        .text()
        .expect("text")
}

fn page_title(browser: &Browser) -> String {
    let title = browser
        .execute("return document.title;", json!([]))
        .expect("title");
    title.as_str().expect("text").to_string()
}

/// The file name Download offers, without saving: the page's link is
/// caught before it is followed.
fn download_name(browser: &Browser) -> String {
    let script = "let name = null; \
        const click = HTMLAnchorElement.prototype.click; \
        HTMLAnchorElement.prototype.click = function () { name = this.download; }; \
        try { document.getElementById('download').click(); } \
        finally { HTMLAnchorElement.prototype.click = click; } \
        return name;";
    let name = browser.execute(script, json!([])).expect("download");
    name.as_str().expect("a download name").to_string()
}

/// Without `--cluster-name` the page says it seals for "this cluster", and
/// why it cannot name it; the title and download names carry no name.
#[test]
fn without_a_cluster_name_the_page_says_so() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "web-ui-unnamed").expect("namespace");
    let _controller = ControllerOptions::for_namespace(&ns)
        .arg("--web-ui")
        .in_node()
        .start(cp)
        .expect("controller in the node");
    let proxy = KubectlProxy::start(cp).expect("kubectl proxy");
    let page = format!(
        "http://127.0.0.1:{}{}ui/",
        proxy.port,
        service_proxy(ns.name())
    );
    let browser = Browser::start(cp.repo_dir(), 1000, 1400).expect("browser");
    let dir = tempfile::tempdir().expect("tempdir");
    let case = &cases(ns.name())[0];
    seal_in_page(&browser, &page, case, dir.path());
    assert_eq!(
        shown_cluster(&browser),
        "Sealing for this cluster (the controller has no --cluster-name)"
    );
    assert_eq!(page_title(&browser), "Seal a Secret");
    assert_eq!(
        download_name(&browser),
        format!("{}-sealed.yaml", case.name)
    );
    let problems = browser.console_problems().expect("console");
    assert!(problems.is_empty(), "console: {problems:?}");
}

#[test]
fn without_the_flag_there_is_no_page_and_open_ui_says_so() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "web-ui-off").expect("namespace");
    let _controller = ControllerOptions::for_namespace(&ns)
        .in_node()
        .start(cp)
        .expect("controller in the node");
    let proxy = KubectlProxy::start(cp).expect("kubectl proxy");
    let prefix = service_proxy(ns.name());
    let origin = format!("http://127.0.0.1:{}", proxy.port);
    for path in [
        "",
        "ui",
        "ui/",
        "ui/app.js",
        "ui/style.css",
        "ui/cluster.json",
    ] {
        let reply = http::call(
            "GET",
            &format!("{origin}{prefix}{path}"),
            None,
            Send::Body(b""),
        )
        .expect("GET through kubectl proxy");
        assert_eq!(reply.code, 404, "{path}: {}", reply.body);
    }
    let reply = http::call(
        "GET",
        &format!("{origin}{prefix}v1/cert.pem"),
        None,
        Send::Body(b""),
    )
    .expect("GET through kubectl proxy");
    assert_eq!(reply.code, 200, "the API is there: {}", reply.body);
    let out =
        kubeseal(cp, &["--open-ui", "--controller-namespace", ns.name()], "").expect("kubeseal");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty(), "{err}");
    assert!(
        err.contains("does not serve the sealing page: start it with --web-ui"),
        "{err}"
    );
}

/// Every request went to the page's own origin and prefix; the only POSTs
/// are the checks, carrying exactly the sealed objects; no URL, header or body
/// holds a value, in any usual encoding.
fn no_value_left_the_page(
    requests: &[Request],
    secrets: &[(String, Vec<u8>)],
    origin: &str,
    prefix: &str,
    sealed: &[String],
) {
    let allowed = [
        "ui/",
        "ui/style.css",
        "ui/app.js",
        "ui/seal.js",
        "ui/render.js",
        "ui/cluster.json",
        "v1/cert.pem",
        "v1/verify",
    ];
    let mut needles = Vec::new();
    for (text, file) in secrets {
        needles.extend(text.lines().map(str::to_string));
        // The unique marker alone: it survives URL and most other encodings.
        needles.extend(
            text.split_whitespace()
                .filter(|w| w.starts_with("plain-"))
                .map(str::to_string),
        );
        needles.push(B64.encode(text.as_bytes()));
        needles.push(text.lines().next().unwrap_or_default().replace(' ', "%20"));
        needles.push(String::from_utf8_lossy(&file[..20]).into_owned());
        needles.push(B64.encode(file));
    }
    assert!(
        requests.len() >= 3 * 6,
        "too few requests logged: {requests:?}"
    );
    let mut posted = Vec::new();
    // The browser's own start page (chrome://new-tab-page...) loads its
    // resources while the test opens ours; they are not the page's.
    let own =
        |r: &&Request| !r.url.starts_with("chrome://") && !r.document.starts_with("chrome://");
    for request in requests.iter().filter(own) {
        let path = request
            .url
            .strip_prefix(origin)
            .and_then(|rest| rest.strip_prefix(prefix))
            .unwrap_or_else(|| {
                panic!(
                    "a request left the page's origin and prefix: {:.100} from {}",
                    request.url, request.document
                )
            });
        assert!(
            allowed.contains(&path),
            "unexpected request {} {}",
            request.method,
            request.url
        );
        let everything = format!(
            "{} {} {}",
            request.url,
            request.headers,
            request.body.as_deref().unwrap_or_default()
        );
        for needle in &needles {
            assert!(
                !everything.contains(needle.as_str()),
                "a value left the page in {} {}",
                request.method,
                request.url
            );
        }
        if request.method == "POST" {
            assert_eq!(path, "v1/verify");
            assert!(request.has_body);
            posted.push(request.body.clone().expect("DevTools logged the body"));
        } else {
            assert_eq!(request.method, "GET", "{}", request.url);
            assert!(!request.has_body, "{}", request.url);
        }
    }
    assert_eq!(
        posted, sealed,
        "the checks sent the sealed objects, and nothing else"
    );
}

/// The page's YAML writer against serde_yaml (through kubeseal) on keys
/// that YAML would read as something else.
fn yaml_matches_serde_yaml(cp: &ControlPlane, browser: &Browser, cert: &Path) {
    let mut keys: Vec<String> = [
        "db", "123", "0123", "1e5", "1.", ".5", "0x1f", "0o17", "0b101", "1_000", "true", "True",
        "FALSE", "yes", "no", "on", "y", "null", "Null", "-", "-a", "--", "...", "..a", ".inf",
        ".nan", ".Inf", "inf", "NaN", "0", "-1", "9-9", "_", "a.b-c_d", "KEY",
    ]
    .iter()
    .map(|k| k.to_string())
    .collect();
    keys.push("k".repeat(128));
    keys.push("k".repeat(129));
    let script = "return import(new URL('render.js', document.baseURI)).then((r) => \
        r.toYaml(r.sealedSecret({name: '0123', namespace: '1e5', scope: 'strict', type: 'true', \
        encryptedData: arguments[0].map((k) => [k, 'X'])})));";
    let page = browser
        .execute(script, json!([keys]))
        .expect("render in the page");
    let data: serde_json::Map<String, Value> =
        keys.iter().map(|k| (k.clone(), json!("MQ=="))).collect();
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "0123", "namespace": "1e5"}, "type": "true", "data": data});
    let theirs = succeeded(
        &kubeseal(
            cp,
            &["--cert", cert.to_str().expect("path"), "-o", "yaml"],
            &secret.to_string(),
        )
        .expect("kubeseal"),
    );
    let theirs = masked(&theirs).replace("SEALED", "X");
    assert_eq!(page.as_str().expect("text"), theirs);
}

/// At a phone's width nothing scrolls sideways.
fn fits_a_phone(browser: &Browser) {
    browser.set_window_size(390, 844).expect("resize");
    let overflow = browser
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            json!([]),
        )
        .expect("measure");
    assert_eq!(overflow, json!(0), "the page is wider than a phone");
}

/// The whole page after sealing, to `SSRS_WEB_UI_SCREENSHOT` (relative to
/// the repository, e.g. docs/web-ui.png) when set; otherwise only checked to
/// be a PNG.
fn screenshot(cp: &ControlPlane, browser: &Browser) {
    let height = browser
        .execute(
            "window.scrollTo(0, 0); return document.documentElement.scrollHeight;",
            json!([]),
        )
        .expect("height");
    browser
        .set_window_size(1000, height.as_u64().unwrap_or(1400) as u32 + 160)
        .expect("resize");
    let png = browser.screenshot().expect("screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    if let Ok(path) = std::env::var("SSRS_WEB_UI_SCREENSHOT") {
        std::fs::write(cp.repo_dir().join(path), png).expect("write screenshot");
    }
    browser.set_window_size(1000, 1400).expect("resize");
}
