//! The future-event list. Small calendars are one vector kept sorted; from [`BUCKETS_FROM`] pending
//! entries on, a bucketed calendar whose cost per event does not grow with the number of entries (a
//! binary heap's grows with its depth: at 2,000 pending events its sifts cost about 310 instructions
//! per event against 120 at 20, and mispredict a branch at most levels).
//!
//! Sorted: the entries latest first, so the earliest is taken from the end in O(1). A new entry is
//! placed by moving the entries earlier than it up by one, from the end: in a plant most new entries
//! are a machine's next end, a cycle ahead, with few pending entries before it (the failures hours
//! away sit at the front and are never moved). On the reference line this costs about half of what
//! the heap did (callgrind: about 60 instructions per event against 125).
//!
//! Buckets: time is cut into fine buckets of equal width, 64 to a coarse bucket. The coarse buckets
//! of a window ahead of the current one are a ring of unsorted vectors with a bitmap of the
//! occupied ones; entries beyond the window wait in a binary heap (in a plant, the failures hours
//! away). The fine buckets after the current one within its coarse bucket are 64 unsorted vectors,
//! filled when the calendar reaches that coarse bucket. The current fine bucket is a sorted vector
//! holding every entry whose bucket is at or before the current one, so an entry scheduled for a
//! time the calendar has already moved past (after a `run_until` that stopped short of the next
//! event) is still taken first. The width follows the rate at which entries are scheduled (about
//! as fast as they are taken), so a fine bucket holds a few entries whatever the plant's size, and
//! the ring grows with the entries. Two tiers, because a push is the hot path: it appends to one
//! of a few dozen coarse buckets whose ends stay in the first-level cache, where a ring of one
//! fine bucket per two entries had each push load a cold slot and store into a cold bucket
//! (`benches/plants.rs`, 1,000 stations: 7 % less time per event for FIFO, 4 % for same product).
//!
//! The order is exactly [`Scheduled`]'s (time, then scheduling sequence) in both forms, whatever the
//! width and the ring's size: a bucket's number never decreases with time, the current bucket is
//! sorted, and buckets are taken in order. The form and the width are chosen from the number of
//! entries, their sequence numbers and the simulated time, never the wall clock, so a run is
//! reproducible bit for bit.

use super::Scheduled;
use std::collections::BinaryHeap;

/// Entries scheduled between two looks at the calendar's form and width (a power of two: the look
/// is due when a sequence number is a multiple of it).
const TUNE_EVERY: u64 = 1024;
/// Pending entries from which the calendar is bucketed, and below which it goes back to one sorted
/// vector.
pub const BUCKETS_FROM: usize = 64;
const SORTED_BELOW: usize = 32;
/// Entries at which a sorted calendar is bucketed at once, whatever the sequence number: entries
/// pile up before a look (a whole order book released at one instant), and an insert moves up to
/// all of them.
const SORTED_AT_MOST: usize = 2 * BUCKETS_FROM;
/// Entries a bucket should hold on average when it becomes the current one.
const PER_BUCKET: f64 = 3.0;
/// Bounds of the ring (a power of two) and of a bucket's width in seconds.
const MIN_SLOTS: usize = 64;
const MAX_SLOTS: usize = 1 << 16;
const MIN_WIDTH_S: f64 = 1e-6;
const MAX_WIDTH_S: f64 = 1e9;

#[derive(Clone, Default)]
pub struct Calendar {
    /// A small calendar's entries, latest first (empty while bucketed).
    sorted: Vec<Scheduled>,
    buckets: Option<Box<Buckets>>,
    /// At the last look, the simulated time and the sequence number.
    tuned_s: f64,
    tuned_seq: u64,
}

impl Calendar {
    pub fn new() -> Self {
        Self::default()
    }

    /// A calendar of `entries`, in any order, at the simulated time `now_s` of a run that has
    /// scheduled `seq` entries in all (a restored snapshot): bucketed at once when there are many,
    /// at the width of the run's mean scheduling rate.
    pub fn from_entries(mut entries: Vec<Scheduled>, seq: u64, now_s: f64) -> Self {
        // `Scheduled`'s order is reversed (for a max-heap): ascending is latest first.
        entries.sort_unstable();
        let mut calendar = Calendar {
            sorted: entries,
            ..Calendar::default()
        };
        calendar.tune(seq, now_s);
        if calendar.buckets.is_none() && calendar.sorted.len() >= SORTED_AT_MOST {
            calendar.outgrow_sorted(now_s);
        }
        calendar
    }

