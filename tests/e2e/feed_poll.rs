//! The change feed's tracking and polling (PRODUCT §11): sessions the
//! gateway creates, reads or lists are tracked; the poller fetches the
//! open ones on their schedule and their changes become events, once.
//!
//! Rounds are stepped by hand (`poll_round` at a chosen time, the
//! gateway's own poller not started) so the schedule is followed without
//! sleeping; only the lease handover runs in real time. Every test runs on
//! SQLite and, when CHECKOUT_GATEWAY_TEST_POSTGRES is set, on PostgreSQL.

use std::time::{Duration, Instant};

use checkout_gateway::service::poll::{poll_round, AccountPoller, Round};
use checkout_gateway::telemetry::metrics::PollLabels;
use checkout_gateway_e2e::{json_of, start_on, Backend, Stack, CLIENT_KEY};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use store::{EventFilter, Observation, Recorded, StoredEvent, Tracked};

/// One Meteroid account, a client free of budgets, a cache that keeps
/// open sessions for five minutes (longer than any test waits), then `extra`.
fn config(extra: &str) -> String {
    let key = sandbox::DEMO_METEROID_API_KEY;
    format!(
        r#"
        [providers.meteroid.accounts.default]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{key}"
        [clients.main]
        key = "{CLIENT_KEY}"
        accounts = ["meteroid:default"]
        requests_per_sec = 100000
        vendor_calls_per_sec = 100000
        [cache]
        open_ttl_secs = 300
        terminal_ttl_secs = 3600
        max_entries = 100000
        {extra}
        "#
    )
}

/// Each test, once per store.
macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                use checkout_gateway_e2e::Backend;

                #[tokio::test]
                async fn sqlite() {
                    super::$test(Backend::Sqlite).await
                }

                #[tokio::test]
                async fn postgres() {
                    super::$test(Backend::Postgres).await
                }
            }
        )*
    };
}

on_both_stores!(
    a_completion_makes_one_event_and_refreshes_the_cache,
    the_poll_just_after_expiry_makes_the_expired_event,
    a_create_makes_created_and_a_first_read_only_tracks,
    due_sessions_are_refreshed_with_one_list_call,
    ten_thousand_sessions_stay_within_the_call_budget,
    one_replica_polls_an_account_and_another_takes_over,
    a_session_the_vendor_forgot_ends_expired_once_past_its_expiry,
);

fn poller() -> AccountPoller {
    AccountPoller::new("meteroid", "default")
}

/// One round for `meteroid:default` at `now`.
async fn round(s: &Stack, poller: &mut AccountPoller, now: DateTime<Utc>) -> Round {
    let state = s.state();
    poll_round(&state, &state.feed, poller, now).await
}

fn kinds(events: &[StoredEvent]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

async fn store(s: &Stack) -> store::Store {
    s.state().feed.store().await.expect("the store").clone()
}

/// The tracked row of `session_id` (which must be tracked).
async fn tracked_row(s: &Stack, session_id: &str) -> Tracked {
    store(s)
        .await
        .tracked(session_id)
        .await
        .expect("read")
        .expect("tracked")
}

/// Every event of `session_id`, oldest first.
async fn events_of(s: &Stack, session_id: &str) -> Vec<StoredEvent> {
    store(s)
        .await
        .events(&EventFilter {
            after: 0,
            kinds: None,
            accounts: None,
            session_id: Some(session_id),
            limit: 100,
        })
        .await
        .expect("events")
}

/// Create a session through the gateway; its id and body.
async fn create(s: &Stack, body: Value) -> (String, Value) {
    let (status, _, session) = json_of(s.create(body).send().await.expect("create")).await;
    assert_eq!(status, 201, "{session}");
    (session["id"].as_str().expect("an id").to_owned(), session)
}

fn reference(id: &str) -> &str {
    id.rsplit(':').next().expect("a reference")
}

fn at_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("a time in range")
}

