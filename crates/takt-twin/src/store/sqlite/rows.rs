//! How `event_batches` rows hold events (`migrations/sqlite/V2__event_batches.sql`), and the keys
//! the store keeps in memory to tell a new event from a duplicate.

use super::super::StoreError;
use roaring::RoaringTreemap;
use rustc_hash::FxHashMap;

/// The asset number of an event a repair moved to the dead letters.
pub(super) const REMOVED: u32 = u32::MAX;
/// Bytes per event in `keys`: the asset's number (u32) and the seq (u64), big-endian.
const KEY_BYTES: usize = 12;
/// At most this many events in one row: a row id and a position make an event's id.
pub(super) const ROW_EVENTS: usize = 1 << 16;
/// A row's texts stop short of this many bytes (SQLite's largest value is 1 GB); an event bigger
/// than this is a row of its own.
pub(super) const ROW_BYTES: usize = 64 << 20;

/// An event's id from its row and position: increasing in the order accepted.
pub(super) fn event_id(row: i64, position: usize) -> i64 {
    (row << 16) | position as i64
}

/// The row and position of an event's id.
pub(super) fn row_and_position(id: i64) -> (i64, usize) {
    (id >> 16, (id & 0xffff) as usize)
}

fn corrupt(row: i64, message: &str) -> StoreError {
    StoreError::Corrupt {
        id: event_id(row, 0),
        message: format!("batch row {row}: {message}"),
    }
}

/// A row being filled.
pub(super) struct Row {
    pub(super) id: i64,
    pub(super) keys: Vec<u8>,
    pub(super) ends: Vec<u8>,
    pub(super) texts: String,
}

impl Row {
    pub(super) fn new(id: i64) -> Row {
        Row {
            id,
            keys: Vec::new(),
            ends: Vec::new(),
            texts: String::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.keys.len() / KEY_BYTES
    }

    /// Whether `text` should start the next row instead.
    pub(super) fn is_full_for(&self, text: &str) -> bool {
        self.len() == ROW_EVENTS || (self.len() > 0 && self.texts.len() + text.len() > ROW_BYTES)
    }

    pub(super) fn push(&mut self, asset: u32, seq: u64, text: &str) {
        self.keys.extend_from_slice(&asset.to_be_bytes());
        self.keys.extend_from_slice(&seq.to_be_bytes());
        self.texts.push_str(text);
        self.ends
            .extend_from_slice(&(self.texts.len() as u32).to_be_bytes());
    }
}

/// The keys of a row's `keys` value, in order.
pub(super) fn keys(row: i64, blob: &[u8]) -> Result<Vec<(u32, u64)>, StoreError> {
    if !blob.len().is_multiple_of(KEY_BYTES) {
        return Err(corrupt(row, "its keys are not whole (asset, seq) pairs"));
    }
    Ok(blob
        .chunks_exact(KEY_BYTES)
        .map(|k| {
            let (asset, seq) = k.split_at(4);
            (
                u32::from_be_bytes(asset.try_into().unwrap_or_default()),
                u64::from_be_bytes(seq.try_into().unwrap_or_default()),
            )
        })
        .collect())
}

/// The `keys` value of `keys`.
pub(super) fn keys_blob(keys: &[(u32, u64)]) -> Vec<u8> {
    keys.iter()
        .flat_map(|(asset, seq)| {
            let mut k = [0; KEY_BYTES];
            k[..4].copy_from_slice(&asset.to_be_bytes());
            k[4..].copy_from_slice(&seq.to_be_bytes());
            k
        })
        .collect()
}

/// The texts of a row, in order (an empty one: an event a repair moved out).
pub(super) fn texts<'a>(
    row: i64,
    ends: Option<&[u8]>,
    texts: &'a [u8],
) -> Result<Vec<&'a str>, StoreError> {
    let texts = std::str::from_utf8(texts).map_err(|_| corrupt(row, "its texts are not UTF-8"))?;
    let Some(ends) = ends else {
        return Ok(vec![texts]);
    };
    if !ends.len().is_multiple_of(4) {
        return Err(corrupt(row, "its ends are not whole u32s"));
    }
    let mut start = 0;
    ends.chunks_exact(4)
        .map(|b| {
            let end = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
            let text = texts
                .get(start..end)
                .ok_or_else(|| corrupt(row, "an end is out of order or inside a character"))?;
            start = end;
            Ok(text)
        })
        .collect()
}

