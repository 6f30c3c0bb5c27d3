//! Durable state (PRODUCT §10): SQLite embedded by default (`sqlite://PATH`)
//! or PostgreSQL by URL (`postgres://…`). Both run the same statements
//! through sqlx's `any` driver: `$N` placeholders, `ON CONFLICT` upserts,
//! `RETURNING`, times as unix milliseconds, TEXT and BIGINT columns only.
//! Migrations (`crates/store/migrations`, embedded) run at open.
//!
//! It keeps the idempotency records (`idempotency`) and the change feed:
//! tracked sessions, events and leases (`feed`), webhook deliveries
//! (`webhooks`); and for migration between vendors, the customer map and
//! which rule routed each session (`routing`).

mod feed;
mod idempotency;
mod routing;
pub mod testing;
mod webhooks;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::AnyPool;

pub use feed::{EventFilter, NewEvent, Observation, Recorded, StoredEvent, Tracked};
pub use idempotency::{Attempt, Claim, ClaimToken, IdempotencyKey, StoredResponse};
pub use routing::{CustomerRefs, Route};
pub use webhooks::{
    AttemptOutcome, AttemptRecord, AttemptRow, Delivery, EndpointFilter, EndpointState,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Which database a store URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a URL names, by its scheme.
    pub fn of(url: &str) -> Result<Backend, StoreError> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(StoreError::Url(
                "expected `sqlite://PATH` or `postgres://…`".to_owned(),
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Why the store could not be opened or answer. Never carries the URL
/// (a PostgreSQL URL may hold a password).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store URL: {0}")]
    Url(String),
    #[error("cannot prepare the SQLite file {}: {source}", path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("store query failed: {0}")]
    Query(#[from] sqlx::Error),
}

/// An open store: a connection pool with the schema migrated. Cheap to
/// clone (the pool is shared).
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Open the store at `url` and run its migrations. For SQLite the file
    /// (and its directory) is created if missing, readable by this user
    /// only, and put in WAL mode (readers do not wait for the writer;
    /// sqlx's 5 s busy timeout makes concurrent writers wait, not fail).
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url)?;
        if backend == Backend::Sqlite {
            prepare_sqlite_file(url)?;
        }
        let pool = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        if backend == Backend::Sqlite {
            // Kept in the file: once is enough.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        MIGRATOR.run(&pool).await?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// One row of a query with no arguments (for checks and tests).
    pub async fn fetch_one(&self, sql: &str) -> Result<AnyRow, StoreError> {
        Ok(sqlx::query(sql).fetch_one(&self.pool).await?)
    }

    /// Close the pool: every connection is closed once returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The URL for a SQLite file at `path`, as [`Store::open`] takes it.
pub fn sqlite_url(path: &Path) -> String {
    let text = path.display().to_string();
    let mut url = String::from("sqlite://");
    for byte in text.bytes() {
        // Percent-encode what a URL would read otherwise; sqlx decodes it.
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

/// The SQLite file `url` names, created (mode 0600, its directory 0700
/// where this creates it) if missing. An in-memory database is refused:
/// each pooled connection would see its own, and nothing would be kept.
fn prepare_sqlite_file(url: &str) -> Result<(), StoreError> {
    let options = sqlite_options(url)?;
    let path = options.get_filename().to_path_buf();
    let failed = |source| StoreError::File {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(failed)?;
    }
    let mut file = std::fs::OpenOptions::new();
    file.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    file.open(&path).map_err(failed)?;
    Ok(())
}

/// The options sqlx's `any` driver will read from `url`: it parses the URL
/// first and hands the driver the normalised text, so the same is done
/// here to name the same file.
fn sqlite_options(url: &str) -> Result<sqlx::sqlite::SqliteConnectOptions, StoreError> {
    let normalised: sqlx::any::AnyConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| StoreError::Url(e.to_string()))?;
    let text = normalised.database_url.as_str();
    let query = text.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let database = text
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    if database.starts_with(":memory:") || query.split('&').any(|pair| pair == "mode=memory") {
        return Err(StoreError::Url(
            "an in-memory SQLite database keeps nothing: give a file (`sqlite://PATH`)".to_owned(),
        ));
    }
    text.parse()
        .map_err(|e: sqlx::Error| StoreError::Url(e.to_string()))
}

/// Now, in unix milliseconds.
fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// A duration in milliseconds, as stored.
fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
