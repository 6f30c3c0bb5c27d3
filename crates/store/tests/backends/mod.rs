//! One test body, every backend: SQLite always (a file in a temporary
//! directory), PostgreSQL when `CHECKOUT_GATEWAY_TEST_POSTGRES` names a
//! database (in a schema of its own, dropped when the body passes).

use std::future::Future;

use store::testing::schema_or_skip;

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
    let Some(schema) = schema_or_skip().await else {
        return;
    };
    body(Backend {
        name: "postgres",
        url: schema.url.clone(),
    })
    .await;
    schema.drop().await.expect("drop the test schema");
}
