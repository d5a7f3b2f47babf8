//! Stop reasons in words. A plant's events name why a machine stopped with a code (`E1043`,
//! `jam_infeed`), and the simulator with its own (`no_input`, `output_full`): a shift leader
//! reads words. The scenario's `[stop_reasons]` table gives the plant's codes theirs; takt's own
//! codes have words built in, which the table may replace. A code without words is shown as it
//! came.

use crate::compile::ScenarioFinding;
use crate::limits::MAX_NAME_BYTES;
use std::collections::BTreeMap;

/// Codes in the table at most.
pub const MAX_STOP_REASONS: usize = 10_000;
/// Words for a code at most, characters.
pub const MAX_WORDS_CHARS: usize = 200;

/// The reasons takt's simulator gives its machines' states (and a replayed trace carries), in
/// words. A failure's reason is its failure mode, whose name the scenario gives.
pub const BUILT_IN: [(&str, &str); 7] = [
    ("changeover", "changing over to another product"),
    ("initial", "state as the run started"),
    ("maintenance", "planned maintenance"),
    ("no_input", "no part to take from upstream"),
    ("off_shift", "outside the shift calendar"),
    ("output_full", "no room downstream for the finished part"),
    ("production", "producing"),
];

/// The words for `code`: the scenario's (`own`), else takt's built in.
pub fn words<'a>(own: &'a BTreeMap<String, String>, code: &str) -> Option<&'a str> {
    own.get(code).map(String::as_str).or_else(|| {
        BUILT_IN
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, words)| *words)
    })
}

/// Every code with words: takt's built in, replaced or joined by the scenario's.
pub fn catalogue(own: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut all: BTreeMap<String, String> = BUILT_IN
        .iter()
        .map(|(code, words)| (code.to_string(), words.to_string()))
        .collect();
    all.extend(own.iter().map(|(c, w)| (c.clone(), w.clone())));
    all
}

/// The scenario's table checked: codes and words not empty, within their lengths, without control
/// characters; each problem located at `stop_reasons.<code>`.
pub(crate) fn check(table: &BTreeMap<String, String>) -> Vec<ScenarioFinding> {
    let mut found = Vec::new();
    let mut push = |path: String, message: String| found.push(ScenarioFinding { path, message });
    if table.len() > MAX_STOP_REASONS {
        push(
            "stop_reasons".into(),
            format!(
                "{} codes; at most {MAX_STOP_REASONS} are taken",
                table.len()
            ),
        );
        return found;
    }
    for (code, words) in table {
        let shown: String = code.chars().take(40).collect();
        let path = format!("stop_reasons.{shown}");
        // The longest name an event may carry: a longer code could never come.
        if code.trim().is_empty() || code.len() > MAX_NAME_BYTES {
            push(
                path.clone(),
                format!("a code is 1 to {MAX_NAME_BYTES} bytes, not blank"),
            );
        }
        let chars = words.chars().count();
        if words.trim().is_empty() || chars > MAX_WORDS_CHARS {
            push(
                path.clone(),
                format!(
                    "the words are 1 to {MAX_WORDS_CHARS} characters, not blank ({chars} given)"
                ),
            );
        }
        if code.chars().chain(words.chars()).any(char::is_control) {
            push(path, "no control characters (line breaks, tabs)".into());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenarios_words_come_first_then_takts_own() {
        let own = BTreeMap::from([
            (
                "E1043".to_string(),
                "bottle jam at the infeed star".to_string(),
            ),
            (
                "no_input".to_string(),
                "no bottles from the depalletiser".to_string(),
            ),
        ]);
        assert_eq!(words(&own, "E1043"), Some("bottle jam at the infeed star"));
        assert_eq!(
            words(&own, "no_input"),
            Some("no bottles from the depalletiser")
        );
        assert_eq!(
            words(&own, "output_full"),
            Some("no room downstream for the finished part")
        );
        assert_eq!(words(&own, "E9999"), None);
        let all = catalogue(&own);
        assert_eq!(all.len(), BUILT_IN.len() + 1);
        assert_eq!(all["no_input"], "no bottles from the depalletiser");
    }

    #[test]
    fn every_bad_entry_is_located() {
        let table = BTreeMap::from([
            (" ".to_string(), "blank code".to_string()),
            ("E1".to_string(), "".to_string()),
            ("E2".to_string(), "x".repeat(MAX_WORDS_CHARS + 1)),
            ("E3".to_string(), "two\nlines".to_string()),
            ("E4".to_string(), "fine".to_string()),
        ]);
        let paths: Vec<String> = check(&table).into_iter().map(|f| f.path).collect();
        assert_eq!(
            paths,
            [
                "stop_reasons. ",
                "stop_reasons.E1",
                "stop_reasons.E2",
                "stop_reasons.E3"
            ]
        );
    }
}