    pub fn len(&self) -> usize {
        match &self.buckets {
            None => self.sorted.len(),
            Some(buckets) => buckets.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds an entry at the simulated time `now_s` (at or before the entry's). Sequence numbers
    /// must grow from entry to entry (the engine's scheduling counter): every [`TUNE_EVERY`]th the
    /// calendar looks at its form.
    #[inline(always)]
    pub fn push(&mut self, entry: Scheduled, now_s: f64) {
        if entry.seq.is_multiple_of(TUNE_EVERY) {
            self.tune(entry.seq, now_s);
        }
        match &mut self.buckets {
            None => {
                insert_latest_first(&mut self.sorted, entry);
                if self.sorted.len() >= SORTED_AT_MOST {
                    self.outgrow_sorted(now_s);
                }
            }
            Some(buckets) => buckets.push(entry),
        }
    }

    /// The earliest entry. Takes `&mut self`: a spent bucket is left for the next occupied one
    /// here.
    #[inline]
    pub fn peek(&mut self) -> Option<&Scheduled> {
        match &mut self.buckets {
            None => self.sorted.last(),
            Some(buckets) => buckets.peek(),
        }
    }

    /// Takes the entry [`Calendar::peek`] returned (there was one).
    #[inline]
    pub fn take_peeked(&mut self) {
        match &mut self.buckets {
            None => {
                self.sorted.pop();
            }
            Some(buckets) => buckets.take_peeked(),
        }
    }

    /// In a bucketed calendar, the entry after the one just taken when it is at hand (in the
    /// current bucket), without moving to the next bucket: what the engine prefetches. `None` for
    /// a small calendar, whose plant fits the first-level cache.
    #[inline(always)]
    pub fn following(&self) -> Option<&Scheduled> {
        let buckets = self.buckets.as_ref()?;
        buckets.now.get(buckets.head)
    }

    /// Takes the earliest entry (the engine peeks, then takes).
    #[cfg(test)]
    pub fn pop(&mut self) -> Option<Scheduled> {
        let entry = *self.peek()?;
        self.take_peeked();
        Some(entry)
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = &Scheduled> + '_> {
        match &self.buckets {
            None => Box::new(self.sorted.iter()),
            Some(buckets) => Box::new(buckets.iter()),
        }
    }

    /// Looks at the number of entries and at the rate entries were scheduled at since the last
    /// look: changes the form at [`BUCKETS_FROM`] and [`SORTED_BELOW`] entries, and rebuilds the
    /// buckets when their width or ring is off by more than a factor of two.
    #[cold]
    #[inline(never)]
    fn tune(&mut self, seq: u64, now_s: f64) {
        let span_s = now_s - self.tuned_s;
        let scheduled = seq.saturating_sub(self.tuned_seq).max(1);
        self.tuned_s = now_s;
        self.tuned_seq = seq;
        let len = self.len();
        // About as many entries are taken as scheduled.
        let width_s = bucket_width(span_s, scheduled);
        let slots = ring_slots(len);
        let rebuild = match &self.buckets {
            None => len >= BUCKETS_FROM && span_s > 0.0,
            Some(_) if len < SORTED_BELOW => {
                let buckets = self.buckets.take().expect("bucketed");
                self.sorted = buckets.into_entries();
                // `Scheduled`'s order is reversed (for a max-heap): ascending is latest first.
                self.sorted.sort_unstable();
                false
            }
            Some(buckets) => {
                let ring = buckets.slots();
                let width_off = width_s > 2.0 * buckets.width_s || width_s < 0.5 * buckets.width_s;
                span_s > 0.0 && (width_off || slots > ring || slots * 4 < ring)
            }
        };
        if rebuild {
            let entries = match self.buckets.take() {
                None => std::mem::take(&mut self.sorted),
                Some(old) => old.into_entries(),
            };
            self.buckets = Some(Buckets::holding(entries, width_s, now_s));
        }
    }

    /// Buckets a sorted calendar that grew to [`SORTED_AT_MOST`] entries before a look could, at
    /// a width from the entries' own spread in time (the scheduling rate may not be known yet: at
    /// the start, every entry is at 0 s). The next look retunes it from the rate.
    #[cold]
    #[inline(never)]
    fn outgrow_sorted(&mut self, now_s: f64) {
        let entries = std::mem::take(&mut self.sorted);
        let spread_s = entries[0].time - entries[entries.len() - 1].time;
        let width_s = bucket_width(spread_s, entries.len() as u64);
        self.buckets = Some(Buckets::holding(entries, width_s, now_s));
    }
}

/// The width of buckets holding [`PER_BUCKET`] of `entries` spread over `span_s`, within bounds.
fn bucket_width(span_s: f64, entries: u64) -> f64 {
    (PER_BUCKET * span_s / entries as f64).clamp(MIN_WIDTH_S, MAX_WIDTH_S)
}

/// The ring's size for `len` entries: two slots an entry, a power of two within bounds.
fn ring_slots(len: usize) -> usize {
    (2 * len).next_power_of_two().clamp(MIN_SLOTS, MAX_SLOTS)
}

/// Puts an entry into a vector sorted latest first: the entries earlier than it move up by one,
/// from the end.
#[inline(always)]
fn insert_latest_first(sorted: &mut Vec<Scheduled>, entry: Scheduled) {
    let mut at = sorted.len();
    sorted.push(entry);
    let list = sorted.as_mut_slice();
    while at > 0 && earlier(&list[at - 1], &entry) {
        list[at] = list[at - 1];
        at -= 1;
    }
    list[at] = entry;
}

/// Fine buckets to a coarse one: the fine buckets of one coarse bucket are the bits of one word.
const FINE_BITS: u32 = 6;
const FINE: u64 = 1 << FINE_BITS;

/// The bucketed calendar, in two tiers (the module's documentation): a push appends to its
/// entry's coarse bucket; a coarse bucket reached is spread into `near`, whose fine buckets are
/// taken in turn, each sorted when it becomes the current one.
#[derive(Clone)]
struct Buckets {
    /// Every entry whose fine bucket is at or before `current`: `now[head..]`, earliest first.
    now: Vec<Scheduled>,
    head: usize,
    /// The fine buckets after `current` in its coarse bucket, fine bucket `b` in slot
    /// `b % FINE`, unsorted, and a bit per slot set when it holds an entry.
    near: Vec<Vec<Scheduled>>,
    near_occupied: u64,
    /// The coarse buckets `coarse(current) + 1 ..= coarse(current) + mask`, coarse bucket `c` in
    /// slot `c & mask`, unsorted.
    ring: Vec<Vec<Scheduled>>,
    /// A bit per slot of `ring`: set when the slot holds an entry.
    occupied: Vec<u64>,
    mask: u64,
    /// Entries in coarse bucket `coarse(current) + mask + 1` or later, earliest on top, and the
    /// fine bucket of the top (`u64::MAX` when there is none).
    far: BinaryHeap<Scheduled>,
    far_first: u64,
    /// The current fine bucket.
    current: u64,
    per_width: f64,
    width_s: f64,
    len: usize,
}

/// The coarse bucket of a fine one.
#[inline(always)]
fn coarse(bucket: u64) -> u64 {
    bucket >> FINE_BITS
}

impl Buckets {
    /// Empty buckets of a width, a window of about `slots` fine buckets (a power of two), the
    /// current one at `now_s`.
    fn new(width_s: f64, slots: usize, now_s: f64) -> Self {
        debug_assert!(slots.is_power_of_two() && slots >= 64);
        let coarse_slots = (slots / FINE as usize).max(4);
        let mut buckets = Buckets {
            now: Vec::new(),
            head: 0,
            near: (0..FINE).map(|_| Vec::new()).collect(),
            near_occupied: 0,
            ring: (0..coarse_slots).map(|_| Vec::new()).collect(),
            occupied: vec![0; coarse_slots.div_ceil(64)],
            mask: coarse_slots as u64 - 1,
            far: BinaryHeap::new(),
            far_first: u64::MAX,
            current: 0,
            per_width: 1.0 / width_s,
            width_s,
            len: 0,
        };
        buckets.current = buckets.bucket(now_s);
        buckets
    }

    /// The window's size in fine buckets.
    fn slots(&self) -> usize {
        (self.mask as usize + 1) * FINE as usize
    }

    /// Buckets of a width holding `entries` (in any order), the ring sized for them, the current
    /// one at `now_s`.
    fn holding(entries: Vec<Scheduled>, width_s: f64, now_s: f64) -> Box<Buckets> {
        let mut buckets = Buckets::new(width_s, ring_slots(entries.len()), now_s);
        buckets.fill(entries);
        Box::new(buckets)
    }

    /// Puts entries in, the current bucket's sorted once at the end.
    fn fill(&mut self, entries: Vec<Scheduled>) {
        for entry in entries {
            self.place(entry);
        }
        self.now.sort_unstable_by(|a, b| b.cmp(a));
    }

    fn into_entries(self) -> Vec<Scheduled> {
        let mut entries = self.now;
        entries.drain(..self.head);
        entries.extend(self.near.into_iter().flatten());
        entries.extend(self.ring.into_iter().flatten());
        entries.extend(self.far);
        entries
    }

    fn iter(&self) -> impl Iterator<Item = &Scheduled> {
        self.now[self.head..]
            .iter()
            .chain(self.near.iter().flatten())
            .chain(self.ring.iter().flatten())
            .chain(self.far.iter())
    }

    /// The fine bucket of a time. Never decreasing in the time (a product with a positive constant
    /// and a saturating cast both keep the order); times before 0 fall in bucket 0.
    #[inline(always)]
    fn bucket(&self, time: f64) -> u64 {
        (time * self.per_width) as u64
    }

    #[inline]
    fn push(&mut self, entry: Scheduled) {
        self.len += 1;
        let bucket = self.bucket(entry.time);
        if bucket <= self.current {
            self.insert_now(entry);
        } else {
            self.place_ahead(entry, bucket);
        }
    }

    /// [`Buckets::push`], but into `now` unsorted (the caller sorts it once at the end).
    fn place(&mut self, entry: Scheduled) {
        self.len += 1;
        let bucket = self.bucket(entry.time);
        if bucket <= self.current {
            self.now.push(entry);
        } else {
            self.place_ahead(entry, bucket);
        }
    }

    /// Puts an entry of a fine bucket after the current one into `near`, the coarse ring or `far`.
    #[inline(always)]
    fn place_ahead(&mut self, entry: Scheduled, bucket: u64) {
        let ahead = coarse(bucket) - coarse(self.current);
        if ahead == 0 {
            let slot = (bucket % FINE) as usize;
            self.near[slot].push(entry);
            self.near_occupied |= 1 << slot;
        } else if ahead <= self.mask {
            let slot = (coarse(bucket) & self.mask) as usize;
            self.ring[slot].push(entry);
            self.occupied[slot / 64] |= 1 << (slot % 64);
        } else {
            self.far_first = self.far_first.min(bucket);
            self.far.push(entry);
        }
    }

    /// Puts an entry into the current bucket in its place: usually the last; else found by a
    /// binary search (a burst at one instant, an order book released at the start, comes in
    /// sequence ahead of the bucket's later entries: a search from the end walked over all of
    /// them for each, 2 ms of a 45 ms run of 10,000 orders on 1,000 stations).
    #[inline]
    fn insert_now(&mut self, entry: Scheduled) {
        match self.now.last() {
            Some(last) if earlier(&entry, last) => {
                let later = self.now[self.head..].partition_point(|e| !earlier(&entry, e));
                self.now.insert(self.head + later, entry);
            }
            _ => self.now.push(entry),
        }
    }

    #[inline]
    fn peek(&mut self) -> Option<&Scheduled> {
        if self.head == self.now.len() {
            if self.len == 0 {
                return None;
            }
            self.advance();
        }
        self.now.get(self.head)
    }

    /// Takes the entry `peek` returned.
    #[inline]
    fn take_peeked(&mut self) {
        self.head += 1;
        self.len -= 1;
    }

    /// Moves to the earliest occupied fine bucket (the current one is spent and some entry is
    /// left): the next in `near`, or else the first of the next occupied coarse bucket.
    #[inline(never)]
    fn advance(&mut self) {
        self.now.clear();
        self.head = 0;
        // Every slot of `near` that holds entries is after the current fine bucket.
        if self.near_occupied == 0 {
            // Fills `now` with the coarse bucket's first fine bucket, if it holds entries.
            self.next_coarse();
        }
        if self.now.is_empty() {
            let slot = self.near_occupied.trailing_zeros() as u64;
            if slot == u64::from(u64::BITS) {
                return; // nothing left (the caller counted an entry: not reached)
            }
            self.near_occupied &= !(1 << slot);
            self.current = self.current - self.current % FINE + slot;
            // The slot's entries become the current bucket, the spent bucket's storage the slot's.
            std::mem::swap(&mut self.now, &mut self.near[slot as usize]);
        }
        self.now.sort_unstable_by(|a, b| b.cmp(a));
    }

    /// Moves to the first fine bucket of the next occupied coarse bucket (`near` is empty): its
    /// entries are spread into `now` (that first fine bucket's, unsorted) and `near`, and the far
    /// entries the window now reaches come in.
    #[cold]
    #[inline(never)]
    fn next_coarse(&mut self) {
        let next = match self.next_occupied() {
            Some(bucket) => bucket,
            // The ring is empty: jump to the coarse bucket of the earliest far entry.
            None => coarse(self.far_first),
        };
        self.current = next << FINE_BITS;
        let slot = (next & self.mask) as usize;
        if self.occupied[slot / 64] & (1 << (slot % 64)) != 0 {
            self.occupied[slot / 64] &= !(1 << (slot % 64));
            let mut entries = std::mem::take(&mut self.ring[slot]);
            self.len -= entries.len();
            for entry in entries.drain(..) {
                self.place(entry);
            }
            // The slot keeps its storage.
            self.ring[slot] = entries;
        }
        // The window moved: far entries now inside it come in.
        while !self.far.is_empty() && coarse(self.far_first) - next <= self.mask {
            let entry = self.far.pop().expect("a far entry");
            self.far_first = self.far.peek().map_or(u64::MAX, |e| self.bucket(e.time));
            self.len -= 1;
            self.place(entry);
        }
    }

    /// The number of the first occupied coarse bucket after the current one, if any.
    fn next_occupied(&self) -> Option<u64> {
        let current = coarse(self.current);
        let slots = self.mask + 1;
        let start = ((current + 1) & self.mask) as usize;
        let words = self.occupied.len();
        // The first word, from the start's bit on; then the others in turn, wrapping round; then the
        // first word's bits before the start.
        let first = self.occupied[start / 64] & (!0u64 << (start % 64));
        let found = if first != 0 {
            Some(start / 64 * 64 + first.trailing_zeros() as usize)
        } else {
            (1..=words).find_map(|k| {
                let w = (start / 64 + k) % words;
                let bits = self.occupied[w];
                (bits != 0).then(|| w * 64 + bits.trailing_zeros() as usize)
            })
        }?;
        // Slots count from the one after the current bucket's, round the ring.
        let ahead = (found as u64).wrapping_sub(current) & self.mask;
        let ahead = if ahead == 0 { slots } else { ahead };
        Some(current + ahead)
    }
}

/// Whether `a` comes before `b` ([`Scheduled`]'s order is reversed, for a max-heap).
#[inline(always)]
fn earlier(a: &Scheduled, b: &Scheduled) -> bool {
    a.cmp(b) == std::cmp::Ordering::Greater
}

impl std::fmt::Debug for Calendar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Calendar");
        d.field("len", &self.len());
        if let Some(b) = &self.buckets {
            d.field("width_s", &b.width_s)
                .field("slots", &b.slots())
                .field("far", &b.far.len());
        }
        d.finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimEvent;
    use rand::{RngExt, SeedableRng};

    fn entry(time: f64, seq: u64) -> Scheduled {
        Scheduled {
            time,
            seq,
            event: SimEvent::Arrival,
        }
    }

    /// Drives the calendar and `std`'s binary heap with the same pushes and pops, of a plant-like
    /// mix (near events, events hours away, bursts at one instant, pushes after a peek that stopped
    /// short), growing from `pending` entries, then shrinking to a few, and checks they give the
    /// same entries in the same order. Returns the forms the calendar took: whether it was sorted,
    /// the bucket widths and the ring sizes it had, and whether it used its far heap.
    fn same_order_as_a_binary_heap(seed: u64, pending: usize, steps: usize) -> Forms {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut calendar = Calendar::new();
        let mut heap = BinaryHeap::new();
        let mut seq = 0;
        let mut now = 0.0_f64;
        let mut forms = Forms::default();
        let mut push =
            |calendar: &mut Calendar, heap: &mut BinaryHeap<Scheduled>, time: f64, now_s: f64| {
                seq += 1;
                calendar.push(entry(time, seq), now_s);
                heap.push(entry(time, seq));
            };
        for _ in 0..pending {
            let time = rng.random_range(0.0..100.0);
            push(&mut calendar, &mut heap, time, now);
        }
        for step in 0..steps {
            assert_eq!(calendar.len(), heap.len());
            forms.look(&calendar);
            // The last third keeps a handful of entries: the calendar goes back to one sorted vector.
            let shrinking = step > 2 * steps / 3;
            let kind = rng.random_range(0..100);
            if kind < 3 {
                // A run that stops short of the next event, then an event scheduled at its end.
                let next = calendar.peek().map(|e| (e.time, e.seq));
                assert_eq!(next, heap.peek().map(|e| (e.time, e.seq)));
                if let Some((time, _)) = next {
                    let until = now + (time - now) * rng.random_range(0.0..1.0);
                    push(&mut calendar, &mut heap, until, now);
                }
                continue;
            }
            if shrinking {
                // Drain faster than the entries came in: a few more each step.
                for _ in 0..3 {
                    if calendar.len() > 8 {
                        let taken = calendar.pop().map(|e| (e.time, e.seq));
                        let expected = heap.pop().map(|e| (e.time, e.seq));
                        assert_eq!(taken, expected, "step {step}");
                        now = taken.map_or(now, |(time, _)| time);
                    }
                }
            }
            let Some(taken) = calendar.pop() else {
                assert!(heap.pop().is_none());
                push(&mut calendar, &mut heap, now + 1.0, now);
                continue;
            };
            let expected = heap.pop().expect("the same length");
            assert_eq!(
                (taken.time, taken.seq),
                (expected.time, expected.seq),
                "step {step}"
            );
            assert!(taken.time >= now);
            now = taken.time;
            if shrinking && calendar.len() > 8 {
                continue;
            }
            match kind {
                3..=5 if !shrinking => {
                    // A burst at this instant.
                    for _ in 0..rng.random_range(1..40) {
                        push(&mut calendar, &mut heap, now, now);
                    }
                }
                6..=9 => {
                    let hours = rng.random_range(0.0..8.0) * 3600.0;
                    push(&mut calendar, &mut heap, now + hours, now);
                }
                10..=14 if !shrinking => {} // the calendar shrinks
                _ => {
                    let mean = if step > steps / 3 { 0.01 } else { 60.0 };
                    let delay = -mean * (1.0 - rng.random_range(0.0..1.0_f64)).ln();
                    push(&mut calendar, &mut heap, now + delay, now);
                    if kind > 90 && !shrinking {
                        push(&mut calendar, &mut heap, now + 2.0 * delay, now);
                    }
                }
            }
        }
        while let Some(expected) = heap.pop() {
            let taken = calendar.pop().expect("as many entries");
            assert_eq!((taken.time, taken.seq), (expected.time, expected.seq));
        }
        assert!(calendar.pop().is_none());
        assert!(calendar.is_empty());
        forms
    }

    /// The forms a calendar took during a test.
    #[derive(Default, Debug)]
    struct Forms {
        sorted: bool,
        /// Sorted again after being bucketed.
        sorted_again: bool,
        widths: Vec<f64>,
        rings: Vec<u64>,
        far: bool,
    }

    impl Forms {
        fn look(&mut self, calendar: &Calendar) {
            match &calendar.buckets {
                None => {
                    self.sorted = true;
                    self.sorted_again |= !self.widths.is_empty();
                }
                Some(b) => {
                    if self.widths.last() != Some(&b.width_s) {
                        self.widths.push(b.width_s);
                    }
                    if self.rings.last() != Some(&(b.mask + 1)) {
                        self.rings.push(b.mask + 1);
                    }
                    self.far |= !b.far.is_empty();
                }
            }
        }
    }

    #[test]
    fn takes_entries_in_the_order_of_a_binary_heap() {
        for seed in 0..8 {
            // Small: sorted, bucketed when bursts make it large, sorted again as it shrinks.
            let small = same_order_as_a_binary_heap(seed, 20, 20_000);
            assert!(small.sorted && small.sorted_again, "{small:?}");
            // Large: bucketed at once (3,000 entries at 0 s), retuned as the rate changes, sorted
            // at the end.
            let large = same_order_as_a_binary_heap(seed, 3000, 60_000);
            assert!(large.sorted_again && large.far, "{large:?}");
            assert!(large.widths.len() >= 3, "{large:?}");
            assert!(large.rings.len() >= 2, "{large:?}");
        }
    }

    #[test]
    fn a_calendar_from_entries_in_any_order_takes_them_in_order() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for (count, bucketed) in [(10, false), (2000, true)] {
            let mut entries: Vec<Scheduled> = (0..count)
                .map(|seq| entry(100.0 + rng.random_range(0.0..3600.0), seq))
                .collect();
            // A snapshot lists them earliest first; `from_entries` takes any order.
            entries.sort_by(|a, b| b.cmp(a));
            let mut expected: BinaryHeap<Scheduled> = entries.iter().copied().collect();
            let mut calendar = Calendar::from_entries(entries, 5000, 100.0);
            assert_eq!(calendar.buckets.is_some(), bucketed, "{count} entries");
            while let Some(e) = expected.pop() {
                assert_eq!(calendar.pop().map(|t| t.seq), Some(e.seq));
            }
            assert!(calendar.is_empty());
        }
    }

    #[test]
    fn a_book_released_at_one_instant_is_bucketed_at_once() {
        // 10,000 orders released at 0 s, then the machines' failures hours away: before any look
        // at the rate (which needs time to pass), the calendar is bucketed by the entries' spread,
        // so that an insert no longer moves every entry.
        let mut calendar = Calendar::new();
        let mut seq = 0;
        for _ in 0..10_000 {
            seq += 1;
            calendar.push(entry(0.0, seq), 0.0);
            assert!(calendar.len() < SORTED_AT_MOST || calendar.buckets.is_some());
        }
        for k in 0..1000 {
            seq += 1;
            calendar.push(entry(3600.0 + f64::from(k), seq), 0.0);
        }
        assert!(calendar.buckets.is_some());
        let order: Vec<u64> = std::iter::from_fn(|| calendar.pop().map(|e| e.seq)).collect();
        assert_eq!(order, (1..=seq).collect::<Vec<_>>());
    }

    #[test]
    fn an_entry_behind_the_current_bucket_is_taken_first() {
        let mut calendar = Calendar::new();
        calendar.buckets = Some(Box::new(Buckets::new(1.0, 64, 0.0)));
        calendar.push(entry(50.0, 1), 0.0);
        // Peeking moves the calendar to the bucket at 50 s; a run stopping at 10 s then schedules
        // an event at 10 s, before it.
        assert_eq!(calendar.peek().map(|e| e.seq), Some(1));
        calendar.push(entry(10.0, 2), 10.0);
        assert_eq!(calendar.pop().map(|e| e.seq), Some(2));
        assert_eq!(calendar.pop().map(|e| e.seq), Some(1));
        assert!(calendar.pop().is_none());
    }

    #[test]
    fn iterates_every_entry_in_both_forms() {
        for bucketed in [false, true] {
            let mut calendar = Calendar::new();
            if bucketed {
                calendar.buckets = Some(Box::new(Buckets::new(1.0, 64, 0.0)));
            }
            for (seq, time) in [0.5, 3.0, 1e6, 0.0, 70.0].into_iter().enumerate() {
                calendar.push(entry(time, seq as u64), 0.0);
            }
            // The taken entry is not listed.
            assert_eq!(calendar.pop().map(|e| e.seq), Some(3));
            let mut seqs: Vec<u64> = calendar.iter().map(|e| e.seq).collect();
            seqs.sort_unstable();
            assert_eq!(seqs, [0, 1, 2, 4], "bucketed: {bucketed}");
        }
    }

    #[test]
    fn times_at_the_ends_of_the_range_keep_their_order() {
        for bucketed in [false, true] {
            let mut calendar = Calendar::new();
            if bucketed {
                calendar.buckets = Some(Box::new(Buckets::new(1e-6, 64, 0.0)));
            }
            let times = [f64::INFINITY, 1e300, 0.0, f64::MAX, 1e-300, 5.0];
            for (seq, time) in times.into_iter().enumerate() {
                calendar.push(entry(time, seq as u64), 0.0);
            }
            let order: Vec<u64> = std::iter::from_fn(|| calendar.pop().map(|e| e.seq)).collect();
            assert_eq!(order, [2, 4, 5, 1, 3, 0], "bucketed: {bucketed}");
        }
    }
}
