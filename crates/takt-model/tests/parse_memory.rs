//! What parsing a scenario costs in memory, against the size of its text: a server parses what
//! clients send (up to its body limit), so this bounds what one request can make it hold.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes held and their peak.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout goes to the system allocator unchanged.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let held = HELD.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(held, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A line of two stations with an order book of `orders` orders.
fn scenario(orders: usize) -> String {
    let mut text = String::from(
        r#"schema_version = 1
name = "memory"
[run]
horizon = "8h"
seed = 1

[[products]]
name = "A"
routing = [{ station = "S1", process_time = "60s" }, { station = "S2", process_time = "50s" }]

[[products]]
name = "B"
routing = [{ station = "S1", process_time = "40s" }, { station = "S2", process_time = "70s" }]

[[stations]]
name = "S1"

[[stations]]
name = "S2"

"#,
    );
    for i in 0..orders {
        let product = if i % 2 == 0 { "A" } else { "B" };
        text.push_str(&format!(
            "[[demand.orders]]\nid = \"O{i}\"\nproduct = \"{product}\"\nquantity = 3\nrelease = \"0h\"\ndue = \"{}h\"\n\n",
            i % 1000
        ));
    }
    text
}

/// Parsing and compiling a scenario holds at most 50 times its text at its peak (39 times when
/// measured, nearly all of it the TOML document while it is built: the `toml` crate's tokens,
/// events and tree). The server bounds how many scenarios it parses at once on this factor
/// (`takt_api`'s scenario gate); a change that makes parsing hold much more fails here.
#[test]
fn parsing_a_scenario_holds_a_bounded_multiple_of_its_text() {
    let text = scenario(20_000);
    let before = HELD.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    // What the server does with a scenario sent in a request (`load_str` is parsing, then
    // compiling without a directory to read files from).
    let loaded = takt_model::load_str(&text, std::path::Path::new("memory.toml"), None)
        .expect("the scenario loads");
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert_eq!(loaded.model.orders.len(), 20_000);
    let times = peak as f64 / text.len() as f64;
    assert!(
        times <= 50.0,
        "parsing {} bytes held {peak} bytes at its peak: {times:.1} times the text",
        text.len()
    );
}
