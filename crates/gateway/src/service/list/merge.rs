//! The k-way merge of several sources' pages into one page, without I/O:
//! [`Merge::next`] says what to do (take a session, fetch a source, stop);
//! the caller fetches and hands pages back. A source is fetched only when
//! the page cannot be decided without it, so no source gives more than the
//! page needs.

use std::collections::VecDeque;
use std::sync::Arc;

use checkout_core::{Error, Fetched};

use super::cursor::{Key, Position};

/// A session with its place in the merged order.
#[derive(Debug, Clone)]
pub struct Item {
    pub key: Key,
    pub fetched: Arc<Fetched>,
}

impl Item {
    pub fn new(fetched: Arc<Fetched>) -> Item {
        Item {
            key: Key::of(fetched.session.created_at, &fetched.session.id),
            fetched,
        }
    }
}

/// What one fetch of a source gave, already filtered and in the merged
/// order.
#[derive(Debug, Default)]
pub struct Loaded {
    pub items: Vec<Item>,
    /// The vendor cursor of the page after this one; `None`: none.
    pub next_page: Option<String>,
    /// Items remain beyond `items` without another vendor call (an
    /// unpaginated vendor's kept answer): the source is not done.
    pub rest: bool,
    /// The kept answer these items come from.
    pub snapshot: Option<u64>,
}

/// How a source stands in this request.
#[derive(Debug)]
pub enum SourceState {
    Ok,
    Failed(Error),
}

/// One source of the merge.
#[derive(Debug)]
pub struct Source {
    pub position: Position,
    /// Fetched, not yet taken, in the merged order, each with the number
    /// of the fetch that brought it (an index into `pages`).
    buffer: VecDeque<(Item, usize)>,
    /// The vendor cursor each fetch of this request asked with.
    pages: Vec<Option<String>>,
    /// Whether the vendor has pages beyond the buffer.
    more: bool,
    /// The vendor cursor to fetch next.
    next_page: Option<String>,
    /// `created_at` of the last session fetched while `more`: a session
    /// of the next page may share it and sort first, so ties wait.
    edge: Option<i64>,
    rest: bool,
    /// Fetched at least once in this request.
    started: bool,
    taken_last: Option<Key>,
    pub state: SourceState,
    pub fetches: u32,
}

impl Source {
    pub fn new(position: Position) -> Source {
        let next_page = position.page.clone();
        Source {
            position,
            buffer: VecDeque::new(),
            pages: Vec::new(),
            more: true,
            next_page,
            edge: None,
            rest: false,
            started: false,
            taken_last: None,
            state: SourceState::Ok,
            fetches: 0,
        }
    }

    /// The vendor cursor to ask with now (`None`: the first page).
    pub fn page_to_fetch(&self) -> Option<&str> {
        self.next_page.as_deref()
    }

    fn live(&self) -> bool {
        matches!(self.state, SourceState::Ok)
    }

    fn head(&self) -> Option<&Item> {
        self.buffer.front().map(|(item, _)| item)
    }

    /// Take a fetched page. Sessions at or before the source's position
    /// were answered already and are dropped.
    pub fn load(&mut self, loaded: Loaded) {
        let fetch = self.pages.len();
        self.pages.push(self.next_page.clone());
        let after = self.position.after.clone();
        let mut items: Vec<Item> = loaded
            .items
            .into_iter()
            .filter(|i| after.as_ref().is_none_or(|a| i.key < *a))
            .collect();
        items.sort_by(|a, b| b.key.cmp(&a.key));
        self.more = loaded.next_page.is_some();
        self.edge = if self.more {
            items.last().map(|i| i.key.at)
        } else {
            None
        };
        // A vendor's order among equal times need not be ours: keep the
        // whole buffer in the merged order.
        self.buffer.extend(items.into_iter().map(|i| (i, fetch)));
        self.buffer
            .make_contiguous()
            .sort_by(|(a, _), (b, _)| b.key.cmp(&a.key));
        self.next_page = loaded.next_page;
        self.rest = loaded.rest;
        if loaded.snapshot.is_some() {
            self.position.snapshot = loaded.snapshot;
        }
        self.started = true;
        self.fetches += 1;
    }

