//! The conversion bench's cases, from each vendor's own fixtures folder:
//! `fixtures/<vendor>/bench/cases.toml` names fixtures (typical get
//! answers), the `config/demo.toml` account to read them with, and the
//! reference each get was for. Every registered provider must have one
//! (`crates/bench/tests/cases.rs`), so a new vendor is benched without an
//! edit to the bench.
//!
//! Shared by `benches/conversion.rs` and `tests/cases.rs` (by `#[path]`:
//! not in the crate's lib, which the load tools build without adapters).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use checkout_core::{CheckoutSession, Connector, VendorAnswer};

/// One vendor's manifest: `fixtures/<vendor>/bench/cases.toml`.
pub const MANIFEST: &str = "bench/cases.toml";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    case: Vec<Entry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    group: String,
    fixture: String,
    account: String,
    reference: String,
}

/// One benchmarked case, loaded: its connector and its vendor answer.
pub struct Case {
    pub provider: &'static str,
    /// Criterion group: the vendor, or the vendor and its protocol or family.
    pub group: String,
    /// `<vendor>/<fixture file>`, under `fixtures/`.
    pub fixture: String,
    /// The fixture's file stem: the bench id's last part.
    pub name: String,
    pub reference: String,
    pub connector: Arc<dyn Connector>,
    pub answer: VendorAnswer,
}

impl Case {
    /// What the HTTP client hands the connector on a get answer: the vendor
    /// body to the canonical session.
    pub fn convert(&self) -> CheckoutSession {
        match self.connector.read_get(&self.reference, &self.answer) {
            Ok(fetched) => fetched.session,
            Err(e) => panic!("{}: {e}", self.fixture),
        }
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The account table `[providers.<provider>.accounts.<account>]` of
/// config/demo.toml, as JSON.
fn demo_account(
    demo: &toml::Table,
    provider: &str,
    account: &str,
) -> Result<serde_json::Value, String> {
    let table = demo
        .get("providers")
        .and_then(|p| p.get(provider))
        .and_then(|p| p.get("accounts"))
        .and_then(|a| a.get(account))
        .ok_or_else(|| {
            format!("config/demo.toml has no [providers.{provider}.accounts.{account}]")
        })?;
    serde_json::to_value(table).map_err(|e| e.to_string())
}

/// The cases of one registered provider (an error when it has none).
pub fn load_provider(provider: &'static dyn checkout_core::Provider) -> Result<Vec<Case>, String> {
    let name = provider.name();
    let root = workspace_root();
    let dir = root.join("fixtures").join(name);
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{name} has no conversion bench cases ({}: {e}): add fixtures/{name}/{MANIFEST} with a \
             [[case]] (group, fixture, account, reference) for the typical get answer of each \
             protocol or API family, and a provenance row for it in fixtures/{name}/README.md",
            path.display()
        )
    })?;
    let manifest: Manifest =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if manifest.case.is_empty() {
        return Err(format!("{}: no [[case]]", path.display()));
    }
    let demo_path = root.join("config/demo.toml");
    let demo: toml::Table = std::fs::read_to_string(&demo_path)
        .map_err(|e| format!("{}: {e}", demo_path.display()))?
        .parse()
        .map_err(|e| format!("{}: {e}", demo_path.display()))?;
    manifest
        .case
        .into_iter()
        .map(|entry| {
            // A plain file name in the vendor's own folder.
            if entry.fixture.contains(['/', '\\']) || entry.fixture.starts_with('.') {
                return Err(format!(
                    "{}: fixture {:?} is not a file name",
                    path.display(),
                    entry.fixture
                ));
            }
            let body = std::fs::read(dir.join(&entry.fixture))
                .map_err(|e| format!("{}: {}: {e}", path.display(), entry.fixture))?;
            let config = demo_account(&demo, name, &entry.account)?;
            let connector = provider
                .build(&entry.account, config)
                .map_err(|e| format!("{name}:{}: {e}", entry.account))?;
            let mut headers = http::HeaderMap::new();
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            let stem = entry
                .fixture
                .strip_suffix(".json")
                .unwrap_or(&entry.fixture);
            Ok(Case {
                provider: name,
                group: entry.group,
                name: stem.to_owned(),
                fixture: format!("{name}/{}", entry.fixture),
                reference: entry.reference,
                connector,
                answer: VendorAnswer {
                    status: 200,
                    headers,
                    body: body.into(),
                },
            })
        })
        .collect()
}

/// Every registered provider's cases, in registry order.
pub fn load_all() -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for provider in providers::all() {
        cases.extend(load_provider(*provider)?);
    }
    Ok(cases)
}
