//! Another rendering of cached sessions (the Stripe facade's object), kept
//! beside the canonical bytes it was made from: a hit whose canonical bytes
//! are unchanged answers with the kept rendering instead of converting
//! again. Any change of the canonical bytes (a refresh, a derived expiry)
//! makes a new one.

use std::sync::Arc;

use bytes::Bytes;

pub struct Renders {
    /// Canonical id → (canonical bytes, their rendering).
    kept: moka::sync::Cache<String, Arc<(Bytes, Bytes)>>,
}

impl Renders {
    pub fn new(max_entries: u64) -> Renders {
        Renders {
            kept: moka::sync::Cache::new(max_entries),
        }
    }

    /// `canonical`'s rendering: the kept one if it was made from these very
    /// bytes, else `render`'s (kept for next time); `None` if `render` fails.
    pub fn get_or_render(
        &self,
        id: &str,
        canonical: &Bytes,
        render: impl FnOnce(&Bytes) -> Option<Bytes>,
    ) -> Option<Bytes> {
        if let Some(kept) = self.kept.get(id) {
            if kept.0 == *canonical {
                return Some(kept.1.clone());
            }
        }
        let rendered = render(canonical)?;
        self.kept.insert(
            id.to_owned(),
            Arc::new((canonical.clone(), rendered.clone())),
        );
        Some(rendered)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn a_rendering_is_made_once_per_canonical_body() {
        let renders = Renders::new(10);
        let made = Cell::new(0);
        let render = |b: &Bytes| {
            made.set(made.get() + 1);
            Some(Bytes::from(format!("R{}", b.len())))
        };
        let one = Bytes::from_static(b"{\"a\":1}");
        assert_eq!(renders.get_or_render("x", &one, render).unwrap(), "R7");
        assert_eq!(renders.get_or_render("x", &one, render).unwrap(), "R7");
        assert_eq!(made.get(), 1, "the second hit used the kept rendering");
        let changed = Bytes::from_static(b"{\"a\":22}");
        assert_eq!(renders.get_or_render("x", &changed, render).unwrap(), "R8");
        assert_eq!(made.get(), 2, "changed canonical bytes render again");
        assert_eq!(renders.get_or_render("y", &one, |_| None), None);
    }
}