/// Track a session the gateway has not seen, due at `due`, straight in the
/// store (as if seen open earlier).
async fn track(store: &store::Store, reference: &str, created: DateTime<Utc>, due: DateTime<Utc>) {
    let id = format!("meteroid:default:{reference}");
    let observation = Observation {
        session_id: &id,
        account: "meteroid:default",
        status: "open",
        payment_status: None,
        state: "{}",
        hint: None,
        created_ms: created.timestamp_millis(),
        expires_ms: None,
        next_poll_ms: Some(due.timestamp_millis()),
        terminal: false,
        seen_ms: 0,
    };
    let recorded = store
        .record(&observation, None, &[])
        .await
        .expect("recorded");
    assert!(matches!(recorded, Recorded::Done(_)), "{id} tracked twice");
}

async fn a_completion_makes_one_event_and_refreshes_the_cache(backend: Backend) {
    let Some(s) = start_on(backend, &config(""), false).await else {
        return;
    };
    let (id, created) = create(&s, s.create_body()).await;
    assert_eq!(created["status"], "open");
    let created_at: DateTime<Utc> = created["created_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("created_at");
    // Cached open: a read now is a hit.
    let (status, headers, body) = json_of(s.session(&id).send().await.expect("read")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("open")));
    assert_eq!(checkout_gateway_e2e::header(&headers, "x-cache"), "hit");

    s.control(reference(&id), json!({"status": "AWAITING_PAYMENT"}))
        .await;
    s.control(reference(&id), json!({"status": "COMPLETED"}))
        .await;
    let mut poller = poller();
    // Not due before its first poll (10 s after creation).
    let early = round(&s, &mut poller, created_at + TimeDelta::seconds(5)).await;
    assert_eq!((early.due, early.vendor_calls()), (0, 0), "{early:?}");

    // Its first poll: 10 s after it was recorded, just after its creation.
    let tracked = tracked_row(&s, &id).await;
    let first_poll = at_ms(tracked.next_poll_ms.expect("open: polled"));
    let gap = first_poll - created_at;
    assert!(
        gap >= TimeDelta::seconds(10) && gap < TimeDelta::seconds(11),
        "{gap}"
    );
    let first = round(&s, &mut poller, first_poll).await;
    assert_eq!((first.due, first.polled), (1, 1), "{first:?}");
    let read = read_is_complete_from_the_cache(&s, &id).await;
    let mut expected = vec!["checkout_session.completed"];
    if read["payment_status"] != created["payment_status"] {
        expected.push("checkout_session.payment_status_changed");
    }
    assert_eq!(kinds(&first.events), expected);
    let event: Value = serde_json::from_str(&first.events[0].body).expect("event JSON");
    assert_eq!(event["data"]["object"]["id"], id.as_str());
    assert_eq!(event["data"]["object"]["status"], "complete");
    assert_eq!(event["previous"]["status"], "open");
    assert_eq!(event["account"], "meteroid:default");

    // Terminal: not polled again, no event again.
    let second = round(&s, &mut poller, first_poll + TimeDelta::seconds(20)).await;
    assert_eq!((second.due, second.vendor_calls()), (0, 0), "{second:?}");
    assert!(second.events.is_empty());
    let all = events_of(&s, &id).await;
    assert_eq!(
        kinds(&all)
            .iter()
            .filter(|k| **k == "checkout_session.completed")
            .count(),
        1,
        "{all:?}"
    );
}

/// The poll refreshed the cache: a plain read (no `no-cache`) is complete
/// at once, from the cache, long before the open TTL (300 s) ends.
async fn read_is_complete_from_the_cache(s: &Stack, id: &str) -> Value {
    let gets = s.upstream_calls("get");
    let (status, headers, body) = json_of(s.session(id).send().await.expect("read")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("complete")));
    assert_eq!(checkout_gateway_e2e::header(&headers, "x-cache"), "hit");
    assert_eq!(s.upstream_calls("get"), gets, "no vendor read");
    body
}

