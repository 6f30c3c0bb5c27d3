//! The idempotency records, the same tests over SQLite and (when
//! `CHECKOUT_GATEWAY_TEST_POSTGRES` is set) PostgreSQL.

mod backends;

use std::time::Duration;

use store::{Claim, IdempotencyKey, Store, StoredResponse};

const LEASE: Duration = Duration::from_secs(30);
const TTL: Duration = Duration::from_secs(24 * 3600);

fn key(key: &str) -> IdempotencyKey<'_> {
    IdempotencyKey { scope: "shop", key }
}

fn response(status: u16) -> StoredResponse {
    StoredResponse {
        status,
        body: format!("{{\"status\":{status}}}"),
        location: Some("/v1/checkout-sessions/x".to_owned()),
        retry_after_secs: None,
    }
}

async fn claim(store: &Store, k: &str, fingerprint: u8) -> Claim {
    store
        .claim(key(k), &[fingerprint; 32], LEASE, TTL)
        .await
        .expect("claim")
}

fn token(claim: Claim) -> store::ClaimToken {
    match claim {
        Claim::New { token } => token,
        other => panic!("expected a new claim, got {other:?}"),
    }
}

#[tokio::test]
async fn a_first_claim_then_replay_then_mismatch() {
    backends::each(|b| async move {
        let store = b.open().await;
        let t = token(claim(&store, "k", 1).await);
        assert!(store
            .complete(key("k"), &t, &response(201), TTL)
            .await
            .unwrap());
        assert_eq!(
            claim(&store, "k", 1).await,
            Claim::Replay(response(201)),
            "{}",
            b.name
        );
        assert_eq!(claim(&store, "k", 2).await, Claim::Mismatch, "{}", b.name);
        // Another client's key of the same name is its own.
        let other = IdempotencyKey {
            scope: "other",
            key: "k",
        };
        assert!(matches!(
            store.claim(other, &[2; 32], LEASE, TTL).await.unwrap(),
            Claim::New { .. }
        ));
    })
    .await;
}

#[tokio::test]
async fn a_running_claim_is_in_progress_for_the_same_request_and_a_mismatch_for_another() {
    backends::each(|b| async move {
        let store = b.open().await;
        token(claim(&store, "k", 1).await);
        match claim(&store, "k", 1).await {
            Claim::InProgress { lease_left } => {
                assert!(
                    lease_left > Duration::from_secs(25) && lease_left <= LEASE,
                    "{lease_left:?}"
                )
            }
            other => panic!("{}: {other:?}", b.name),
        }
        assert_eq!(claim(&store, "k", 2).await, Claim::Mismatch, "{}", b.name);
    })
    .await;
}

#[tokio::test]
async fn only_the_owner_completes_or_releases() {
    backends::each(|b| async move {
        let store = b.open().await;
        let first = token(claim(&store, "k", 1).await);
        assert!(store.release(key("k"), &first).await.unwrap());
        let second = token(claim(&store, "k", 1).await);
        // The first owner's late release or completion touches nothing.
        assert!(
            !store.release(key("k"), &first).await.unwrap(),
            "{}",
            b.name
        );
        assert!(!store
            .complete(key("k"), &first, &response(500), TTL)
            .await
            .unwrap());
        assert!(matches!(
            claim(&store, "k", 1).await,
            Claim::InProgress { .. }
        ));
        assert!(store
            .complete(key("k"), &second, &response(201), TTL)
            .await
            .unwrap());
        // Done: not released by anyone.
        assert!(!store.release(key("k"), &second).await.unwrap());
        assert_eq!(claim(&store, "k", 1).await, Claim::Replay(response(201)));
    })
    .await;
}

#[tokio::test]
async fn a_claim_whose_lease_ended_is_taken_over_by_the_same_request_only() {
    backends::each(|b| async move {
        let store = b.open().await;
        let lease = Duration::from_millis(100);
        let dead = match store.claim(key("k"), &[1; 32], lease, TTL).await.unwrap() {
            Claim::New { token } => token,
            other => panic!("{other:?}"),
        };
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(claim(&store, "k", 2).await, Claim::Mismatch, "{}", b.name);
        let heir = token(claim(&store, "k", 1).await);
        assert_ne!(heir, dead);
        // The presumed-dead owner, back late, changes nothing.
        assert!(!store
            .complete(key("k"), &dead, &response(502), TTL)
            .await
            .unwrap());
        assert!(store
            .complete(key("k"), &heir, &response(201), TTL)
            .await
            .unwrap());
        assert_eq!(claim(&store, "k", 1).await, Claim::Replay(response(201)));
    })
    .await;
}

