//! What is particular to the embedded SQLite store: the file, its mode,
//! WAL, the busy timeout, and the URLs refused.

use std::time::Duration;

use sqlx::Row;
use store::{sqlite_url, Store, StoreError};

#[tokio::test]
async fn the_file_is_made_private_in_wal_mode_with_a_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    // A directory still to make, and a name a URL would misread.
    let path = dir.path().join("new dir/gate way?#%.db");
    let store = Store::open(&sqlite_url(&path)).await.expect("open");
    assert!(path.is_file(), "the store is the named file");
    let mode = store.fetch_one("PRAGMA journal_mode").await.unwrap();
    assert_eq!(mode.try_get::<String, _>(0).unwrap().to_lowercase(), "wal");
    let timeout = store.fetch_one("PRAGMA busy_timeout").await.unwrap();
    assert_eq!(timeout.try_get::<i64, _>(0).unwrap(), 5000);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700, "{dir_mode:o}");
        // SQLite gives its WAL files the database file's mode.
        let key = store::IdempotencyKey {
            scope: "shop",
            key: "k",
        };
        store
            .claim(
                key,
                &[1; 32],
                store::Attempt {
                    note: "{}",
                    subject: "s",
                },
                Duration::from_secs(1),
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        for suffix in ["-wal", "-shm"] {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            let mode = std::fs::metadata(&name).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{suffix}: {mode:o}");
        }
    }
    // Migrations ran, and running them again at the next open is harmless.
    store.close().await;
    let again = Store::open(&sqlite_url(&path)).await.expect("reopen");
    let count = again
        .fetch_one("SELECT COUNT(*) FROM idempotency_keys")
        .await
        .unwrap();
    assert_eq!(count.try_get::<i64, _>(0).unwrap(), 1, "kept");
}

#[tokio::test]
async fn urls_that_cannot_keep_anything_are_refused() {
    for url in [
        "sqlite::memory:",
        "sqlite://:memory:",
        "sqlite://x.db?mode=memory",
        "mysql://root@127.0.0.1/test",
        "gateway.db",
        "",
    ] {
        match Store::open(url).await {
            Err(StoreError::Url(message)) => assert!(!message.is_empty(), "{url}"),
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_file_that_cannot_be_made_names_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let err = Store::open(&sqlite_url(&blocker.join("store.db")))
        .await
        .expect_err("a file is in the way");
    assert!(
        matches!(err, StoreError::File { .. }) && err.to_string().contains("store.db"),
        "{err}"
    );
}