/// The `ends` value of `texts`.
pub(super) fn ends_blob(texts: &[&str]) -> Vec<u8> {
    let mut end = 0u32;
    texts
        .iter()
        .flat_map(|t| {
            end += t.len() as u32;
            end.to_be_bytes()
        })
        .collect()
}

/// The keys stored, per asset number a compressed set of seqs (a plant's counters are dense:
/// about a bit per event).
#[derive(Default)]
pub(super) struct Keys {
    by_asset: FxHashMap<u32, RoaringTreemap>,
    count: u64,
}

impl Keys {
    /// Adds a key; false if it was there.
    pub(super) fn insert(&mut self, asset: u32, seq: u64) -> bool {
        let new = self.by_asset.entry(asset).or_default().insert(seq);
        self.count += u64::from(new);
        new
    }

    pub(super) fn remove(&mut self, asset: u32, seq: u64) {
        if self
            .by_asset
            .get_mut(&asset)
            .is_some_and(|seqs| seqs.remove(seq))
        {
            self.count -= 1;
        }
    }

    pub(super) fn contains(&self, asset: u32, seq: u64) -> bool {
        self.by_asset
            .get(&asset)
            .is_some_and(|seqs| seqs.contains(seq))
    }

    pub(super) fn count(&self) -> u64 {
        self.count
    }

    /// Adds a stored row's keys (those a repair removed left out).
    pub(super) fn load(&mut self, row: i64, blob: &[u8]) -> Result<(), StoreError> {
        for (asset, seq) in keys(row, blob)? {
            if asset != REMOVED {
                self.insert(asset, seq);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_back_what_was_pushed() {
        let mut row = Row::new(3);
        row.push(1, 7, "{\"a\":\"é\"}");
        row.push(2, u64::MAX, "{}");
        assert_eq!(keys(3, &row.keys).ok(), Some(vec![(1, 7), (2, u64::MAX)]));
        let read = texts(3, Some(&row.ends), row.texts.as_bytes()).ok();
        assert_eq!(read, Some(vec!["{\"a\":\"é\"}", "{}"]));
        assert_eq!(ends_blob(&["{\"a\":\"é\"}", "{}"]), row.ends);
        assert_eq!(keys_blob(&[(1, 7), (2, u64::MAX)]), row.keys);
        assert_eq!(row_and_position(event_id(3, 1)), (3, 1));
    }

    /// A damaged row is an error that names it, never a panic.
    #[test]
    fn a_damaged_row_is_refused_in_words() {
        let text = "{\"a\":\"é\"}";
        let inside_e = (text.find('é').unwrap_or(0) + 1) as u32;
        for (ends, bytes) in [
            (inside_e.to_be_bytes().to_vec(), text.as_bytes()),
            (99u32.to_be_bytes().to_vec(), text.as_bytes()),
            (vec![0, 0, 1], text.as_bytes()),
            (Vec::new(), &[0xff, 0xfe][..]),
        ] {
            let e = texts(5, Some(&ends), bytes).err().map(|e| e.to_string());
            assert!(e.is_some_and(|e| e.contains("batch row 5")));
        }
        assert!(keys(5, &[0; 13]).is_err());
    }

    #[test]
    fn keys_count_what_they_hold() {
        let mut k = Keys::default();
        assert!(k.insert(1, 5) && !k.insert(1, 5) && k.insert(2, 5));
        k.remove(1, 5);
        k.remove(1, 5);
        assert_eq!(k.count(), 1);
        assert!(!k.contains(1, 5) && k.contains(2, 5));
        assert!(k.load(0, &keys_blob(&[(REMOVED, 1), (3, 1)])).is_ok());
        assert!(!k.contains(REMOVED, 1) && k.contains(3, 1) && k.count() == 2);
    }
}
