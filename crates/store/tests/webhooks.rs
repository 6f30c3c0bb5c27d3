//! Webhook deliveries in the store: fan-out, order per session, attempts,
//! redelivery, endpoints disabled; the same tests over SQLite and (when
//! `CHECKOUT_GATEWAY_TEST_POSTGRES` is set) PostgreSQL.

mod backends;

use store::{
    AttemptOutcome, AttemptRecord, Delivery, EndpointFilter, NewEvent, Observation, Recorded, Store,
};

const METEROID: &str = "meteroid:default";
const FLOWGLAD: &str = "flowglad:default";
const CREATED: &str = "checkout_session.created";
const COMPLETED: &str = "checkout_session.completed";
const NOW: i64 = 1_000_000;

/// Record one event of `kind` for `session_id` of `account` (tracked rows
/// made or updated as needed); its seq.
async fn emit(store: &Store, account: &str, session_id: &str, id: &str, kind: &str) -> i64 {
    let version = store.tracked(session_id).await.unwrap().map(|t| t.version);
    let obs = Observation {
        session_id,
        account,
        status: "open",
        payment_status: None,
        state: "{}",
        hint: None,
        created_ms: 1_000,
        expires_ms: None,
        next_poll_ms: Some(10_000),
        terminal: false,
        seen_ms: 0,
    };
    let event = NewEvent {
        id,
        kind,
        created_ms: 5_000,
        body: &format!("{{\"id\":\"{id}\"}}"),
    };
    match store.record(&obs, version, &[event]).await.unwrap() {
        Recorded::Done(events) => events[0].seq,
        Recorded::Conflict => panic!("conflict recording {id}"),
    }
}

const ALL: EndpointFilter<'static> = EndpointFilter {
    kinds: None,
    accounts: None,
};

fn event_ids(deliveries: &[Delivery]) -> Vec<&str> {
    deliveries.iter().map(|d| d.event_id.as_str()).collect()
}

/// An attempt as the test compares it: endpoint, number, status, error, state.
type AttemptSeen<'a> = (&'a str, i64, Option<u16>, Option<&'a str>, &'a str);

fn attempt(status: Option<u16>) -> AttemptRecord<'static> {
    AttemptRecord {
        at_ms: NOW,
        status,
        error: status.is_none().then_some("connection refused"),
        duration_ms: 12,
    }
}

#[tokio::test]
async fn a_new_endpoint_starts_at_the_head_of_the_feed() {
    backends::each(|b| async move {
        let store = b.open().await;
        emit(&store, METEROID, "cs_1", "evt_1", CREATED).await;
        emit(&store, METEROID, "cs_2", "evt_2", CREATED).await;
        let state = store.webhook_endpoint("shop").await.unwrap();
        assert_eq!(state.cursor, 2, "{}", b.name);
        assert_eq!(state.disabled_ms, None);
        assert_eq!(store.fan_out("shop", &ALL, NOW, 100).await.unwrap(), 0);
        emit(&store, METEROID, "cs_3", "evt_3", CREATED).await;
        assert_eq!(store.fan_out("shop", &ALL, NOW, 100).await.unwrap(), 1);
        assert_eq!(store.webhook_endpoint("shop").await.unwrap().cursor, 3);
        let due = store.due_deliveries("shop", NOW, 10).await.unwrap();
        assert_eq!(event_ids(&due), ["evt_3"]);
        assert_eq!(due[0].body, "{\"id\":\"evt_3\"}");
        assert_eq!(due[0].endpoint, "shop");
        assert_eq!(due[0].session_id, "cs_3");
        assert_eq!(due[0].event_seq, 3);
        assert_eq!(due[0].attempts, 0);
        // Fanned out once: again makes nothing.
        assert_eq!(store.fan_out("shop", &ALL, NOW, 100).await.unwrap(), 0);
        // An endpoint first met at fan-out starts at the head too.
        assert_eq!(store.fan_out("later", &ALL, NOW, 100).await.unwrap(), 0);
        assert_eq!(store.webhook_endpoint("later").await.unwrap().cursor, 3);
    })
    .await;
}