    pub fn fail(&mut self, error: Error) {
        self.state = SourceState::Failed(error);
    }

    /// Whether the source has sessions this request did not answer.
    fn has_left(&self) -> bool {
        !self.buffer.is_empty() || self.more || self.rest
    }
}

/// What to do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Take the head of this source.
    Take(usize),
    /// Fetch these sources (concurrently), then ask again.
    Fetch(Vec<usize>),
    /// The page is decided.
    Done,
}

pub struct Merge {
    pub sources: Vec<Source>,
    limit: usize,
    taken: Vec<Item>,
}

impl Merge {
    pub fn new(sources: Vec<Source>, limit: usize) -> Merge {
        Merge {
            sources,
            limit,
            taken: Vec::with_capacity(limit),
        }
    }

    pub fn next(&self) -> Step {
        if self.taken.len() >= self.limit {
            return Step::Done;
        }
        // Every live source's next session must be known to pick the first.
        let unknown: Vec<usize> = self
            .sources
            .iter()
            .enumerate()
            .filter(|(_, s)| s.live() && s.buffer.is_empty() && s.more)
            .map(|(i, _)| i)
            .collect();
        if !unknown.is_empty() {
            return Step::Fetch(unknown);
        }
        let best = self
            .sources
            .iter()
            .enumerate()
            .filter(|(_, s)| s.live())
            .filter_map(|(i, s)| s.head().map(|h| (i, h)))
            .max_by(|(_, a), (_, b)| a.key.cmp(&b.key));
        match best {
            None => Step::Done,
            // A tie with the last session of a page: the next page may
            // hold one that sorts first.
            Some((i, head))
                if self.sources[i].more && self.sources[i].edge == Some(head.key.at) =>
            {
                Step::Fetch(vec![i])
            }
            Some((i, _)) => Step::Take(i),
        }
    }

    pub fn take(&mut self, source: usize) {
        if let Some((item, _)) = self.sources[source].buffer.pop_front() {
            self.sources[source].taken_last = Some(item.key.clone());
            self.taken.push(item);
        }
    }

