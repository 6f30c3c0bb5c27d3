//! `checkout-gateway drift` and `record`, run as an operator runs them:
//! the binary, `config/demo.toml` pointed at a sandbox on a loopback
//! socket, the vendor taught drift through `POST /_sandbox/<vendor>/drift`.

mod process;

use std::path::PathBuf;

use process::{repo, BIN};
use serde_json::{json, Value};

/// A filled sandbox, and `config/demo.toml` pointed at it in `dir`.
struct Vendors {
    url: String,
    http: reqwest::Client,
    config: PathBuf,
    dir: tempfile::TempDir,
}

async fn vendors() -> Vendors {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let sandbox = sandbox::Sandbox::new(sandbox::SandboxConfig::default());
    // Sessions in each vendor's own mix of statuses and shapes.
    sandbox.fill(40, 30).expect("fill");
    tokio::spawn(sandbox::serve(listener, sandbox));
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = std::fs::read_to_string(repo().join("config/demo.toml")).expect("demo config");
    let config = dir.path().join("gateway.toml");
    std::fs::write(&config, demo.replace("http://127.0.0.1:9100", &url)).expect("config");
    Vendors {
        url,
        http: reqwest::Client::new(),
        config,
        dir,
    }
}

struct Run {
    code: i32,
    out: String,
    err: String,
}