#[tokio::test]
async fn expired_records_are_gone_and_purged() {
    backends::each(|b| async move {
        let store = b.open().await;
        let ttl = Duration::from_millis(100);
        let t = match store.claim(key("old"), &[1; 32], LEASE, ttl).await.unwrap() {
            Claim::New { token } => token,
            other => panic!("{other:?}"),
        };
        assert!(store
            .complete(key("old"), &t, &response(201), ttl)
            .await
            .unwrap());
        token(claim(&store, "kept", 1).await);
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(store.purge_expired().await.unwrap(), 1, "{}", b.name);
        // Gone: the key is free for any request.
        token(claim(&store, "old", 2).await);
        assert!(matches!(
            claim(&store, "kept", 1).await,
            Claim::InProgress { .. }
        ));
    })
    .await;
}

#[tokio::test]
async fn many_concurrent_claims_on_one_key_make_one_owner() {
    backends::each(|b| async move {
        let store = b.open().await;
        let claims = (0..16).map(|_| {
            let store = store.clone();
            async move { claim(&store, "k", 1).await }
        });
        let claims = futures::future::join_all(claims).await;
        let owners = claims
            .iter()
            .filter(|c| matches!(c, Claim::New { .. }))
            .count();
        assert_eq!(owners, 1, "{}: {claims:?}", b.name);
        assert!(claims
            .iter()
            .all(|c| matches!(c, Claim::New { .. } | Claim::InProgress { .. })));
    })
    .await;
}

#[tokio::test]
async fn claims_from_separate_pools_make_one_owner() {
    // Separate pools on one database: what several replicas are.
    backends::each(|b| async move {
        let mut replicas = Vec::new();
        for _ in 0..4 {
            replicas.push(b.open().await);
        }
        for round in 0..5 {
            let k = format!("k{round}");
            let claims = replicas.iter().flat_map(|store| {
                let k = k.clone();
                (0..4).map(move |_| {
                    let (store, k) = (store.clone(), k.clone());
                    tokio::spawn(async move { claim(&store, &k, 1).await })
                })
            });
            let claims: Vec<Claim> = futures::future::join_all(claims)
                .await
                .into_iter()
                .map(|c| c.expect("claim task"))
                .collect();
            let owners = claims
                .iter()
                .filter(|c| matches!(c, Claim::New { .. }))
                .count();
            assert_eq!(owners, 1, "{} round {round}: {claims:?}", b.name);
        }
    })
    .await;
}

#[tokio::test]
async fn waiters_on_a_released_key_make_one_new_owner() {
    // The race of issue 17: after a release, every waiter claims again at
    // once; exactly one may own the key, and the others see it running.
    backends::each(|b| async move {
        let store = b.open().await;
        let first = token(claim(&store, "k", 1).await);
        assert!(store.release(key("k"), &first).await.unwrap());
        let claims = (0..8).map(|_| {
            let store = store.clone();
            tokio::spawn(async move { claim(&store, "k", 1).await })
        });
        let claims: Vec<Claim> = futures::future::join_all(claims)
            .await
            .into_iter()
            .map(|c| c.expect("claim task"))
            .collect();
        let owners = claims
            .iter()
            .filter(|c| matches!(c, Claim::New { .. }))
            .count();
        assert_eq!(owners, 1, "{}: {claims:?}", b.name);
    })
    .await;
}

#[tokio::test]
async fn records_outlive_the_store_that_wrote_them() {
    backends::each(|b| async move {
        let store = b.open().await;
        let t = token(claim(&store, "k", 1).await);
        assert!(store
            .complete(key("k"), &t, &response(201), TTL)
            .await
            .unwrap());
        store.close().await;
        drop(store);
        let again = b.open().await;
        assert_eq!(
            claim(&again, "k", 1).await,
            Claim::Replay(response(201)),
            "{}",
            b.name
        );
    })
    .await;
}

#[tokio::test]
async fn a_response_without_optional_parts_reads_back_the_same() {
    backends::each(|b| async move {
        let store = b.open().await;
        let t = token(claim(&store, "k", 1).await);
        let bare = StoredResponse {
            status: 502,
            body: "{\"error\":{\"code\":\"provider_error\",\"message\":\"é ✓\"}}".to_owned(),
            location: None,
            retry_after_secs: Some(7),
        };
        assert!(store.complete(key("k"), &t, &bare, TTL).await.unwrap());
        assert_eq!(
            claim(&store, "k", 1).await,
            Claim::Replay(bare),
            "{}",
            b.name
        );
    })
    .await;
}
