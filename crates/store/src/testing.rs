//! For tests (this crate's, the gateway's end-to-end ones): the PostgreSQL
//! database named by `CHECKOUT_GATEWAY_TEST_POSTGRES`, a fresh schema per
//! test so that tests running at once, or again, never meet.

use std::time::Duration;

use sqlx::{Connection, Executor, Row};

use crate::StoreError;

/// The variable naming the PostgreSQL database tests may use, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_VAR: &str = "CHECKOUT_GATEWAY_TEST_POSTGRES";

/// Schemas made here start with this, then their creation time.
const PREFIX: &str = "cgtest_";
/// A schema older than this was left by a test that failed (a passing one
/// drops its own): the next test to make one drops it.
const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// The database `CHECKOUT_GATEWAY_TEST_POSTGRES` names, if set.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_VAR).ok().filter(|v| !v.is_empty())
}

/// The line a test prints when it skips PostgreSQL.
pub fn skip_line() -> String {
    format!("skipped: set {POSTGRES_VAR}=postgres://postgres@127.0.0.1:5432/test to run against PostgreSQL")
}

/// Print [`skip_line`] once per test binary, straight to stderr: the test
/// harness captures `println!` of passing tests, and a skip nobody sees
/// looks like a pass against PostgreSQL.
pub fn announce_skip() {
    use std::io::Write;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(std::io::stderr().lock(), "{}", skip_line());
    });
}

/// A schema of its own in the database [`POSTGRES_VAR`] names, or `None`
/// (after [`announce_skip`]) when the variable is unset. A database that is
/// named but cannot be used fails the test, naming the variable.
pub async fn schema_or_skip() -> Option<PostgresSchema> {
    let Some(base) = postgres_url() else {
        announce_skip();
        return None;
    };
    let schema = PostgresSchema::create(&base).await;
    Some(schema.unwrap_or_else(|e| panic!("{POSTGRES_VAR}: {e}")))
}

/// A schema of its own in the database at `base`.
pub struct PostgresSchema {
    base: String,
    name: String,
    /// `base` with this schema first on the search path: what a store opens.
    pub url: String,
}

impl PostgresSchema {
    pub async fn create(base: &str) -> Result<PostgresSchema, StoreError> {
        sqlx::any::install_default_drivers();
        let now = crate::now_ms() / 1000;
        let name = format!("{PREFIX}{now}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::AnyConnection::connect(base).await?;
        let old =
            sqlx::query("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)")
                .bind(PREFIX)
                .fetch_all(&mut admin)
                .await?;
        for row in old {
            let old: String = row.try_get(0)?;
            let made = old
                .trim_start_matches(PREFIX)
                .split('_')
                .next()
                .and_then(|t| t.parse::<i64>().ok());
            let abandoned = i64::try_from(ABANDONED_AFTER.as_secs()).unwrap_or(i64::MAX);
            if made.is_some_and(|t| now - t > abandoned) {
                // Names come from the catalogue and match the prefix: safe to quote.
                let _ = admin
                    .execute(format!("DROP SCHEMA IF EXISTS \"{old}\" CASCADE").as_str())
                    .await;
            }
        }
        admin
            .execute(format!("CREATE SCHEMA {name}").as_str())
            .await?;
        let separator = if base.contains('?') { '&' } else { '?' };
        Ok(PostgresSchema {
            url: format!("{base}{separator}options=-c%20search_path%3D{name}"),
            base: base.to_owned(),
            name,
        })
    }

    /// Drop the schema and all in it. A test's own connections may still
    /// hold locks in it (a background task stopped mid-transaction when the
    /// test ended, its runtime blocked in this drop): they are ended first,
    /// and the drop gives up after a while rather than wait for ever.
    pub async fn drop(self) -> Result<(), StoreError> {
        let mut admin = sqlx::AnyConnection::connect(&self.base).await?;
        sqlx::query(
            "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l
             JOIN pg_class c ON c.oid = l.relation
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND l.pid <> pg_backend_pid()",
        )
        .bind(&self.name)
        .fetch_one(&mut admin)
        .await?;
        admin.execute("SET lock_timeout = '10s'").await?;
        admin
            .execute(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name).as_str())
            .await?;
        Ok(())
    }
}