impl Vendors {
    async fn run(&self, args: &[&str]) -> Run {
        let out = tokio::process::Command::new(BIN)
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .current_dir(self.dir.path())
            .output()
            .await
            .expect("run checkout-gateway");
        Run {
            code: out.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&out.stdout).into(),
            err: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    async fn drift(&self, vendor: &str, body: Value) {
        let r = self
            .http
            .post(format!("{}/_sandbox/{vendor}/drift", self.url))
            .json(&body)
            .send()
            .await
            .expect("drift control");
        assert_eq!(r.status(), 204);
    }

    /// A vendor API call with the seeded credentials.
    async fn vendor(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut r = self.http.request(method, format!("{}{path}", self.url));
        r = match path.split('/').nth(1) {
            Some("meteroid") => r.bearer_auth(sandbox::DEMO_METEROID_API_KEY),
            Some("flowglad") => r.bearer_auth(sandbox::flowglad::seed::API_KEY),
            Some("zenskar") => r
                .header("x-api-key", sandbox::zenskar::seed::API_KEY)
                .header("organisation", sandbox::zenskar::seed::ORGANISATION_ID)
                .header("apiversion", "20230501"),
            other => panic!("no credentials for {other:?}"),
        };
        if let Some(body) = body {
            r = r.json(&body);
        }
        let r = r.send().await.expect("vendor call");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.expect("JSON")
    }
}

/// Every demo account that can list, read clean: its sandbox speaks only
/// what the wire types know.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_finds_nothing_on_a_clean_sandbox() {
    let v = vendors().await;
    for account in [
        "meteroid:default",
        "flowglad:default",
        "frontier:default",
        "frontier:legacy",
        "zenskar:default",
    ] {
        let r = v
            .run(&["drift", "--account", account, "--sample", "25"])
            .await;
        assert_eq!(r.code, 0, "{account}:\n{}\n{}", r.out, r.err);
        assert!(r.out.ends_with("no drift\n"), "{account}: {}", r.out);
        let read: usize = r
            .out
            .strip_prefix(&format!("{account}: "))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{account}: {}", r.out));
        assert!(read > 0, "{account}: {}", r.out);
    }
    // An account that cannot list says so, and reads the ids it is given.
    let r = v.run(&["drift", "--account", "zenskar:checkouts"]).await;
    assert_eq!(r.code, 2, "{}", r.err);
    assert!(
        r.err.contains("cannot list") && r.err.contains("--id"),
        "{}",
        r.err
    );
    let created = v
        .vendor(
            reqwest::Method::POST,
            "/zenskar/checkouts",
            Some(json!({"plan_id": sandbox::zenskar::seed::PLAN_STARTER_ID,
                        "customer_id": sandbox::zenskar::seed::CUSTOMER_NORTHWIND_ID})),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    let canonical = format!("zenskar:checkouts:{id}");
    let r = v
        .run(&[
            "drift",
            "--account",
            "zenskar:checkouts",
            "--id",
            &canonical,
        ])
        .await;
    assert_eq!(r.code, 0, "{}\n{}", r.out, r.err);
    assert_eq!(r.out, "zenskar:checkouts: 1 sessions read\nno drift\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_names_an_unknown_field_and_an_unknown_status() {
    let v = vendors().await;
    v.drift(
        "meteroid",
        json!({"field": {"name": "risk_score", "value": 0.7}, "status": "PAYMENT_FAILED"}),
    )
    .await;
    let r = v
        .run(&["drift", "--account", "meteroid:default", "--sample", "5"])
        .await;
    assert_eq!(r.code, 1, "{}\n{}", r.out, r.err);
    for expected in [
        "meteroid:default: 5 sessions read, 5 listed",
        "unknown fields:\n  [].risk_score  (1 answers)\n  session.risk_score  (5 answers)",
        "unknown values:\n  status=PAYMENT_FAILED  (6 answers)",
        "statuses no rule knows:\n  PAYMENT_FAILED",
        "drift found",
    ] {
        assert!(
            r.out.contains(expected),
            "missing {expected:?} in\n{}",
            r.out
        );
    }
    assert!(
        r.err.contains("drift found at meteroid:default"),
        "{}",
        r.err
    );

    // The same as JSON; and a family A Zenskar body, whose session is the
    // whole answer.
    v.drift(
        "zenskar",
        json!({"field": {"name": "risk_score", "value": 1}, "status": "on_hold"}),
    )
    .await;
    let r = v
        .run(&[
            "drift",
            "--account",
            "zenskar:default",
            "--sample",
            "3",
            "--format",
            "json",
        ])
        .await;
    assert_eq!(r.code, 1, "{}\n{}", r.out, r.err);
    let report: Value = serde_json::from_str(&r.out).expect("a JSON report");
    assert_eq!(report["unknown_statuses"], json!(["on_hold"]));
    assert_eq!(
        report["unknown_fields"],
        json!([{"name": "[].risk_score", "answers": 1}, {"name": "risk_score", "answers": 3}])
    );
    assert_eq!(
        report["unknown_values"],
        json!([{"name": "checkout_session_status=on_hold", "answers": 4}])
    );
    assert_eq!(report["failed"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_reports_failed_reads_without_vendor_data() {
    let v = vendors().await;
    let r = v
        .run(&["drift", "--account", "meteroid:default", "--id", "che_1"])
        .await;
    assert_eq!(r.code, 1, "{}\n{}", r.out, r.err);
    assert!(
        r.out
            .contains("failed reads:\n  get che_1: not_found (vendor HTTP 404)"),
        "{}",
        r.out
    );
    // Usage and configuration mistakes are exit 2.
    for args in [
        &["drift", "--account", "meteroid"][..],
        &["drift", "--account", "meteroid:nope"],
        &[
            "drift",
            "--account",
            "meteroid:default",
            "--id",
            "not an id",
        ],
        &["drift", "--account", "meteroid:default", "--sample", "0"],
    ] {
        let r = v.run(args).await;
        assert_eq!(r.code, 2, "{args:?}: {}", r.err);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_writes_a_redacted_fixture_that_reads_back() {
    let v = vendors().await;
    let fixtures = v.dir.path().join("fixtures");
    for vendor in ["meteroid", "flowglad"] {
        std::fs::create_dir_all(fixtures.join(vendor)).expect("dir");
        std::fs::copy(
            repo().join("fixtures").join(vendor).join("README.md"),
            fixtures.join(vendor).join("README.md"),
        )
        .expect("README");
    }
    // A Meteroid session: its checkout URL carries a JWT.
    let created = v
        .vendor(
            reqwest::Method::POST,
            "/meteroid/api/v1/checkout-sessions",
            Some(
                json!({"customer_id": sandbox::meteroid::seed::CUSTOMER_ACME_ALIAS,
                        "plan_version_id": sandbox::meteroid::seed::PLAN_VERSION_STARTER_ID}),
            ),
        )
        .await;
    let id = created["session"]["id"].as_str().expect("id").to_owned();
    assert!(created.to_string().contains("token=eyJ"), "{created}");
    let fixtures_arg = fixtures.to_str().expect("utf-8 path");
    let record = [
        "record",
        "--account",
        "meteroid:default",
        "--id",
        &id,
        "--fixtures",
        fixtures_arg,
    ];
    let r = v.run(&record).await;
    assert_eq!(r.code, 0, "{}\n{}", r.out, r.err);
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let file = format!("recorded_created_{date}.json");
    let path = fixtures.join("meteroid").join(&file);
    assert_eq!(r.out.trim(), path.display().to_string());
    let body = std::fs::read_to_string(&path).expect("the fixture");
    assert!(
        !body.contains("eyJ") && body.contains("token=redacted"),
        "{body}"
    );
    assert!(!body.contains(sandbox::DEMO_METEROID_API_KEY));
    let written: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(written["session"]["id"], id.as_str());
    assert_eq!(written["session"]["status"], "CREATED");
    assert_eq!(
        written["session"]["created_at"],
        created["session"]["created_at"]
    );

    // The provenance row, in the fixture kit's format.
    let readme = std::fs::read_to_string(fixtures.join("meteroid/README.md")).expect("README");
    let row = readme
        .lines()
        .find(|l| l.starts_with(&format!("| `{file}` |")))
        .expect("a row for the fixture");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(cells[2], "200");
    assert!(
        chrono::DateTime::parse_from_rfc3339(cells[4]).is_ok(),
        "{row}"
    );
    assert_eq!(cells[5], format!("recorded {date} from meteroid:default"));

    // It reads back through the adapter.
    let mut normalize = tokio::process::Command::new(BIN);
    let out = normalize
        .args(["normalize", "--provider", "meteroid"])
        .stdin(std::fs::File::open(&path).expect("open"))
        .output()
        .await
        .expect("normalize");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let canonical: Value = serde_json::from_slice(&out.stdout).expect("canonical JSON");
    assert_eq!(canonical["id"], format!("meteroid:default:{id}"));

    // Never over an existing fixture, unless asked.
    let again = v.run(&record).await;
    assert_eq!(again.code, 1);
    assert!(again.err.contains("--force"), "{}", again.err);
    let mut forced = record.to_vec();
    forced.push("--force");
    assert_eq!(v.run(&forced).await.code, 0);
    let readme = std::fs::read_to_string(fixtures.join("meteroid/README.md")).expect("README");
    assert_eq!(readme.matches(&format!("| `{file}` |")).count(), 1);

    // A Flowglad session of a known customer: the email and name are gone.
    let list = v
        .vendor(
            reqwest::Method::GET,
            "/flowglad/api/v1/checkout-sessions?limit=100",
            None,
        )
        .await;
    let with_email = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|s| s["customerEmail"].is_string() && s["customerName"].is_string())
        .expect("a session with a customer")
        .clone();
    let fg_id = with_email["id"].as_str().expect("id");
    let out = fixtures.join("flowglad").join("recorded_customer.json");
    let r = v
        .run(&[
            "record",
            "--account",
            "flowglad:default",
            "--id",
            fg_id,
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .await;
    assert_eq!(r.code, 0, "{}\n{}", r.out, r.err);
    let body = std::fs::read_to_string(&out).expect("the fixture");
    for personal in [
        with_email["customerEmail"].as_str().unwrap_or_default(),
        with_email["customerName"].as_str().unwrap_or_default(),
    ] {
        assert!(!body.contains(personal), "{personal} in\n{body}");
    }
    let written: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(written["checkoutSession"]["id"], fg_id);
    assert_eq!(
        written["checkoutSession"]["customerEmail"],
        "redacted@example.com"
    );
    assert!(std::fs::read_to_string(fixtures.join("flowglad/README.md"))
        .expect("README")
        .contains("| `recorded_customer.json` | 200 |"));
}
