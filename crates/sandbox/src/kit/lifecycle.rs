//! Moving a stored session along its vendor's lifecycle, as the control
//! routes do for tests and demos: the vendor says what its status is, which
//! moves its flows can make, and what a move writes; the kit refuses any
//! move off the vendor's table before anything is written.

use super::store::{Locked, Session, Sessions};

pub(crate) trait Lifecycle: Session {
    type Status: Clone + PartialEq;
    /// A control route's change: a status and whatever else it sets.
    type Move;

    /// `(from, to)` if `change` asks for a status (the same one
    /// included); `None` keeps the current one unchecked.
    fn transition(&self, change: &Self::Move) -> Option<(Self::Status, Self::Status)>;

    /// Whether the vendor's flows can take a session `from` → `to`.
    fn allowed(from: &Self::Status, to: &Self::Status) -> bool;

    /// Writes a change already found allowed.
    fn apply(&mut self, change: Self::Move);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MoveError<S> {
    NotFound,
    Illegal { from: S, to: S },
}

impl<S: Lifecycle> Sessions<S> {
    /// Applies `change` to the session `id` if the vendor allows the move.
    pub(crate) fn advance(
        &mut self,
        id: &S::Id,
        change: S::Move,
    ) -> Result<&mut S, MoveError<S::Status>> {
        let session = self.get_mut(id).ok_or(MoveError::NotFound)?;
        if let Some((from, to)) = session.transition(&change) {
            if !S::allowed(&from, &to) {
                return Err(MoveError::Illegal { from, to });
            }
        }
        session.apply(change);
        Ok(session)
    }
}

impl<S: Lifecycle> Locked<Sessions<S>> {
    /// [`Sessions::advance`] under the lock, answering with a copy: what a
    /// vendor store's control-route move needs.
    pub(crate) fn advance_cloned(
        &self,
        id: &S::Id,
        change: S::Move,
    ) -> Result<S, MoveError<S::Status>> {
        self.lock().advance(id, change).map(|s| s.clone())
    }
}