#[tokio::test]
async fn fan_out_makes_deliveries_of_matching_events_and_moves_past_all_read() {
    backends::each(|b| async move {
        let store = b.open().await;
        assert_eq!(store.webhook_endpoint("shop").await.unwrap().cursor, 0);
        assert_eq!(store.webhook_endpoint("all").await.unwrap().cursor, 0);
        emit(&store, METEROID, "cs_1", "evt_1", CREATED).await;
        emit(&store, METEROID, "cs_1", "evt_2", COMPLETED).await;
        emit(&store, FLOWGLAD, "cs_2", "evt_3", CREATED).await;
        emit(&store, FLOWGLAD, "cs_2", "evt_4", COMPLETED).await;
        emit(&store, METEROID, "cs_3", "evt_5", COMPLETED).await;
        let completed = [COMPLETED.to_owned()];
        let meteroid = [METEROID.to_owned()];
        let filter = EndpointFilter {
            kinds: Some(&completed),
            accounts: Some(&meteroid),
        };
        // A page at a time: the cursor moves past what was read, matching or not.
        assert_eq!(store.fan_out("shop", &filter, NOW, 3).await.unwrap(), 1);
        assert_eq!(store.webhook_endpoint("shop").await.unwrap().cursor, 3);
        assert_eq!(store.fan_out("shop", &filter, NOW, 3).await.unwrap(), 1);
        assert_eq!(store.webhook_endpoint("shop").await.unwrap().cursor, 5);
        assert_eq!(store.fan_out("shop", &filter, NOW, 3).await.unwrap(), 0);
        let due = store.due_deliveries("shop", NOW, 10).await.unwrap();
        assert_eq!(event_ids(&due), ["evt_2", "evt_5"], "{}", b.name);
        // Another endpoint has its own cursor and deliveries.
        assert_eq!(store.fan_out("all", &ALL, NOW, 100).await.unwrap(), 5);
        assert_eq!(store.pending_deliveries(Some("all")).await.unwrap(), 5);
        assert_eq!(store.pending_deliveries(Some("shop")).await.unwrap(), 2);
        assert_eq!(store.pending_deliveries(None).await.unwrap(), 7);
        // Only the kinds filter, only the accounts filter.
        let flowglad = [FLOWGLAD.to_owned()];
        store.webhook_endpoint("kinds").await.unwrap();
        store.webhook_endpoint("accounts").await.unwrap();
        emit(&store, FLOWGLAD, "cs_4", "evt_6", CREATED).await;
        emit(&store, METEROID, "cs_5", "evt_7", COMPLETED).await;
        let kinds_only = EndpointFilter {
            kinds: Some(&completed),
            accounts: None,
        };
        let accounts_only = EndpointFilter {
            kinds: None,
            accounts: Some(&flowglad),
        };
        store.fan_out("kinds", &kinds_only, NOW, 100).await.unwrap();
        store
            .fan_out("accounts", &accounts_only, NOW, 100)
            .await
            .unwrap();
        let due = store.due_deliveries("kinds", NOW, 10).await.unwrap();
        assert_eq!(event_ids(&due), ["evt_7"]);
        let due = store.due_deliveries("accounts", NOW, 10).await.unwrap();
        assert_eq!(event_ids(&due), ["evt_6"]);
    })
    .await;
}