async fn the_poll_just_after_expiry_makes_the_expired_event(backend: Backend) {
    let Some(s) = start_on(backend, &config(""), false).await else {
        return;
    };
    let mut body = s.create_body();
    body["provider_options"] = json!({"expires_in_hours": 1});
    let (id, created) = create(&s, body).await;
    assert!(created["expires_at"].is_string(), "{created}");
    let tracked = tracked_row(&s, &id).await;
    let expires_at = at_ms(tracked.expires_ms.expect("expires"));
    let mut poller = poller();
    // Shortly before expiry (the one-minute band), the next poll is moved
    // to just after it.
    let before = round(&s, &mut poller, expires_at - TimeDelta::seconds(30)).await;
    assert_eq!((before.polled, before.events.len()), (1, 0), "{before:?}");
    let tracked = tracked_row(&s, &id).await;
    let just_after = expires_at + TimeDelta::seconds(2);
    assert_eq!(tracked.next_poll_ms, Some(just_after.timestamp_millis()));

    let after = round(&s, &mut poller, just_after).await;
    assert_eq!(
        kinds(&after.events),
        ["checkout_session.expired"],
        "{after:?}"
    );
    let event: Value = serde_json::from_str(&after.events[0].body).expect("event JSON");
    assert_eq!(event["data"]["object"]["status"], "expired");
    let tracked = tracked_row(&s, &id).await;
    assert_eq!(tracked.next_poll_ms, None, "terminal: no more polls");
}

