//! The fast path of reading an event: the flat shape nearly every sender writes, scanned without
//! serde's derived deserializer ([`scan_flat`]) into [`Flat`], every field of every kind in one
//! pass. Anything else falls back to serde in `super::parse`, so the result is always serde's.

use super::*;

/// Every field of every kind, read in one pass (the fast path of [`parse`]).
#[derive(Deserialize)]
pub(super) struct Flat<'a> {
    #[serde(borrow)]
    ts: std::borrow::Cow<'a, str>,
    asset: String,
    seq: u64,
    #[serde(borrow)]
    kind: std::borrow::Cow<'a, str>,
    t_s: Option<f64>,
    state: Option<StateCode>,
    #[serde(default)]
    reason: String,
    mode: Option<CountMode>,
    good: Option<u64>,
    scrap: Option<u64>,
    rework: Option<u64>,
    #[serde(default)]
    product: String,
    signals: Option<BTreeMap<String, Signal>>,
    code: Option<String>,
    #[serde(default)]
    severity: String,
    #[serde(borrow)]
    action: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    component: String,
    work_order: Option<String>,
    #[serde(default)]
    operation: String,
    quantity: Option<u64>,
}

impl Flat<'_> {
    /// The event, or `None` when something required is missing or wrong (the slow path then says
    /// what).
    pub(super) fn into_event(self) -> Option<Event> {
        let body = match &*self.kind {
            "state" => Body::State(StateBody {
                state: self.state?,
                reason: self.reason,
            }),
            "count" => Body::Count(CountBody {
                mode: self.mode.unwrap_or_default(),
                good: self.good.unwrap_or(0),
                scrap: self.scrap.unwrap_or(0),
                rework: self.rework.unwrap_or(0),
                product: self.product,
            }),
            "sample" => Body::Sample(SampleBody {
                signals: self.signals?,
            }),
            "alarm" => Body::Alarm(AlarmBody {
                code: self.code?,
                severity: self.severity,
                action: match self.action.as_deref()? {
                    "raised" => AlarmAction::Raised,
                    "cleared" => AlarmAction::Cleared,
                    _ => return None,
                },
                text: self.text,
            }),
            "maintenance" => Body::Maintenance(MaintenanceBody {
                action: self.action?.into_owned(),
                component: self.component,
                reason: self.reason,
            }),
            "operation" => Body::Operation(OperationBody {
                work_order: self.work_order?,
                operation: self.operation,
                action: match self.action.as_deref()? {
                    "start" => OperationAction::Start,
                    "complete" => OperationAction::Complete,
                    _ => return None,
                },
                product: self.product,
                quantity: self.quantity,
                good: self.good,
                scrap: self.scrap,
            }),
            _ => return None,
        };
        Some(Event {
            ts: self.ts.into_owned(),
            asset: self.asset,
            seq: self.seq,
            body,
            t_s: self.t_s,
        })
    }
}

