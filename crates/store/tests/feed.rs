//! The change feed's store: tracked sessions, events, leases, purge; the
//! same tests over SQLite and (when `CHECKOUT_GATEWAY_TEST_POSTGRES` is set)
//! PostgreSQL.

mod backends;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use store::{EventFilter, NewEvent, Observation, Recorded, Store, StoredEvent};

const ACCOUNT: &str = "meteroid:default";

fn open_session<'a>(session_id: &'a str, next_poll_ms: i64) -> Observation<'a> {
    Observation {
        session_id,
        account: ACCOUNT,
        status: "open",
        payment_status: Some("unpaid"),
        state: "{\"status\":\"open\"}",
        hint: None,
        created_ms: 1_000,
        expires_ms: Some(3_600_000),
        next_poll_ms: Some(next_poll_ms),
        terminal: false,
        seen_ms: 0,
    }
}

fn event<'a>(id: &'a str, kind: &'a str) -> NewEvent<'a> {
    NewEvent {
        id,
        kind,
        created_ms: 5_000,
        body: "{\"object\":\"event\"}",
    }
}

fn done(recorded: Recorded) -> Vec<StoredEvent> {
    match recorded {
        Recorded::Done(events) => events,
        Recorded::Conflict => panic!("expected the observation recorded, got a conflict"),
    }
}

fn all_after(after: i64, limit: i64) -> EventFilter<'static> {
    EventFilter {
        after,
        kinds: None,
        accounts: None,
        session_id: None,
        limit,
    }
}

async fn read(store: &Store, filter: EventFilter<'_>) -> Vec<i64> {
    seqs(&store.events(&filter).await.unwrap())
}

