//! How every vendor keeps its data: behind a lock that a panic cannot
//! wedge, with its sessions in insertion order and found by their id.

use std::sync::{Mutex, MutexGuard};

/// A mutex whose data stays usable after a panic elsewhere: one failed
/// request must not wedge the sandbox.
#[derive(Debug, Default)]
pub(crate) struct Locked<T>(Mutex<T>);

impl<T> Locked<T> {
    pub(crate) fn new(value: T) -> Locked<T> {
        Locked(Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a vendor's stored session is to the kit: a record with an id.
pub(crate) trait Session: Clone {
    type Id: PartialEq + ?Sized;

    fn id(&self) -> &Self::Id;
}

/// `impl Session` for a record found by its `id` field, as every vendor's
/// is: `session_by_id!(Record, str)`.
macro_rules! session_by_id {
    ($record:ty, $id:ty) => {
        impl $crate::kit::store::Session for $record {
            type Id = $id;

            fn id(&self) -> &$id {
                &self.id
            }
        }
    };
}
pub(crate) use session_by_id;

/// One vendor's sessions (of one kind), in the order they were made.
#[derive(Debug)]
pub(crate) struct Sessions<S>(Vec<S>);

// Manual: a derive would wrongly require `S: Default`.
impl<S> Default for Sessions<S> {
    fn default() -> Self {
        Sessions(Vec::new())
    }
}

impl<S: Session> Sessions<S> {
    /// Stores `session`, giving back the copy the caller answers with.
    pub(crate) fn insert(&mut self, session: S) -> S {
        self.0.push(session.clone());
        session
    }

    /// Stores many at once (a fill), without copies.
    pub(crate) fn extend(&mut self, sessions: impl IntoIterator<Item = S>) {
        self.0.extend(sessions);
    }

    pub(crate) fn get(&self, id: &S::Id) -> Option<&S> {
        self.0.iter().find(|s| s.id() == id)
    }

    pub(crate) fn get_mut(&mut self, id: &S::Id) -> Option<&mut S> {
        self.0.iter_mut().find(|s| s.id() == id)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &S> {
        self.0.iter()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut S> {
        self.0.iter_mut()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Keeps the sessions `keep` accepts; says how many went.
    pub(crate) fn retain(&mut self, keep: impl FnMut(&S) -> bool) -> usize {
        let before = self.0.len();
        self.0.retain(keep);
        before - self.0.len()
    }
}

impl<S: Session> Locked<Sessions<S>> {
    /// A copy of the session `id`, so no lock outlives the call.
    pub(crate) fn get_cloned(&self, id: &S::Id) -> Option<S> {
        self.lock().get(id).cloned()
    }
}