#[tokio::test]
async fn deliveries_of_a_session_go_one_at_a_time_in_event_order() {
    backends::each(|b| async move {
        let store = b.open().await;
        store.webhook_endpoint("shop").await.unwrap();
        emit(&store, METEROID, "cs_a", "evt_a1", CREATED).await;
        emit(&store, METEROID, "cs_b", "evt_b1", CREATED).await;
        emit(&store, METEROID, "cs_a", "evt_a2", COMPLETED).await;
        emit(&store, METEROID, "cs_a", "evt_a3", COMPLETED).await;
        emit(&store, METEROID, "cs_c", "evt_c1", CREATED).await;
        store.fan_out("shop", &ALL, NOW, 100).await.unwrap();

        let due = store.due_deliveries("shop", NOW, 10).await.unwrap();
        assert_eq!(
            event_ids(&due),
            ["evt_a1", "evt_b1", "evt_c1"],
            "{}",
            b.name
        );
        // The limit counts deliveries offered, in event order.
        let due2 = store.due_deliveries("shop", NOW, 2).await.unwrap();
        assert_eq!(event_ids(&due2), ["evt_a1", "evt_b1"]);
        // Nothing is due before it was fanned out to be.
        assert!(store
            .due_deliveries("shop", NOW - 1, 10)
            .await
            .unwrap()
            .is_empty());

        // a1 failed and waits for its retry: a2 and a3 wait with it.
        let a1 = due[0].id;
        store
            .record_attempt(
                a1,
                &attempt(Some(500)),
                AttemptOutcome::RetryAt(NOW + 5_000),
            )
            .await
            .unwrap();
        let due = store.due_deliveries("shop", NOW + 1, 10).await.unwrap();
        assert_eq!(event_ids(&due), ["evt_b1", "evt_c1"]);
        // Its retry is due: a1 again, still before a2.
        let due = store.due_deliveries("shop", NOW + 5_000, 10).await.unwrap();
        assert_eq!(event_ids(&due), ["evt_a1", "evt_b1", "evt_c1"]);
        assert_eq!(due[0].attempts, 1);
        store
            .record_attempt(a1, &attempt(Some(200)), AttemptOutcome::Delivered)
            .await
            .unwrap();
        let due = store.due_deliveries("shop", NOW + 5_000, 10).await.unwrap();
        assert_eq!(event_ids(&due), ["evt_b1", "evt_a2", "evt_c1"]);
        // Given up on: the next of its session goes.
        store
            .record_attempt(due[1].id, &attempt(None), AttemptOutcome::GiveUp)
            .await
            .unwrap();
        let due = store.due_deliveries("shop", NOW + 5_000, 10).await.unwrap();
        assert_eq!(event_ids(&due), ["evt_b1", "evt_a3", "evt_c1"]);
        // Other endpoints' deliveries are theirs.
        assert!(store
            .due_deliveries("other", NOW, 10)
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn attempts_move_a_delivery_on_and_are_listed_per_event() {
    backends::each(|b| async move {
        let store = b.open().await;
        store.webhook_endpoint("one").await.unwrap();
        store.webhook_endpoint("two").await.unwrap();
        emit(&store, METEROID, "cs_1", "evt_1", CREATED).await;
        store.fan_out("one", &ALL, NOW, 100).await.unwrap();
        store.fan_out("two", &ALL, NOW, 100).await.unwrap();
        let one = store.due_deliveries("one", NOW, 10).await.unwrap()[0].id;
        let two = store.due_deliveries("two", NOW, 10).await.unwrap()[0].id;
        assert_ne!(one, two);

        store
            .record_attempt(one, &attempt(None), AttemptOutcome::RetryAt(NOW + 5_000))
            .await
            .unwrap();
        store
            .record_attempt(
                one,
                &attempt(Some(503)),
                AttemptOutcome::RetryAt(NOW + 9_000),
            )
            .await
            .unwrap();
        store
            .record_attempt(one, &attempt(Some(204)), AttemptOutcome::Delivered)
            .await
            .unwrap();
        store
            .record_attempt(two, &attempt(Some(500)), AttemptOutcome::GiveUp)
            .await
            .unwrap();
        // Finished deliveries take no more attempts; unknown ones none at all.
        store
            .record_attempt(one, &attempt(Some(200)), AttemptOutcome::Delivered)
            .await
            .unwrap();
        store
            .record_attempt(two, &attempt(Some(200)), AttemptOutcome::Delivered)
            .await
            .unwrap();
        store
            .record_attempt(9_999, &attempt(Some(200)), AttemptOutcome::Delivered)
            .await
            .unwrap();

        let rows = store.attempts("evt_1").await.unwrap();
        let seen: Vec<AttemptSeen<'_>> = rows
            .iter()
            .map(|r| {
                (
                    r.endpoint.as_str(),
                    r.attempt,
                    r.status,
                    r.error.as_deref(),
                    r.state.as_str(),
                )
            })
            .collect();
        let (first, second) = if one < two {
            (("one", "delivered"), ("two", "failed"))
        } else {
            (("two", "failed"), ("one", "delivered"))
        };
        let mut expected = Vec::new();
        for (endpoint, state) in [first, second] {
            if endpoint == "one" {
                expected.push(("one", 1, None, Some("connection refused"), state));
                expected.push(("one", 2, Some(503), None, state));
                expected.push(("one", 3, Some(204), None, state));
            } else {
                expected.push(("two", 1, Some(500), None, state));
            }
        }
        assert_eq!(seen, expected, "{}", b.name);
        assert!(rows.iter().all(|r| r.at_ms == NOW && r.duration_ms == 12));
        assert!(store.attempts("evt_2").await.unwrap().is_empty());
        assert_eq!(store.pending_deliveries(None).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn redeliver_makes_a_new_pending_delivery_per_endpoint() {
    backends::each(|b| async move {
        let store = b.open().await;
        store.webhook_endpoint("one").await.unwrap();
        emit(&store, METEROID, "cs_1", "evt_1", CREATED).await;
        store.fan_out("one", &ALL, NOW, 100).await.unwrap();
        let first = store.due_deliveries("one", NOW, 10).await.unwrap()[0].id;
        store
            .record_attempt(first, &attempt(Some(200)), AttemptOutcome::Delivered)
            .await
            .unwrap();
        assert!(store
            .due_deliveries("one", NOW, 10)
            .await
            .unwrap()
            .is_empty());

        let later = NOW + 60_000;
        assert_eq!(
            store
                .redeliver("evt_1", &["one", "two"], later)
                .await
                .unwrap(),
            2,
            "{}",
            b.name
        );
        assert!(store
            .due_deliveries("one", later - 1, 10)
            .await
            .unwrap()
            .is_empty());
        let again = store.due_deliveries("one", later, 10).await.unwrap();
        assert_eq!(event_ids(&again), ["evt_1"]);
        assert_ne!(again[0].id, first);
        assert_eq!(again[0].attempts, 0);
        assert_eq!(again[0].body, "{\"id\":\"evt_1\"}");
        let two = store.due_deliveries("two", later, 10).await.unwrap();
        assert_eq!(event_ids(&two), ["evt_1"]);
        assert_eq!(store.pending_deliveries(None).await.unwrap(), 2);
        // An event not kept: nothing to redeliver.
        assert_eq!(store.redeliver("evt_9", &["one"], later).await.unwrap(), 0);
        assert_eq!(store.redeliver("evt_1", &[], later).await.unwrap(), 0);
        assert_eq!(store.pending_deliveries(None).await.unwrap(), 2);
    })
    .await;
}

#[tokio::test]
async fn an_endpoint_is_disabled_and_enabled_again() {
    backends::each(|b| async move {
        let store = b.open().await;
        store.webhook_endpoint("shop").await.unwrap();
        store
            .disable_endpoint("shop", "410 Gone", NOW)
            .await
            .unwrap();
        let state = store.webhook_endpoint("shop").await.unwrap();
        assert_eq!(state.disabled_ms, Some(NOW), "{}", b.name);
        assert_eq!(state.disabled_reason.as_deref(), Some("410 Gone"));
        store.enable_endpoint("shop").await.unwrap();
        let state = store.webhook_endpoint("shop").await.unwrap();
        assert_eq!((state.disabled_ms, state.disabled_reason), (None, None));
        // An endpoint not met before is made disabled.
        store
            .disable_endpoint("new", "410 Gone", NOW)
            .await
            .unwrap();
        assert_eq!(
            store.webhook_endpoint("new").await.unwrap().disabled_ms,
            Some(NOW)
        );
    })
    .await;
}

#[tokio::test]
async fn purge_keeps_events_a_pending_delivery_still_has_to_send() {
    backends::each(|b| async move {
        let store = b.open().await;
        store.webhook_endpoint("shop").await.unwrap();
        emit(&store, METEROID, "cs_1", "evt_1", CREATED).await;
        emit(&store, METEROID, "cs_2", "evt_2", CREATED).await;
        emit(&store, METEROID, "cs_3", "evt_3", CREATED).await;
        store.fan_out("shop", &ALL, NOW, 100).await.unwrap();
        let due = store.due_deliveries("shop", NOW, 10).await.unwrap();
        assert_eq!(event_ids(&due), ["evt_1", "evt_2", "evt_3"]);
        // evt_1 delivered (after one failure), evt_2 given up, evt_3 still pending.
        store
            .record_attempt(due[0].id, &attempt(Some(500)), AttemptOutcome::RetryAt(NOW))
            .await
            .unwrap();
        store
            .record_attempt(due[0].id, &attempt(Some(200)), AttemptOutcome::Delivered)
            .await
            .unwrap();
        store
            .record_attempt(due[1].id, &attempt(Some(500)), AttemptOutcome::GiveUp)
            .await
            .unwrap();
        // All three events are old (created at 5 000): evt_1 and evt_2 go
        // with their deliveries and attempts (2 + 1), evt_3 stays.
        assert_eq!(store.purge_feed(6_000, 0).await.unwrap(), 7, "{}", b.name);
        assert_eq!(store.event("evt_1").await.unwrap(), None);
        assert_eq!(store.event("evt_2").await.unwrap(), None);
        assert!(store.attempts("evt_1").await.unwrap().is_empty());
        assert!(store.event("evt_3").await.unwrap().is_some());
        let due = store.due_deliveries("shop", NOW, 10).await.unwrap();
        assert_eq!(event_ids(&due), ["evt_3"]);
        // Delivered at last: the next purge takes it.
        store
            .record_attempt(due[0].id, &attempt(Some(200)), AttemptOutcome::Delivered)
            .await
            .unwrap();
        assert_eq!(store.purge_feed(6_000, 0).await.unwrap(), 3);
        assert_eq!(store.event("evt_3").await.unwrap(), None);
        assert_eq!(store.purge_feed(6_000, 0).await.unwrap(), 0);
    })
    .await;
}

/// Two replicas fanning out one endpoint at once make each delivery once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_fan_outs_of_one_endpoint_deliver_each_event_once() {
    backends::each(|b| async move {
        let store = b.open().await;
        store.webhook_endpoint("shop").await.unwrap();
        for i in 0..20 {
            emit(
                &store,
                METEROID,
                &format!("cs_{i}"),
                &format!("evt_{i}"),
                CREATED,
            )
            .await;
        }
        let mut replicas = Vec::new();
        for _ in 0..4 {
            let replica = b.open().await;
            replicas.push(tokio::spawn(async move {
                let mut made = 0;
                loop {
                    let n = replica.fan_out("shop", &ALL, NOW, 3).await.unwrap();
                    made += n;
                    if replica.webhook_endpoint("shop").await.unwrap().cursor == 20 {
                        return made;
                    }
                }
            }));
        }
        let mut made = 0;
        for replica in replicas {
            made += replica.await.unwrap();
        }
        assert_eq!(made, 20, "{}", b.name);
        assert_eq!(store.pending_deliveries(Some("shop")).await.unwrap(), 20);
    })
    .await;
}

/// A redelivery racing the purge can leave a pending delivery whose event
/// is gone: it is never offered, and the next purge removes it so that it
/// stops holding its session's later deliveries back.
#[tokio::test]
async fn purge_removes_a_delivery_whose_event_is_gone() {
    backends::each(|b| async move {
        let store = b.open().await;
        store.webhook_endpoint("shop").await.unwrap();
        emit(&store, METEROID, "cs_1", "evt_1", CREATED).await;
        emit(&store, METEROID, "cs_1", "evt_2", COMPLETED).await;
        store.fan_out("shop", &ALL, NOW, 100).await.unwrap();
        // As if the purge deleted evt_1 while its delivery was being made.
        store
            .fetch_one("DELETE FROM events WHERE id = 'evt_1' RETURNING seq")
            .await
            .unwrap();
        assert!(store
            .due_deliveries("shop", NOW, 10)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(store.purge_feed(0, 0).await.unwrap(), 1, "{}", b.name);
        let due = store.due_deliveries("shop", NOW, 10).await.unwrap();
        assert_eq!(event_ids(&due), ["evt_2"]);
    })
    .await;
}