/// The fields of an event in the shape nearly every sender and the simulator's trace write: one
/// JSON object without whitespace, whose values are strings without escapes or plain numbers.
/// Reading it costs a third of serde_json's derived deserializer, which is most of the cost of
/// ingesting an event. Anything else - whitespace, escapes, `null`, nested objects (a sample's
/// signals), a duplicate key, a number out of range, a value of the wrong type - gives `None`, and
/// serde reads the text (and words the error), so the result is always serde's; a test checks
/// that on every kind and on many mutated lines.
pub(super) fn scan_flat(text: &str) -> Option<Flat<'_>> {
    /// One value: a string's content, or a number's text.
    enum Value<'a> {
        Text(&'a str),
        Number(&'a str),
    }
    #[inline(always)]
    fn string<'a>(text: &'a str, i: &mut usize) -> Option<&'a str> {
        let b = text.as_bytes();
        if b.get(*i) != Some(&b'"') {
            return None;
        }
        let start = *i + 1;
        let rest = b.get(start..)?;
        // One pass: the closing quote, unless an escape or a control character comes first.
        let len = first_special(rest)?;
        if rest[len] != b'"' {
            return None;
        }
        *i = start + len + 1;
        // The bounds are ASCII quotes, so they fall on character boundaries.
        text.get(start..start + len)
    }
    // JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    fn number<'a>(text: &'a str, i: &mut usize) -> Option<&'a str> {
        let b = text.as_bytes();
        let start = *i;
        let digits = |i: &mut usize| -> usize {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - from
        };
        if b.get(*i) == Some(&b'-') {
            *i += 1;
        }
        match digits(i) {
            0 => return None,
            n if n > 1 && b[*i - n] == b'0' => return None,
            _ => {}
        }
        if b.get(*i) == Some(&b'.') {
            *i += 1;
            if digits(i) == 0 {
                return None;
            }
        }
        if matches!(b.get(*i), Some(b'e' | b'E')) {
            *i += 1;
            if matches!(b.get(*i), Some(b'+' | b'-')) {
                *i += 1;
            }
            if digits(i) == 0 {
                return None;
            }
        }
        text.get(start..*i)
    }
    fn whole(v: Value<'_>) -> Option<u64> {
        match v {
            // Digits only: serde reads `1.0`, `1e3` and `-1` as the wrong type for a count.
            Value::Number(n) if n.bytes().all(|c| c.is_ascii_digit()) => n.parse::<u64>().ok(),
            _ => None,
        }
    }
    fn text_of(v: Value<'_>) -> Option<&str> {
        match v {
            Value::Text(t) => Some(t),
            Value::Number(_) => None,
        }
    }
    fn once<T>(slot: &mut Option<T>, value: Option<T>) -> Option<()> {
        // A duplicate key is an error for serde: left to it.
        if slot.is_some() {
            return None;
        }
        *slot = Some(value?);
        Some(())
    }
    let (mut ts, mut asset, mut seq, mut kind, mut t_s) = (None, None, None, None, None);
    let (mut state, mut reason, mut mode, mut good, mut scrap, mut rework) =
        (None, None, None, None, None, None);
    let (mut product, mut code, mut severity, mut action, mut text_field, mut component) =
        (None, None, None, None, None, None);
    let (mut work_order, mut operation, mut quantity) = (None, None, None);
    let b = text.as_bytes();
    let mut i = 0;
    if b.first() != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        let key = string(text, &mut i)?;
        if b.get(i) != Some(&b':') {
            return None;
        }
        i += 1;
        let value = match b.get(i)? {
            b'"' => Value::Text(string(text, &mut i)?),
            b'-' | b'0'..=b'9' => Value::Number(number(text, &mut i)?),
            _ => return None,
        };
        match key {
            "ts" => once(&mut ts, text_of(value))?,
            "asset" => once(&mut asset, text_of(value))?,
            "seq" => once(&mut seq, whole(value))?,
            "kind" => once(&mut kind, text_of(value))?,
            "t_s" => once(
                &mut t_s,
                match value {
                    // Correctly rounded, as serde_json with `float_roundtrip`; out of range: serde's
                    // error.
                    Value::Number(n) => n.parse::<f64>().ok().filter(|x| x.is_finite()),
                    Value::Text(_) => None,
                },
            )?,
            "state" => once(
                &mut state,
                text_of(value).and_then(|v| StateCode::ALL.into_iter().find(|s| s.name() == v)),
            )?,
            "reason" => once(&mut reason, text_of(value))?,
            "mode" => once(
                &mut mode,
                match text_of(value) {
                    Some("delta") => Some(CountMode::Delta),
                    Some("total") => Some(CountMode::Total),
                    _ => None,
                },
            )?,
            "good" => once(&mut good, whole(value))?,
            "scrap" => once(&mut scrap, whole(value))?,
            "rework" => once(&mut rework, whole(value))?,
            "product" => once(&mut product, text_of(value))?,
            "code" => once(&mut code, text_of(value))?,
            "severity" => once(&mut severity, text_of(value))?,
            "action" => once(&mut action, text_of(value))?,
            "text" => once(&mut text_field, text_of(value))?,
            "component" => once(&mut component, text_of(value))?,
            "work_order" => once(&mut work_order, text_of(value))?,
            "operation" => once(&mut operation, text_of(value))?,
            "quantity" => once(&mut quantity, whole(value))?,
            // A sample's signals are an object: the scanner has returned already.
            "signals" => return None,
            // Unknown fields are ignored, as serde does.
            _ => {}
        }
        match b.get(i)? {
            b',' => i += 1,
            b'}' if i + 1 == b.len() => break,
            _ => return None,
        }
    }
    let owned = |v: Option<&str>| v.map(str::to_owned).unwrap_or_default();
    Some(Flat {
        ts: std::borrow::Cow::Borrowed(ts?),
        asset: asset?.to_owned(),
        seq: seq?,
        kind: std::borrow::Cow::Borrowed(kind?),
        t_s,
        state,
        reason: owned(reason),
        mode,
        good,
        scrap,
        rework,
        product: owned(product),
        signals: None,
        code: code.map(str::to_owned),
        severity: owned(severity),
        action: action.map(std::borrow::Cow::Borrowed),
        text: owned(text_field),
        component: owned(component),
        work_order: work_order.map(str::to_owned),
        operation: owned(operation),
        quantity,
    })
}

/// Where the first `"`, `\\` or control character of `bytes` is: the end of a JSON string's
/// content, if it has no escapes. Eight bytes at a time, with the classic bit trick for a zero byte
/// in a word (as memchr's fallback does): it can flag bytes after the first match wrongly, never
/// before it, and only the first is asked for. A byte at a time costs twice as much over the
/// strings of an event, and memchr's vector search did not pay on strings this short.
#[inline(always)]
pub(super) fn first_special(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let quote = zero_byte(w ^ (ONES * u64::from(b'"')));
        let backslash = zero_byte(w ^ (ONES * u64::from(b'\\')));
        // Bytes below 0x20: the same trick with 0x20 in place of 1 (exact up to the first one).
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        let found = quote | backslash | control;
        if found != 0 {
            // Little-endian: the lowest flagged byte is the first in the text.
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = bytes.get(at..)?;
    tail.iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| at + p)
}
