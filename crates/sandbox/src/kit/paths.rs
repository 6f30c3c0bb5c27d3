//! Reading a request path the way the call counter classifies it.

/// The segments after `base`: `Some([])` for `base` itself, `None` for a
/// path not under it (`base-x` included).
pub(crate) fn segments<'a>(path: &'a str, base: &str) -> Option<Vec<&'a str>> {
    match path.strip_prefix(base)? {
        "" => Some(Vec::new()),
        rest => rest.strip_prefix('/').map(|r| r.split('/').collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_a_base_or_not() {
        assert_eq!(segments("/a/b", "/a"), Some(vec!["b"]));
        assert_eq!(segments("/a", "/a"), Some(vec![]));
        assert_eq!(segments("/a/", "/a"), Some(vec![""]));
        assert_eq!(segments("/ab", "/a"), None);
        assert_eq!(segments("/x/y", ""), Some(vec!["x", "y"]));
    }
}
