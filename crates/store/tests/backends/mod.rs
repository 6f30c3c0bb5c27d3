//! One test body, every backend: SQLite always (a file in a temporary
//! directory), PostgreSQL when `CHECKOUT_GATEWAY_TEST_POSTGRES` names a
//! database (each run in a schema of its own, dropped after, so parallel
//! tests do not meet).

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use sqlx::{Connection, Executor};

/// The variable naming the PostgreSQL database the tests may use.
pub const POSTGRES_VAR: &str = "CHECKOUT_GATEWAY_TEST_POSTGRES";

/// A database one test body runs against: open it as often as the body
/// likes (each open is another pool, as another replica would have).
pub struct Backend {
    pub name: &'static str,
    pub url: String,
}

impl Backend {
    pub async fn open(&self) -> store::Store {
        store::Store::open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }
}

/// Run `body` against SQLite, then against PostgreSQL if the variable is
/// set (else say, once per test, how to run it there).
pub async fn each<F, Fut>(body: F)
where
    F: Fn(Backend) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    body(Backend {
        name: "sqlite",
        url: store::sqlite_url(&dir.path().join("store.db")),
    })
    .await;
    let Some(base) = std::env::var(POSTGRES_VAR).ok().filter(|v| !v.is_empty()) else {
        println!(
            "skipped: set {POSTGRES_VAR}=postgres://postgres@127.0.0.1:5432/test to run against PostgreSQL"
        );
        return;
    };
    sqlx::any::install_default_drivers();
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::AnyConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_VAR}: cannot connect: {e}"));
    admin
        .execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .expect("create schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    let outcome = AssertUnwindSafe(body(Backend {
        name: "postgres",
        url,
    }))
    .catch_unwind()
    .await;
    let _ = admin
        .execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
        .await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
