//! The idempotency records, the same tests over SQLite and (when
//! `CHECKOUT_GATEWAY_TEST_POSTGRES` is set) PostgreSQL.

mod backends;

use std::time::Duration;

use std::sync::atomic::{AtomicU64, Ordering};

use store::{Attempt, Claim, IdempotencyKey, Store, StoredResponse};

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
    claim_for(store, key(k), fingerprint, LEASE, TTL).await
}

/// A claim with an attempt note of its own (as every gateway request has).
async fn claim_for(
    store: &Store,
    key: IdempotencyKey<'_>,
    fingerprint: u8,
    lease: Duration,
    ttl: Duration,
) -> Claim {
    let note = attempt_note();
    store
        .claim(key, &[fingerprint; 32], attempt(&note), lease, ttl)
        .await
        .expect("claim")
}

fn attempt_note() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("attempt {}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn attempt(note: &str) -> Attempt<'_> {
    Attempt {
        note,
        subject: "meteroid:default:cus_1",
    }
}

fn token(claim: Claim) -> store::ClaimToken {
    match claim {
        Claim::New { token, .. } => token,
        other => panic!("expected a new claim, got {other:?}"),
    }
}

#[tokio::test]
async fn a_first_claim_then_replay_then_mismatch() {
    backends::each(|b| async move {
        let store = b.open().await;
        let t = token(claim(&store, "k", 1).await);
        assert!(store
            .complete(key("k"), &t, &response(201), None, TTL)
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
            claim_for(&store, other, 2, LEASE, TTL).await,
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
            .complete(key("k"), &first, &response(500), None, TTL)
            .await
            .unwrap());
        assert!(matches!(
            claim(&store, "k", 1).await,
            Claim::InProgress { .. }
        ));
        assert!(store
            .complete(key("k"), &second, &response(201), None, TTL)
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
        let dead = match claim_for(&store, key("k"), 1, lease, TTL).await {
            Claim::New { token, .. } => token,
            other => panic!("{other:?}"),
        };
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(claim(&store, "k", 2).await, Claim::Mismatch, "{}", b.name);
        let heir = token(claim(&store, "k", 1).await);
        assert_ne!(heir, dead);
        // The presumed-dead owner, back late, changes nothing.
        assert!(!store
            .complete(key("k"), &dead, &response(502), None, TTL)
            .await
            .unwrap());
        assert!(store
            .complete(key("k"), &heir, &response(201), None, TTL)
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
        let t = match claim_for(&store, key("old"), 1, LEASE, ttl).await {
            Claim::New { token, .. } => token,
            other => panic!("{other:?}"),
        };
        assert!(store
            .complete(key("old"), &t, &response(201), None, ttl)
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
            .complete(key("k"), &t, &response(201), None, TTL)
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
        assert!(store
            .complete(key("k"), &t, &bare, None, TTL)
            .await
            .unwrap());
        assert_eq!(
            claim(&store, "k", 1).await,
            Claim::Replay(bare),
            "{}",
            b.name
        );
    })
    .await;
}

#[tokio::test]
async fn an_unsettled_claim_is_taken_over_at_once_with_its_attempt() {
    backends::each(|b| async move {
        let store = b.open().await;
        let first_note = attempt_note();
        let first = match store
            .claim(key("k"), &[1; 32], attempt(&first_note), LEASE, TTL)
            .await
            .unwrap()
        {
            Claim::New { token, earlier } => {
                assert_eq!(
                    earlier, None,
                    "{}: a fresh key has no earlier attempt",
                    b.name
                );
                token
            }
            other => panic!("{other:?}"),
        };
        // Still running: the same request waits, another is refused.
        assert!(matches!(
            claim(&store, "k", 1).await,
            Claim::InProgress { .. }
        ));
        assert!(store
            .unsettle(key("k"), &first, Duration::ZERO)
            .await
            .unwrap());
        assert_eq!(claim(&store, "k", 2).await, Claim::Mismatch, "{}", b.name);
        // The next owner gets the first attempt back, whatever its own note.
        let heir = match claim(&store, "k", 1).await {
            Claim::New { token, earlier } => {
                assert_eq!(earlier.as_deref(), Some(first_note.as_str()), "{}", b.name);
                token
            }
            other => panic!("{}: {other:?}", b.name),
        };
        // The first owner's token is void now.
        assert!(!store
            .unsettle(key("k"), &first, Duration::ZERO)
            .await
            .unwrap());
        assert!(!store.release(key("k"), &first).await.unwrap());
        // Nothing found at the vendor: the heir makes its own attempt, and
        // an owner that dies after that leaves the new one for the next.
        let second_note = attempt_note();
        assert!(store
            .retry(key("k"), &heir, attempt(&second_note))
            .await
            .unwrap());
        assert!(!store.retry(key("k"), &first, attempt("x")).await.unwrap());
        assert!(store
            .unsettle(key("k"), &heir, Duration::ZERO)
            .await
            .unwrap());
        match claim(&store, "k", 1).await {
            Claim::New { earlier, .. } => {
                assert_eq!(earlier.as_deref(), Some(second_note.as_str()), "{}", b.name)
            }
            other => panic!("{}: {other:?}", b.name),
        }
    })
    .await;
}

#[tokio::test]
async fn a_released_or_expired_key_forgets_its_attempt() {
    backends::each(|b| async move {
        let store = b.open().await;
        let t = token(claim(&store, "k", 1).await);
        assert!(store.release(key("k"), &t).await.unwrap());
        assert!(matches!(
            claim(&store, "k", 1).await,
            Claim::New { earlier: None, .. }
        ));
        let short = Duration::from_millis(50);
        token(claim_for(&store, key("old"), 1, short, short).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            matches!(
                claim(&store, "old", 1).await,
                Claim::New { earlier: None, .. }
            ),
            "{}: an expired record's attempt is not the new claim's business",
            b.name
        );
    })
    .await;
}

#[tokio::test]
async fn running_claims_are_counted_per_subject_and_sessions_once_answered_are_taken() {
    backends::each(|b| async move {
        let store = b.open().await;
        let mine = token(claim(&store, "mine", 1).await);
        let subject = attempt("").subject;
        assert_eq!(store.running_for(subject, key("mine")).await.unwrap(), 0);
        let theirs = token(claim(&store, "theirs", 1).await);
        let note = attempt_note();
        let elsewhere = Attempt {
            note: &note,
            subject: "meteroid:default:cus_2",
        };
        store
            .claim(key("elsewhere"), &[1; 32], elsewhere, LEASE, TTL)
            .await
            .unwrap();
        assert_eq!(
            store.running_for(subject, key("mine")).await.unwrap(),
            1,
            "{}",
            b.name
        );
        assert!(store
            .complete(
                key("theirs"),
                &theirs,
                &response(201),
                Some("che_theirs"),
                TTL
            )
            .await
            .unwrap());
        assert_eq!(
            store.running_for(subject, key("mine")).await.unwrap(),
            0,
            "{}",
            b.name
        );
        // A claim whose owner died (its lease ended) blocks nobody.
        let short = Duration::from_millis(50);
        token(claim_for(&store, key("dead"), 1, short, TTL).await);
        assert_eq!(store.running_for(subject, key("mine")).await.unwrap(), 1);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            store.running_for(subject, key("mine")).await.unwrap(),
            0,
            "{}",
            b.name
        );
        let many: Vec<String> = (0..250).map(|i| format!("che_{i}")).collect();
        let mut asked: Vec<&str> = many.iter().map(String::as_str).collect();
        asked.push("che_theirs");
        assert_eq!(
            store.sessions_taken(&asked).await.unwrap(),
            ["che_theirs"],
            "{}",
            b.name
        );
        assert!(store.sessions_taken(&[]).await.unwrap().is_empty());
        store.release(key("mine"), &mine).await.unwrap();
    })
    .await;
}