async fn a_create_makes_created_and_a_first_read_only_tracks(backend: Backend) {
    let Some(s) = start_on(backend, &config(""), false).await else {
        return;
    };
    let (id, _) = create(&s, s.create_body()).await;
    // Recorded before the 201.
    let events = events_of(&s, &id).await;
    assert_eq!(kinds(&events), ["checkout_session.created"]);
    let event: Value = serde_json::from_str(&events[0].body).expect("event JSON");
    assert_eq!(event["object"], "event");
    assert_eq!(event["id"], events[0].id.as_str());
    assert_eq!(event["data"]["object"]["status"], "open");
    assert_eq!(event["previous"], Value::Null);

    // A session made at the vendor, read through the gateway: tracked (a
    // baseline), no event.
    let unknown = s.vendor_session().await;
    let id = format!("meteroid:default:{unknown}");
    let (status, _, _) = json_of(s.session(&id).send().await.expect("read")).await;
    assert_eq!(status, 200);
    let store = store(&s).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let tracked = loop {
        if let Some(tracked) = store.tracked(&id).await.expect("read") {
            break tracked;
        }
        assert!(Instant::now() < deadline, "{id} never tracked");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(tracked.status, "open");
    assert!(tracked.next_poll_ms.is_some());
    assert!(events_of(&s, &id).await.is_empty());
}

async fn due_sessions_are_refreshed_with_one_list_call(backend: Backend) {
    let Some(s) = start_on(backend, &config("[feed]\nlist_refresh_min = 10\n"), false).await else {
        return;
    };
    let mut made = Vec::new();
    for _ in 0..12 {
        made.push(create(&s, s.create_body()).await);
    }
    let (done, _) = &made[3];
    s.control(reference(done), json!({"status": "AWAITING_PAYMENT"}))
        .await;
    s.control(reference(done), json!({"status": "COMPLETED"}))
        .await;
    let latest = made
        .iter()
        .filter_map(|(_, body)| body["created_at"].as_str()?.parse::<DateTime<Utc>>().ok())
        .max()
        .expect("created_at");
    let (lists, gets) = (s.upstream_calls("list"), s.upstream_calls("get"));
    let mut poller = poller();
    // Each is due 10 s after it was recorded (just after its creation).
    let r = round(&s, &mut poller, latest + TimeDelta::seconds(11)).await;
    assert_eq!(
        (r.due, r.lists, r.refreshed, r.polled),
        (12, 1, 12, 0),
        "{r:?}"
    );
    assert_eq!(s.upstream_calls("list") - lists, 1);
    assert_eq!(s.upstream_calls("get") - gets, 0);
    assert_eq!(kinds(&r.events), ["checkout_session.completed"]);
    assert_eq!(r.events[0].session_id, *done);
    read_is_complete_from_the_cache(&s, done).await;
    // All rescheduled: nothing due right after.
    let again = round(&s, &mut poller, latest + TimeDelta::seconds(12)).await;
    assert_eq!((again.due, again.vendor_calls()), (0, 0), "{again:?}");
}

async fn ten_thousand_sessions_stay_within_the_call_budget(backend: Backend) {
    // Gets only (no list refresh), so every call spends the budget, and a
    // small in-flight bound, so the clients' share matters.
    let extra = "[feed]\npoll_calls_per_sec = 5.0\nlist_refresh_min = 1000000\n\
                 [resilience]\nmax_in_flight = 4\n";
    let Some(s) = start_on(backend, &config(extra), false).await else {
        return;
    };
    s.sandbox_state.fill(10_000, 1).expect("sandbox filled");
    let sessions = s.meteroid_sessions().await;
    assert!(sessions.len() >= 10_000, "{}", sessions.len());
    let t0 = Utc::now();
    let store = store(&s).await;
    let references: Vec<String> = sessions
        .iter()
        .take(10_000)
        .map(|v| v["id"].as_str().expect("an id").to_owned())
        .collect();
    track_all(&store, &references, t0).await;
    assert_eq!(
        store
            .count_tracked(Some("meteroid:default"), true)
            .await
            .expect("count"),
        10_000
    );

    let gets = s.upstream_calls("get");
    let mut poller = poller();
    let step = TimeDelta::milliseconds(200);
    let rounds = async {
        let mut calls = 0;
        let mut now = t0;
        while now <= t0 + TimeDelta::seconds(60) {
            calls += round(&s, &mut poller, now).await.vendor_calls();
            now += step;
            tokio::task::yield_now().await;
        }
        calls
    };
    // Clients read at the same time, three at once, each past the cache.
    let readers = futures::future::join_all((0..3).map(|r| {
        let s = &s;
        let references = &references;
        async move {
            let mut refused = Vec::new();
            for i in 0..20 {
                let id = format!("meteroid:default:{}", references[r * 1000 + i]);
                let response = s.fresh_session(&id).send().await.expect("read");
                if response.status() != 200 {
                    refused.push(response.status().as_u16());
                }
            }
            refused
        }
    }));
    let (calls, refused) = tokio::join!(rounds, readers);
    let burst = 5;
    assert!(calls <= 5 * 60 + burst, "{calls} poll calls");
    // It did poll (rounds while the clients held the account are skipped).
    assert!(calls >= 5 * 60 / 2, "{calls} poll calls");
    assert_eq!(s.upstream_calls("get") - gets, (calls + 60) as u64);
    let refused: Vec<u16> = refused.into_iter().flatten().collect();
    assert!(refused.is_empty(), "client reads refused: {refused:?}");
}

/// Track every reference, due at `due` (a few writers at once).
async fn track_all(store: &store::Store, references: &[String], due: DateTime<Utc>) {
    use futures::stream::{self, StreamExt};
    stream::iter(references)
        .for_each_concurrent(8, |reference| track(store, reference, due, due))
        .await;
}

fn polls(s: &Stack, outcome: &'static str) -> u64 {
    s.state()
        .metrics
        .polls
        .get_or_create(&PollLabels {
            provider: "meteroid".into(),
            account: "default".into(),
            outcome,
        })
        .get()
}

/// Wait (at most `within`) until `done`; false if it never was.
async fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

async fn one_replica_polls_an_account_and_another_takes_over(backend: Backend) {
    const LEASE_SECS: u64 = 3;
    let config = config(&format!("[feed]\nlease_secs = {LEASE_SECS}\n"));
    let Some(a) = start_on(backend, &config, true).await else {
        return;
    };
    let b = a.replica(&config).await;
    let store = store(&a).await;
    for _ in 0..3 {
        let reference = a.vendor_session().await;
        track(&store, &reference, Utc::now(), Utc::now()).await;
    }
    assert!(
        eventually(Duration::from_secs(15), || polls(&a, "ok")
            + polls(&b, "ok")
            >= 3)
        .await,
        "nobody polled"
    );
    let (mut holder, other) = if polls(&a, "ok") > 0 { (a, b) } else { (b, a) };
    assert_eq!(polls(&other, "ok"), 0, "both replicas polled one account");
    assert!(
        !store
            .lease(
                "poll:meteroid:default",
                "someone-else",
                Duration::from_secs(1)
            )
            .await
            .expect("lease"),
        "the account's lease is held"
    );

    // The holder dies (its lease is not given back): the other takes over
    // once the lease runs out, within the lease and one retry period.
    holder.stop_poller();
    let stopped = Instant::now();
    for _ in 0..3 {
        let reference = other.vendor_session().await;
        track(&store, &reference, Utc::now(), Utc::now()).await;
    }
    assert!(
        eventually(Duration::from_secs(20), || polls(&other, "ok") >= 3).await,
        "nobody took over"
    );
    let took = stopped.elapsed();
    let bound = Duration::from_secs(LEASE_SECS + LEASE_SECS / 3 + 2);
    assert!(took <= bound, "took over after {took:?}");
    drop(holder);
}

/// A tracked session the vendor answers 404 for: tried again while it may
/// still be used, then (past `expires_at`) recorded as expired, once, and
/// no longer polled — not polled forever.
async fn a_session_the_vendor_forgot_ends_expired_once_past_its_expiry(backend: Backend) {
    let Some(s) = start_on(backend, &config(""), false).await else {
        return;
    };
    let mut body = s.create_body();
    body["provider_options"] = json!({"expires_in_hours": 1});
    let (id, created) = create(&s, body).await;
    // The same session under a reference the vendor never issued.
    let real = reference(&id).to_owned();
    let forgotten = format!("{}{}", &real[..real.len() - 4], "zzzz");
    assert_ne!(forgotten, real);
    let forgotten_id = format!("meteroid:default:{forgotten}");
    let mut state = created.clone();
    state["id"] = json!(forgotten_id);
    state["provider_session_id"] = json!(forgotten);
    let expires_at: DateTime<Utc> = created["expires_at"]
        .as_str()
        .expect("expires_at")
        .parse()
        .expect("a time");
    let store = store(&s).await;
    let state_text = state.to_string();
    let observation = Observation {
        session_id: &forgotten_id,
        account: "meteroid:default",
        status: "open",
        payment_status: None,
        state: &state_text,
        hint: None,
        created_ms: expires_at.timestamp_millis() - 3_600_000,
        expires_ms: Some(expires_at.timestamp_millis()),
        next_poll_ms: Some(expires_at.timestamp_millis() - 60_000),
        terminal: false,
        seen_ms: 0,
    };
    let recorded = store
        .record(&observation, None, &[])
        .await
        .expect("recorded");
    assert!(matches!(recorded, Recorded::Done(_)));
    // The real session is due too: keep it out of the rounds.
    store
        .poll_failed(&id, (expires_at + TimeDelta::days(1)).timestamp_millis())
        .await
        .expect("moved");

    let mut poller = poller();
    let before = round(&s, &mut poller, expires_at - TimeDelta::seconds(30)).await;
    assert_eq!((before.failed, before.events.len()), (1, 0), "{before:?}");
    let tracked = tracked_row(&s, &forgotten_id).await;
    assert!(
        tracked.next_poll_ms.is_some(),
        "still polled before its expiry"
    );

    let after = round(&s, &mut poller, expires_at + TimeDelta::minutes(10)).await;
    assert_eq!(
        kinds(&after.events),
        ["checkout_session.expired"],
        "{after:?}"
    );
    let event: Value = serde_json::from_str(&after.events[0].body).expect("event JSON");
    assert_eq!(event["data"]["object"]["status"], "expired");
    assert_eq!(event["data"]["object"]["id"], forgotten_id);
    let tracked = tracked_row(&s, &forgotten_id).await;
    assert_eq!(tracked.next_poll_ms, None, "terminal: no more polls");
    let later = round(&s, &mut poller, expires_at + TimeDelta::hours(2)).await;
    assert_eq!(
        (later.polled, later.failed, later.events.len()),
        (0, 0, 0),
        "{later:?}"
    );
}
