//! Whether a fixture's provenance names where the body comes from, not
//! just that a row exists.
//!
//! A provenance cell names a source when it holds one itself — a URL, a
//! spec path with its version, an SDK with its version and registry, or
//! `recorded` — or cites a tag of the folder README's sources table
//! (`| Tag | Source |`), whose every source is one of those four forms.
//! A tag written `M*` stands for `M` followed by a digit (`M6`, `M8`), so
//! the notes' numbered sections need one row.

use std::collections::BTreeMap;

/// The README's `| Tag | Source |` table: tag → source text.
pub fn source_tags(readme: &str) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    let mut in_table = false;
    for line in readme.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if !line.trim_start().starts_with('|') {
            in_table = false;
            continue;
        }
        if cells.get(1) == Some(&"Tag") && cells.get(2) == Some(&"Source") {
            in_table = true;
            continue;
        }
        if !in_table || cells.get(1).is_some_and(|c| c.starts_with("---")) {
            continue;
        }
        if let (Some(tag), Some(source)) = (cells.get(1), cells.get(2)) {
            let tag = tag.trim_matches('`');
            if !tag.is_empty() {
                tags.insert(tag.to_owned(), (*source).to_owned());
            }
        }
    }
    tags
}

/// Does `text` itself name a source: a URL, a spec path with a version, an
/// SDK with a version and its registry, or `recorded`?
pub fn names_source(text: &str) -> bool {
    let url = text.contains("https://") || text.contains("http://");
    let recorded = text.trim_start().starts_with("recorded");
    let versioned = has_version(text);
    let spec = text.contains("spec/") && versioned;
    let sdk = (text.contains("npm") || text.contains("PyPI")) && versioned;
    url || recorded || spec || sdk
}

/// A dotted version number (`0.30.1`, `v1.19.0`, `0.0.1`) or a commit
/// (7+ hex digits in backticks).
fn has_version(text: &str) -> bool {
    let dotted = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .any(|word| {
            let word = word.strip_prefix('v').unwrap_or(word);
            let parts: Vec<&str> = word.split('.').collect();
            parts.len() >= 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        });
    let commit = text.split('`').skip(1).step_by(2).any(|code| {
        code.len() >= 7 && code.len() <= 40 && code.bytes().all(|b| b.is_ascii_hexdigit())
    });
    dotted || commit
}

/// Does `cell` cite `tag` (whole word; `X*` = `X` then a digit)?
fn cites(cell: &str, tag: &str) -> bool {
    let (stem, numbered) = match tag.strip_suffix('*') {
        Some(stem) => (stem, true),
        None => (tag, false),
    };
    cell.match_indices(stem).any(|(at, _)| {
        let before = cell[..at].chars().next_back();
        let after = cell[at + stem.len()..].chars().next();
        let starts_word = before.is_none_or(|c| !c.is_alphanumeric());
        let ends_right = if numbered {
            after.is_some_and(|c| c.is_ascii_digit())
        } else {
            after.is_none_or(|c| !c.is_alphanumeric()) || !stem.ends_with(char::is_alphanumeric)
        };
        starts_word && ends_right
    })
}

/// Tags whose source is not one of the accepted forms.
pub fn unsourced_tags(tags: &BTreeMap<String, String>) -> Vec<&str> {
    tags.iter()
        .filter(|(_, source)| !names_source(source))
        .map(|(tag, _)| tag.as_str())
        .collect()
}

/// Does a provenance cell name a source, itself or through a tag?
pub fn is_sourced(cell: &str, tags: &BTreeMap<String, String>) -> bool {
    names_source(cell)
        || tags
            .iter()
            .any(|(tag, source)| names_source(source) && cites(cell, tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = "\
Intro.

| Tag | Source |
|---|---|
| `M*` | the notes' sections, from https://github.com/meteroid-oss/meteroid at `6a27ef61` |
| `[code]` | the vendor source, https://github.com/meteroid-oss/meteroid at `6a27ef61aabf` |
| FG-OAS | `spec/openapi.json`, info.version 0.0.1 |
| hearsay | a colleague said so |

| File | HTTP |
|---|---|
| `a.json` | 200 |
";

    #[test]
    fn the_tags_table_is_read_and_ends_with_the_table() {
        let tags = source_tags(README);
        assert_eq!(
            tags.keys().collect::<Vec<_>>(),
            ["FG-OAS", "M*", "[code]", "hearsay"]
        );
        assert_eq!(unsourced_tags(&tags), ["hearsay"]);
    }

    #[test]
    fn each_accepted_form_names_a_source() {
        for text in [
            "https://docs.zenskar.com/reference/checkout",
            "`spec/openapi.json` info.version 0.0.1",
            "meteroid 0.30.1 (PyPI), models/checkout_session.py",
            "@flowglad/node 0.29.0 (npm)",
            "recorded 2026-11-29 from meteroid:eu",
        ] {
            assert!(names_source(text), "{text}");
        }
        for text in [
            "Invented",
            "M6 status mapping",
            "the SDK",
            "spec/openapi.json",
            "npm",
            "re-recorded by hand",
        ] {
            assert!(!names_source(text), "{text}");
        }
    }

    #[test]
    fn a_row_cites_a_tag_as_a_whole_word() {
        let tags = source_tags(README);
        assert!(is_sourced("RestErrorResponse; M6 cancel 400", &tags));
        assert!(is_sourced("`[code]` message", &tags));
        assert!(is_sourced("shape as FG-OAS", &tags));
        // A tag with no accepted source does not count.
        assert!(!is_sourced("hearsay", &tags));
        // `M*` needs a digit, and a word start.
        assert!(!is_sourced("Made up", &tags));
        assert!(!is_sourced("UTF8 M", &tags));
        assert!(!is_sourced("SUM6", &tags));
        assert!(!is_sourced("Invented to test tolerant reading", &tags));
    }
}
