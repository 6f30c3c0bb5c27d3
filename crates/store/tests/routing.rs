//! The customer map and the routed-session record (PRODUCT §12); the same
//! tests over SQLite and (when `CHECKOUT_GATEWAY_TEST_POSTGRES` is set)
//! PostgreSQL.

mod backends;

use std::collections::BTreeMap;

use store::{CustomerRefs, Store};

fn refs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(target, reference)| ((*target).to_owned(), (*reference).to_owned()))
        .collect()
}

async fn references_of(store: &Store, customer: &str) -> Option<BTreeMap<String, String>> {
    let found = store.customer(customer).await.unwrap();
    found.map(|c| c.references)
}

#[tokio::test]
async fn a_put_customer_reads_back_and_a_second_put_replaces_the_whole_map() {
    backends::each(|b| async move {
        let store = b.open().await;
        assert_eq!(store.customer("cus_1").await.unwrap(), None, "{}", b.name);
        let first = refs(&[("stripe:eu", "cus_S1"), ("meteroid:default", "m_1")]);
        assert!(store.put_customer("cus_1", &first).await.unwrap(), "new");
        let read = store.customer("cus_1").await.unwrap().expect("known");
        assert_eq!(read.customer, "cus_1");
        assert_eq!(read.references, first);
        assert!(read.updated_ms > 0);

        // The old targets go: the map is replaced, not merged.
        let second = refs(&[("flowglad:main", "fg_1"), ("stripe:eu", "cus_S2")]);
        assert!(
            !store.put_customer("cus_1", &second).await.unwrap(),
            "{}: not new the second time",
            b.name
        );
        let replaced = store.customer("cus_1").await.unwrap().expect("known");
        assert_eq!(replaced.references, second);
        assert!(replaced.updated_ms >= read.updated_ms);
        assert_eq!(
            store
                .customer_reference("cus_1", "meteroid:default")
                .await
                .unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn customer_reference_answers_one_target_or_none() {
    backends::each(|b| async move {
        let store = b.open().await;
        let map = refs(&[("stripe:eu", "cus_S1"), ("meteroid:default", "m_1")]);
        store.put_customer("cus_1", &map).await.unwrap();
        assert_eq!(
            store
                .customer_reference("cus_1", "stripe:eu")
                .await
                .unwrap()
                .as_deref(),
            Some("cus_S1"),
            "{}",
            b.name
        );
        // Another target, another customer: no reference.
        assert_eq!(
            store
                .customer_reference("cus_1", "flowglad:main")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .customer_reference("cus_2", "stripe:eu")
                .await
                .unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn an_empty_map_is_a_known_customer_with_no_references() {
    backends::each(|b| async move {
        let store = b.open().await;
        assert!(store.put_customer("cus_1", &BTreeMap::new()).await.unwrap());
        let read = store.customer("cus_1").await.unwrap().expect("known");
        assert_eq!(read.references, BTreeMap::new(), "{}", b.name);
        assert_eq!(
            store
                .customer_reference("cus_1", "stripe:eu")
                .await
                .unwrap(),
            None
        );
        let listed = store.customers(None, 10).await.unwrap();
        assert_eq!(listed, [read]);

        // Emptied after having references: still known, none left.
        let map = refs(&[("stripe:eu", "cus_S1")]);
        assert!(!store.put_customer("cus_1", &map).await.unwrap());
        assert!(!store.put_customer("cus_1", &BTreeMap::new()).await.unwrap());
        assert_eq!(references_of(&store, "cus_1").await, Some(BTreeMap::new()));
        assert!(store.delete_customer("cus_1").await.unwrap());
        assert_eq!(store.customer("cus_1").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn delete_removes_the_mapping_and_says_whether_there_was_one() {
    backends::each(|b| async move {
        let store = b.open().await;
        let map = refs(&[("stripe:eu", "cus_S1"), ("meteroid:default", "m_1")]);
        store.put_customer("cus_1", &map).await.unwrap();
        store.put_customer("cus_2", &map).await.unwrap();
        assert!(store.delete_customer("cus_1").await.unwrap(), "{}", b.name);
        assert_eq!(store.customer("cus_1").await.unwrap(), None);
        assert_eq!(
            store
                .customer_reference("cus_1", "stripe:eu")
                .await
                .unwrap(),
            None
        );
        assert!(!store.delete_customer("cus_1").await.unwrap());
        assert!(!store.delete_customer("cus_never").await.unwrap());
        // The other customer is untouched.
        assert_eq!(references_of(&store, "cus_2").await, Some(map.clone()));
        // Put again after a delete: new again.
        assert!(store.put_customer("cus_1", &map).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn customers_page_by_id_after_the_last_one_seen() {
    backends::each(|b| async move {
        let store = b.open().await;
        // Put out of order: listed by id.
        for i in [3, 1, 5, 2, 4] {
            let map = if i == 4 {
                BTreeMap::new()
            } else {
                refs(&[
                    ("stripe:eu", &format!("cus_S{i}")),
                    ("meteroid:default", &format!("m_{i}")),
                ])
            };
            store.put_customer(&format!("cus_{i}"), &map).await.unwrap();
        }
        let mut pages: Vec<Vec<CustomerRefs>> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store.customers(after.as_deref(), 2).await.unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().map(|c| c.customer.clone());
            pages.push(page);
        }
        let ids: Vec<Vec<&str>> = pages
            .iter()
            .map(|page| page.iter().map(|c| c.customer.as_str()).collect())
            .collect();
        assert_eq!(
            ids,
            [
                vec!["cus_1", "cus_2"],
                vec!["cus_3", "cus_4"],
                vec!["cus_5"]
            ],
            "{}",
            b.name
        );
        // Each listed whole, as `customer` reads it.
        for customer in pages.iter().flatten() {
            assert_eq!(
                store.customer(&customer.customer).await.unwrap().as_ref(),
                Some(customer)
            );
        }
        assert_eq!(pages[0][1].references.len(), 2);
        assert_eq!(pages[1][1].references, BTreeMap::new());
        assert_eq!(store.customers(Some("cus_5"), 2).await.unwrap(), []);
        assert_eq!(store.customers(None, 0).await.unwrap(), []);
    })
    .await;
}

/// Eight writers (a store each, as replicas) put one customer at once, each
/// its own map over overlapping targets: the map left is exactly one of
/// theirs, whole, and exactly one writer was told the customer was new.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_of_one_customer_leave_one_whole_map() {
    backends::each(|b| async move {
        let store = b.open().await;
        let maps: Vec<BTreeMap<String, String>> = (0..8)
            .map(|i| {
                // Writer i maps targets 0..=i%3+1 (sizes differ too).
                (0..=i % 3 + 1)
                    .map(|t| (format!("vendor:{t}"), format!("ref_{i}_{t}")))
                    .collect()
            })
            .collect();
        let mut writers = Vec::new();
        for map in maps.clone() {
            let writer = b.open().await;
            writers.push(tokio::spawn(async move {
                let new = writer.put_customer("cus_1", &map).await.unwrap();
                writer.close().await;
                new
            }));
        }
        let mut news = 0;
        for writer in writers {
            if writer.await.unwrap() {
                news += 1;
            }
        }
        assert_eq!(news, 1, "{}: one writer made the customer", b.name);
        let left = references_of(&store, "cus_1").await.expect("known");
        assert!(
            maps.contains(&left),
            "{}: a mix of puts was left: {left:?}",
            b.name
        );
    })
    .await;
}

#[tokio::test]
async fn the_first_route_recorded_wins_and_an_unrouted_session_has_none() {
    backends::each(|b| async move {
        let store = b.open().await;
        assert_eq!(store.route_of("cs_1").await.unwrap(), None, "{}", b.name);
        store
            .record_route("cs_1", "ramp", "stripe:eu", Some(42))
            .await
            .unwrap();
        // A second write (a retried create) is ignored, not an error.
        store
            .record_route("cs_1", "default", "meteroid:default", None)
            .await
            .unwrap();
        assert_eq!(
            store.route_of("cs_1").await.unwrap(),
            Some(store::Route {
                rule: "ramp".to_owned(),
                target: "stripe:eu".to_owned(),
                bucket: Some(42)
            })
        );
        store
            .record_route("cs_2", "fixed", "meteroid:default", None)
            .await
            .unwrap();
        assert_eq!(
            store.route_of("cs_2").await.unwrap(),
            Some(store::Route {
                rule: "fixed".to_owned(),
                target: "meteroid:default".to_owned(),
                bucket: None
            })
        );
        assert_eq!(store.route_of("cs_never").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn the_feed_purge_removes_routes_recorded_before_the_events_horizon() {
    backends::each(|b| async move {
        let store = b.open().await;
        store
            .record_route("cs_old", "ramp", "stripe:eu", Some(7))
            .await
            .unwrap();
        let old = store
            .fetch_one("SELECT created_ms FROM routed_sessions WHERE session_id = 'cs_old'")
            .await
            .unwrap();
        let recorded_ms: i64 = sqlx::Row::try_get(&old, 0).unwrap();
        // Not older than the horizon yet: kept.
        assert_eq!(
            store.purge_feed(recorded_ms, 0).await.unwrap(),
            0,
            "{}",
            b.name
        );
        assert!(store.route_of("cs_old").await.unwrap().is_some());

        // Past it: gone; one recorded later (after the horizon) stays.
        let horizon = recorded_ms + 1;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        store
            .record_route("cs_new", "ramp", "flowglad:main", Some(90))
            .await
            .unwrap();
        assert_eq!(store.purge_feed(horizon, 0).await.unwrap(), 1);
        assert_eq!(store.route_of("cs_old").await.unwrap(), None);
        assert!(store.route_of("cs_new").await.unwrap().is_some());
    })
    .await;
}