    /// The page (ended early when a fetch budget is spent: nothing a
    /// source could still precede was taken): its sessions, and the
    /// position of each source with sessions left, for the next page.
    pub fn finish(self) -> (Vec<Item>, Vec<Position>) {
        let items = self.taken;
        let last = items.last().map(|i| i.key.clone());
        let mut positions = Vec::new();
        for source in self.sources {
            let has_left = source.has_left();
            let mut position = source.position;
            match source.state {
                // A failure that would only repeat (the vendor refusing the
                // query, an unsupported filter value) is reported, not resumed.
                SourceState::Failed(e) if !e.retryable => {}
                // Where it stood, or after what it gave before failing.
                SourceState::Failed(_) => {
                    if let Some(taken) = source.taken_last {
                        position.after = Some(taken);
                    }
                    // The page it could not fetch is the one to ask again.
                    position.page = source.next_page.clone();
                    positions.push(position);
                }
                SourceState::Ok => {
                    let untouched = !source.started;
                    if !untouched && !has_left {
                        continue;
                    }
                    if let Some(last) = &last {
                        position.after = Some(last.clone());
                    }
                    // The earliest page still holding an untaken session.
                    let earliest = source.buffer.iter().map(|(_, fetch)| *fetch).min();
                    position.page = match earliest {
                        Some(fetch) => source.pages[fetch].clone(),
                        None => source.next_page.clone(),
                    };
                    positions.push(position);
                }
            }
        }
        (items, positions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::{CheckoutSession, Status};
    use serde_json::value::RawValue;

    fn item(source: &str, n: i64, at: i64) -> Item {
        let mut session: CheckoutSession = serde_json::from_value(serde_json::json!({
            "object": "checkout_session", "id": format!("{source}:s{n:04}"),
            "provider": source.split(':').next().unwrap(), "account": "default",
            "provider_session_id": format!("s{n:04}"), "status": "open",
            "payment_status": null, "purpose": "subscription", "url": null,
            "success_url": null, "cancel_url": null, "customer": null, "plan": null,
            "quantity": null, "subscription_id": null, "invoice_id": null,
            "amount_total": null, "livemode": null, "metadata": {},
            "created_at": "2026-01-01T00:00:00Z", "updated_at": null, "expires_at": null,
            "completed_at": null, "provider_status": {"status": "x"}
        }))
        .unwrap();
        session.status = Status::Open;
        session.created_at = chrono::DateTime::from_timestamp(at, 0).unwrap();
        Item::new(Arc::new(Fetched {
            session,
            raw: RawValue::from_string("{}".into()).unwrap(),
            unknown: Default::default(),
        }))
    }

    /// A vendor source over `items` (newest first) in pages of `size`, its
    /// cursor the index of the page's first item.
    struct Fake {
        name: String,
        items: Vec<Item>,
        size: usize,
    }

    impl Fake {
        fn new(name: &str, items: Vec<Item>, size: usize) -> Fake {
            Fake {
                name: name.to_owned(),
                items,
                size,
            }
        }

        fn page(&self, cursor: Option<&str>) -> Loaded {
            let start: usize = cursor.map_or(0, |c| c.parse().unwrap());
            let end = (start + self.size).min(self.items.len());
            Loaded {
                items: self.items[start..end].to_vec(),
                next_page: (end < self.items.len()).then(|| end.to_string()),
                rest: false,
                snapshot: None,
            }
        }
    }

    /// One page over the sources `positions` name.
    fn run(
        fakes: &[Fake],
        positions: Vec<Position>,
        limit: usize,
    ) -> (Vec<Item>, Vec<Position>, u32) {
        let mut merge = Merge::new(positions.into_iter().map(Source::new).collect(), limit);
        let mut fetches = 0;
        loop {
            match merge.next() {
                Step::Done => break,
                Step::Take(i) => merge.take(i),
                Step::Fetch(list) => {
                    for i in list {
                        let source = &merge.sources[i];
                        let fake = fakes
                            .iter()
                            .find(|f| f.name == source.position.source)
                            .unwrap();
                        let page = fake.page(source.page_to_fetch());
                        merge.sources[i].load(page);
                        fetches += 1;
                    }
                }
            }
        }
        let (items, positions) = merge.finish();
        (items, positions, fetches)
    }

    fn start(n: usize) -> Vec<Position> {
        (0..n)
            .map(|i| Position {
                source: format!("p{i}:default"),
                after: None,
                page: None,
                snapshot: None,
            })
            .collect()
    }

    #[test]
    fn pages_return_every_session_once_in_order() {
        // Three sources, interleaved times with ties across sources.
        let fakes: Vec<Fake> = (0..3)
            .map(|s| {
                let name = format!("p{s}:default");
                let items = (0..40)
                    .rev()
                    .map(|n| item(&name, n, (n * 3 + s) / 2))
                    .collect();
                Fake::new(&name, items, [7, 100, 5][s as usize])
            })
            .collect();
        let mut seen = Vec::new();
        let mut positions = start(3);
        for _ in 0..100 {
            if positions.is_empty() {
                break;
            }
            let (items, next, _) = run(&fakes, positions, 7);
            seen.extend(items.into_iter().map(|i| i.key));
            positions = next;
        }
        assert!(positions.is_empty());
        assert_eq!(seen.len(), 120, "each session once");
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        sorted.dedup();
        assert_eq!(seen, sorted, "in order, no repeats");
    }

    #[test]
    fn a_source_is_fetched_only_as_far_as_the_page_needs() {
        // Source 0 holds all the newest sessions: source 1 is fetched once.
        // Pages of limit + 1, as the service asks: the page's last session
        // (which a session of the next page might tie) is not needed.
        let fakes = vec![
            Fake::new(
                "p0:default",
                (0..50)
                    .rev()
                    .map(|n| item("p0:default", n, 1000 + n))
                    .collect(),
                11,
            ),
            Fake::new(
                "p1:default",
                (0..50).rev().map(|n| item("p1:default", n, n)).collect(),
                11,
            ),
        ];
        let (items, positions, fetches) = run(&fakes, start(2), 10);
        assert_eq!(items.len(), 10);
        assert!(items.iter().all(|i| i.key.id.starts_with("p0")));
        // One page each; source 0's page is used up, so it moves on.
        assert_eq!(fetches, 2);
        assert_eq!(
            positions[0].page, None,
            "its 11th session is still on its first page"
        );
        assert_eq!(
            positions[1].page, None,
            "source 1 starts over at its first page"
        );
    }

    #[test]
    fn ties_at_a_page_edge_wait_for_the_next_page() {
        // Every session at the same second: order by id only.
        // The vendor's tie order is not ours: ascending ids.
        let fakes = vec![Fake::new(
            "p0:default",
            (0..6).map(|n| item("p0:default", n, 5)).collect(),
            2,
        )];
        let (items, _, _) = run(&fakes, start(1), 3);
        let ids: Vec<&str> = items.iter().map(|i| i.key.id.as_str()).collect();
        assert_eq!(
            ids,
            ["p0:default:s0005", "p0:default:s0004", "p0:default:s0003"]
        );
    }

    #[test]
    fn the_position_is_the_earliest_page_with_sessions_left() {
        // Page 2 holds a session that sorts before one left on page 1.
        let fakes = vec![Fake::new(
            "p0:default",
            vec![
                item("p0:default", 9, 9),
                item("p0:default", 1, 5),
                item("p0:default", 7, 5),
                item("p0:default", 0, 1),
            ],
            2,
        )];
        let (items, positions, _) = run(&fakes, start(1), 2);
        let ids: Vec<&str> = items.iter().map(|i| i.key.id.as_str()).collect();
        assert_eq!(ids, ["p0:default:s0009", "p0:default:s0007"]);
        assert_eq!(positions[0].page, None, "s0001 is still on the first page");
        let (rest, positions, _) = run(&fakes, positions, 10);
        let ids: Vec<&str> = rest.iter().map(|i| i.key.id.as_str()).collect();
        assert_eq!(ids, ["p0:default:s0001", "p0:default:s0000"]);
        assert!(positions.is_empty());
    }

    #[test]
    fn a_failed_source_keeps_its_position() {
        let mut merge = Merge::new(start(2).into_iter().map(Source::new).collect(), 5);
        assert_eq!(merge.next(), Step::Fetch(vec![0, 1]));
        merge.sources[0].load(Loaded {
            items: (0..3).rev().map(|n| item("p0:default", n, n)).collect(),
            ..Loaded::default()
        });
        merge.sources[1].fail(Error::new(checkout_core::ErrorCode::ProviderError, "down"));
        while let Step::Take(i) = merge.next() {
            merge.take(i);
        }
        let (items, positions) = merge.finish();
        assert_eq!(items.len(), 3);
        assert_eq!(positions.len(), 1, "source 0 is done");
        assert_eq!(positions[0].source, "p1:default");
        assert_eq!(
            positions[0].after, None,
            "source 1 is asked again from its start"
        );
    }

    #[test]
    fn a_failure_that_would_repeat_is_not_resumed() {
        let mut merge = Merge::new(start(1).into_iter().map(Source::new).collect(), 5);
        merge.sources[0].fail(Error::invalid_request("customer: not an organization id"));
        assert_eq!(merge.next(), Step::Done);
        let (items, positions) = merge.finish();
        assert!(items.is_empty() && positions.is_empty());
    }
}