fn seqs(events: &[StoredEvent]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

#[tokio::test]
async fn a_first_observation_inserts_and_a_later_one_updates_its_version() {
    backends::each(|b| async move {
        let store = b.open().await;
        assert_eq!(store.tracked("cs_1").await.unwrap(), None);
        let made = done(
            store
                .record(
                    &open_session("cs_1", 10_000),
                    None,
                    &[event("evt_1", "checkout_session.created")],
                )
                .await
                .unwrap(),
        );
        assert_eq!(seqs(&made), [1], "{}", b.name);
        assert_eq!(made[0].account, ACCOUNT);
        assert_eq!(made[0].session_id, "cs_1");
        let tracked = store.tracked("cs_1").await.unwrap().expect("tracked");
        assert_eq!(tracked.version, 1);
        assert_eq!(tracked.failures, 0);
        assert_eq!(tracked.status, "open");
        assert_eq!(tracked.payment_status.as_deref(), Some("unpaid"));
        assert_eq!(tracked.next_poll_ms, Some(10_000));
        assert_eq!(tracked.terminal_ms, None);

        let complete = Observation {
            status: "complete",
            payment_status: Some("paid"),
            state: "{\"status\":\"complete\"}",
            next_poll_ms: Some(20_000),
            terminal: true,
            seen_ms: 0,
            ..open_session("cs_1", 0)
        };
        let events = [
            event("evt_2", "checkout_session.completed"),
            event("evt_3", "checkout_session.payment_status_changed"),
        ];
        // A row exists: inserting again is a conflict, and so is an update
        // from a version it is not at. Neither records anything.
        assert_eq!(
            store.record(&complete, None, &events).await.unwrap(),
            Recorded::Conflict,
            "{}",
            b.name
        );
        assert_eq!(
            store.record(&complete, Some(2), &events).await.unwrap(),
            Recorded::Conflict
        );
        assert_eq!(store.last_event_seq().await.unwrap(), 1);
        assert_eq!(store.tracked("cs_1").await.unwrap().unwrap().version, 1);

        let made = done(store.record(&complete, Some(1), &events).await.unwrap());
        assert_eq!(seqs(&made), [2, 3]);
        assert_eq!(made[1].kind, "checkout_session.payment_status_changed");
        let tracked = store.tracked("cs_1").await.unwrap().unwrap();
        assert_eq!(tracked.version, 2);
        assert_eq!(tracked.status, "complete");
        assert_eq!(tracked.state, "{\"status\":\"complete\"}");
        assert_eq!(
            tracked.next_poll_ms, None,
            "a terminal session is not polled"
        );
        let terminal_ms = tracked.terminal_ms.expect("terminal_ms set");

        // Seen terminal again: terminal_ms stays the first time's.
        done(store.record(&complete, Some(2), &[]).await.unwrap());
        let tracked = store.tracked("cs_1").await.unwrap().unwrap();
        assert_eq!(tracked.version, 3);
        assert_eq!(tracked.terminal_ms, Some(terminal_ms));
        assert_eq!(
            seqs(&store.events(&all_after(0, 10)).await.unwrap()),
            [1, 2, 3]
        );
    })
    .await;
}

#[tokio::test]
async fn a_failed_event_write_records_nothing() {
    backends::each(|b| async move {
        let store = b.open().await;
        done(
            store
                .record(
                    &open_session("cs_1", 10_000),
                    None,
                    &[event("evt_1", "checkout_session.created")],
                )
                .await
                .unwrap(),
        );
        // An event id used before: the whole observation is rolled back.
        let err = store
            .record(
                &open_session("cs_2", 10_000),
                None,
                &[
                    event("evt_2", "checkout_session.created"),
                    event("evt_1", "checkout_session.created"),
                ],
            )
            .await;
        assert!(err.is_err(), "{}", b.name);
        assert_eq!(store.tracked("cs_2").await.unwrap(), None);
        assert_eq!(store.last_event_seq().await.unwrap(), 1);
        // And its seqs were given back: the next event is 2.
        let made = done(
            store
                .record(
                    &open_session("cs_2", 10_000),
                    None,
                    &[event("evt_2", "checkout_session.created")],
                )
                .await
                .unwrap(),
        );
        assert_eq!(seqs(&made), [2]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_records_from_one_version_exactly_one_is_done() {
    backends::each(|b| async move {
        let store = b.open().await;
        done(
            store
                .record(&open_session("cs_1", 10_000), None, &[])
                .await
                .unwrap(),
        );
        // Eight writers (as many replicas: a store each) read version 1.
        let mut writers = Vec::new();
        for i in 0..8 {
            let writer = b.open().await;
            writers.push(tokio::spawn(async move {
                let ids = [format!("evt_{i}_a"), format!("evt_{i}_b")];
                let complete = Observation {
                    status: "complete",
                    terminal: true,
                    seen_ms: 0,
                    ..open_session("cs_1", 0)
                };
                writer
                    .record(
                        &complete,
                        Some(1),
                        &[
                            event(&ids[0], "checkout_session.completed"),
                            event(&ids[1], "checkout_session.payment_status_changed"),
                        ],
                    )
                    .await
                    .unwrap()
            }));
        }
        let mut made = Vec::new();
        let mut conflicts = 0;
        for writer in writers {
            match writer.await.unwrap() {
                Recorded::Done(events) => made.push(events),
                Recorded::Conflict => conflicts += 1,
            }
        }
        assert_eq!(made.len(), 1, "{}: one writer records", b.name);
        assert_eq!(conflicts, 7);
        let events = store.events(&all_after(0, 100)).await.unwrap();
        assert_eq!(events, made[0], "one set of events, the winner's");
        assert_eq!(seqs(&events), [1, 2]);
        assert_eq!(store.tracked("cs_1").await.unwrap().unwrap().version, 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_first_sightings_exactly_one_inserts() {
    backends::each(|b| async move {
        let store = b.open().await;
        let mut writers = Vec::new();
        for i in 0..8 {
            let writer = store.clone();
            writers.push(tokio::spawn(async move {
                let id = format!("evt_{i}");
                writer
                    .record(
                        &open_session("cs_1", 10_000),
                        None,
                        &[event(&id, "checkout_session.created")],
                    )
                    .await
                    .unwrap()
            }));
        }
        let mut done_count = 0;
        for writer in writers {
            if let Recorded::Done(_) = writer.await.unwrap() {
                done_count += 1;
            }
        }
        assert_eq!(done_count, 1, "{}", b.name);
        assert_eq!(store.events(&all_after(0, 100)).await.unwrap().len(), 1);
    })
    .await;
}

/// Eight writers record in parallel while a reader tails the feed with
/// `after`: every read continues exactly where the last ended (a reader
/// never sees seq N+1 before N), and the seqs are 1..=total.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seqs_are_gap_free_and_a_tailing_reader_never_skips_one() {
    const WRITERS: usize = 8;
    const SESSIONS_EACH: usize = 15;
    backends::each(|b| async move {
        let writers_store = b.open().await;
        let reader = b.open().await;
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let store = writers_store.clone();
            writers.push(tokio::spawn(async move {
                for s in 0..SESSIONS_EACH {
                    let session = format!("cs_{w}_{s}");
                    let created = format!("evt_{w}_{s}_created");
                    let failed = format!("evt_{w}_{s}_failed");
                    // Two events for some, one for others: seqs are taken in blocks.
                    let events = [
                        event(&created, "checkout_session.created"),
                        event(&failed, "checkout_session.failed"),
                    ];
                    let events = if s % 2 == 0 {
                        &events[..]
                    } else {
                        &events[..1]
                    };
                    done(
                        store
                            .record(&open_session(&session, 10_000), None, events)
                            .await
                            .unwrap(),
                    );
                }
            }));
        }
        let each: usize = (0..SESSIONS_EACH)
            .map(|s| if s % 2 == 0 { 2 } else { 1 })
            .sum();
        let total = i64::try_from(WRITERS * each).unwrap();
        let mut last = 0;
        let mut reads = 0;
        let deadline = Instant::now() + Duration::from_secs(60);
        while last < total {
            assert!(Instant::now() < deadline, "{}: stuck at {last}", b.name);
            let events = reader.events(&all_after(last, 7)).await.unwrap();
            for e in &events {
                assert_eq!(e.seq, last + 1, "{}: a hole after {last}", b.name);
                last = e.seq;
            }
            reads += 1;
            if events.is_empty() {
                tokio::task::yield_now().await;
            }
        }
        for writer in writers {
            writer.await.unwrap();
        }
        assert_eq!(reader.last_event_seq().await.unwrap(), total);
        assert!(reads > 1);
        let all = reader.events(&all_after(0, 1000)).await.unwrap();
        assert_eq!(seqs(&all), (1..=total).collect::<Vec<_>>());
    })
    .await;
}

#[tokio::test]
async fn due_is_the_open_sessions_of_an_account_earliest_first() {
    backends::each(|b| async move {
        let store = b.open().await;
        for (id, next) in [
            ("cs_c", 300),
            ("cs_a", 100),
            ("cs_b", 200),
            ("cs_late", 900),
        ] {
            done(
                store
                    .record(&open_session(id, next), None, &[])
                    .await
                    .unwrap(),
            );
        }
        let terminal = Observation {
            status: "expired",
            terminal: true,
            seen_ms: 0,
            ..open_session("cs_done", 50)
        };
        done(store.record(&terminal, None, &[]).await.unwrap());
        let elsewhere = Observation {
            account: "flowglad:default",
            ..open_session("cs_other", 50)
        };
        done(store.record(&elsewhere, None, &[]).await.unwrap());

        let ids = |due: Vec<store::Tracked>| -> Vec<String> {
            due.into_iter().map(|t| t.session_id).collect()
        };
        assert_eq!(
            ids(store.due(ACCOUNT, 300, 10).await.unwrap()),
            ["cs_a", "cs_b", "cs_c"],
            "{}",
            b.name
        );
        assert_eq!(
            ids(store.due(ACCOUNT, 300, 2).await.unwrap()),
            ["cs_a", "cs_b"]
        );
        assert_eq!(
            ids(store.due(ACCOUNT, 99, 10).await.unwrap()),
            Vec::<String>::new()
        );
        assert_eq!(
            ids(store.due("flowglad:default", 300, 10).await.unwrap()),
            ["cs_other"]
        );
        assert_eq!(store.count_tracked(None, false).await.unwrap(), 6);
        assert_eq!(store.count_tracked(None, true).await.unwrap(), 5);
        assert_eq!(store.count_tracked(Some(ACCOUNT), false).await.unwrap(), 5);
        assert_eq!(store.count_tracked(Some(ACCOUNT), true).await.unwrap(), 4);
    })
    .await;
}

#[tokio::test]
async fn a_failed_poll_backs_off_without_changing_the_version() {
    backends::each(|b| async move {
        let store = b.open().await;
        done(
            store
                .record(&open_session("cs_1", 100), None, &[])
                .await
                .unwrap(),
        );
        store.poll_failed("cs_1", 500).await.unwrap();
        store.poll_failed("cs_1", 900).await.unwrap();
        let tracked = store.tracked("cs_1").await.unwrap().unwrap();
        assert_eq!(tracked.failures, 2, "{}", b.name);
        assert_eq!(tracked.next_poll_ms, Some(900));
        assert_eq!(tracked.version, 1);
        assert!(store.due(ACCOUNT, 800, 10).await.unwrap().is_empty());
        // A recorded observation resets the failures.
        done(
            store
                .record(&open_session("cs_1", 1_000), Some(1), &[])
                .await
                .unwrap(),
        );
        assert_eq!(store.tracked("cs_1").await.unwrap().unwrap().failures, 0);

        // A terminal session is not scheduled again by a late failure.
        let terminal = Observation {
            status: "canceled",
            terminal: true,
            seen_ms: 0,
            ..open_session("cs_1", 0)
        };
        done(store.record(&terminal, Some(2), &[]).await.unwrap());
        store.poll_failed("cs_1", 2_000).await.unwrap();
        let tracked = store.tracked("cs_1").await.unwrap().unwrap();
        assert_eq!(tracked.next_poll_ms, None);
        assert_eq!(tracked.failures, 0);
        // Unknown sessions: nothing to do, no error.
        store.poll_failed("cs_unknown", 2_000).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn sessions_are_found_by_their_hint_within_an_account() {
    backends::each(|b| async move {
        let store = b.open().await;
        let hinted = |id, account| Observation {
            account,
            hint: Some("prch_1"),
            ..open_session(id, 100)
        };
        done(
            store
                .record(&hinted("cs_1", ACCOUNT), None, &[])
                .await
                .unwrap(),
        );
        done(
            store
                .record(&hinted("cs_2", "flowglad:other"), None, &[])
                .await
                .unwrap(),
        );
        done(
            store
                .record(&open_session("cs_3", 100), None, &[])
                .await
                .unwrap(),
        );
        let found = store.tracked_by_hint(ACCOUNT, "prch_1").await.unwrap();
        assert_eq!(found.len(), 1, "{}", b.name);
        assert_eq!(found[0].session_id, "cs_1");
        assert_eq!(found[0].hint.as_deref(), Some("prch_1"));
        assert!(store
            .tracked_by_hint(ACCOUNT, "prch_2")
            .await
            .unwrap()
            .is_empty());
        // A later sighting without the hint keeps it.
        done(
            store
                .record(&open_session("cs_1", 200), Some(1), &[])
                .await
                .unwrap(),
        );
        assert_eq!(
            store
                .tracked_by_hint(ACCOUNT, "prch_1")
                .await
                .unwrap()
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn events_are_filtered_by_type_account_session_and_cursor() {
    backends::each(|b| async move {
        let store = b.open().await;
        let other = Observation {
            account: "flowglad:default",
            ..open_session("cs_2", 100)
        };
        done(
            store
                .record(
                    &open_session("cs_1", 100),
                    None,
                    &[
                        event("evt_1", "checkout_session.created"),
                        event("evt_2", "checkout_session.completed"),
                    ],
                )
                .await
                .unwrap(),
        );
        done(
            store
                .record(
                    &other,
                    None,
                    &[
                        event("evt_3", "checkout_session.created"),
                        event("evt_4", "checkout_session.completed"),
                    ],
                )
                .await
                .unwrap(),
        );
        let completed = ["checkout_session.completed".to_owned()];
        let flowglad = ["flowglad:default".to_owned()];
        let none: [String; 0] = [];
        assert_eq!(
            read(&store, all_after(0, 10)).await,
            [1, 2, 3, 4],
            "{}",
            b.name
        );
        assert_eq!(read(&store, all_after(1, 2)).await, [2, 3]);
        assert_eq!(read(&store, all_after(4, 10)).await, Vec::<i64>::new());
        let by_kind = EventFilter {
            kinds: Some(&completed),
            ..all_after(0, 10)
        };
        assert_eq!(read(&store, by_kind).await, [2, 4]);
        let by_account = EventFilter {
            accounts: Some(&flowglad),
            ..all_after(0, 10)
        };
        assert_eq!(read(&store, by_account).await, [3, 4]);
        let both = EventFilter {
            kinds: Some(&completed),
            accounts: Some(&flowglad),
            ..all_after(0, 10)
        };
        assert_eq!(read(&store, both).await, [4]);
        let by_session = EventFilter {
            session_id: Some("cs_1"),
            ..all_after(1, 10)
        };
        assert_eq!(read(&store, by_session).await, [2]);
        // An empty list allows nothing; `None` allows all.
        let nothing = EventFilter {
            accounts: Some(&none),
            ..all_after(0, 10)
        };
        assert_eq!(read(&store, nothing).await, Vec::<i64>::new());

        let found = store.event("evt_3").await.unwrap().expect("evt_3");
        assert_eq!(found.seq, 3);
        assert_eq!(found.account, "flowglad:default");
        assert_eq!(found.session_id, "cs_2");
        assert_eq!(found.kind, "checkout_session.created");
        assert_eq!(found.created_ms, 5_000);
        assert_eq!(found.body, "{\"object\":\"event\"}");
        assert_eq!(store.event("evt_9").await.unwrap(), None);
        assert_eq!(store.last_event_seq().await.unwrap(), 4);
    })
    .await;
}

#[tokio::test]
async fn a_lease_is_held_by_one_holder_renewed_by_it_and_handed_over_once_expired() {
    backends::each(|b| async move {
        let store = b.open().await;
        let other_replica = b.open().await;
        let hour = Duration::from_secs(3600);
        assert_eq!(store.last_event_seq().await.unwrap(), 0);
        assert!(
            store.lease("poll:a", "r1", hour).await.unwrap(),
            "{}",
            b.name
        );
        assert!(!other_replica.lease("poll:a", "r2", hour).await.unwrap());
        // Renewed by its holder; other names are other leases.
        assert!(store.lease("poll:a", "r1", hour).await.unwrap());
        assert!(other_replica.lease("poll:b", "r2", hour).await.unwrap());
        // Another holder's release does nothing.
        other_replica.release_lease("poll:a", "r2").await.unwrap();
        assert!(!other_replica.lease("poll:a", "r2", hour).await.unwrap());
        // Renewed to end now: expired, the other takes it over.
        assert!(store.lease("poll:a", "r1", Duration::ZERO).await.unwrap());
        assert!(other_replica.lease("poll:a", "r2", hour).await.unwrap());
        assert!(!store.lease("poll:a", "r1", hour).await.unwrap());
        // Released by its holder: free.
        other_replica.release_lease("poll:a", "r2").await.unwrap();
        assert!(store.lease("poll:a", "r1", hour).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn a_lease_not_renewed_expires_by_itself() {
    backends::each(|b| async move {
        let store = b.open().await;
        let taken = Instant::now();
        let ttl = Duration::from_millis(300);
        assert!(store.lease("deliver:a", "r1", ttl).await.unwrap());
        let deadline = taken + Duration::from_secs(10);
        loop {
            let won = store
                .lease("deliver:a", "r2", Duration::from_secs(3600))
                .await
                .unwrap();
            if won {
                break;
            }
            assert!(Instant::now() < deadline, "{}: never handed over", b.name);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            taken.elapsed() >= ttl,
            "{}: taken before it expired",
            b.name
        );
    })
    .await;
}

#[tokio::test]
async fn purge_removes_old_events_and_terminal_sessions_past_their_grace() {
    backends::each(|b| async move {
        let store = b.open().await;
        let old = NewEvent {
            created_ms: 1_000,
            ..event("evt_old", "checkout_session.created")
        };
        let new = NewEvent {
            created_ms: 9_000,
            ..event("evt_new", "checkout_session.created")
        };
        done(
            store
                .record(&open_session("cs_open", 100), None, &[old, new])
                .await
                .unwrap(),
        );
        let terminal = Observation {
            status: "expired",
            terminal: true,
            seen_ms: 0,
            ..open_session("cs_done", 100)
        };
        done(store.record(&terminal, None, &[]).await.unwrap());

        // Nothing old enough yet.
        assert_eq!(store.purge_feed(1_000, 0).await.unwrap(), 0, "{}", b.name);
        // The old event, and the terminal session (seen terminal before
        // an hour from now); the open one stays however old.
        let hour_ahead = now_ms() + 3_600_000;
        assert_eq!(store.purge_feed(5_000, hour_ahead).await.unwrap(), 2);
        let left: BTreeSet<String> = store
            .events(&all_after(0, 10))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(left, BTreeSet::from(["evt_new".to_owned()]));
        assert_eq!(store.tracked("cs_done").await.unwrap(), None);
        assert!(store.tracked("cs_open").await.unwrap().is_some());
        // The head stays where it was: seqs are never reused.
        assert_eq!(store.last_event_seq().await.unwrap(), 2);
        let made = done(
            store
                .record(
                    &open_session("cs_open", 100),
                    Some(1),
                    &[event("evt_next", "checkout_session.completed")],
                )
                .await
                .unwrap(),
        );
        assert_eq!(seqs(&made), [3]);
    })
    .await;
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_millis()).unwrap()
}
